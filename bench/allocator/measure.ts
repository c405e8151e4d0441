/**
 * Timing helpers of the allocator benchmark: build an instance into the typed-array allocator or the
 * baseline, run iterations, return nanoseconds per flowlet per iteration.
 */
import { Fabric } from '../../apps/allocator/fabric.js';
import { FlowtuneOptimizer } from '../../apps/allocator/flowtune.js';
import { FlowletTable } from '../../apps/allocator/table.js';
import { BaselineAllocator } from './baseline.js';
import type { BenchInstance } from './fabric.js';

/** The typed-array allocator loaded with an instance (`blocks` blocks, by source server). */
export function loadTyped(inst: BenchInstance, blocks = 1, shared = false): { table: FlowletTable; opt: FlowtuneOptimizer } {
  const fabric = new Fabric(inst.capacities.length, shared);
  inst.capacities.forEach((c, l) => fabric.addLink(`l${l}`, c));
  const perBlock = Math.ceil(inst.paths.length / blocks) + 64;
  const table = new FlowletTable(fabric, { maxHops: 4, blocks, blockCapacity: perBlock, shared });
  const serversPerBlock = Math.ceil(inst.servers / blocks);
  inst.paths.forEach((path, i) => table.add({ path, block: Math.floor(inst.sources[i]! / serversPerBlock) }));
  return { table, opt: new FlowtuneOptimizer(table) };
}

/** ns per flowlet per iteration of `step` over `flows` flowlets, best of `reps` timed rounds. */
export function nsPerFlowIteration(step: () => void, flows: number, minMs = 300, reps = 3): number {
  for (let i = 0; i < 5; i++) step();
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    let dt = 0;
    while (dt < minMs * 1e6) {
      step();
      n++;
      dt = Number(process.hrtime.bigint() - t0);
    }
    best = Math.min(best, dt / n / flows);
  }
  return best;
}

/** Typed allocator: ns per flowlet per iteration (one NED iteration + F-NORM). */
export function typedIteration(inst: BenchInstance): number {
  const { opt } = loadTyped(inst);
  opt.iterate(20);
  return nsPerFlowIteration(() => opt.iterate(1), inst.paths.length);
}

/** Baseline: ns per flowlet per iteration. */
export function baselineIteration(inst: BenchInstance): number {
  const b = new BaselineAllocator(inst.capacities);
  for (const p of inst.paths) b.add(p);
  for (let i = 0; i < 20; i++) b.iterate();
  return nsPerFlowIteration(() => b.iterate(), inst.paths.length);
}

/** Typed allocator: µs for one arrival (table add + one iteration), averaged; each arrival then departs. */
export function typedArrival(inst: BenchInstance, rounds = 50): { addUs: number; arrivalUs: number } {
  const { table, opt } = loadTyped(inst);
  opt.iterate(20);
  const paths = inst.paths;
  let addNs = 0;
  let totalNs = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    const h = table.add({ path: paths[(i * 7919) % paths.length]! });
    const t1 = process.hrtime.bigint();
    opt.iterate(1);
    const t2 = process.hrtime.bigint();
    addNs += Number(t1 - t0);
    totalNs += Number(t2 - t0);
    table.remove(h);
  }
  return { addUs: addNs / rounds / 1e3, arrivalUs: totalNs / rounds / 1e3 };
}

/** Baseline: µs for one arrival (add + one iteration). */
export function baselineArrival(inst: BenchInstance, rounds = 20): number {
  const b = new BaselineAllocator(inst.capacities);
  for (const p of inst.paths) b.add(p);
  for (let i = 0; i < 5; i++) b.iterate();
  let total = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    const f = b.add(inst.paths[(i * 7919) % inst.paths.length]!);
    b.iterate();
    total += Number(process.hrtime.bigint() - t0);
    b.remove(f);
  }
  return total / rounds / 1e3;
}
