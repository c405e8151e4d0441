/**
 * The `maxmin` policy: weighted max-min by progressive filling over BwE bandwidth functions (BwE §4.2). Every flow has a function E_f(s) of one global fair share s; s rises until a link saturates
 * (its flows freeze at E_f(s)) or a flow reaches its demand (it freezes too); repeat until all are frozen.
 * With E_f(s) = w_f·s this is exact weighted max-min: every unsatisfied flow has a saturated link on which
 * its rate/weight is maximal (the bottleneck property tested in test/unit/allocator/maxmin.test.ts).
 */
import { buildLinkFlows, type LinkFlows } from './csr.js';
import { evalAt, inverse, saturationPoint, sum, type PLFunc } from './plfunc.js';
import type { FlowletTable } from './table.js';

/**
 * Progressive filling. `capacity[l]` is what link l offers (bits/s), `funcs[slot]` the flow's bandwidth
 * function; writes rates (bits/s) into `out[slot]` for every live slot. Returns the number of rounds.
 */
export function progressiveFill(
  t: FlowletTable, capacity: ArrayLike<number>, funcs: readonly (PLFunc | undefined)[], out: Float64Array,
  csr: LinkFlows = buildLinkFlows(t),
): number {
  const L = t.fabric.size;
  const st = initState(t, L, csr, funcs, out);
  let s = 0;
  let rounds = 0;
  while (st.activeFlows > 0) {
    const { sStar, linkS } = nextShare(st, capacity, funcs, s, L, csr);
    if (!(sStar < Infinity)) break; // only flows without any binding link or demand: cannot happen with paths
    s = sStar;
    freezeAt(st, t, funcs, s, linkS, L, csr, out);
    rounds++;
  }
  return rounds;
}

interface FillState {
  readonly frozen: Uint8Array;
  readonly frozenLoad: Float64Array;
  readonly activeOnLink: Int32Array;
  readonly satPoint: Float64Array;
  activeFlows: number;
}

function initState(
  t: FlowletTable, L: number, csr: LinkFlows, funcs: readonly (PLFunc | undefined)[], out: Float64Array,
): FillState {
  const st: FillState = {
    frozen: new Uint8Array(t.span), frozenLoad: new Float64Array(L), activeOnLink: new Int32Array(L),
    satPoint: new Float64Array(t.span), activeFlows: 0,
  };
  for (let l = 0; l < L; l++) st.activeOnLink[l] = csr.offsets[l + 1]! - csr.offsets[l]!;
  t.forEachSlot((f) => {
    out[f] = 0;
    st.satPoint[f] = funcs[f] ? saturationPoint(funcs[f]) : 0;
    st.activeFlows++;
  });
  return st;
}

/** The smallest share at which some link saturates or some flow is satisfied. */
function nextShare(
  st: FillState, capacity: ArrayLike<number>, funcs: readonly (PLFunc | undefined)[], s: number, L: number,
  csr: LinkFlows,
): { sStar: number; linkS: Float64Array } {
  const linkS = new Float64Array(L).fill(Infinity);
  let sStar = Infinity;
  for (let l = 0; l < L; l++) {
    if (st.activeOnLink[l] === 0) continue;
    const active: PLFunc[] = [];
    for (let i = csr.offsets[l]!; i < csr.offsets[l + 1]!; i++) {
      const f = csr.flows[i]!;
      if (!st.frozen[f] && funcs[f]) active.push(funcs[f]);
    }
    const residual = capacity[l]! - st.frozenLoad[l]!;
    const sl = active.length === 0 ? Infinity : Math.max(s, inverse(sum(active), residual));
    linkS[l] = sl;
    if (sl < sStar) sStar = sl;
  }
  for (let f = 0; f < st.frozen.length; f++) {
    if (funcs[f] && !st.frozen[f] && st.satPoint[f]! < sStar) sStar = Math.max(s, st.satPoint[f]!);
  }
  return { sStar, linkS };
}

function freezeAt(
  st: FillState, t: FlowletTable, funcs: readonly (PLFunc | undefined)[], s: number, linkS: Float64Array,
  L: number, csr: LinkFlows, out: Float64Array,
): void {
  const freeze = (f: number): void => {
    if (st.frozen[f]) return;
    st.frozen[f] = 1;
    st.activeFlows--;
    const x = funcs[f] ? evalAt(funcs[f], s) : 0;
    out[f] = x;
    const o = f * t.maxHops;
    for (let j = 0; j < t.pathLen[f]!; j++) {
      const l = t.path[o + j]!;
      st.frozenLoad[l]! += x;
      st.activeOnLink[l]!--;
    }
  };
  for (let l = 0; l < L; l++) {
    if (linkS[l]! <= s) for (let i = csr.offsets[l]!; i < csr.offsets[l + 1]!; i++) freeze(csr.flows[i]!);
  }
  t.forEachSlot((f) => { if (!funcs[f] || st.satPoint[f]! <= s) freeze(f); });
}
