/**
 * The pure discovery core (topology/discovery.ts) on a fake time line: probes at once on switchUp, one
 * probe per port per period spread over the period, re-probing of other switches' free ports when a
 * switch connects, link expiry after N periods, the LLDP flow entry, and LLDP packet-in verification.
 */
import { expect } from 'chai';
import { OFPCML_NO_BUFFER, OFPP, encodeMessage, decodeMessage } from '../../../openflow/codec/index.js';
import { DiscoveryCore, lldpFlowMod, probePacketOut, type Probe } from '../../../topology/discovery.js';
import { newProbeKey } from '../../../topology/lldp-probe.js';
import { parseFrame } from '../../../lib/packet/frame.js';
import type { FabricLink } from '../../../topology/types.js';

const key = newProbeKey();
const ports = (n: number) => Array.from({ length: n }, (_, i) => ({ portNo: i + 1, hwAddr: `02:00:00:00:00:${(i + 1).toString(16).padStart(2, '0')}` }));

function lldpOf(p: Probe) {
  const r = parseFrame(p.frame);
  if (!r.ok || !r.value.lldp) throw new Error('probe is not LLDP');
  return r.value.lldp;
}

/** Runs ticks every ms from `from` to `to` (exclusive), collecting probes with their send time. */
function run(core: DiscoveryCore, from: number, to: number, links: FabricLink[] = []): { at: number; p: Probe }[] {
  const out: { at: number; p: Probe }[] = [];
  for (let t = from; t < to; t++) for (const p of core.tick(t, links).probes) out.push({ at: t, p });
  return out;
}

describe('topology/discovery: schedule', () => {
  it('probes every up port of a new switch at once', () => {
    const core = new DiscoveryCore({ key });
    const probes = core.switchUp(1n, ports(4), [], 0);
    expect(probes.map((p) => p.portNo)).to.deep.equal([1, 2, 3, 4]);
    expect(core.allProbed()).to.equal(true);
  });
  it('then sends one probe per port per period, spread over the period', () => {
    const core = new DiscoveryCore({ key, periodMs: 1000 });
    core.switchUp(1n, ports(10), [], 0);
    const sent = run(core, 1, 5001);
    for (let port = 1; port <= 10; port++) {
      const times = sent.filter((s) => s.p.portNo === port).map((s) => s.at);
      expect(times.length, `port ${port}`).to.be.within(4, 5);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).to.be.within(1000, 1100);
    }
    const perSlot = new Map<number, number>();
    for (const s of sent) perSlot.set(s.at, (perSlot.get(s.at) ?? 0) + 1);
    expect(Math.max(...perSlot.values()), 'no burst: ≤ 2 of 10 ports per 100 ms slot').to.be.at.most(2);
  });
  it('re-probes other switches\u2019 free ports at the next slot when a switch connects', () => {
    const core = new DiscoveryCore({ key, periodMs: 1000 });
    core.switchUp(1n, ports(3), [], 0);
    run(core, 1, 1200);
    core.switchUp(2n, ports(2), [{ dpid: 1n, portNo: 2 }], 1200);
    const sent = run(core, 1201, 1420).filter((s) => s.p.dpid === 1n);
    expect(sent.map((s) => s.p.portNo)).to.include(2);
    expect(sent.find((s) => s.p.portNo === 2)!.at).to.be.within(1300, 1400);
  });
  it('probes a port that comes up at once, and stops probing one that goes down', () => {
    const core = new DiscoveryCore({ key });
    core.switchUp(1n, ports(1), [], 0);
    expect(core.portChanged(1n, 5, '02:00:00:00:00:05', true, 10).map((p) => p.portNo)).to.deep.equal([5]);
    expect(core.portChanged(1n, 5, '02:00:00:00:00:05', true, 11)).to.deep.equal([]);
    core.portChanged(1n, 1, '02:00:00:00:00:01', false, 12);
    expect(run(core, 13, 3000).map((s) => s.p.portNo)).to.not.include(1);
    expect(core.portChanged(9n, 1, '02:00:00:00:00:01', true, 0)).to.deep.equal([]);
  });
  it('stops when no switch is connected', () => {
    const core = new DiscoveryCore({ key });
    expect(core.nextWakeMs()).to.equal(undefined);
    core.switchUp(1n, ports(1), [], 0);
    expect(core.nextWakeMs()).to.equal(100);
    core.switchDown(1n);
    expect(core.nextWakeMs()).to.equal(undefined);
  });
  it('expires links after timeoutPeriods × period', () => {
    const core = new DiscoveryCore({ key, periodMs: 1000, timeoutPeriods: 3 });
    core.switchUp(1n, ports(1), [], 0);
    const link: FabricLink = { src: { dpid: 1n, portNo: 1 }, dst: { dpid: 2n, portNo: 1 }, capacityBps: 1, lastSeenMs: 0 };
    let expiredAt: number | undefined;
    for (let t = 1; t < 4000 && expiredAt === undefined; t++) if (core.tick(t, [link]).expired.length) expiredAt = t;
    expect(expiredAt).to.be.within(3001, 3100);
  });
  it('adds jitter from the injected random source', () => {
    const core = new DiscoveryCore({ key, jitterMs: 50, random: () => 0.5 });
    core.switchUp(1n, ports(1), [], 0);
    core.tick(100, []);
    expect(core.nextWakeMs()).to.equal(225);
  });
});

describe('topology/discovery: probes and packet-ins', () => {
  it('builds signed probes that verify into the link they prove', () => {
    const core = new DiscoveryCore({ key });
    const [p] = core.switchUp(0xabn, ports(1), [], 1000);
    const r = core.lldpIn(0xcdn, 7, lldpOf(p!), 1005);
    if (!r.ok) throw r.error;
    expect(r.value.src).to.deep.equal({ dpid: 0xabn, portNo: 1 });
    expect(r.value.dst).to.deep.equal({ dpid: 0xcdn, portNo: 7 });
  });
  it('drops stale probes, probes of another controller, and probes reflected into their own port', () => {
    const core = new DiscoveryCore({ key, periodMs: 1000 });
    const other = new DiscoveryCore({ key: newProbeKey() });
    const [p] = core.switchUp(1n, ports(1), [], 0);
    const [q] = other.switchUp(1n, ports(1), [], 0);
    const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);
    expect(code(core.lldpIn(2n, 1, lldpOf(p!), 2001))).to.equal('LLDP_STALE');
    expect(code(core.lldpIn(2n, 1, lldpOf(q!), 0))).to.equal('LLDP_BAD_SIGNATURE');
    expect(code(core.lldpIn(1n, 1, lldpOf(p!), 0))).to.equal('LLDP_NOT_RIVULET');
  });
  it('packet-out: in_port CONTROLLER, output on the port, the frame as data; encodes', () => {
    const core = new DiscoveryCore({ key });
    const [p] = core.switchUp(1n, ports(1), [], 0);
    const msg = probePacketOut(p!);
    expect(msg).to.deep.include({ type: 'OFPT_PACKET_OUT', inPort: OFPP.CONTROLLER });
    const wire = encodeMessage({ ...msg, xid: 1 } as Parameters<typeof encodeMessage>[0]);
    expect(decodeMessage(wire).ok).to.equal(true);
    expect(lldpOf(p!).ttl).to.equal(3);
  });
  it('the LLDP flow entry: eth_type 0x88cc → CONTROLLER, no buffer, priority above table-miss', () => {
    const fm = lldpFlowMod();
    expect(fm).to.deep.include({ type: 'OFPT_FLOW_MOD', priority: 65000, tableId: 0 });
    if (fm.type !== 'OFPT_FLOW_MOD') throw new Error('not a flow-mod');
    expect(fm.match).to.deep.equal([{ field: 'eth_type', value: 0x88cc }]);
    expect(fm.instructions).to.deep.equal([{ type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port: OFPP.CONTROLLER, maxLen: OFPCML_NO_BUFFER }] }]);
    expect(decodeMessage(encodeMessage({ ...fm, xid: 2 } as Parameters<typeof encodeMessage>[0])).ok).to.equal(true);
  });
});
