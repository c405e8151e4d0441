/**
 * Bounded state under a flood: pinned routes in total and per switch (the least recently used route of
 * the ingress port holding the most is removed with its entries, so a flooding port recycles its own), ARP probes per second, hosts (least recently seen forgotten, idle hosts aged out), and the
 * controller's own probe MAC never learnt as a host.
 */
import { expect } from 'chai';
import { OFPFC } from '../../../openflow/codec/index.js';
import { RoutingCore } from '../../../apps/routing/core.js';
import { PROBE_MAC } from '../../../apps/routing/arp.js';
import { FabricGraph } from '../../../topology/graph.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid } from '../../../testing/fake-leaf-spine.js';
import { ipv4Frame, packetIn } from '../routing/frames.js';
import { EffectRunner } from '../routing/sim.js';

const SHAPE = { spines: 2, leaves: 3, hostsPerLeaf: 2 };
const hostPort = (h: number): number => SHAPE.spines + h;

function udp(srcPort: number, dl = 2): Buffer {
  return ipv4Frame({ ethSrc: hostMac(1, 1), ethDst: hostMac(dl, 1), src: hostIp(1, 1), dst: hostIp(dl, 1), proto: 17, srcPort, dstPort: 9 });
}

/** A UDP frame from host `h` of leaf 1 to host 1 of leaf `dl`. */
function udpFrom(h: number, srcPort: number, dl = 2): Buffer {
  return ipv4Frame({ ethSrc: hostMac(1, h), ethDst: hostMac(dl, 1), src: hostIp(1, h), dst: hostIp(dl, 1), proto: 17, srcPort, dstPort: 9 });
}

describe('bounded state', () => {
  it('routing.maxRoutes: the least recently used route goes, with its entries; a used one stays', () => {
    const topo = FakeLeafSpine.leafSpine(SHAPE);
    const core = new RoutingCore(topo, { seed: 1, maxRoutes: 3 });
    const run = new EffectRunner(core);
    for (let p = 1; p <= 3; p++) run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), udp(p)), p));
    // flow 1 is used again (a packet-in on its ingress hop): flow 2 is now the least recently used
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), udp(1)), 10));
    run.clear();
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), udp(4)), 11));
    expect(core.size).to.equal(3);
    expect(core.evictions).to.equal(1);
    expect(core.routes().map((r) => r.flowKey.srcPort)).to.have.members([1, 3, 4]);
    const deletes = run.sent.filter((s) => s.msg.type === 'OFPT_FLOW_MOD' && s.msg.command === OFPFC.DELETE);
    expect(deletes.length, 'one delete per switch of the evicted route').to.equal(3);
    expect(run.sim.count(), 'entries on the switches: 3 routes × 3 hops').to.equal(9);
  });

  it('routing.maxRoutes: a route evicted while its install is in flight leaves no entries once the install reports', () => {
    const topo = FakeLeafSpine.leafSpine(SHAPE);
    const core = new RoutingCore(topo, { seed: 1, maxRoutes: 2 });
    const run = new EffectRunner(core, undefined, true);
    for (let p = 1; p <= 3; p++) run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), udp(p)), p));
    // flow 1 was evicted by flow 3 before any install reported: its deletes went out before its entries
    expect(core.size).to.equal(2);
    expect(core.evictions).to.equal(1);
    run.flush();
    expect(core.routes().map((r) => r.flowKey.srcPort)).to.have.members([2, 3]);
    expect(run.sim.count(), 'entries: 2 routes × 3 hops, none of the evicted one').to.equal(6);
    // its serial is free again only now: new pins never share a live cookie
    const cookies = core.routes().map((r) => r.cookie);
    expect(new Set(cookies).size).to.equal(cookies.length);
  });

  it('routing.maxRoutes: the evicted route\'s late install report does not touch the route pinned in its place', () => {
    const topo = FakeLeafSpine.leafSpine(SHAPE);
    const core = new RoutingCore(topo, { seed: 1, maxRoutes: 1 });
    const run = new EffectRunner(core, undefined, true);
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), udp(1)), 1));
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), udp(2)), 2)); // evicts flow 1, its install still in flight
    run.flush();
    const [route] = core.routes();
    expect(route?.flowKey.srcPort).to.equal(2);
    expect(route?.installed, 'flow 2 installed by its own report').to.equal(true);
    expect(route?.createdMs).to.equal(2);
    expect(run.sim.count(), 'entries: flow 2 on its 3 hops, none of flow 1').to.equal(3);
  });

  it('routing.maxRoutesPerSwitch bounds the entries on each switch', () => {
    const topo = FakeLeafSpine.leafSpine(SHAPE);
    const core = new RoutingCore(topo, { seed: 1, maxRoutesPerSwitch: 5 });
    const run = new EffectRunner(core);
    for (let p = 1; p <= 40; p++) run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), udp(p, 2 + (p % 2))), p));
    for (const dpid of topo.switches().map((s) => s.dpid)) expect(run.sim.entries(dpid).length).to.be.at.most(5);
    expect(core.size).to.equal(5);
  });

  for (const bound of ['maxRoutesPerSwitch', 'maxRoutes'] as const) {
    it(`routing.${bound}: a port setting up new flows fast recycles its own routes; another port's established routes stay`, () => {
      const topo = FakeLeafSpine.leafSpine(SHAPE);
      const core = new RoutingCore(topo, { seed: 1, [bound]: 10 });
      const run = new EffectRunner(core);
      // host 2 of leaf 1 pins two flows first (the oldest routes, never seen again: their packets stay in the switches)
      run.run(core.packetIn(packetIn(leafDpid(1), hostPort(2), udpFrom(2, 1)), 0));
      run.run(core.packetIn(packetIn(leafDpid(1), hostPort(2), udpFrom(2, 2)), 1));
      // then host 1 floods new flows to the same leaf: plain least-recently-used would remove host 2's first
      for (let p = 1; p <= 200; p++) run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), udpFrom(1, p)), 10 + p));
      const bySrc = (ip: string): number[] => core.routes().filter((r) => r.flowKey.ipv4Src === ip).map((r) => r.flowKey.srcPort!).sort((x, y) => x - y);
      expect(bySrc(hostIp(1, 2)), "host 2's routes").to.deep.equal([1, 2]);
      expect(bySrc(hostIp(1, 1)), "host 1's: its 8 newest").to.deep.equal([193, 194, 195, 196, 197, 198, 199, 200]);
      expect(core.evictions).to.equal(192);
      for (const dpid of topo.switches().map((x) => x.dpid)) expect(run.sim.entries(dpid).length).to.be.at.most(10);
      // host 2 pins more: host 1's oldest go until host 2 holds as many
      for (let p = 3; p <= 5; p++) run.run(core.packetIn(packetIn(leafDpid(1), hostPort(2), udpFrom(2, p)), 300 + p));
      expect(bySrc(hostIp(1, 2))).to.deep.equal([1, 2, 3, 4, 5]);
      expect(bySrc(hostIp(1, 1))).to.deep.equal([196, 197, 198, 199, 200]);
    });

    it(`routing.${bound}: ports of comparable load share the table in least-recently-used order`, () => {
      const topo = FakeLeafSpine.leafSpine(SHAPE);
      const core = new RoutingCore(topo, { seed: 1, [bound]: 10 });
      const run = new EffectRunner(core);
      const flow = (h: number, p: number, t: number): void => run.run(core.packetIn(packetIn(leafDpid(1), hostPort(h), udpFrom(h, p)), t));
      for (let p = 1; p <= 5; p++) flow(1, p, p);
      for (let p = 1; p <= 5; p++) flow(2, p, 10 + p);
      flow(1, 1, 20); // host 1's flow 1 is used again: its flow 2 is now the least recently used
      flow(2, 6, 21); // 5 and 5: plain LRU, host 1's flow 2 goes
      flow(1, 6, 22); // 4 and 6 (at least half of 6): plain LRU again, host 1's flow 3 goes
      const routes = core.routes().map((r) => `${r.flowKey.ipv4Src === hostIp(1, 1) ? 'h1' : 'h2'}:${r.flowKey.srcPort}`);
      expect(routes).to.have.members(['h1:1', 'h1:4', 'h1:5', 'h1:6', 'h2:1', 'h2:2', 'h2:3', 'h2:4', 'h2:5', 'h2:6']);
      expect(core.evictions).to.equal(2);
    });
  }

  it('routing.maxProbesPerSecond: random unknown destinations get at most that many ARP probes a second', () => {
    const topo = FakeLeafSpine.leafSpine(SHAPE);
    const core = new RoutingCore(topo, { seed: 1, maxProbesPerSecond: 10 });
    const run = new EffectRunner(core);
    for (let i = 0; i < 1000; i++) {
      const f = ipv4Frame({ ethSrc: hostMac(1, 1), ethDst: '02:00:00:00:99:99', src: hostIp(1, 1), dst: `10.9.${i >> 8}.${i & 255}`, proto: 17, srcPort: i, dstPort: 9 });
      run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), f), i / 2)); // 2000 a second for 0.5 s
    }
    const probes = run.packetOuts().length / SHAPE.leaves; // one packet-out per leaf per probe
    expect(probes).to.equal(10);
    expect(core.probesSuppressed).to.equal(990);
  });

  it('hosts: bounded (least recently seen forgotten), aged out when idle, never the probe MAC', () => {
    const g = new FabricGraph({ maxHosts: 3, ignoredMacs: [PROBE_MAC] });
    g.addSwitch(1n, [1, 2, 3, 4, 5].map((p) => ({ portNo: p, hwAddr: `02:00:00:00:01:0${p}`, name: `p${p}`, up: true, currSpeedBps: 1e9 })) as never);
    const seen = (n: number, t: number): unknown[] => g.hostSeen(`02:00:00:00:00:0${n}`, `10.0.0.${n}`, true, { dpid: 1n, portNo: n }, t);
    seen(1, 0);
    seen(2, 10);
    seen(3, 20);
    seen(1, 30); // host 1 seen again: host 2 is now the least recently seen
    const ev = seen(4, 40) as { type: string; host?: { mac: string }; reason?: string }[];
    expect(ev.find((e) => e.type === 'hostRemoved')).to.deep.include({ reason: 'limit' });
    expect(g.hosts().map((h) => h.mac)).to.have.members(['02:00:00:00:00:01', '02:00:00:00:00:03', '02:00:00:00:00:04']);
    expect(g.hostSeen(PROBE_MAC, undefined, true, { dpid: 1n, portNo: 5 }, 50)).to.deep.equal([]);
    expect(g.hostByMac(PROBE_MAC)).to.equal(undefined);
    const aged = g.expireHosts(25); // not seen since 25 ms: host 3 (last seen at 20)
    expect(aged.filter((e) => e.type === 'hostRemoved').map((e) => (e as { host: { mac: string } }).host.mac)).to.deep.equal(['02:00:00:00:00:03']);
    expect(g.hosts()).to.have.length(2);
  });
});
