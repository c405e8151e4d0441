/**
 * One interface over the allocation policies, so the CLI, the simulator and the controller app run them
 * the same way: a policy is bound to a FlowletTable and `compute()` returns rates (bits/s) by slot.
 */
import { AllocatorError } from './errors.js';
import { divisionsAllocate, type DivisionSpec } from './divisions.js';
import { fcaAllocate, type FcaOptions } from './fca.js';
import { FlowtuneOptimizer, type FlowtuneOptions } from './flowtune.js';
import { effectiveFunctions, type GroupWeights } from './hierarchy.js';
import { progressiveFill } from './maxmin.js';
import { capAt, linear, type PLFunc } from './plfunc.js';
import type { FlowletTable } from './table.js';

/** Policy names accepted by `rivulet allocate|simulate --policy`. */
export const POLICY_NAMES = ['flowtune', 'maxmin', 'fca', 'divisions'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** Options shared by every policy (each reads what concerns it). */
export interface PolicyOptions {
  /** NED iterations per compute() (flowtune; default 1). */
  readonly iterations?: number;
  readonly flowtune?: FlowtuneOptions;
  readonly fca?: FcaOptions;
  /** BwE bandwidth functions by flow handle (maxmin); others use weight·s capped at demand. */
  readonly bandwidthFunctions?: ReadonlyMap<number, PLFunc>;
  /** Tenant / division weights for maxmin nesting. */
  readonly groupWeights?: GroupWeights;
  /** Divisions by index (divisions policy). */
  readonly divisions?: readonly DivisionSpec[];
  /** NED iterations inside a flowtune division (default 200: converged, as divisions are rebuilt per call). */
  readonly divisionIterations?: number;
}

/** A policy bound to a table. */
export interface Policy {
  readonly name: PolicyName;
  /** Recomputes rates for the current table; the returned array is indexed by slot and reused. */
  compute(): Float64Array;
  /** Optimizer iterations run so far (flowtune), else the number of compute() calls. */
  readonly iterations: number;
}

/** Creates a policy over `table`. Throws ALLOC_BAD_OPTION for an unknown name. */
export function createPolicy(name: string, table: FlowletTable, opts: PolicyOptions = {}): Policy {
  switch (name) {
    case 'flowtune': return flowtunePolicy(table, opts);
    case 'maxmin': return simplePolicy('maxmin', table, (out) => maxminAllocate(table, out, opts));
    case 'fca': return simplePolicy('fca', table, (out) => fcaAllocate(table, out, opts.fca));
    case 'divisions': return simplePolicy('divisions', table, (out) => divisionsRun(table, out, opts));
    default: throw new AllocatorError('ALLOC_BAD_OPTION', `unknown policy ${JSON.stringify(name)}`);
  }
}

function flowtunePolicy(table: FlowletTable, opts: PolicyOptions): Policy {
  const n = opts.iterations ?? 1;
  if (!(Number.isInteger(n) && n >= 1)) throw new AllocatorError('ALLOC_BAD_OPTION', 'iterations must be an integer ≥ 1');
  const opt = new FlowtuneOptimizer(table, opts.flowtune);
  return {
    name: 'flowtune',
    compute: () => { opt.iterate(n); return opt.out; },
    get iterations() { return opt.iterations; },
  };
}

function simplePolicy(name: PolicyName, table: FlowletTable, run: (out: Float64Array) => void): Policy {
  let out = new Float64Array(table.span);
  let calls = 0;
  return {
    name,
    compute: () => {
      if (out.length < table.span) out = new Float64Array(table.span);
      run(out);
      calls++;
      return out;
    },
    get iterations() { return calls; },
  };
}

/** Weighted max-min with BwE functions and tenant → division nesting, into `out[slot]`. */
export function maxminAllocate(table: FlowletTable, out: Float64Array, opts: PolicyOptions = {}): void {
  const base: (PLFunc | undefined)[] = new Array(table.span);
  table.forEachSlot((s) => {
    const custom = opts.bandwidthFunctions?.get(table.handleOfSlot[s]!);
    base[s] = custom ? capAt(custom, table.demand[s]!) : linear(table.weight[s]!, table.demand[s]!);
  });
  const funcs = opts.groupWeights ? effectiveFunctions(table, base, opts.groupWeights) : base;
  progressiveFill(table, table.fabric.capacity, funcs, out);
}

function divisionsRun(table: FlowletTable, out: Float64Array, opts: PolicyOptions): void {
  const specs = opts.divisions ?? [];
  divisionsAllocate(table, specs, (sub, policy) => {
    const inner = { ...opts, iterations: policy === 'flowtune' ? (opts.divisionIterations ?? 200) : opts.iterations };
    return createPolicy(policy, sub, inner).compute();
  }, out);
}
