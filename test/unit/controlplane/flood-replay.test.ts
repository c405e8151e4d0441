/**
 * Deterministic accounting of a packet-in flood, by replay over the pure cores (packet-in gate + routing
 * core + a fake data plane): the flood of the Mininet test (one host, 20,000 new UDP flows/s for 10 s to a
 * known host on the other leaf of a 2 × 2 × 2 leaf-spine), with LLDP on every fabric port and ARP from
 * another host, as one arrival sequence fixed by a seed. The live flood cannot repeat its counts exactly
 * (arrival times come from the kernel, OVS and the event loop, and the buckets refill by time); the same
 * sequence replayed gives the same counts per class and port, and the same routes.
 *
 * A new flow is charged once, at its ingress: the packet released at once by the controller reaches the
 * spine before the spine's entry (installs are confirmed 2 ms later here) and comes back as a packet-in on
 * a fabric port, admitted without spending the new-flow budget.
 */
import { expect } from 'chai';
import { DEFAULT_PACKET_IN_GATE, PacketInGate, type PacketInClass } from '../../../openflow/packet-in-gate.js';
import { RoutingCore } from '../../../apps/routing/core.js';
import { flowKeyOf } from '../../../apps/routing/flow-key.js';
import type { PortRef } from '../../../topology/types.js';
import { mulberry32 } from '../../../testing/random.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid, spineDpid } from '../../../testing/fake-leaf-spine.js';
import { ipv4Frame, packetIn } from '../routing/frames.js';
import { EffectRunner } from '../routing/sim.js';

const SHAPE = { spines: 2, leaves: 2, hostsPerLeaf: 2 };
const hostPort = (h: number): number => SHAPE.spines + h;
const FLOWS_PER_S = 20_000;
const DURATION_S = 10;
/** a released packet crosses one link in this long, ms */
const LINK_MS = 0.1;
/** an install is confirmed (barrier reply) this long after it was written, ms */
const INSTALL_MS = 2;

interface Replay {
  readonly counts: string;
  readonly routes: string;
  readonly ingressAdmitted: number;
  readonly ingressDropped: number;
  readonly transitAdmitted: number;
  readonly dropped: Record<PacketInClass, number>;
}

function replay(seed: number): Replay {
  const topo = FakeLeafSpine.leafSpine(SHAPE);
  const gate = new PacketInGate(DEFAULT_PACKET_IN_GATE);
  const core = new RoutingCore(topo, { seed: 14, maxRoutesPerSwitch: 300 });
  const run = new EffectRunner(core, undefined, true);
  const rnd = mulberry32(seed);
  const installs: { atMs: number; e: (typeof run.pending)[number] }[] = [];
  const transits: { atMs: number; at: PortRef; data: Buffer }[] = [];
  let seen = 0;
  let transitAdmitted = 0;

  /** New packet-outs on a fabric port travel to the next switch; new installs get confirmed later. */
  const follow = (now: number): void => {
    for (; seen < run.sent.length; seen++) {
      const { dpid, msg } = run.sent[seen]!;
      if (msg.type !== 'OFPT_PACKET_OUT') continue;
      for (const a of msg.actions) {
        if (a.type !== 'OFPAT_OUTPUT') continue;
        const link = topo.links().find((l) => l.src.dpid === dpid && l.src.portNo === a.port);
        if (link) transits.push({ atMs: now + LINK_MS, at: link.dst, data: msg.data });
      }
    }
    while (run.pending.length > 0) installs.push({ atMs: now + INSTALL_MS, e: run.pending.shift()! });
  };
  const arrive = (dpid: bigint, inPort: number, data: Buffer, cls: PacketInClass, now: number): void => {
    const transit = topo.isFabricPort({ dpid, portNo: inPort });
    const charge = cls !== 'ipv4' || !transit;
    if (!gate.admit(dpid, inPort, cls, now, charge)) return;
    if (cls === 'ipv4' && transit) transitAdmitted++;
    if (cls !== 'ipv4') return; // LLDP / ARP: discovery's business, only their accounting matters here
    run.run(core.packetIn(packetIn(dpid, inPort, data), now));
    follow(now);
  };
  /** Everything due up to `now`, in time order (both queues are in time order: constant delays). */
  const catchUp = (now: number): void => {
    for (;;) {
      const t = transits[0];
      const i = installs[0];
      if ((!t || t.atMs > now) && (!i || i.atMs > now)) return;
      if (t && (!i || t.atMs <= i.atMs)) {
        transits.shift();
        const flow = flowKeyOf(packetIn(t.at.dpid, t.at.portNo, t.data).frame)!;
        const where = run.sim.trace(topo, flow, t.at);
        if (where.missAt) arrive(where.missAt.dpid, where.missAt.portNo, t.data, 'ipv4', t.atMs);
      } else {
        installs.shift();
        run.complete(i!.e);
        follow(i!.atMs);
      }
    }
  };

  const lldp = Buffer.alloc(60);
  lldp.writeUInt16BE(0x88cc, 12);
  const arp = Buffer.alloc(60);
  arp.writeUInt16BE(0x0806, 12);
  const fabricPorts = topo.links().map((l) => l.dst);
  const total = FLOWS_PER_S * DURATION_S;
  let nextTickMs = 0;
  for (let i = 0; i < total; i++) {
    const now = (i + rnd()) * (1000 / FLOWS_PER_S); // one arrival per slot, jittered inside it
    catchUp(now);
    while (nextTickMs <= now) {
      for (const p of fabricPorts) arrive(p.dpid, p.portNo, lldp, 'lldp', nextTickMs);
      arrive(leafDpid(2), hostPort(2), arp, 'arp', nextTickMs);
      nextTickMs += 100;
    }
    const data = ipv4Frame({
      ethSrc: hostMac(1, 1), ethDst: hostMac(2, 1), src: hostIp(1, 1), dst: hostIp(2, 1), proto: 17,
      srcPort: 1 + (i % 65_000), dstPort: 1 + Math.floor(i / 65_000),
    });
    arrive(leafDpid(1), hostPort(1), data, 'ipv4', now);
  }
  catchUp(Infinity);

  const ingress = gate.switches().find((s) => s.dpid === leafDpid(1))!.ports.get(hostPort(1))!.ipv4;
  const counts = gate.switches().map((s) => ({ dpid: String(s.dpid), total: s.total, ports: [...s.ports].map(([p, c]) => [p, c]) }));
  return {
    counts: JSON.stringify(counts),
    routes: JSON.stringify(core.routes().map((r) => [r.flowKey.srcPort, r.flowKey.dstPort, r.path.map((h) => h.dpid)])),
    ingressAdmitted: ingress.admitted,
    ingressDropped: ingress.dropped,
    transitAdmitted,
    dropped: { ...gate.droppedTotal },
  };
}

describe('packet-in flood replay (deterministic accounting)', function () {
  this.timeout(60_000);
  let a: Replay;
  before(() => {
    a = replay(14);
  });

  it('the same recorded flood replayed with the routing seed fixed gives the same counts per class and port, and the same routes', () => {
    const b = replay(14);
    expect(b.counts).to.equal(a.counts);
    expect(b.routes).to.equal(a.routes);
  });

  it('a new flow is charged once, at its ingress: the port budget admits burst + rate × duration, later hops spend nothing', () => {
    const perPort = DEFAULT_PACKET_IN_GATE.perPortPps.ipv4;
    // one second of burst plus the refill over the 10 s (the last partial token may or may not be whole)
    expect(a.ingressAdmitted).to.be.within(perPort * (1 + DURATION_S) - 1, perPort * (1 + DURATION_S) + 1);
    expect(a.ingressAdmitted + a.ingressDropped).to.equal(FLOWS_PER_S * DURATION_S);
    expect(a.transitAdmitted, 'released first packets meeting the spine before its entry').to.be.greaterThan(a.ingressAdmitted / 2);
    expect(a.dropped.ipv4, 'only ingress packet-ins are dropped').to.equal(a.ingressDropped);
    expect(a.dropped.lldp).to.equal(0);
    expect(a.dropped.arp).to.equal(0);
    const spines = JSON.parse(a.counts) as { dpid: string; total: { ipv4: { dropped: number } } }[];
    for (const s of spines.filter((x) => BigInt(x.dpid) >= spineDpid(1))) expect(s.total.ipv4.dropped).to.equal(0);
  });

  it('a different arrival sequence gives different counts (the replay is what makes them equal)', () => {
    const c = replay(15);
    expect(c.ingressAdmitted).to.be.within(a.ingressAdmitted - 2, a.ingressAdmitted + 2);
    expect(c.routes).to.not.equal(a.routes);
  });
});
