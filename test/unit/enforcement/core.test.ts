/**
 * The enforcement core (apps/enforcement/core.ts), pure, on a fake 2-spine × 4-leaf × 2-host fabric with
 * routes pinned by hand: rates against hand-solved optima, tenants, threshold suppression, the three
 * modes, small flowlets, pending paths and adoption, expiry, host-pair meters, ends, reaction times.
 */
import { expect } from 'chai';
import { Harness, ip, meterSets, ratesOf, start, tuple } from '../../../testing/enforcement-harness.js';

const CLOSE = 1e-3; // relative

function near(actual: number | null | undefined, want: number, rel = CLOSE): void {
  expect(actual, `≈ ${want}`).to.be.a('number');
  expect(Math.abs(actual! - want) / want, `${actual} ≈ ${want}`).to.be.below(rel);
}

describe('enforcement core: work-conserving ceilings', () => {
  /** The last rates entry pushed per agent/flowlet. */
  const entries = (effects: ReturnType<Harness['run']>): Map<string, { rateBps: number; ceilBps?: number }> => {
    const m = new Map<string, { rateBps: number; ceilBps?: number }>();
    for (const e of effects) if (e.kind === 'rates') for (const s of e.msg.set) m.set(`${e.agentId}/${s.id}`, s);
    return m;
  };

  it('a weighted split at a shared receiver link: the ceiling is the rate (no borrowing past the bottleneck)', () => {
    const h = new Harness({ policy: 'maxmin', workConserving: true, tenants: [{ name: 'one', weight: 1, members: ['10.0.1.1'] }, { name: 'three', weight: 3, members: ['10.0.2.1'] }] });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(2, 1), ip(3, 1));
    h.pin(a, 1);
    h.pin(b, 2);
    h.hello('h11', [start('f', a)]);
    h.hello('h21', [start('f', b)]);
    const e = entries(h.run());
    near(e.get('h11/f')!.rateBps, 25e6);
    near(e.get('h21/f')!.rateBps, 75e6);
    expect(e.get('h11/f')!.ceilBps, 'no ceiling above the rate').to.equal(undefined);
    expect(e.get('h21/f')!.ceilBps).to.equal(undefined);
    near(h.core.flowlet('h11', 'f')!.meterRateBps!, 25e6 * 1.1);
  });

  it('a flowlet held by its host link borrows up to its share of what is free downstream; meters police above the ceiling', () => {
    // h11 sends a → h31 and b → h41; h21 sends c → h41. Max-min: a = b = 50 (h11's uplink), c = 50 (h41's downlink
    // with b). a's downstream (h31's downlink) has 50 free: a may borrow up to 100; b's downstream is full.
    const h = new Harness({ policy: 'maxmin', workConserving: true });
    const A = tuple(ip(1, 1), ip(3, 1));
    const B = tuple(ip(1, 1), ip(4, 1), 40001);
    const C = tuple(ip(2, 1), ip(4, 1));
    h.pin(A, 1);
    h.pin(B, 2);
    h.pin(C, 1);
    h.hello('h11', [start('a', A), start('b', B)]);
    h.hello('h21', [start('c', C)]);
    const e = entries(h.run());
    near(e.get('h11/a')!.rateBps, 50e6);
    near(e.get('h11/a')!.ceilBps!, 100e6);
    expect(e.get('h11/b')!.ceilBps).to.equal(undefined);
    expect(e.get('h21/c')!.ceilBps).to.equal(undefined);
    near(h.core.flowlet('h11', 'a')!.meterRateBps!, 110e6);
    near(h.core.flowlet('h11', 'b')!.meterRateBps!, 55e6);
    // GET /api/v1/flowlets shows the ceiling pushed (null where the rate is a hard limit)
    near(h.core.flowlet('h11', 'a')!.agentCeilBps!, 100e6);
    expect(h.core.flowlet('h11', 'b')!.agentCeilBps).to.equal(null);
    // off: hard limits only
    const off = new Harness({ policy: 'maxmin', workConserving: false });
    off.pin(A, 1);
    off.hello('h11', [start('a', A)]);
    expect(entries(off.run()).get('h11/a')).to.deep.equal({ id: 'a', rateBps: 100e6 });
  });

  it('the free capacity of a downstream link is divided by weight: the ceilings crossing it add up to at most its capacity', () => {
    // h11 → h31 and h12 → h31, each sender also sends to h41 and h42 (held by its uplink at 100/3 each); h31's
    // downlink carries 2 × 33.3 and has 33.3 free: each of its two flowlets may borrow half of it.
    const h = new Harness({ policy: 'maxmin', workConserving: true });
    const flows = [
      ['h11', 'x', tuple(ip(1, 1), ip(3, 1))], ['h11', 'y', tuple(ip(1, 1), ip(4, 1), 40001)], ['h11', 'z', tuple(ip(1, 1), ip(4, 2), 40002)],
      ['h12', 'x', tuple(ip(1, 2), ip(3, 1), 40003)], ['h12', 'y', tuple(ip(1, 2), ip(4, 1), 40004)], ['h12', 'z', tuple(ip(1, 2), ip(4, 2), 40005)],
    ] as const;
    for (const [, , t] of flows) h.pin(t, 1);
    h.hello('h11', flows.filter((f) => f[0] === 'h11').map(([, id, t]) => start(id, t)));
    h.hello('h12', flows.filter((f) => f[0] === 'h12').map(([, id, t]) => start(id, t)));
    const e = entries(h.run());
    near(e.get('h11/x')!.rateBps, 100e6 / 3);
    near(e.get('h11/x')!.ceilBps!, 100e6 / 3 + 100e6 / 6);
    near(e.get('h12/x')!.ceilBps!, 100e6 / 3 + 100e6 / 6);
  });
});

describe('enforcement core: allocation', () => {
  it('two senders in different racks → one receiver: 50/50 of the receiver link, agent rate r and meter r·1.1', () => {
    const h = new Harness();
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(2, 1), ip(3, 1), 40001);
    h.pin(a, 1);
    h.pin(b, 2);
    h.hello('h11', [start('f1', a)]);
    h.hello('h21', [start('f1', b)]);
    const first = h.run();
    const rates = ratesOf(first);
    expect([...rates.keys()].sort()).to.deep.equal(['h11/f1', 'h21/f1']);
    const meters = meterSets(first);
    expect(meters).to.have.length(2);
    h.runs(300);
    const fa = h.core.flowlet('h11', 'f1')!;
    const fb = h.core.flowlet('h21', 'f1')!;
    near(fa.allocatedBps, 50e6);
    near(fb.allocatedBps, 50e6);
    expect(fa.state).to.equal('allocated');
    expect(fa.path?.links).to.deep.equal(['host:10.0.1.1', '0000000000000001:1', '0000000000000101:3', '0000000000000003:3']);
    expect(fa.path?.adopted).to.equal(false);
    near(fa.agentRateBps!, fa.allocatedBps!, 0.06);
    near(fa.meterRateBps!, fa.allocatedBps! * 1.1, 0.06);
    const m = meters.find((x) => x.target.key === 'flowlet:h11/f1')!;
    expect(m.target.dpid).to.equal(1n);
    expect(m.target.match).to.deep.equal([
      { field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x800 }, { field: 'ip_proto', value: 6 },
      { field: 'ipv4_src', value: '10.0.1.1' }, { field: 'ipv4_dst', value: '10.0.3.1' },
      { field: 'tcp_src', value: 40000 }, { field: 'tcp_dst', value: 5201 },
    ]);
    expect(m.target.actions).to.deep.equal([{ type: 'OFPAT_OUTPUT', port: 1, maxLen: 0 }]);
    expect(m.flowlets).to.deep.equal(['h11/f1']);
    // link loads: the receiver's downlink carries both
    near(h.core.linkLoads().get('0000000000000003:3'), 100e6);
  });

  it('matches the hand-solved proportional-fair optimum: a+b ≤ C, b+c ≤ C → b = C/3, a = c = 2C/3', () => {
    const h = new Harness();
    const A = tuple(ip(1, 1), ip(3, 1));
    const B = tuple(ip(1, 2), ip(3, 1));
    const Cf = tuple(ip(1, 2), ip(4, 1));
    for (const [t, s] of [[A, 1], [B, 2], [Cf, 1]] as const) h.pin(t, s);
    h.hello('h11', [start('a', A)]);
    h.hello('h12', [start('b', B), start('c', Cf)]);
    h.runs(500);
    near(h.core.flowlet('h12', 'b')!.allocatedBps, 100e6 / 3);
    near(h.core.flowlet('h11', 'a')!.allocatedBps, 200e6 / 3);
    near(h.core.flowlet('h12', 'c')!.allocatedBps, 200e6 / 3);
  });

  it('maxmin: exact at once, and tenants 1:3 → 25/75 of one bottleneck', () => {
    const h = new Harness({
      policy: 'maxmin',
      tenants: [{ name: 'blue', weight: 1, members: ['10.0.1.0/24'] }, { name: 'red', weight: 3, members: ['10.0.2.1'] }],
    });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(2, 1), ip(3, 1));
    h.pin(a);
    h.pin(b);
    h.hello('h11', [start('f', a)]);
    h.hello('h21', [start('f', b)]);
    h.run();
    const fa = h.core.flowlet('h11', 'f')!;
    const fb = h.core.flowlet('h21', 'f')!;
    expect([fa.tenant, fa.weight, fb.tenant, fb.weight]).to.deep.equal(['blue', 1, 'red', 3]);
    near(fa.allocatedBps, 25e6, 1e-9);
    near(fb.allocatedBps, 75e6, 1e-9);
  });

  it('tenants 1:3 share a bottleneck 25/75 however many flowlets each runs (weight divided per tenant); per flowlet: by count', () => {
    const tenants = [{ name: 'blue', weight: 1, members: ['10.0.1.0/24'] }, { name: 'red', weight: 3, members: ['10.0.2.0/24'] }];
    const blue = [tuple(ip(1, 1), ip(3, 1)), tuple(ip(1, 1), ip(3, 1), 1), tuple(ip(1, 2), ip(3, 1))];
    const red = tuple(ip(2, 1), ip(3, 1));
    for (const per of ['tenant', 'flowlet'] as const) {
      const h = new Harness({ policy: 'maxmin', tenants, tenantWeightPer: per });
      for (const t of [...blue, red]) h.pin(t);
      h.hello('h11', [start('a', blue[0]!), start('b', blue[1]!)]);
      h.hello('h12', [start('c', blue[2]!)]);
      h.hello('h21', [start('r', red)]);
      h.run();
      const blueBps = ['a', 'b'].map((id) => h.core.flowlet('h11', id)!.allocatedBps!).reduce((x, y) => x + y) + h.core.flowlet('h12', 'c')!.allocatedBps!;
      const redBps = h.core.flowlet('h21', 'r')!.allocatedBps!;
      // per tenant: blue 1 : red 3 of the 100 Mbit/s bottleneck; per flowlet: blue's three flowlets weigh 3 against red's 3
      near(blueBps, per === 'tenant' ? 25e6 : 50e6, 1e-9);
      near(redBps, per === 'tenant' ? 75e6 : 50e6, 1e-9);
    }
  });

  it('flowtune with tenants 1:3 converges to 25/75; a declared tenant wins, an unknown one is weight 1 and warned once', () => {
    const h = new Harness({ tenants: [{ name: 'blue', weight: 1, members: ['10.0.1.1'] }, { name: 'red', weight: 3, members: [] }] });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(2, 1), ip(3, 1));
    const c = tuple(ip(2, 2), ip(4, 1));
    h.pin(a);
    h.pin(b);
    h.pin(c);
    h.hello('h11', [start('f', a)]);
    h.hello('h21', [start('f', b, { tenant: 'red' })]);
    h.hello('h22', [start('f', c, { tenant: 'green' }), start('g', tuple(ip(2, 2), ip(4, 1), 1), { tenant: 'green' })]);
    h.runs(400);
    near(h.core.flowlet('h11', 'f')!.allocatedBps, 25e6);
    near(h.core.flowlet('h21', 'f')!.allocatedBps, 75e6);
    const g = h.core.flowlet('h22', 'f')!;
    expect([g.tenant, g.weight]).to.deep.equal(['green', 1]);
    expect(h.notes.filter((n) => n.event === 'unknown_tenant')).to.have.length(1);
  });

  it('fca runs as the policy too (sized flowlets: the smaller transfer first)', () => {
    const h = new Harness({ policy: 'fca' });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(2, 1), ip(3, 1));
    h.pin(a);
    h.pin(b);
    h.hello('h11', [start('f', a, { sizeBytes: 10e6 })]);
    h.hello('h21', [start('f', b, { sizeBytes: 1e6 })]);
    h.run();
    expect(h.core.flowlet('h21', 'f')!.allocatedBps!).to.be.above(h.core.flowlet('h11', 'f')!.allocatedBps!);
  });

  it('fca: a flowlet whose IP bytes reached its declared (payload) size still has its last segments to send and stays first', () => {
    const h = new Harness({ policy: 'fca', fcaReserve: 0.01 });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(2, 1), ip(3, 1));
    h.pin(a);
    h.pin(b);
    h.hello('h11', [start('f', a, { sizeBytes: 1e6 })]);
    h.hello('h21', [start('f', b, { sizeBytes: 2e6 })]);
    h.run();
    // 1,000,000 IP bytes = 666 full segments = 965 kB of payload: 35 kB of the 1 MB are still to go
    h.events('h11', { progress: [{ id: 'f', bytes: 1_000_000, atEpochUs: h.now().epochUs }] });
    h.run();
    const aBps = h.core.flowlet('h11', 'f')!.allocatedBps!;
    const bBps = h.core.flowlet('h21', 'f')!.allocatedBps!;
    expect(aBps, 'the nearly done flow keeps the shared link (100 Mbit/s less the 1% reserve, plus its half of it)').to.be.closeTo(99.5e6, 1e3);
    expect(bBps).to.be.closeTo(0.5e6, 1e3);
  });

  it('fca: between agent reports a transfer that its enforced rate has finished hands the link to the next one', () => {
    const h = new Harness({ policy: 'fca', minUpdateIntervalMs: 500, rateChangeMinBps: 500_000 });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(2, 1), ip(3, 1));
    h.pin(a);
    h.pin(b);
    h.hello('h11', [start('f', a, { sizeBytes: 1e6, bytes: 0 })]);
    h.hello('h21', [start('f', b, { sizeBytes: 2e6, bytes: 0 })]);
    h.run();
    expect(h.core.flowlet('h11', 'f')!.allocatedBps!, 'the smaller transfer first, at the link rate').to.be.above(99e6);
    expect(h.core.flowlet('h21', 'f')!.allocatedBps!).to.be.below(1e3);
    h.runs(1); // 100 ms at 100 Mbit/s: 1.25 MB could have gone, more than a's 1 MB; no report came
    expect(h.core.flowlet('h21', 'f')!.allocatedBps!, 'b has the link without waiting for a\'s end').to.be.above(99e6);
    expect(h.core.flowlet('h21', 'f')!.agentRateBps!, 'pushed at once although b\'s rate changed < 500 ms ago').to.be.above(99e6);
    // a report that a is not done after all (500 kB sent) gives it back its place
    h.events('h11', { progress: [{ id: 'f', bytes: 500_000, atEpochUs: h.now().epochUs }] });
    h.run();
    expect(h.core.flowlet('h11', 'f')!.allocatedBps!).to.be.above(99e6);
  });
});

describe('enforcement core: updates only when a rate changes', () => {
  it('after convergence a run sends nothing; a new flowlet sends rates and meters again', () => {
    const h = new Harness();
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    h.hello('h11', [start('f', a)]);
    expect(ratesOf(h.run()).get('h11/f')).to.be.a('number');
    h.runs(100);
    expect(h.runs(1)).to.deep.equal([]);
    const sent = h.core.allocatorView(h.ms).updatesSent;
    const b = tuple(ip(2, 1), ip(3, 1));
    h.pin(b);
    h.hello('h21', [start('f', b)]);
    const effects = h.runs(200) && h.core.allocatorView(h.ms);
    expect(effects.updatesSent.agents).to.be.above(sent.agents + 1);
    near(h.core.flowlet('h11', 'f')!.agentRateBps!, 50e6, 0.06);
  });

  it('a change within the threshold is suppressed, beyond it is pushed; a meter moves only beyond its margin', () => {
    const h = new Harness({ policy: 'maxmin', rateChangeThreshold: 0.05 });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    h.hello('h11', [start('f', a)]);
    expect(ratesOf(h.run()).get('h11/f')).to.equal(100e6);
    // 100 → 96 Mbit/s (4%): suppressed
    // capacities are re-read every run
    (h.core.settings.capacity as { defaultBps: number }).defaultBps = 96e6;
    expect(h.run()).to.deep.equal([]);
    expect(h.core.flowlet('h11', 'f')!.agentRateBps).to.equal(100e6);
    // → 90 Mbit/s (10% from the pushed 100): pushed to the agent; the meter at 110 still passes 90·1.1 = 99 (within its 10% margin)
    (h.core.settings.capacity as { defaultBps: number }).defaultBps = 90e6;
    const e = h.run();
    expect(ratesOf(e).get('h11/f')).to.equal(90e6);
    expect(meterSets(e)).to.deep.equal([]);
    // → 80: beyond the margin, the meter follows (88)
    (h.core.settings.capacity as { defaultBps: number }).defaultBps = 80e6;
    const e2 = h.run();
    expect(ratesOf(e2).get('h11/f')).to.equal(80e6);
    expect(meterSets(e2).map((m) => m.target.rateBps)).to.deep.equal([88e6]);
    // up to 85: the agent follows (6%); the meter at 88 still polices above 85 — it stays
    (h.core.settings.capacity as { defaultBps: number }).defaultBps = 85e6;
    const e3 = h.run();
    expect(ratesOf(e3).get('h11/f')).to.equal(85e6);
    expect(meterSets(e3)).to.deep.equal([]);
    // up to 100: above the meter (88 < 100): it must move, to the agent's rate + margin
    (h.core.settings.capacity as { defaultBps: number }).defaultBps = 100e6;
    const e4 = h.run();
    expect(meterSets(e4).map((m) => m.target.rateBps)).to.deep.equal([110e6]);
  });

  it('damping: absolute hysteresis, one change per flowlet per minUpdateIntervalMs, and updates counted per flowlet', () => {
    const h = new Harness({ policy: 'maxmin', mode: 'agents', rateChangeThreshold: 0.05, rateChangeMinBps: 8e6, minUpdateIntervalMs: 500 });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    h.hello('h11', [start('f', a)]);
    h.run();
    const cap = (bps: number): void => void ((h.core.settings.capacity as { defaultBps: number }).defaultBps = bps);
    cap(93e6); // 7%, but only 7 Mbit/s: below the absolute bound
    h.ms += 1000;
    expect(h.run()).to.deep.equal([]);
    cap(90e6); // 10 Mbit/s: pushed
    expect(ratesOf(h.run()).get('h11/f')).to.equal(90e6);
    cap(80e6); // within 500 ms of the last change: held
    h.ms += 100;
    expect(h.run()).to.deep.equal([]);
    h.ms += 400;
    expect(ratesOf(h.run()).get('h11/f')).to.equal(80e6);
    expect(h.core.allocatorView(h.ms).updatesPerFlowlet).to.deep.equal({ ended: 0, endedAllocated: 0, agentPerAllocated: null, meterPerAllocated: null, agentPerFlowlet: null, meterPerFlowlet: null });
    // 3 sets (the end sends no clear); a small flowlet that ended counts as a flowlet with none
    h.events('h11', { starts: [start('s', tuple(ip(1, 1), ip(3, 1), 40001), { bytes: 100 })] });
    h.events('h11', { ends: [{ id: 'f', lastPacketEpochUs: h.now().epochUs, bytes: 1e6 }, { id: 's', lastPacketEpochUs: h.now().epochUs, bytes: 100 }] });
    expect(h.core.allocatorView(h.ms).updatesPerFlowlet).to.deep.equal({ ended: 2, endedAllocated: 1, agentPerAllocated: 3, meterPerAllocated: 0, agentPerFlowlet: 1.5, meterPerFlowlet: 0 });
  });

  it('events(): true only when the batch starts, enlarges or ends an allocated flowlet; first packet → reported is sampled', () => {
    const h = new Harness({ policy: 'maxmin' });
    h.hello('h11');
    const a = tuple(ip(1, 1), ip(3, 1));
    const e = (x: Parameters<Harness['events']>[1]): boolean =>
      h.core.events('h11', { type: 'events', seq: 0, starts: [], progress: [], ends: [], enforced: [], ...x }, h.now());
    expect(e({ starts: [start('s', a, { bytes: 1500, firstPacketEpochUs: h.now().epochUs - 3000 })] }), 'a small start').to.equal(false);
    expect(e({ progress: [{ id: 's', bytes: 20_000, atEpochUs: h.now().epochUs }] }), 'still small').to.equal(false);
    expect(e({ progress: [{ id: 's', bytes: 60_000, atEpochUs: h.now().epochUs }] }), 'became large').to.equal(true);
    expect(e({ progress: [{ id: 's', bytes: 90_000, atEpochUs: h.now().epochUs }] }), 'plain progress').to.equal(false);
    expect(e({ starts: [start('l', tuple(ip(1, 1), ip(3, 1), 2), { sizeBytes: 1e6, bytes: 1500 })] }), 'declared large').to.equal(true);
    expect(e({ ends: [{ id: 's', lastPacketEpochUs: h.now().epochUs, bytes: 1e5 }] }), 'a large one ended').to.equal(true);
    expect(h.core.allocatorView(h.ms).reaction.report).to.include({ count: 2 });
    expect(h.core.reactionSamples().report[0]).to.equal(3000);
  });
});

describe('enforcement core: modes', () => {
  const setup = (mode: 'agents' | 'meters' | 'both') => {
    const h = new Harness({ mode, policy: 'maxmin' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    h.hello('h11', [start('f', a)]);
    return { h, effects: h.run() };
  };

  it('agents: rates only', () => {
    const { effects } = setup('agents');
    expect(effects.map((e) => e.kind)).to.deep.equal(['rates']);
  });

  it('meters: meters only, at the rate itself', () => {
    const { effects } = setup('meters');
    expect(effects.map((e) => e.kind)).to.deep.equal(['meterSet']);
    expect(meterSets(effects)[0]!.target.rateBps).to.equal(100e6);
  });

  it('both: agent r, meter r·(1 + margin)', () => {
    const { effects } = setup('both');
    expect(ratesOf(effects).get('h11/f')).to.equal(100e6);
    expect(meterSets(effects)[0]!.target.rateBps).to.equal(110e6);
  });
});

describe('enforcement core: flowlet life', () => {
  it('small flowlets are not allocated until their bytes (or declared size) cross the threshold', () => {
    const h = new Harness();
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    h.hello('h11', [start('f', a, { bytes: 1000 }), start('g', tuple(ip(1, 1), ip(3, 1), 1), { bytes: 0, sizeBytes: 1e6 })]);
    h.pin(tuple(ip(1, 1), ip(3, 1), 1));
    const e = h.run();
    expect(h.core.flowlet('h11', 'f')!.state).to.equal('small');
    expect(h.core.flowlet('h11', 'g')!.state).to.equal('allocated');
    expect([...ratesOf(e).keys()]).to.deep.equal(['h11/g']);
    h.ms += 100;
    h.events('h11', { progress: [{ id: 'f', bytes: 60_000, atEpochUs: h.now().epochUs }] });
    const e2 = h.run();
    expect(h.core.flowlet('h11', 'f')!.state).to.equal('allocated');
    expect(ratesOf(e2).has('h11/f')).to.equal(true);
    expect(h.core.flowlet('h11', 'f')!.measuredBps).to.be.above(0);
    expect(h.core.allocatorView(h.ms)).to.deep.include({ activeFlowlets: 2, allocatedFlowlets: 2, smallFlowlets: 0 });
  });

  it('a flowlet without a route stays pending-path, is retried every run, and is offered for adoption after 500 ms', () => {
    const h = new Harness();
    const a = tuple(ip(1, 1), ip(3, 1));
    h.hello('h11', [start('f', a)]);
    expect(h.run()).to.deep.equal([]);
    expect(h.core.flowlet('h11', 'f')!.state).to.equal('pending-path');
    expect(h.core.flowlet('h11', 'f')!.pending).to.deep.include({ reason: 'no-route', detail: null });
    expect(h.core.adoptionDue(h.ms + 499)).to.deep.equal([]);
    const due = h.core.adoptionDue(h.ms + 500);
    expect(due.map((d) => [d.action, d.key])).to.deep.equal([['read', 'h11/f']]);
    expect(h.core.flowlet('h11', 'f')!.pending?.reason).to.equal('adopting');
    expect(h.core.adoptionDue(h.ms + 5000), 'not asked again while the read is in flight').to.deep.equal([]);
    h.ms += 300;
    h.pin(a);
    const e = h.run();
    expect(h.core.flowlet('h11', 'f')!.state).to.equal('allocated');
    expect(h.core.flowlet('h11', 'f')!.pending).to.equal(null);
    expect(ratesOf(e).has('h11/f')).to.equal(true);
  });

  it('adoption waits for discovery to settle, then asks at once; the reason is shown and counted', () => {
    const h = new Harness();
    let ready = false;
    h.topo.ready = () => ready;
    const a = tuple(ip(1, 1), ip(3, 1));
    h.hello('h11', [start('f', a)]);
    h.run();
    expect(h.core.flowlet('h11', 'f')!.pending?.reason).to.equal('waiting-for-discovery');
    expect(h.core.allocatorView(h.ms).pendingByReason['waiting-for-discovery']).to.equal(1);
    expect(h.core.adoptionDue(h.ms + 60_000), 'never while discovery has not settled').to.deep.equal([]);
    h.ms += 60_000;
    ready = true;
    h.run();
    expect(h.core.flowlet('h11', 'f')!.pending?.reason).to.equal('no-route');
    expect(h.core.adoptionDue(h.ms).map((d) => d.key), 'pending long enough already: asked at once').to.deep.equal(['h11/f']);
  });

  it('a failed read is retried with back-off, logged once per reason; after 2 failures the stale entries are removed for a fresh pin', () => {
    const h = new Harness();
    const a = tuple(ip(1, 1), ip(3, 1));
    h.hello('h11', [start('f', a)]);
    h.run();
    h.ms += 500;
    expect(h.core.adoptionDue(h.ms).map((d) => d.action)).to.deep.equal(['read']);
    const why = 'no entry of the flow with an output port on 0000000000000101 in_port 1';
    expect(h.core.adoptionResult('h11/f', { ok: false, reason: why }, h.now())).to.equal(false);
    const f = h.core.flowlet('h11', 'f')!;
    expect(f.pending).to.deep.include({ reason: 'adoption-failed', detail: why });
    expect(h.core.allocatorView(h.ms).pendingByReason['adoption-failed']).to.equal(1);
    expect(h.core.adoptionDue(h.ms + 249), 'back-off 250 ms').to.deep.equal([]);
    h.ms += 250;
    expect(h.core.adoptionDue(h.ms).map((d) => d.action)).to.deep.equal(['read']);
    h.core.adoptionResult('h11/f', { ok: false, reason: why }, h.now());
    expect(h.notes.filter((n) => n.event === 'adoption_failed'), 'logged once for the same reason').to.have.length(1);
    expect(h.core.adoptionDue(h.ms + 499), 'back-off doubled').to.deep.equal([]);
    h.ms += 500;
    const repin = h.core.adoptionDue(h.ms);
    expect(repin.map((d) => d.action)).to.deep.equal(['repin']);
    h.core.repinResult('h11/f', { ok: true, switches: 6 }, h.now());
    expect(h.core.flowlet('h11', 'f')!.pending?.reason).to.equal('repinning');
    // the flow's next packet reaches routing, which pins it: allocated on routing's path
    h.pin(a);
    h.run();
    const g = h.core.flowlet('h11', 'f')!;
    expect(g.state).to.equal('allocated');
    expect(g.pathAdopted).to.equal(false);
    expect(g.pending).to.equal(null);
  });

  it('a successful read after a failure adopts the path', () => {
    const h = new Harness({ policy: 'maxmin' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.hello('h11', [start('f', a)]);
    h.run();
    h.ms += 500;
    h.core.adoptionDue(h.ms);
    h.core.adoptionResult('h11/f', { ok: false, reason: 'switch 0000000000000101 is not connected' }, h.now());
    h.ms += 250;
    h.core.adoptionDue(h.ms);
    const hops = [{ dpid: 1n, inPort: 3, outPort: 2 }, { dpid: 0x102n, inPort: 1, outPort: 3 }, { dpid: 3n, inPort: 2, outPort: 3 }];
    expect(h.core.adoptionResult('h11/f', { ok: true, hops, actions: [{ type: 'OFPAT_OUTPUT', port: 2, maxLen: 0 }] }, h.now())).to.equal(true);
    h.run();
    const f = h.core.flowlet('h11', 'f')!;
    expect(f.state).to.equal('allocated');
    expect(f.pathAdopted).to.equal(true);
    expect(f.allocatedBps).to.be.above(0);
  });

  it('adopt: a path read from the switches is marked adopted and allocated; its meter carries the entry’s actions', () => {
    const h = new Harness({ policy: 'maxmin' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.hello('h11', [start('f', a)]);
    h.run();
    const actions = [{ type: 'OFPAT_SET_QUEUE' as const, queueId: 3 }, { type: 'OFPAT_OUTPUT' as const, port: 2, maxLen: 0 }];
    const ok = h.core.adopt('h11/f', [{ dpid: 1n, inPort: 3, outPort: 2 }, { dpid: 0x102n, inPort: 1, outPort: 3 }, { dpid: 3n, inPort: 2, outPort: 3 }], actions, h.now());
    expect(ok).to.equal(true);
    const f = h.core.flowlet('h11', 'f')!;
    expect(f.state).to.equal('allocated');
    expect(f.path?.adopted).to.equal(true);
    const m = meterSets(h.run())[0]!;
    expect(m.target.actions).to.deep.equal(actions);
    // a route appearing later takes over
    h.pin(a, 1);
    h.run();
    expect(h.core.flowlet('h11', 'f')!.path?.adopted).to.equal(false);
  });

  it('a re-pinned route moves the flowlet and its meter (new actions)', () => {
    const h = new Harness({ policy: 'maxmin' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a, 1);
    h.hello('h11', [start('f', a)]);
    h.run();
    h.pin(a, 2, { queue: 2 });
    const m = meterSets(h.run());
    expect(m).to.have.length(1);
    expect(m[0]!.target.actions).to.deep.equal([{ type: 'OFPAT_SET_QUEUE', queueId: 2 }, { type: 'OFPAT_OUTPUT', port: 2, maxLen: 0 }]);
    expect(h.core.flowlet('h11', 'f')!.path?.links[1]).to.equal('0000000000000001:2');
  });

  it('an end removes the meter (the agent removed its limit itself: no clear is sent); the ended flowlet is kept for the API', () => {
    const h = new Harness({ policy: 'maxmin' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    h.hello('h11', [start('f', a)]);
    h.run();
    h.events('h11', { ends: [{ id: 'f', bytes: 5e6, lastPacketEpochUs: h.now().epochUs }] });
    const e = h.run();
    expect(e).to.deep.equal([{ kind: 'meterRemove', key: 'flowlet:h11/f' }]);
    const ended = h.core.endedViews();
    expect(ended).to.have.length(1);
    expect(ended[0]).to.deep.include({ id: 'f', endReason: 'ended', bytes: 5e6 });
    expect(ended[0]!.endedEpochUs).to.equal(h.now().epochUs);
    expect(h.core.activeFlowlets).to.equal(0);
  });

  it('a vanished agent’s flowlets expire after expiryMs (meters removed); back in time, its hello resyncs', () => {
    const h = new Harness({ policy: 'maxmin', expiryMs: 5000 });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(1, 1), ip(4, 1));
    h.pin(a);
    h.pin(b);
    h.hello('h11', [start('f', a), start('g', b)]);
    h.run();
    h.core.agentGone('h11', h.now());
    h.ms += 4000;
    expect(h.run()).to.deep.equal([]);
    // back: only g is still active; every rate is pushed again
    h.hello('h11', [start('g', b)]);
    const e = h.run();
    expect([...ratesOf(e).keys()]).to.deep.equal(['h11/g']);
    expect(e.filter((x) => x.kind === 'meterRemove').map((x) => (x as { key: string }).key)).to.deep.equal(['flowlet:h11/f']);
    expect(h.core.endedViews().map((v) => v.endReason)).to.deep.equal(['resync']);
    h.core.agentGone('h11', h.now());
    h.ms += 5000;
    const gone = h.run();
    expect(gone).to.deep.equal([{ kind: 'meterRemove', key: 'flowlet:h11/g' }]);
    expect(h.core.agentViews()).to.deep.equal([]);
    expect(h.core.endedViews().map((v) => v.endReason)).to.deep.equal(['resync', 'expired']);
  });

  it('records reaction times: first packet → agent enforced, → meter confirmed (p50/p99)', () => {
    const h = new Harness({ policy: 'maxmin' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    const t0 = 1_700_000_000_000_000;
    h.hello('h11', [start('f', a, { firstPacketEpochUs: t0 })]);
    const e = h.run();
    h.events('h11', { enforced: [{ id: 'f', rateBps: 100e6, atEpochUs: t0 + 3000 }] });
    h.events('h11', { enforced: [{ id: 'f', rateBps: 90e6, atEpochUs: t0 + 9000 }] }); // only the first counts
    const m = meterSets(e)[0]!;
    h.core.meterInstalled(m.target.key, m.flowlets, t0 + 5000);
    const f = h.core.flowlet('h11', 'f')!;
    expect(f.reactionUs).to.deep.equal({ agent: 3000, meter: 5000 });
    expect(f.agentEnforcedEpochUs).to.equal(t0 + 3000);
    expect(h.core.allocatorView(h.ms).reaction).to.deep.equal({
      agent: { count: 1, p50Us: 3000, p99Us: 3000 }, meter: { count: 1, p50Us: 5000, p99Us: 5000 },
      report: { count: 0, p50Us: null, p99Us: null }, // a hello's resync is not a report
    });
  });

  it('an acknowledgement or a meter confirmation arriving after the end still counts (short flowlets)', () => {
    const h = new Harness({ policy: 'maxmin' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    const t0 = 1_700_000_000_000_000;
    h.hello('h11', [start('f', a, { firstPacketEpochUs: t0 })]);
    const m = meterSets(h.run())[0]!;
    // end and ack in one batch (ack processed first), meter confirmed after the end
    h.events('h11', { enforced: [{ id: 'f', rateBps: 100e6, atEpochUs: t0 + 1000 }], ends: [{ id: 'f', bytes: 4e5, lastPacketEpochUs: t0 + 40_000 }] });
    h.core.meterInstalled(m.target.key, m.flowlets, t0 + 7000);
    const v = h.core.endedViews()[0]!;
    expect([v.agentEnforcedEpochUs, v.meterEnforcedEpochUs]).to.deep.equal([t0 + 1000, t0 + 7000]);
    expect(v.reactionUs).to.deep.equal({ agent: 1000, meter: 7000 });
    // an ack in a later batch
    h.hello('h11', [start('g', a, { firstPacketEpochUs: t0 })]);
    h.run();
    h.events('h11', { ends: [{ id: 'g', bytes: 4e5, lastPacketEpochUs: t0 + 40_000 }] });
    h.events('h11', { enforced: [{ id: 'g', rateBps: 100e6, atEpochUs: t0 + 2000 }] });
    expect(h.core.endedViews().find((x) => x.id === 'g')!.reactionUs.agent).to.equal(2000);
    expect(h.core.allocatorView(h.ms).reaction.agent.count).to.equal(2);
  });

  it('a failed meter is set again after the retry period; forgetMetersOn re-sets a switch’s meters', () => {
    const h = new Harness({ policy: 'maxmin', mode: 'meters' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    h.hello('h11', [start('f', a)]);
    expect(meterSets(h.run())).to.have.length(1);
    h.core.meterFailed('flowlet:h11/f', h.ms);
    expect(h.runs(10)).to.deep.equal([]);
    h.ms += 4000;
    expect(meterSets(h.run()), 'retried after METER_RETRY_MS').to.have.length(1);
    h.core.forgetMetersOn(1n);
    expect(meterSets(h.run())).to.have.length(1);
  });
});

describe('enforcement core: host-pair meters', () => {
  it('one meter per (src, dst) with the sum of its flowlets, attached to each flow\'s pinned ingress entry', () => {
    const h = new Harness({ policy: 'maxmin', meterPer: 'hostPair', mode: 'meters' });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(1, 1), ip(3, 1), 40001);
    const c = tuple(ip(1, 1), ip(4, 1));
    h.pin(a, 1);
    h.pin(b, 1);
    h.pin(c, 1);
    h.hello('h11', [start('a', a), start('b', b), start('c', c)]);
    const m = meterSets(h.run());
    const pair = m.find((x) => x.target.key === 'pair:10.0.1.1>10.0.3.1')!;
    expect(m.map((x) => x.target.key).sort()).to.deep.equal(['pair:10.0.1.1>10.0.3.1', 'pair:10.0.1.1>10.0.4.1']);
    expect(pair.flowlets).to.deep.equal(['h11/a', 'h11/b']);
    const entry = (sport: number) => [
      { field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x800 }, { field: 'ip_proto', value: 6 },
      { field: 'ipv4_src', value: '10.0.1.1' }, { field: 'ipv4_dst', value: '10.0.3.1' },
      { field: 'tcp_src', value: sport }, { field: 'tcp_dst', value: 5201 },
    ];
    expect(pair.target.attachments!.map((x) => x.match)).to.deep.equal([entry(40000), entry(40001)]);
    const ra = h.core.flowlet('h11', 'a')!.allocatedBps!;
    const rb = h.core.flowlet('h11', 'b')!.allocatedBps!;
    expect(pair.target.rateBps).to.equal(Math.round(ra + rb));
    expect(h.core.flowlet('h11', 'a')!.meterKey).to.equal('pair:10.0.1.1>10.0.3.1');
  });

  it('flowlets of a pair on different spines share the pair\'s meter and keep their own paths (each entry its own output)', () => {
    const h = new Harness({ policy: 'maxmin', meterPer: 'hostPair', mode: 'meters' });
    const a = tuple(ip(1, 1), ip(3, 1));
    const b = tuple(ip(1, 1), ip(3, 1), 40001);
    h.pin(a, 1);
    h.pin(b, 2);
    h.hello('h11', [start('a', a), start('b', b)]);
    const sets = meterSets(h.run());
    expect(sets.map((x) => x.target.key)).to.deep.equal(['pair:10.0.1.1>10.0.3.1']);
    const outputs = sets[0]!.target.attachments!.map((x) => x.actions);
    expect(outputs).to.have.deep.members([[{ type: 'OFPAT_OUTPUT', port: 1, maxLen: 0 }], [{ type: 'OFPAT_OUTPUT', port: 2, maxLen: 0 }]]);
  });
});
