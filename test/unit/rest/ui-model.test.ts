/**
 * The web view's model (controller/rest/ui-model.ts): link loads allocated and measured, host links,
 * switch names, flowlet rows and their bound, tenant shares, and the feed's coalescing: a delta carries
 * only the sections that changed, nothing is sent when nothing changed (until the keep-alive), the full
 * snapshot carries the allocator chart's history, which is sampled once a second and bounded.
 */
import { expect } from 'chai';
import type { AllocatorView, FlowletView } from '../../../apps/enforcement/types.js';
import {
  buildUiSnapshot, parseUiRequest, switchName, tenantsView, UiFeed, type UiInput,
} from '../../../controller/rest/ui-model.js';

const L1 = '0000000000000001';
const S1 = '0000000000000101';

function allocator(runs = 10, updates = 4): AllocatorView {
  return {
    policy: 'maxmin', mode: 'both', meterPer: 'flowlet', iterations: runs, runs, lastRunDurationUs: 120, lastRunAtMs: 1000,
    eventsPerSecond: 2, activeFlowlets: 2, allocatedFlowlets: 2, smallFlowlets: 0, pendingFlowlets: 0,
    pendingByReason: {
      'waiting-for-discovery': 0, 'no-route': 0, 'route-not-installed': 0, adopting: 0, 'adoption-failed': 0, repinning: 0, 'table-refused': 0,
    },
    updatesSent: { agents: updates, meters: 0 },
    updatesPerFlowlet: { ended: 0, endedAllocated: 0, agentPerAllocated: null, meterPerAllocated: null, agentPerFlowlet: null, meterPerFlowlet: null },
    reaction: { agent: { count: 2, p50Us: 4000, p99Us: 9000 }, meter: { count: 0, p50Us: null, p99Us: null }, report: { count: 0, p50Us: null, p99Us: null } },
  };
}

function flowlet(id: string, src: string, links: string[], allocatedBps: number | null, measuredBps: number | null, tenant: string | null = null, weight = 1): FlowletView {
  return {
    agentId: 'h1', id, flow: { src, dst: '10.0.2.1', proto: 6, sport: 40000, dport: 5201 }, tenant, weight, state: 'allocated',
    path: { links, hops: [{ dpid: L1, inPort: 3, outPort: 1 }, { dpid: S1, inPort: 1, outPort: 2 }], adopted: false },
    bytes: 1e6, sizeBytes: null, transferId: null, deadlineMs: null, allocatedBps, agentRateBps: allocatedBps, agentCeilBps: null, agentDscp: null, meterRateBps: null,
    measuredBps, meterMeasuredBps: null, meterKey: null, meterId: null, pathAdopted: false, pending: null, firstPacketEpochUs: 1, reportedEpochUs: 2,
    allocatedEpochUs: 3, agentEnforcedEpochUs: 4, meterEnforcedEpochUs: null, endedEpochUs: null, reactionUs: { agent: 4000, meter: null },
  };
}

function input(over: Partial<UiInput> = {}, flowlets: FlowletView[] = [
  flowlet('f1', '10.0.1.1', ['host:10.0.1.1', `${L1}:1`, `${S1}:2`], 30e6, 28e6, 'gold', 3),
  flowlet('f2', '10.0.1.2', ['host:10.0.1.2', `${L1}:1`, `${S1}:2`], 10e6, null),
], runs = 10): UiInput {
  const port = (portNo: number, name: string, kind: 'fabric' | 'edge') => ({ portNo, name, hwAddr: '02:00:00:00:00:01', up: true, currSpeedBps: 100e6, maxSpeedBps: null, kind, neighbor: null });
  return {
    switches: [
      { dpid: L1, role: 'leaf', connected: true, peer: '127.0.0.1:1', features: null, ports: [port(1, 'l1-eth1', 'fabric'), port(3, 'l1-eth3', 'edge')] },
      { dpid: S1, role: 'spine', connected: false, peer: null, features: null, ports: [port(1, 'eth1', 'fabric'), port(2, 'eth2', 'fabric')] },
    ],
    links: [
      { src: { dpid: L1, port: 1 }, dst: { dpid: S1, port: 1 }, capacityBps: 100e6, loadBps: null, lastSeen: '', ageMs: 0 },
      { src: { dpid: S1, port: 1 }, dst: { dpid: L1, port: 1 }, capacityBps: 100e6, loadBps: null, lastSeen: '', ageMs: 0 },
    ],
    hosts: [{ mac: '02:00:00:00:00:01', ipv4: '10.0.1.1', attachment: { dpid: L1, port: 3 }, lastSeen: '', ageMs: 0 }],
    routes: 2,
    ready: true,
    startedEpochMs: 1_700_000_000_000,
    version: '1.2.3',
    enforcement: {
      flowlets,
      allocator: allocator(runs),
      agents: [{ id: 'h1', hostname: 'h1', interface: 'h1-eth0', ipv4: ['10.0.1.1'], connected: true, sinceMs: 0, lastSeenMs: 900, flowlets: 2 }],
      linkLoads: new Map([[`${L1}:1`, 40e6], ['host:10.0.1.1', 30e6], [`${L1}:3`, 5e6]]),
    },
    tenants: [{ name: 'gold', weight: 3 }, { name: 'idle', weight: 5 }],
    wallMs: 1_700_000_010_000,
    maxFlowlets: 1000,
    ...over,
    // the controller's clock moves with the wall clock
    nowMs: 1000 + ((over.wallMs ?? 1_700_000_010_000) - 1_700_000_010_000),
  };
}

describe('web view model', () => {
  it('gives each directed link its allocated load and the measured rates of the flowlets crossing it', () => {
    const s = buildUiSnapshot(input());
    const up = s.links.find((l) => l.id === `${L1}:1`)!;
    expect(up).to.deep.include({ capacityBps: 100e6, allocatedBps: 40e6, measuredBps: 28e6 }); // f2 has no measurement
    const down = s.links.find((l) => l.id === `${S1}:1`)!;
    expect(down).to.deep.include({ allocatedBps: 0, measuredBps: 0 });
    expect(s.hosts[0]).to.deep.include({ dpid: L1, port: 3, capacityBps: 100e6 });
    expect(s.hosts[0]!.up).to.deep.equal({ allocatedBps: 30e6, measuredBps: 28e6 });
    expect(s.hosts[0]!.down).to.deep.equal({ allocatedBps: 5e6, measuredBps: 0 });
    // host links take the allocator's capacities: configured per port, else the default, else the port speed
    expect(buildUiSnapshot(input({ capacity: { links: {}, defaultBps: 50e6 } })).hosts[0]!.capacityBps).to.equal(50e6);
    expect(buildUiSnapshot(input({ capacity: { links: { [`${L1}:3`]: 40e6 }, defaultBps: 50e6 } })).hosts[0]!.capacityBps).to.equal(40e6);
  });

  it('without live allocation loads are null and there are no flowlets, agents or tenants', () => {
    const { enforcement: _drop, ...rest } = input();
    const s = buildUiSnapshot(rest);
    expect(s.links[0]).to.deep.include({ allocatedBps: null, measuredBps: null });
    expect(s.allocator).to.equal(null);
    expect(s.flowlets).to.deep.equal({ total: 0, rows: [] });
    expect(s.tenants).to.deep.equal([]);
  });

  it('names switches by their port names, else by role and dpid; counts health', () => {
    const s = buildUiSnapshot(input());
    expect(s.switches.map((x) => x.name)).to.deep.equal(['l1', 'spine 101']);
    expect(switchName({ dpid: L1, role: 'leaf', ports: [{ portNo: 0xfffffffe, name: 'br0' } as never, { portNo: 1, name: 'x-1' } as never] })).to.equal('br0');
    expect(s.health).to.deep.include({ ready: true, switches: 1, links: 2, hosts: 1, routes: 2, agents: 1, flowlets: 2, droppedPacketIns: null, version: '1.2.3' });
    expect(s.agents[0]!.lastSeenEpochMs).to.equal(1_700_000_010_000 - 100);
  });

  it('keeps at most maxFlowlets rows and counts the rest', () => {
    const many = Array.from({ length: 30 }, (_, i) => flowlet(`f${i}`, '10.0.1.1', [], 1e6, 1e6));
    const s = buildUiSnapshot(input({ maxFlowlets: 10 }, many));
    expect(s.flowlets.total).to.equal(30);
    expect(s.flowlets.rows).to.have.length(10);
    expect(s.flowlets.rows[0]).to.deep.include({ key: 'h1/f0', src: '10.0.1.1', sport: 40000, state: 'allocated', reactionUs: 4000 });
    expect(s.flowlets.rows[0]!.hops).to.deep.equal([L1, S1]);
  });

  it('tenant shares: weight share among tenants with flowlets, throughput share measured', () => {
    const ts = tenantsView([
      flowlet('a', '10.0.1.1', [], 30e6, 20e6, 'gold', 3),
      flowlet('b', '10.0.1.2', [], 10e6, 20e6, null, 1),
    ], [{ name: 'gold', weight: 3 }, { name: 'idle', weight: 5 }]);
    expect(ts.map((t) => [t.name, t.flowlets, t.weightShare, t.throughputShare])).to.deep.equal([
      ['(default)', 1, 0.25, 0.5], ['gold', 1, 0.75, 0.5], ['idle', 0, 0, 0],
    ]);
    // no measurement yet: shares of the allocation
    const alloc = tenantsView([flowlet('a', '10.0.1.1', [], 30e6, null, 'gold', 3), flowlet('b', '10.0.1.2', [], 10e6, null)], []);
    expect(alloc.map((t) => t.throughputShare)).to.deep.equal([0.25, 0.75]);
  });

  it('the feed sends every section first, then only what changed, nothing when nothing changed, a keep-alive after 5 s', () => {
    const feed = new UiFeed();
    const first = JSON.parse(feed.update(input())!);
    expect(first).to.include({ type: 'delta', seq: 1 });
    expect(Object.keys(first.sections).sort()).to.deep.equal(['agents', 'allocator', 'flowlets', 'health', 'hosts', 'links', 'switches', 'tenants']);
    expect(feed.update(input({ wallMs: 1_700_000_010_100 }))).to.equal(null);
    const base = input({ wallMs: 1_700_000_010_200 });
    const moved = { ...base, links: base.links.slice(0, 1) };
    const d = JSON.parse(feed.update(moved)!);
    expect(Object.keys(d.sections).sort()).to.deep.equal(['health', 'links']); // the link count is in health
    expect(d.sections.links).to.have.length(1);
    expect(d.seq).to.equal(2);
    // a second later: a new chart point, nothing else
    const point = JSON.parse(feed.update({ ...moved, wallMs: 1_700_000_011_200, nowMs: 2200 })!);
    expect(Object.keys(point.sections)).to.deep.equal(['allocator']);
    expect(point.sections.allocator.sample).to.deep.include({ runsPerS: 0, t: 1_700_000_011.2 });
    const full = JSON.parse(feed.full(1_700_000_011_400)!);
    expect(full.type).to.equal('snapshot');
    expect(full.seq).to.equal(3);
    expect(full.history).to.have.length(1);
    expect(full.sections.links).to.have.length(1);
    expect(full.sections).to.have.all.keys('agents', 'allocator', 'flowlets', 'health', 'hosts', 'links', 'switches', 'tenants');
  });

  it('without changes the feed sends an empty delta every 5 s (the page knows it is live)', () => {
    const { enforcement: _drop, ...rest } = input();
    const feed = new UiFeed();
    expect(feed.update(rest)).to.not.equal(null);
    expect(feed.update({ ...rest, wallMs: rest.wallMs + 4900 })).to.equal(null);
    expect(JSON.parse(feed.update({ ...rest, wallMs: rest.wallMs + 5000 })!).sections).to.deep.equal({});
  });

  it('samples the allocator chart once a second (rates from counter differences) and keeps a bounded history', () => {
    const feed = new UiFeed({ historyPoints: 3 });
    const t0 = 1_700_000_000_000;
    for (let i = 0; i <= 8; i++) {
      // every 500 ms: 5 more runs
      feed.update(input({ wallMs: t0 + i * 500 }, undefined, 10 + i * 5));
    }
    const h = feed.historySamples();
    expect(h).to.have.length(3);
    for (const p of h) expect(p).to.deep.include({ runsPerS: 10, updatesPerS: 0, lastRunUs: 120, reactionP50Us: 4000, reactionP99Us: 9000, flowlets: 2 });
    expect(h.map((p) => p.t)).to.deep.equal([t0 / 1000 + 2, t0 / 1000 + 3, t0 / 1000 + 4]);
    expect(JSON.parse(feed.full(t0 + 5000)!).history).to.have.length(3);
    expect(feed.snapshot()!.allocator!.sample!.t).to.equal(t0 / 1000 + 4);
  });

  it('accepts only well-formed detail requests from the page', () => {
    expect(parseUiRequest(JSON.stringify({ type: 'detail', reqId: 3, dpid: L1 }))).to.deep.equal({ type: 'detail', reqId: 3, dpid: L1 });
    for (const bad of ['', 'x', 'null', '[]', '{"type":"detail","reqId":1,"dpid":"1"}', '{"type":"set","reqId":1,"dpid":"0000000000000001"}',
      '{"type":"detail","reqId":1.5,"dpid":"0000000000000001"}', 'x'.repeat(2000)]) {
      expect(parseUiRequest(bad), bad.slice(0, 40)).to.equal(null);
    }
  });
});
