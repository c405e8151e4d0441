/**
 * A flow-level (fluid) simulator (`rivulet simulate`): flows arrive at given times with sizes
 * (and transfer ids) and drain at their allocated rates; at every arrival and completion the policy
 * recomputes, exactly as the controller would on flowlet start/end reports. Pure: no clock, no I/O.
 * Times in seconds, sizes in bytes in and out, rates in bits/s.
 */
import { AllocatorError, subjectError } from '../errors.js';
import { addFlow, buildInstance } from '../instance.js';
import { createPolicy, type PolicyOptions } from '../policy.js';
import type { Problem } from '../problem.js';

/** Options of a simulation. */
export interface SimOptions {
  readonly policy?: string;
  /** NED iterations per event (flowtune; default 1). */
  readonly iterations?: number;
  readonly extra?: PolicyOptions;
  /** Safety bound on recomputations (default 10 × flows + 1000). */
  readonly maxEvents?: number;
}

/** Per-flow outcome. */
export interface FlowOutcome {
  readonly startS: number;
  readonly endS: number;
  readonly fctS: number;
  readonly sizeBytes: number;
  readonly transferId?: string;
}

/** Per-transfer outcome: a transfer ends with its last flow; TCT counts from its first flow's start. */
export interface TransferOutcome {
  readonly startS: number;
  readonly endS: number;
  readonly tctS: number;
  readonly flows: number;
}

/** What `rivulet simulate` prints. */
export interface SimResult {
  readonly policy: string;
  readonly flows: Record<string, FlowOutcome>;
  readonly transfers: Record<string, TransferOutcome>;
  readonly summary: {
    readonly flows: number;
    readonly transfers: number;
    readonly events: number;
    readonly makespanS: number;
    readonly meanFctS: number;
    readonly p99FctS: number;
    readonly meanTctS: number;
  };
}

/** Runs the workload to completion. Throws ALLOC_BAD_FIELD for a flow without size, SIM_STALLED if stuck. */
export function simulate(problem: Problem, opts: SimOptions = {}): SimResult {
  problem.flows.forEach((f) => {
    if (f.sizeBytes === undefined) throw subjectError('ALLOC_BAD_FIELD', 'flow', f.id, 'sizeBytes is required to simulate');
  });
  const { inst } = buildInstance(problem, false);
  const policyName = opts.policy ?? 'flowtune';
  const policy = createPolicy(policyName, inst.table, { ...inst.policyOptions, iterations: opts.iterations, ...opts.extra });
  const order = problem.flows.map((_, i) => i).sort((a, b) => problem.flows[a]!.startS - problem.flows[b]!.startS || a - b);
  const n = problem.flows.length;
  const handle = new Int32Array(n).fill(-1);
  const remaining = new Float64Array(n);
  const rate = new Float64Array(n);
  const endS = new Float64Array(n).fill(NaN);
  const active: number[] = [];
  const maxEvents = opts.maxEvents ?? 10 * n + 1000;
  let now = 0;
  let next = 0;
  let events = 0;
  while (next < n || active.length > 0) {
    while (next < n && problem.flows[order[next]!]!.startS <= now) {
      const i = order[next++]!;
      const f = problem.flows[i]!;
      remaining[i] = f.sizeBytes! * 8;
      if (remaining[i]! <= 0) { endS[i] = f.startS; continue; }
      handle[i] = addFlow(inst, f);
      active.push(i);
    }
    if (active.length === 0) { now = problem.flows[order[next]!]!.startS; continue; }
    if (++events > maxEvents) throw new AllocatorError('SIM_STALLED', `more than ${maxEvents} events`);
    for (const i of active) inst.table.setRemaining(handle[i]!, remaining[i]!);
    const out = policy.compute();
    let dt = next < n ? problem.flows[order[next]!]!.startS - now : Infinity;
    for (const i of active) {
      const x = out[inst.table.slotOf(handle[i]!)]!;
      rate[i] = x > 0 && x < Infinity ? x : 0;
      if (rate[i]! > 0) dt = Math.min(dt, remaining[i]! / rate[i]!);
    }
    if (!(dt < Infinity)) throw new AllocatorError('SIM_STALLED', `no flow can progress at t=${now}s`);
    now += dt;
    advance(active, remaining, rate, dt, problem, (i) => {
      endS[i] = now;
      inst.table.remove(handle[i]!);
    });
  }
  return report(problem, policyName, endS, events);
}

/** Drains every active flow for dt seconds; calls `done(i)` for those that finished and drops them. */
function advance(
  active: number[], remaining: Float64Array, rate: Float64Array, dt: number, problem: Problem,
  done: (i: number) => void,
): void {
  let w = 0;
  for (const i of active) {
    remaining[i] = remaining[i]! - rate[i]! * dt;
    const tol = Math.max(1e-9 * problem.flows[i]!.sizeBytes! * 8, 1e-6);
    if (remaining[i]! <= tol) done(i);
    else active[w++] = i;
  }
  active.length = w;
}

function report(problem: Problem, policy: string, endS: Float64Array, events: number): SimResult {
  const flows: Record<string, FlowOutcome> = {};
  const tr = new Map<string, { startS: number; endS: number; flows: number }>();
  const fcts: number[] = [];
  problem.flows.forEach((f, i) => {
    const e = endS[i]!;
    flows[f.id] = { startS: f.startS, endS: e, fctS: e - f.startS, sizeBytes: f.sizeBytes!, transferId: f.transferId };
    fcts.push(e - f.startS);
    if (f.transferId === undefined) return;
    const t = tr.get(f.transferId) ?? { startS: Infinity, endS: -Infinity, flows: 0 };
    tr.set(f.transferId, { startS: Math.min(t.startS, f.startS), endS: Math.max(t.endS, e), flows: t.flows + 1 });
  });
  const transfers: Record<string, TransferOutcome> = {};
  for (const [id, t] of tr) transfers[id] = { ...t, tctS: t.endS - t.startS };
  const tcts = Object.values(transfers).map((t) => t.tctS);
  fcts.sort((a, b) => a - b);
  return {
    policy, flows, transfers,
    summary: {
      flows: fcts.length, transfers: tcts.length, events,
      makespanS: Math.max(0, ...problem.flows.map((_, i) => endS[i]!)),
      meanFctS: mean(fcts), p99FctS: fcts.length ? fcts[Math.min(fcts.length - 1, Math.floor(0.99 * fcts.length))]! : 0,
      meanTctS: mean(tcts),
    },
  };
}

function mean(a: readonly number[]): number {
  return a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0;
}
