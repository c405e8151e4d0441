/**
 * Tracking the optimum (Flowtune §4): ONE NED iteration + F-NORM after each event of a 1000-event random
 * arrival/departure sequence on a leaf-spine fabric, against the optimum at every step. Prints the
 * throughput distribution (min, p10, median) and requires the median ≥ 99.7% of the optimum's.
 *
 * The optimum at each step comes from a second optimizer iterated to convergence (warm-started), and is
 * itself checked every 100 steps against the independent dual solver of helpers.ts (gap < 1e-9).
 */
import { expect } from 'chai';
import { Fabric } from '../../../apps/allocator/fabric.js';
import { FlowtuneOptimizer } from '../../../apps/allocator/flowtune.js';
import { FlowletTable } from '../../../apps/allocator/table.js';
import type { Problem } from '../../../apps/allocator/problem.js';
import { dualSolve, leafSpineLinks, randomPath, rng, utility, type LeafSpineShape } from './helpers.js';

/** The fabric: 2 spines × 4 leaves × 4 servers, 1 Gbit/s server links, 2 Gbit/s leaf↔spine (no oversubscription). */
const SHAPE: LeafSpineShape = { spines: 2, leaves: 4, hostsPerLeaf: 4, hostBps: 1e9, fabricBps: 2e9 };
/** Flowlets present on average (16 per server), and the events measured. */
const POPULATION = 256;
const EVENTS = 1000;

interface Live { id: string; path: string[]; weight: number; a: number; b: number }

/** Runs the sequence; returns per-step ratios (one-iteration throughput / optimal throughput). */
function runSequence(seed: number): number[] {
  const links = leafSpineLinks(SHAPE);
  const mk = (): { f: Fabric; t: FlowletTable } => {
    const f = new Fabric(links.length);
    for (const l of links) f.addLink(l.id, l.capacityBps);
    return { f, t: new FlowletTable(f) };
  };
  const one = mk();
  const ref = mk();
  const fast = new FlowtuneOptimizer(one.t);
  const exact = new FlowtuneOptimizer(ref.t);
  const r = rng(seed);
  const live: Live[] = [];
  const ratios: number[] = [];
  let n = 0;
  for (let e = 0; e < POPULATION + EVENTS; e++) {
    const arrive = e < POPULATION || (r() < 0.5 ? live.length < 1.5 * POPULATION : live.length < 0.5 * POPULATION);
    if (arrive) {
      const path = randomPath(SHAPE, r);
      const weight = 0.5 + r() * 1.5;
      const idx = path.map((id) => one.f.indexOf(id));
      live.push({ id: `f${n++}`, path, weight, a: one.t.add({ path: idx, weight }), b: ref.t.add({ path: idx, weight }) });
    } else {
      const i = Math.floor(r() * live.length);
      const gone = live[i]!;
      live[i] = live[live.length - 1]!;
      live.pop();
      one.t.remove(gone.a);
      ref.t.remove(gone.b);
    }
    fast.iterate(1);
    if (e < POPULATION) continue;
    converge(exact);
    let x = 0;
    let xOpt = 0;
    for (const f of live) {
      x += fast.out[one.t.slotOf(f.a)]!;
      xOpt += exact.out[ref.t.slotOf(f.b)]!;
    }
    ratios.push(x / xOpt);
    if ((e - POPULATION) % 100 === 0) checkReference(links, live, (f) => exact.out[ref.t.slotOf(f.b)]!);
  }
  return ratios;
}

/** Iterates until the prices stop moving (relative 1e-12) or 3000 iterations. */
function converge(opt: FlowtuneOptimizer): void {
  const L = opt.table.fabric.size;
  const before = new Float64Array(L);
  for (let round = 0; round < 60; round++) {
    for (let l = 0; l < L; l++) before[l] = opt.price(l);
    opt.iterate(50);
    let change = 0;
    for (let l = 0; l < L; l++) {
      const p = opt.price(l);
      if (p > 0) change = Math.max(change, Math.abs(p - before[l]!) / p);
    }
    if (change < 1e-12) return;
  }
}

/** The reference optimum agrees with the independent dual solver. */
function checkReference(links: Problem['links'], live: Live[], rate: (f: Live) => number): void {
  const p: Problem = {
    links, tenants: [], divisions: [],
    flows: live.map((f) => ({ id: f.id, path: f.path, weight: f.weight, startS: 0 })),
  };
  const { dual } = dualSolve(p, 20000);
  const u = utility(p, (i) => rate(live[i]!));
  expect((dual - u) / Math.abs(dual)).to.be.below(1e-9);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

describe('allocator/flowtune one iteration per event', function () {
  this.timeout(120000);

  it('1000 events: median throughput ≥ 99.7% of the optimum (distribution printed)', () => {
    const ratios = runSequence(7).sort((a, b) => a - b);
    expect(ratios).to.have.length(EVENTS);
    const dist = { min: ratios[0]!, p10: quantile(ratios, 0.1), median: quantile(ratios, 0.5), max: ratios[ratios.length - 1]! };
    console.log(`      one NED iteration + F-NORM per event, ${EVENTS} events, ${POPULATION} flowlets on average: ` +
      `throughput / optimum min ${dist.min.toFixed(5)} p10 ${dist.p10.toFixed(5)} median ${dist.median.toFixed(5)} max ${dist.max.toFixed(5)}`);
    expect(dist.median).to.be.at.least(0.997);
  });
});
