/**
 * maxmin (BwE §4): exact weighted max-min on random instances via the bottleneck property (BwE §4,
 * weighted), demand caps, bandwidth functions and nested groups.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { linear, fromPoints, evalAt, inverse, sum, compose, shareOf, capAt } from '../../../apps/allocator/plfunc.js';
import { maxminAllocate } from '../../../apps/allocator/policy.js';
import { Fabric } from '../../../apps/allocator/fabric.js';
import { FlowletTable } from '../../../apps/allocator/table.js';
import { randomProblem, tableOf } from './helpers.js';

/**
 * Weighted max-min ⇔ every flow is either at its demand or has a saturated link on which its rate/weight is
 * the largest of all flows there (Bertsekas & Gallager's bottleneck characterisation, weighted).
 */
function assertBottleneckProperty(t: FlowletTable, out: Float64Array): void {
  const L = t.fabric.size;
  const load = new Float64Array(L);
  const maxShare = new Float64Array(L);
  t.forEachSlot((s) => {
    for (let j = 0; j < t.pathLen[s]!; j++) {
      const l = t.path[s * t.maxHops + j]!;
      load[l]! += out[s]!;
      maxShare[l] = Math.max(maxShare[l]!, out[s]! / t.weight[s]!);
    }
  });
  for (let l = 0; l < L; l++) expect(load[l]!).to.be.at.most(t.fabric.capacity[l]! * (1 + 1e-9));
  t.forEachSlot((s) => {
    const x = out[s]!;
    if (x >= t.demand[s]! * (1 - 1e-9)) return;
    let ok = false;
    for (let j = 0; j < t.pathLen[s]!; j++) {
      const l = t.path[s * t.maxHops + j]!;
      const saturated = load[l]! >= t.fabric.capacity[l]! * (1 - 1e-9);
      if (saturated && x / t.weight[s]! >= maxShare[l]! * (1 - 1e-9)) ok = true;
    }
    expect(ok, `slot ${s} rate ${x} has no bottleneck link`).to.equal(true);
  });
}

describe('allocator/maxmin', () => {
  it('bottleneck property holds on random weighted leaf-spine instances, with and without demands', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), (seed, n, demands) => {
      const p = randomProblem(seed, n);
      const t = tableOf({ ...p, flows: p.flows.map((f, i) => ({ ...f, demandBps: demands && i % 3 === 0 ? 2e8 * ((i % 5) + 1) : undefined })) });
      const out = new Float64Array(t.span);
      maxminAllocate(t, out);
      assertBottleneckProperty(t, out);
    }), { numRuns: 500, seed: 7 });
  });

  it('a textbook example: weights split a shared link, the unused share goes to the other flows', () => {
    const f = new Fabric();
    f.addLink('a', 11);
    f.addLink('b', 2);
    const t = new FlowletTable(f);
    t.add({ path: [0], weight: 1 });
    t.add({ path: [0], weight: 2 });
    t.add({ path: [0, 1], weight: 1 }); // bottlenecked at b: 2
    const out = new Float64Array(t.span);
    maxminAllocate(t, out);
    expect([out[0], out[1], out[2]].map((x) => +x!.toFixed(9))).to.deep.equal([3, 6, 2]);
  });

  it('BwE bandwidth functions: a flow with a steeper function gets more at the same fair share', () => {
    const f = new Fabric();
    f.addLink('a', 30);
    const t = new FlowletTable(f);
    const h0 = t.add({ path: [0] });
    const h1 = t.add({ path: [0] });
    const fns = new Map([[h0, fromPoints([[1, 10], [2, 12]])], [h1, linear(5)]]);
    const out = new Float64Array(t.span);
    maxminAllocate(t, out, { bandwidthFunctions: fns });
    // Σ B(s) = 30: for s ≥ 2, B0 = 12 (capped), B1 = 5s → s = 3.6 → 12 + 18.
    expect(out[t.slotOf(h0)]).to.be.closeTo(12, 1e-9);
    expect(out[t.slotOf(h1)]).to.be.closeTo(18, 1e-9);
  });

  it('nested groups: a division whose flow is demand-capped leaves its share to its sibling flows first', () => {
    const f = new Fabric();
    f.addLink('a', 12);
    const t = new FlowletTable(f);
    // Tenant 0 (weight 1): division 0 holds two flows, one capped at 1. Tenant 1 (weight 1): one flow.
    t.add({ path: [0], tenant: 0, division: 0, demandBps: 1 });
    t.add({ path: [0], tenant: 0, division: 0 });
    t.add({ path: [0], tenant: 1, division: 1 });
    const out = new Float64Array(t.span);
    maxminAllocate(t, out, { groupWeights: { tenant: [1, 1], division: [1, 1] } });
    // Each tenant gets 6; inside tenant 0 the capped flow takes 1 and its sibling 5 (flat max-min: 1, 5.5, 5.5).
    expect([out[0], out[1], out[2]].map((x) => +x!.toFixed(9))).to.deep.equal([1, 5, 6]);
  });

  it('piecewise-linear algebra: sum, inverse, composition, share', () => {
    const a = fromPoints([[1, 2], [3, 2]]);
    const b = linear(1);
    const s = sum([a, b]);
    expect(evalAt(s, 0.5)).to.equal(1.5);
    expect(evalAt(s, 4)).to.equal(6);
    expect(inverse(s, 6)).to.equal(4);
    expect(inverse(capAt(b, 3), 4)).to.equal(Infinity);
    expect(evalAt(compose(a, linear(2)), 0.25)).to.equal(1);
    expect(evalAt(shareOf(b, s), 6)).to.be.closeTo(4, 1e-12);
  });
});
