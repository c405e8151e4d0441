/**
 * Feasibility: for every policy, on random leaf-spine instances (fast-check; thousands in
 * total), Σ rates on every link ≤ capacity (relative 1e-9), every rate finite, and every rate > 0 for flows
 * with positive weight.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createPolicy, type PolicyOptions } from '../../../apps/allocator/policy.js';
import { leafSpineLinks, randomPath, rng, tableOf, type LeafSpineShape } from './helpers.js';
import type { Problem } from '../../../apps/allocator/problem.js';

interface Instance { problem: Problem; opts: PolicyOptions; sizes: number[] }

/** Arbitrary: a leaf-spine fabric and a random set of flows (weights, some zero; demands; sizes; transfers). */
const instance = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  spines: fc.integer({ min: 1, max: 3 }),
  leaves: fc.integer({ min: 2, max: 4 }),
  hostsPerLeaf: fc.integer({ min: 1, max: 4 }),
  flows: fc.integer({ min: 1, max: 24 }),
  hostBps: fc.constantFrom(1e3, 1e6, 1e9, 1e12, 4e16),
  fabricRatio: fc.constantFrom(0.5, 1, 2, 4),
}).map(({ seed, flows, fabricRatio, ...sh }): Instance => {
  const shape: LeafSpineShape = { ...sh, fabricBps: sh.hostBps * fabricRatio };
  const r = rng(seed);
  const sizes: number[] = [];
  const problem: Problem = {
    links: leafSpineLinks(shape), tenants: [], divisions: [],
    flows: Array.from({ length: flows }, (_, i) => {
      const zero = r() < 0.1;
      sizes.push(r() < 0.2 ? Infinity : 1 + Math.floor(r() * 1e6));
      return {
        id: `f${i}`, path: randomPath(shape, r), weight: zero ? 0 : 0.01 + r() * 10, startS: 0,
        demandBps: r() < 0.2 ? shape.hostBps * r() * 0.5 + 1e-3 : undefined,
        transferId: `t${Math.floor(r() * 4)}`, division: `d${Math.floor(r() * 3)}`,
      };
    }),
  };
  const opts: PolicyOptions = {
    iterations: 1 + Math.floor(r() * 3),
    divisions: [
      { weight: 1, policy: 'flowtune' }, { weight: 2, policy: 'maxmin' }, { weight: 0.5, policy: 'fca' },
    ],
  };
  return { problem, opts, sizes };
});

function check(policy: string, inst: Instance): void {
  const { problem, opts, sizes } = inst;
  const t = tableOf(problem);
  problem.flows.forEach((f, i) => {
    t.setRemaining(i, sizes[i]!);
    if (policy === 'divisions') {
      const slot = t.slotOf(i);
      t.division[slot] = Number(f.division!.slice(1));
    }
  });
  const out = createPolicy(policy, t, opts).compute();
  const load = new Map(problem.links.map((l) => [l.id, 0]));
  problem.flows.forEach((f, i) => {
    const x = out[t.slotOf(i)]!;
    expect(Number.isFinite(x), `${policy} ${f.id} rate ${x}`).to.equal(true);
    expect(x, `${policy} ${f.id}`).to.be.at.least(0);
    if (f.weight > 0 && (f.demandBps ?? 1) > 0) expect(x, `${policy} ${f.id} weight ${f.weight}`).to.be.above(0);
    for (const id of f.path) load.set(id, load.get(id)! + x);
  });
  for (const l of problem.links) {
    expect(load.get(l.id)!, `${policy} link ${l.id}`).to.be.at.most(l.capacityBps * (1 + 1e-9));
  }
}

describe('allocator feasibility (property, random leaf-spine instances)', function () {
  this.timeout(120000);
  for (const [policy, runs] of [['flowtune', 3000], ['maxmin', 1500], ['fca', 1500], ['divisions', 1000]] as const) {
    it(`${policy}: Σ rates ≤ capacity on every link, finite, > 0 for positive weight (${runs} instances)`, () => {
      fc.assert(fc.property(instance, (inst) => check(policy, inst)), { numRuns: runs, seed: 4242 });
    });
  }
});
