/**
 * The topology app shell (topology/app.ts) on a ManualClock with an in-memory wired fabric: switchUp
 * installs the LLDP entry and probes at once, probes cross the wires as packet-ins, links / roles /
 * readiness follow, a port down removes links at once, a silent cut expires after N periods, hosts are
 * learnt before the next app (registered after it) sees the same packet-in, and stop() leaves no timer.
 */
import { expect } from 'chai';
import type { AppContext, AppEvents, OutMessage, SwitchHandle } from '../../../openflow/app-api.js';
import { AppHost } from '../../../openflow/app-host.js';
import { createTopologyApp } from '../../../topology/app.js';
import { buildArp } from '../../../lib/packet/frame.js';
import { codecPort, log, setup } from '../../../testing/topology-sim.js';

describe('topology/app: the shell on a fake clock', () => {
  it('discovers a 2×4 leaf-spine: 16 links, roles, LLDP entry first, ready after 2 quiet periods', () => {
    const { sim, topo, clock } = setup([2, 4, 2]);
    for (const s of sim.spec.switches) {
      sim.up(s.dpid);
      clock.advance(10);
    }
    const fm = sim.sent.filter((x) => x.msg.type === 'OFPT_FLOW_MOD');
    expect(fm).to.have.length(6);
    expect(fm.every((x) => x.msg.type === 'OFPT_FLOW_MOD' && x.msg.priority === 65000)).to.equal(true);
    let found: number | undefined;
    for (let t = 0; t <= 3000 && found === undefined; t += 10) {
      if (topo.view.links().length === 16) found = t;
      else clock.advance(10);
    }
    expect(found, 'all 16 links within 3 s').to.not.equal(undefined);
    expect(found).to.be.at.most(300);
    for (const d of sim.spec.spines) expect(topo.view.switch(d)?.role).to.equal('spine');
    for (const d of sim.spec.leaves) expect(topo.view.switch(d)?.role).to.equal('leaf');
    expect(topo.view.paths(sim.spec.leaves[0]!, sim.spec.leaves[3]!)).to.have.length(2);
    expect(topo.view.ready()).to.equal(false);
    const t16 = clock.now();
    clock.advance(1900);
    expect(topo.view.ready(), 'not before 2 quiet periods').to.equal(false);
    clock.advance(t16 + 2010 - clock.now());
    expect(topo.view.ready()).to.equal(true);
    topo.stop();
    expect(clock.pending).to.equal(0);
  });

  it('sends at most one probe per port per period in steady state', () => {
    const { sim, topo, clock } = setup([2, 4, 2]);
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(3000);
    const before = sim.sent.length;
    clock.advance(5000);
    const probes = sim.sent.slice(before).filter((x) => x.msg.type === 'OFPT_PACKET_OUT').length;
    const ports = sim.spec.switches.reduce((n, s) => n + s.ports.length, 0);
    expect(probes).to.be.within(ports * 4, ports * 5 + ports);
    topo.stop();
  });

  it('a port going down removes its links at once; back up, the link returns at once', () => {
    const { sim, topo, clock, events } = setup([2, 2, 1]);
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(1500);
    expect(topo.view.links()).to.have.length(8);
    const w = sim.spec.wires[0]!;
    events.length = 0;
    sim.portStatus(w.a.dpid, w.a.portNo, false);
    expect(topo.view.links(), 'both directions of the cable at once').to.have.length(6);
    sim.portStatus(w.b.dpid, w.b.portNo, false);
    expect(topo.view.links()).to.have.length(6);
    expect(events.filter((e) => e.type === 'linkDown').map((e) => (e as { reason: string }).reason)).to.deep.equal(['portDown', 'portDown']);
    expect(events.at(-1)?.type).to.equal('topologyChanged');
    sim.portStatus(w.b.dpid, w.b.portNo, true);
    sim.portStatus(w.a.dpid, w.a.portNo, true);
    expect(topo.view.links(), 'the direction probed by the port coming up: at once').to.have.length(7);
    clock.advance(200);
    expect(topo.view.links(), 'the other: at the next slot').to.have.length(8);
    topo.stop();
  });

  it('a silent cut expires after linkTimeoutPeriods', () => {
    const { sim, topo, clock, events } = setup([2, 2, 1], { lldpIntervalMs: 1000, linkTimeoutPeriods: 3 });
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(1500);
    const w = sim.spec.wires[0]!;
    sim.cut.add(`${w.a.dpid}:${w.a.portNo}`);
    const cutAt = clock.now();
    let goneAt: number | undefined;
    while (goneAt === undefined && clock.now() - cutAt < 6000) {
      clock.advance(10);
      expect(topo.view.links().length, 'only the cut link may go').to.be.at.least(7);
      if (topo.view.links().length === 7) goneAt = clock.now();
    }
    expect(goneAt! - cutAt).to.be.within(2000, 4200);
    expect(events.some((e) => e.type === 'linkDown' && e.reason === 'timeout')).to.equal(true);
    const downs = events.filter((e) => e.type === 'linkDown');
    expect(downs, 'no other link flapped').to.have.length(1);
    sim.cut.clear();
    clock.advance(1100);
    expect(topo.view.links()).to.have.length(8);
    topo.stop();
  });

  it('switchDown removes its links and stops the timer when no switch is left', () => {
    const { sim, topo, clock } = setup([1, 2, 1]);
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(1500);
    expect(topo.view.links()).to.have.length(4);
    sim.down(sim.spec.spines[0]!);
    expect(topo.view.links()).to.have.length(0);
    for (const d of sim.spec.leaves) sim.down(d);
    expect(clock.pending).to.equal(0);
    expect(topo.view.ready()).to.equal(false);
    topo.stop();
  });

  it('learns a host before an app registered after it handles the same packet-in', () => {
    const { sim, topo, clock } = setup([2, 2, 1]);
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(1500);
    const seen: (string | undefined)[] = [];
    sim.host.register({ name: 'routing-like', handlers: { packetIn: () => void seen.push(topo.view.hostByIpv4('10.0.0.1')?.mac) } });
    const leaf = sim.spec.leaves[0]!;
    const mac = '0a:00:00:00:00:01';
    sim.packetIn(leaf, 3, buildArp({ op: 1, ethSrc: mac, ethDst: 'ff:ff:ff:ff:ff:ff', sha: mac, spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' }));
    expect(seen).to.deep.equal([mac]);
    expect(topo.view.hostByMac(mac)?.attachment).to.deep.equal({ dpid: leaf, portNo: 3 });
    // unicast, as switch entries forward it across a link (a broadcast from a MAC learnt nowhere would be
    // first-hop traffic: the link would be taken for a relay, see link-guard.test.ts)
    sim.packetIn(leaf, 1, buildArp({ op: 1, ethSrc: '0a:00:00:00:00:09', ethDst: mac, sha: '0a:00:00:00:00:09', spa: '10.0.0.9', tha: '00:00:00:00:00:00', tpa: '10.0.0.1' }));
    expect(topo.view.hostByIpv4('10.0.0.9'), 'not on a fabric port').to.equal(undefined);
    topo.stop();
  });

  it('drops forged (unsigned) LLDP from a host port', () => {
    const { sim, topo, clock } = setup([1, 2, 1]);
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(1500);
    const other = createTopologyApp({ clock, log });
    const forgedHost = new AppHost({ get: () => undefined, values: () => [].values() }, log);
    forgedHost.register(other.app);
    const captured: OutMessage[] = [];
    const fakeSw = { dpid: 0x999n, alive: true, send: (m: OutMessage) => (captured.push(m), 0) } as unknown as SwitchHandle;
    const res = other.app.handlers.switchUp!({ dpid: 0x999n, features: {} as AppEvents['switchUp']['features'], ports: [codecPort(1, '02:00:00:00:09:01')], sw: fakeSw }, {} as AppContext) as OutMessage[];
    const forged = res.find((m) => m.type === 'OFPT_PACKET_OUT');
    if (forged?.type !== 'OFPT_PACKET_OUT') throw new Error('no probe');
    sim.packetIn(sim.spec.leaves[0]!, 2, forged.data);
    expect(topo.view.links()).to.have.length(4);
    expect(topo.view.isFabricPort({ dpid: sim.spec.leaves[0]!, portNo: 2 })).to.equal(false);
    other.stop();
    topo.stop();
  });
});
