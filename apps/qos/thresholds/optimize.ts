/**
 * The PIAS demotion-threshold optimizer (pure, deterministic): minimizes the expected FCT of model.ts,
 *
 *     E[T](α) = Σ_{j=1..K} [ θ_j·W(α_j) + M1(α_j) − M1(α_{j−1}) ] / (1 − ρ(α_{j−1})),
 *
 * over 0 < α_1 < … < α_{K−1} (the problem PIAS §4.2 poses), in two steps:
 *
 * 1. Exact dynamic programming over a grid of candidate thresholds (every size where the CDF has a knot
 *    or a jump, plus geometrically spaced sizes inside each linear segment; ~2000 points). The objective
 *    is a sum of terms over consecutive thresholds, so best[k][i] = min_{i'<i} best[k−1][i'] + c(i', i)
 *    finds the grid's global optimum for every number of thresholds k < K in O(K·N²).
 * 2. Continuous refinement of each of those optima by coordinate search (a log-spaced scan around each
 *    threshold between its neighbours, then golden-section search), accepting only improvements;
 *    thresholds are rounded to whole bytes and re-evaluated.
 *
 * The answer is the best over k = 0 … K−1 thresholds: a queue that cannot improve the mean (e.g. more
 * queues than an empirical distribution has distinct sizes) is left unused — its threshold is omitted,
 * i.e. ∞ — so adding queues never makes the objective worse.
 */
import { ThresholdError } from './errors.js';
import { type FlowSizeDistribution } from './distribution.js';
import { bucketCost, expectedFct, pointAt, queueModel, queueShares, type QueueModel, type QueueShare, type ThresholdPoint } from './model.js';

/** Queues a switch port offers at most (802.1p / PicOS / OVS linux-htb: 8). */
export const MAX_QUEUES = 8;

export interface ThresholdOptions {
  /** K, the number of priority queues, 1..8 */
  readonly queues: number;
  /** ρ, the bottleneck load, in (0, 1) */
  readonly load: number;
  /** candidate thresholds in the DP grid (default 2000) */
  readonly gridPoints?: number;
}

/** The optimizer's answer. Times are byte-times (divide by the capacity in B/s for seconds). */
export interface ThresholdResult {
  readonly queues: number;
  readonly load: number;
  /** α_1 < … < α_m in bytes, m ≤ K−1 (queues beyond m + 1 are never reached) */
  readonly thresholds: readonly number[];
  /** E[T] at the thresholds, byte-times */
  readonly objective: number;
  /** E[T] with one FIFO queue (K = 1), byte-times */
  readonly fifoObjective: number;
  /** E[S], bytes: objective / meanFlowBytes is the mean FCT in units of the mean flow's transmission time */
  readonly meanFlowBytes: number;
  /** per queue: size range, flow and byte shares, mean FCT */
  readonly shares: readonly QueueShare[];
  /** the grid optimum before refinement, byte-times */
  readonly gridObjective: number;
  readonly gridPoints: number;
}

/** Checks K and ρ. @throws ThresholdError BAD_QUEUE_COUNT, BAD_LOAD */
export function checkOptions(o: ThresholdOptions): void {
  if (!Number.isInteger(o.queues) || o.queues < 1 || o.queues > MAX_QUEUES) {
    throw new ThresholdError('BAD_QUEUE_COUNT', `queues = ${o.queues}; expected an integer in 1..${MAX_QUEUES}`);
  }
  if (typeof o.load !== 'number' || !(o.load > 0 && o.load < 1)) {
    throw new ThresholdError('BAD_LOAD', `load = ${o.load}; expected a number in (0, 1)`);
  }
}

/**
 * The demotion thresholds minimizing PIAS's expected FCT for `dist` with K queues at load ρ.
 * @throws ThresholdError BAD_QUEUE_COUNT, BAD_LOAD
 */
export function optimizeThresholds(dist: FlowSizeDistribution, opts: ThresholdOptions): ThresholdResult {
  checkOptions(opts);
  const m = queueModel(dist, opts.load);
  const grid = candidateGrid(dist, opts.gridPoints ?? 2000);
  const fifo = expectedFct(m, []);
  let best = { thresholds: [] as number[], objective: fifo };
  let gridBest = fifo;
  for (const sol of gridOptima(m, grid, opts.queues - 1)) {
    gridBest = Math.min(gridBest, sol.objective);
    const refined = wholeBytes(m, refine(m, sol.thresholds, grid));
    if (refined.objective < best.objective * (1 - 1e-12)) best = refined;
  }
  return {
    queues: opts.queues,
    load: opts.load,
    thresholds: best.thresholds,
    objective: best.objective,
    fifoObjective: fifo,
    meanFlowBytes: dist.meanBytes,
    shares: queueShares(m, best.thresholds),
    gridObjective: gridBest,
    gridPoints: grid.length,
  };
}

/**
 * Candidate thresholds: piece ends and atoms below the largest size, plus geometric points inside each
 * linear segment (≥ 1 byte), shared among segments by log-width and mass; at most `target` points.
 */
export function candidateGrid(dist: FlowSizeDistribution, target: number): number[] {
  const out: number[] = [];
  const segs = dist.pieces.filter((p) => p.kind === 'uniform');
  const logWidth = (lo: number, hi: number): number => Math.log(hi / Math.max(lo, hi * 1e-3, 1));
  const totalLog = segs.reduce((s, p) => s + (p.kind === 'uniform' ? Math.max(logWidth(p.lo, p.hi), 0) : 0), 0) || 1;
  for (const p of dist.pieces) {
    if (p.kind === 'atom') {
      out.push(p.x);
      continue;
    }
    out.push(p.hi);
    const lo = Math.max(p.lo, p.hi * 1e-3, 1);
    if (!(p.hi > lo)) continue;
    const share = 0.5 * (Math.max(logWidth(p.lo, p.hi), 0) / totalLog) + 0.5 * p.mass;
    const n = Math.max(8, Math.round(target * 0.9 * share));
    for (let i = 0; i < n; i++) out.push(lo * Math.pow(p.hi / lo, i / n));
  }
  const sorted = [...new Set(out.filter((x) => x >= 1 && x < dist.maxBytes))].sort((a, b) => a - b);
  if (sorted.length <= target) return sorted;
  const picked: number[] = [];
  for (let i = 0; i < target; i++) picked.push(sorted[Math.round((i * (sorted.length - 1)) / (target - 1))]!);
  return [...new Set(picked)];
}

interface Solution {
  readonly thresholds: number[];
  readonly objective: number;
}

/** The exact grid optimum with k thresholds, for k = 1 … maxThresholds (dynamic programming). */
export function gridOptima(m: QueueModel, grid: readonly number[], maxThresholds: number): Solution[] {
  const n = grid.length;
  if (n === 0 || maxThresholds < 1) return [];
  const pts: ThresholdPoint[] = grid.map((a) => pointAt(m, a));
  // struct of arrays for the O(K·N²) loop
  const F = Float64Array.from(pts, (p) => p.F);
  const M1 = Float64Array.from(pts, (p) => p.M1);
  const W = Float64Array.from(pts, (p) => p.W);
  const inv = Float64Array.from(pts, (p) => 1 / (1 - p.rho));
  let prev = Float64Array.from(pts, (p) => bucketCost(m.origin, p));
  const args: Int32Array[] = [];
  const out: Solution[] = [];
  for (let k = 1; k <= Math.min(maxThresholds, n); k++) {
    if (k > 1) {
      const cur = new Float64Array(n).fill(Infinity);
      const arg = new Int32Array(n).fill(-1);
      for (let i = k - 1; i < n; i++) {
        const Fi = F[i]!;
        const Wi = W[i]!;
        const Mi = M1[i]!;
        let bestV = Infinity;
        let bestJ = -1;
        for (let j = k - 2; j < i; j++) {
          const v = prev[j]! + ((Fi - F[j]!) * Wi + (Mi - M1[j]!)) * inv[j]!;
          if (v < bestV) {
            bestV = v;
            bestJ = j;
          }
        }
        cur[i] = bestV;
        arg[i] = bestJ;
      }
      prev = cur;
      args.push(arg);
    }
    let bestV = Infinity;
    let bestI = -1;
    for (let i = k - 1; i < n; i++) {
      const v = prev[i]! + bucketCost(pts[i]!, m.top);
      if (v < bestV) {
        bestV = v;
        bestI = i;
      }
    }
    const idx = [bestI];
    for (let layer = k - 2; layer >= 0; layer--) idx.unshift(args[layer]![idx[0]!]!);
    out.push({ thresholds: idx.map((i) => grid[i]!), objective: bestV });
  }
  return out;
}

/** Coordinate search: each threshold moved between its neighbours while the objective improves. */
function refine(m: QueueModel, start: readonly number[], grid: readonly number[]): number[] {
  const t = [...start];
  const f = (ts: readonly number[]): number => expectedFct(m, ts);
  let value = f(t);
  const span = (a: number): number => {
    // local grid ratio around a, at least 1%
    let lo = 0;
    let hi = grid.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (grid[mid]! < a) lo = mid + 1;
      else hi = mid;
    }
    const below = grid[Math.max(0, lo - 1)] ?? a;
    const above = grid[Math.min(grid.length - 1, lo + 1)] ?? a;
    return Math.max(1.01, above / Math.max(below, 1e-9));
  };
  for (let sweep = 0; sweep < 12; sweep++) {
    let improved = false;
    for (let j = 0; j < t.length; j++) {
      const left = j > 0 ? t[j - 1]! : 0;
      const right = j + 1 < t.length ? t[j + 1]! : m.dist.maxBytes;
      const s = span(t[j]!);
      const lo = Math.max(t[j]! / s, left * (1 + 1e-9) + 1e-9, 1);
      const hi = Math.min(t[j]! * s, right * (1 - 1e-9));
      if (!(hi > lo)) continue;
      const g = (a: number): number => {
        const ts = [...t];
        ts[j] = a;
        return f(ts);
      };
      const cand = minimize1d(g, lo, hi);
      if (cand.value < value * (1 - 1e-14)) {
        t[j] = cand.x;
        value = cand.value;
        improved = true;
      }
    }
    if (!improved) break;
  }
  return t;
}

/** A log-spaced scan of [lo, hi], then golden-section search around the best scan point. */
function minimize1d(g: (x: number) => number, lo: number, hi: number): { x: number; value: number } {
  const N = 24;
  const xs: number[] = [];
  for (let i = 0; i <= N; i++) xs.push(lo * Math.pow(hi / lo, i / N));
  let bi = 0;
  let bv = Infinity;
  xs.forEach((x, i) => {
    const v = g(x);
    if (v < bv) {
      bv = v;
      bi = i;
    }
  });
  let a = Math.log(xs[Math.max(0, bi - 1)]!);
  let b = Math.log(xs[Math.min(N, bi + 1)]!);
  const r = (Math.sqrt(5) - 1) / 2;
  let c = b - r * (b - a);
  let d = a + r * (b - a);
  let fc = g(Math.exp(c));
  let fd = g(Math.exp(d));
  for (let it = 0; it < 40; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - r * (b - a);
      fc = g(Math.exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + r * (b - a);
      fd = g(Math.exp(d));
    }
  }
  const x = Math.exp((a + b) / 2);
  const v = g(x);
  return v < bv ? { x, value: v } : { x: xs[bi]!, value: bv };
}

/** Thresholds rounded to whole bytes (kept strictly increasing) and the objective there. */
function wholeBytes(m: QueueModel, t: readonly number[]): Solution {
  const out: number[] = [];
  for (const a of t) {
    const r = Math.max(Math.round(a), (out[out.length - 1] ?? 0) + 1);
    out.push(r);
  }
  return { thresholds: out, objective: expectedFct(m, out) };
}
