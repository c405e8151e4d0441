/**
 * Offline allocation (`rivulet allocate`, README.md "CLI"): a validated Problem in, rates out. The same policies
 * the controller runs online; pure, no I/O.
 */
import { utilityOf } from './flowtune.js';
import { buildInstance } from './instance.js';
import { createPolicy, type PolicyOptions } from './policy.js';
import type { Problem } from './problem.js';

/** The JSON printed by `rivulet allocate`: rates and link loads in bits/s. */
export interface AllocationResult {
  readonly policy: string;
  readonly rates: Record<string, number>;
  readonly linkLoad: Record<string, number>;
  readonly iterations: number;
  /** Σ w·log(rate in bits/s) over flows with positive weight and rate. */
  readonly utility: number;
}

/** Options of an offline allocation. */
export interface AllocateOptions {
  readonly policy?: string;
  /** NED iterations before normalising (flowtune; default 1). */
  readonly iterations?: number;
  readonly extra?: PolicyOptions;
}

/** Allocates rates for `problem`. Throws AllocatorError for a bad policy or option. */
export function allocateProblem(problem: Problem, opts: AllocateOptions = {}): AllocationResult {
  const { inst, handles } = buildInstance(problem);
  const policyName = opts.policy ?? 'flowtune';
  const policy = createPolicy(policyName, inst.table, {
    ...inst.policyOptions, iterations: opts.iterations, ...opts.extra,
  });
  const out = policy.compute();
  const rates: Record<string, number> = {};
  const load = new Float64Array(inst.fabric.size);
  let utility = 0;
  problem.flows.forEach((f, i) => {
    const s = inst.table.slotOf(handles[i]!);
    const x = out[s]!;
    rates[f.id] = x;
    utility += utilityOf(f.weight, x, 1);
    for (const id of f.path) load[inst.fabric.indexOf(id)]! += x;
  });
  const linkLoad: Record<string, number> = {};
  problem.links.forEach((l, i) => { linkLoad[l.id] = load[i]!; });
  return { policy: policyName, rates, linkLoad, iterations: policy.iterations, utility };
}
