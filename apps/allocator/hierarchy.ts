/**
 * Nested groups for max-min (BwE §4.1): tenant → division → flowlet. A group's allocation is
 * water-filled among its children, so a child that needs less (demand-capped) leaves its share to its
 * siblings before anyone outside the group. Implemented by composing bandwidth functions: each flow gets
 * one effective function of the global fair share s, which progressive filling then uses as a flat flow.
 *
 * A group g with weight W_g and children c: A_g = Σ_c B_c (children in the group's local share);
 * B_g(u) = min(W_g·u, sup A_g); child c's bandwidth as a function of u is shareOf(B_c, A_g) ∘ B_g.
 * Flows with neither tenant nor division are their own top-level group (E_f = B_f).
 */
import { capAt, compose, linear, shareOf, sum, supremum, type PLFunc } from './plfunc.js';
import type { FlowletTable } from './table.js';

/** Weights of tenants and divisions (by index; missing or non-positive → 1). */
export interface GroupWeights {
  readonly tenant: ArrayLike<number>;
  readonly division: ArrayLike<number>;
}

/** Effective per-slot functions of the global share; `base[slot]` is each flow's own function. */
export function effectiveFunctions(
  t: FlowletTable, base: readonly (PLFunc | undefined)[], weights: GroupWeights,
): (PLFunc | undefined)[] {
  const out: (PLFunc | undefined)[] = new Array(t.span);
  const tenants = new Map<number, Map<number, number[]>>();
  t.forEachSlot((s) => {
    const ten = t.tenant[s]!;
    const div = t.division[s]!;
    if (ten < 0 && div < 0) { out[s] = base[s]; return; }
    let divs = tenants.get(ten);
    if (!divs) tenants.set(ten, (divs = new Map()));
    let slots = divs.get(div);
    if (!slots) divs.set(div, (slots = []));
    slots.push(s);
  });
  for (const [ten, divs] of tenants) composeTenant(ten, divs, base, weights, out);
  return out;
}

function composeTenant(
  ten: number, divs: Map<number, number[]>, base: readonly (PLFunc | undefined)[], weights: GroupWeights,
  out: (PLFunc | undefined)[],
): void {
  const zero = linear(0);
  const divAgg = new Map<number, PLFunc>();
  const divFn = new Map<number, PLFunc>();
  for (const [div, slots] of divs) {
    const agg = sum(slots.map((s) => base[s] ?? zero));
    divAgg.set(div, agg);
    divFn.set(div, capAt(linear(weightOf(weights.division, div)), supremum(agg)));
  }
  const tenAgg = sum([...divFn.values()]);
  const tenFn = capAt(linear(weightOf(weights.tenant, ten)), supremum(tenAgg));
  for (const [div, slots] of divs) {
    const divOfS = compose(shareOf(divFn.get(div)!, tenAgg), tenFn);
    const agg = divAgg.get(div)!;
    for (const s of slots) out[s] = base[s] ? compose(shareOf(base[s], agg), divOfS) : undefined;
  }
}

function weightOf(w: ArrayLike<number>, i: number): number {
  const v = i >= 0 && i < w.length ? w[i]! : 1;
  return v > 0 ? v : 1;
}
