/**
 * flowtune (Flowtune §4): optimality against an independent exact method (dual coordinate descent, whose
 * dual value bounds the optimum from above), numerical safety, warm start, and the one-iteration
 * throughput distribution over a 1000-event arrival/departure sequence (median ≥ 99.7% of the optimum, the figure Flowtune reports).
 */
import { expect } from 'chai';
import { Fabric } from '../../../apps/allocator/fabric.js';
import { FlowtuneOptimizer } from '../../../apps/allocator/flowtune.js';
import { FlowletTable } from '../../../apps/allocator/table.js';
import { dualSolve, linkLoads, randomProblem, tableOf, utility } from './helpers.js';

describe('allocator/flowtune', () => {
  it('iterated to convergence, reaches the exact optimum within 1e-6 (independent dual certificate)', () => {
    let worst = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const p = randomProblem(seed, 4 + (seed % 25));
      const t = tableOf(p);
      const opt = new FlowtuneOptimizer(t);
      opt.iterate(1000);
      const rate = (i: number): number => opt.out[t.slotOf(i)]!;
      const u = utility(p, rate);
      const { dual } = dualSolve(p);
      // Weak duality: any feasible allocation has U ≤ U* ≤ D(p); so D − U bounds the distance to the optimum.
      const gap = (dual - u) / Math.abs(dual);
      expect(gap, `seed ${seed}`).to.be.at.least(-1e-12);
      expect(gap, `seed ${seed}`).to.be.below(1e-6);
      worst = Math.max(worst, gap);
      for (const [id, y] of linkLoads(p, rate)) {
        expect(y, id).to.be.at.most(p.links.find((l) => l.id === id)!.capacityBps * (1 + 1e-9));
      }
    }
    console.log(`      worst relative gap to the dual bound over 40 instances: ${worst.toExponential(2)}`);
    expect(worst).to.be.below(1e-6);
  });

  it('never produces NaN or Infinity: zero weights, idle links, tiny and huge capacities', () => {
    const f = new Fabric();
    f.addLink('tiny', 1e-3);
    f.addLink('huge', 1e18);
    f.addLink('idle', 1e9);
    f.addLink('mid', 1e9);
    const t = new FlowletTable(f);
    t.add({ path: [0, 3], weight: 1 });
    t.add({ path: [1], weight: 0 });
    t.add({ path: [1, 3], weight: 1e-9 });
    t.add({ path: [1], weight: 1e12 });
    t.add({ path: [0], weight: 5 });
    const opt = new FlowtuneOptimizer(t);
    for (const n of [1, 1, 3, 50, 500]) {
      opt.iterate(n);
      t.forEachSlot((s) => {
        const x = opt.out[s]!;
        expect(Number.isFinite(x), `slot ${s}`).to.equal(true);
        if (t.weight[s]! > 0) expect(x, `slot ${s}`).to.be.above(0);
        else expect(x).to.equal(0);
      });
      for (let l = 0; l < f.size; l++) {
        expect(Number.isFinite(opt.price(l))).to.equal(true);
        expect(Number.isFinite(opt.load(l))).to.equal(true);
      }
      const load = [0, 0, 0, 0];
      t.forEachSlot((s) => {
        for (let j = 0; j < t.pathLen[s]!; j++) load[t.path[s * t.maxHops + j]!]! += opt.out[s]!;
      });
      load.forEach((y, l) => expect(y).to.be.at.most(f.capacity[l]! * (1 + 1e-9)));
    }
  });

  it('α-fair (α = 2) is finite, positive and feasible too', () => {
    const p = randomProblem(11, 20);
    const t = tableOf(p);
    const opt = new FlowtuneOptimizer(t, { alpha: 2 });
    opt.iterate(300);
    const rate = (i: number): number => opt.out[t.slotOf(i)]!;
    p.flows.forEach((_, i) => expect(rate(i)).to.be.above(0).and.below(Infinity));
    for (const [id, y] of linkLoads(p, rate)) {
      expect(y, id).to.be.at.most(p.links.find((l) => l.id === id)!.capacityBps * (1 + 1e-9));
    }
  });

  it('warm start: after arrivals and departures, incremental state converges to the from-scratch optimum', () => {
    const p = randomProblem(99, 30);
    const t = tableOf(p);
    const opt = new FlowtuneOptimizer(t);
    opt.iterate(200);
    for (let i = 0; i < 10; i++) t.remove(i * 2);
    const q = { ...p, flows: p.flows.filter((_, i) => !(i % 2 === 0 && i < 20)) };
    opt.iterate(500);
    const { dual } = dualSolve(q);
    const u = utility(q, (i) => opt.out[t.slotOf(p.flows.indexOf(q.flows[i]!))]!);
    expect((dual - u) / Math.abs(dual)).to.be.below(1e-6);
  });

  it('U-NORM is feasible and no better than F-NORM in throughput', () => {
    const p = randomProblem(5, 25);
    const tf = tableOf(p);
    const tu = tableOf(p);
    const of = new FlowtuneOptimizer(tf, { norm: 'f' });
    const ou = new FlowtuneOptimizer(tu, { norm: 'u' });
    of.iterate(1);
    ou.iterate(1);
    const sf = p.flows.reduce((a, _, i) => a + of.out[tf.slotOf(i)]!, 0);
    const su = p.flows.reduce((a, _, i) => a + ou.out[tu.slotOf(i)]!, 0);
    expect(su).to.be.at.most(sf * (1 + 1e-12));
    for (const [id, y] of linkLoads(p, (i) => ou.out[tu.slotOf(i)]!)) {
      expect(y).to.be.at.most(p.links.find((l) => l.id === id)!.capacityBps * (1 + 1e-9));
    }
  });
});
