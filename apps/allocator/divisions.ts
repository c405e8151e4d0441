/**
 * Tenant-objective divisions (SCC, INFOCOM 2017, §III): divisions share every link by weight
 * (isolation: on link l, division d is offered c_l·ω_d / Σ_{d' on l} ω_d', with ω_d = division weight ×
 * tenant weight), each division runs its own objective's policy inside its share, and what a division
 * leaves unused (it is bottlenecked elsewhere) is water-filled among all flows afterwards (work conservation).
 */
import { buildLinkFlows } from './csr.js';
import { Fabric } from './fabric.js';
import { progressiveFill } from './maxmin.js';
import { linear, type PLFunc } from './plfunc.js';
import { FlowletTable } from './table.js';

/** One division: its isolation weight (already multiplied by its tenant's) and the policy inside it. */
export interface DivisionSpec {
  readonly weight: number;
  readonly policy: 'flowtune' | 'maxmin' | 'fca';
}

/** Runs policy `p` on a sub-table and returns rates by the sub-table's slots. */
export type SubPolicyRunner = (table: FlowletTable, policy: DivisionSpec['policy']) => Float64Array;

/** Writes division-isolated rates (bits/s) into `out[slot]`; flows without a division form division "-1". */
export function divisionsAllocate(
  t: FlowletTable, specs: readonly DivisionSpec[], run: SubPolicyRunner, out: Float64Array,
): void {
  const L = t.fabric.size;
  const members = groupByDivision(t);
  const share = linkShares(t, members, specs, L);
  const base = new Float64Array(t.span);
  for (const [d, slots] of members) {
    const sub = subTable(t, slots, share.get(d)!, L);
    const rates = run(sub.table, specOf(specs, d).policy);
    sub.slots.forEach((s, i) => { base[s] = rates[sub.table.slotOf(i)]!; });
  }
  fillLeftover(t, base, out, L);
}

function groupByDivision(t: FlowletTable): Map<number, number[]> {
  const m = new Map<number, number[]>();
  t.forEachSlot((s) => {
    const d = t.division[s]!;
    let g = m.get(d);
    if (!g) m.set(d, (g = []));
    g.push(s);
  });
  return m;
}

function specOf(specs: readonly DivisionSpec[], d: number): DivisionSpec {
  return (d >= 0 ? specs[d] : undefined) ?? { weight: 1, policy: 'flowtune' };
}

/** Per division, the capacity offered on each link (bits/s). */
function linkShares(
  t: FlowletTable, members: Map<number, number[]>, specs: readonly DivisionSpec[], L: number,
): Map<number, Float64Array> {
  const present = new Map<number, Uint8Array>();
  const total = new Float64Array(L);
  for (const [d, slots] of members) {
    const on = new Uint8Array(L);
    for (const s of slots) for (let j = 0; j < t.pathLen[s]!; j++) on[t.path[s * t.maxHops + j]!] = 1;
    const w = Math.max(1e-12, specOf(specs, d).weight);
    for (let l = 0; l < L; l++) if (on[l]) total[l]! += w;
    present.set(d, on);
  }
  const shares = new Map<number, Float64Array>();
  for (const [d, on] of present) {
    const w = Math.max(1e-12, specOf(specs, d).weight);
    const c = new Float64Array(L);
    for (let l = 0; l < L; l++) c[l] = on[l] ? (t.fabric.capacity[l]! * w) / total[l]! : t.fabric.capacity[l]!;
    shares.set(d, c);
  }
  return shares;
}

/** A table with only `slots`, on a fabric with capacities `cap`; sub-table handle i = slots[i]. */
function subTable(t: FlowletTable, slots: number[], cap: Float64Array, L: number): { table: FlowletTable; slots: number[] } {
  const fabric = new Fabric(L);
  for (let l = 0; l < L; l++) fabric.addLink(t.fabric.ids[l]!, Math.max(cap[l]!, 1e-3));
  const table = new FlowletTable(fabric, { maxHops: t.maxHops, blockCapacity: Math.max(1, slots.length) });
  for (const s of slots) {
    const o = s * t.maxHops;
    table.add({
      path: t.path.subarray(o, o + t.pathLen[s]!), weight: t.weight[s]!, demandBps: t.demand[s]!,
      transfer: t.transfer[s]!, tenant: t.tenant[s]!,
    });
    table.setRemaining(table.size - 1, t.remainingBits[s]!);
  }
  return { table, slots };
}

function fillLeftover(t: FlowletTable, base: Float64Array, out: Float64Array, L: number): void {
  const left = Float64Array.from(t.fabric.capacity.subarray(0, L));
  const funcs: (PLFunc | undefined)[] = new Array(t.span);
  t.forEachSlot((s) => {
    for (let j = 0; j < t.pathLen[s]!; j++) left[t.path[s * t.maxHops + j]!]! -= base[s]!;
    const room = t.demand[s]! - base[s]!;
    funcs[s] = linear(t.weight[s]!, room > 0 ? room : 0);
  });
  for (let l = 0; l < L; l++) if (!(left[l]! > 0)) left[l] = 0;
  progressiveFill(t, left, funcs, out, buildLinkFlows(t));
  t.forEachSlot((s) => { out[s] = out[s]! + base[s]!; });
}
