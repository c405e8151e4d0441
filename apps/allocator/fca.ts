/**
 * The `fca` policy: transfer-aware rates after the Flow Chasing Algorithm (FCA §4.1–4.3).
 *
 * 1. Transfers (coflows; a flow without a transfer is its own) in order of smallest remaining volume first.
 * 2. Each takes the rates that minimise its completion time on the residual capacity: every flow f gets
 *    rem_f / t* with t* = max_l Σ_{f∋l} rem_f / residual_l, so the transfer's flows all finish together with
 *    its bottleneck flow (the intra-transfer "chasing" of §4.1: no flow finishes earlier than needed) and
 *    what they do not need stays for the next transfers (inter-transfer, §4.2).
 * 3. Work conservation (§4.3): what is left is water-filled (max-min) among all flows whose path has room.
 *
 * A fraction `reserve` (default 1e-6) of every link is held back from steps 1–2 and handed out in step 3, so a
 * starved transfer still gets a positive rate (every flow with positive weight keeps moving); `reserve: 0`
 * is the paper's rule exactly. Flows of unknown size are served after every sized transfer, by weight.
 *
 * `minRateBps` (default 0: off) gives every flow a floor before step 1, taken off the capacity the
 * transfers share (never more than an equal split of any of its links, nor its demand). The paper's fluid
 * model lets a waiting flow sit at rate 0 and resume at once; a TCP flow shaped to ~0 does not: its
 * packets wait in its shaper longer than the agent's flowlet idle gap, the flowlet ends, its queue is
 * dropped with its shaper class, and TCP backs off (exponential retransmission timeouts) — measured in
 * the `shuffle` experiment as thousands of one- or two-packet flowlets. A floor of a few packets per idle
 * gap keeps a waiting flow's ACK clock and its flowlet alive; its transfer still waits its turn (§4.2).
 */
import { buildLinkFlows } from './csr.js';
import { progressiveFill } from './maxmin.js';
import { linear, type PLFunc } from './plfunc.js';
import type { FlowletTable } from './table.js';

/** Options of the FCA policy. */
export interface FcaOptions {
  /** Fraction of each link kept for work conservation, in [0, 1) (default 1e-6). */
  readonly reserve?: number;
  /** Step 3 on (default). Off: only the transfer-aware rates (for showing what §4.3 adds). */
  readonly workConserving?: boolean;
  /** Rate every flow gets before the transfers are served, bit/s (default 0); see the file comment. */
  readonly minRateBps?: number;
}

/** Writes FCA rates (bits/s) into `out[slot]`. */
export function fcaAllocate(t: FlowletTable, out: Float64Array, opts: FcaOptions = {}): void {
  const reserve = opts.reserve ?? 1e-6;
  const L = t.fabric.size;
  const cap = t.fabric.capacity;
  const residual = new Float64Array(L);
  for (let l = 0; l < L; l++) residual[l] = cap[l]! * (1 - reserve);
  const base = new Float64Array(t.span);
  const scratch = new Float64Array(L);
  if ((opts.minRateBps ?? 0) > 0) giveFloors(t, opts.minRateBps!, residual, scratch, base);
  for (const members of transfersBySize(t)) serveTransfer(t, members, residual, scratch, base);
  if (opts.workConserving === false) t.forEachSlot((s) => { out[s] = base[s]!; });
  else workConserve(t, base, out);
}

/** Groups live slots by transfer, ordered by remaining volume (then first slot); unknown sizes last. */
export function transfersBySize(t: FlowletTable): number[][] {
  const groups = new Map<string, number[]>();
  t.forEachSlot((s) => {
    const tr = t.transfer[s]!;
    const key = tr >= 0 ? `t${tr}` : `f${t.handleOfSlot[s]}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(s);
  });
  const vol = (g: number[]): number => g.reduce((a, s) => a + t.remainingBits[s]!, 0);
  return [...groups.values()]
    .map((g) => ({ g, v: vol(g), first: Math.min(...g.map((s) => t.handleOfSlot[s]!)) }))
    .sort((a, b) => (a.v === b.v ? a.first - b.first : a.v < b.v ? -1 : 1))
    .map((x) => x.g);
}

/** Minimum-completion-time rates of one transfer on `residual` (subtracted). */
function serveTransfer(
  t: FlowletTable, members: number[], residual: Float64Array, need: Float64Array, rate: Float64Array,
): void {
  const volume = (s: number): number => {
    const r = t.remainingBits[s]!;
    return r < Infinity ? r : t.weight[s]!; // unknown size: rates in proportion to weight
  };
  const touched: number[] = [];
  let tStar = 0;
  for (const s of members) {
    if (!(t.weight[s]! > 0)) continue;
    const v = volume(s);
    tStar = Math.max(tStar, v / t.demand[s]!);
    forLinks(t, s, (l) => { if (need[l] === 0) touched.push(l); need[l]! += v; });
  }
  for (const l of touched) tStar = Math.max(tStar, residual[l]! > 0 ? need[l]! / residual[l]! : Infinity);
  for (const l of touched) need[l] = 0;
  if (!(tStar > 0 && tStar < Infinity)) return;
  for (const s of members) {
    if (!(t.weight[s]! > 0)) continue;
    const x = volume(s) / tStar;
    rate[s]! += x;
    forLinks(t, s, (l) => { residual[l] = Math.max(0, residual[l]! - x); });
  }
}

/**
 * Every flow of positive weight gets min(`floorBps`, its demand, an equal split of each of its links'
 * `residual` among the flows crossing it) into `rate`, subtracted from `residual`. `count` is scratch (zeroed on return).
 */
function giveFloors(t: FlowletTable, floorBps: number, residual: Float64Array, count: Float64Array, rate: Float64Array): void {
  t.forEachSlot((s) => { if (t.weight[s]! > 0) forLinks(t, s, (l) => { count[l]! += 1; }); });
  const floors: [number, number][] = [];
  t.forEachSlot((s) => {
    if (!(t.weight[s]! > 0)) return;
    let f = Math.min(floorBps, t.demand[s]!);
    forLinks(t, s, (l) => { f = Math.min(f, residual[l]! / count[l]!); });
    if (f > 0) floors.push([s, f]);
  });
  count.fill(0);
  for (const [s, f] of floors) {
    rate[s] = f;
    forLinks(t, s, (l) => { residual[l] = Math.max(0, residual[l]! - f); });
  }
}

/** Step 3: max-min (by weight, capped by demand) of what is left, added to the base rates. */
function workConserve(t: FlowletTable, base: Float64Array, out: Float64Array): void {
  const L = t.fabric.size;
  const left = Float64Array.from(t.fabric.capacity.subarray(0, L));
  const funcs: (PLFunc | undefined)[] = new Array(t.span);
  t.forEachSlot((s) => {
    forLinks(t, s, (l) => { left[l]! -= base[s]!; });
    const room = t.demand[s]! - base[s]!;
    funcs[s] = linear(t.weight[s]!, room > 0 ? room : 0);
  });
  for (let l = 0; l < L; l++) if (left[l]! < 0) left[l] = 0;
  progressiveFill(t, left, funcs, out, buildLinkFlows(t));
  t.forEachSlot((s) => { out[s] = out[s]! + base[s]!; });
}

function forLinks(t: FlowletTable, s: number, fn: (l: number) => void): void {
  const o = s * t.maxHops;
  for (let j = 0; j < t.pathLen[s]!; j++) fn(t.path[o + j]!);
}
