/**
 * Flow-size distributions (pure): loaded from a `.cdf` text (`flow_size_bytes cumulative_probability` per
 * line, `#` comments, piecewise-linear between points, as in pFabric/PIAS/Karuna evaluations) or built from
 * measured flow sizes (the empirical CDF, a step function). Both become one list of disjoint pieces:
 *
 * - `uniform` (lo, hi]: probability `mass` spread evenly — one linear CDF segment;
 * - `atom` at x: probability `mass` on exactly x — a jump of the CDF (a repeated size in a `.cdf`, a
 *   first point with probability > 0, or a measured size).
 *
 * The partial moments F(a) = P(S ≤ a), M1(a) = E[S; S ≤ a] and M2(a) = E[S²; S ≤ a] are exact for both
 * kinds, in O(log n) per query: they are all the M/G/1 threshold model (model.ts) needs.
 * Sizes are in bytes.
 */
import { ThresholdError } from './errors.js';

/** One point of a CDF: P(S ≤ bytes) = p. */
export interface CdfPoint {
  readonly bytes: number;
  readonly p: number;
}

export type Piece =
  | { readonly kind: 'uniform'; readonly lo: number; readonly hi: number; readonly mass: number }
  | { readonly kind: 'atom'; readonly x: number; readonly mass: number };

/** Partial moments at a size a (bytes). */
export interface PartialMoments {
  /** P(S ≤ a) */
  readonly F: number;
  /** E[S; S ≤ a], bytes */
  readonly M1: number;
  /** E[S²; S ≤ a], bytes² */
  readonly M2: number;
}

/** A flow-size distribution. Build with {@link parseCdf}, {@link fromCdfPoints} or {@link fromSamples}. */
export interface FlowSizeDistribution {
  readonly source: 'cdf' | 'empirical';
  /** disjoint, in increasing order of size; masses sum to 1 */
  readonly pieces: readonly Piece[];
  /** E[S], bytes (> 0) */
  readonly meanBytes: number;
  /** E[S²], bytes² */
  readonly secondMoment: number;
  /** the largest size with positive probability */
  readonly maxBytes: number;
  /** the number of measured flows (empirical distributions only) */
  readonly samples?: number;
  /** piece ends (hi, or x for an atom) */
  readonly ends: Float64Array;
  /** F, M1, M2 after each piece */
  readonly cumF: Float64Array;
  readonly cumM1: Float64Array;
  readonly cumM2: Float64Array;
}

/** Parses `.cdf` text: `#` comments and blank lines ignored, then `bytes probability` per line. */
export function parseCdf(text: string): FlowSizeDistribution {
  const points: CdfPoint[] = [];
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const fields = line.split(/[\s,]+/);
    const [bytes, p] = fields.map(Number);
    if (fields.length !== 2 || !Number.isFinite(bytes) || !Number.isFinite(p)) {
      throw new ThresholdError('CDF_PARSE', `expected "flow_size_bytes cumulative_probability", got ${JSON.stringify(raw.trim())}`, i + 1);
    }
    points.push({ bytes: bytes!, p: p! });
    lines.push(i + 1);
  });
  return fromCdfPoints(points, lines);
}

/**
 * A piecewise-linear CDF through `points` (sizes non-decreasing, probabilities non-decreasing in [0, 1],
 * the last one 1; a repeated size is a jump). `lines` (optional) gives each point's line for errors.
 * @throws ThresholdError CDF_EMPTY, CDF_NOT_MONOTONE, CDF_PROBABILITY_RANGE, CDF_NEGATIVE_SIZE, CDF_INCOMPLETE
 */
export function fromCdfPoints(points: readonly CdfPoint[], lines?: readonly number[]): FlowSizeDistribution {
  if (points.length === 0) throw new ThresholdError('CDF_EMPTY', 'no `size probability` points');
  const lineOf = (i: number): number => lines?.[i] ?? i + 1;
  const pieces: Piece[] = [];
  let prev: CdfPoint = { bytes: 0, p: 0 };
  points.forEach((pt, i) => {
    if (!Number.isFinite(pt.bytes) || !Number.isFinite(pt.p)) throw new ThresholdError('CDF_PARSE', `point ${i + 1} is not two finite numbers`, lineOf(i));
    if (pt.p < 0 || pt.p > 1) throw new ThresholdError('CDF_PROBABILITY_RANGE', `probability ${pt.p}`, lineOf(i));
    if (pt.bytes < 0) throw new ThresholdError('CDF_NEGATIVE_SIZE', `size ${pt.bytes}`, lineOf(i));
    if (i > 0 && (pt.bytes < prev.bytes || pt.p < prev.p)) {
      throw new ThresholdError('CDF_NOT_MONOTONE', `(${pt.bytes}, ${pt.p}) after (${prev.bytes}, ${prev.p})`, lineOf(i));
    }
    const mass = pt.p - prev.p;
    if (mass > 0) {
      if (i === 0 || pt.bytes === prev.bytes) pieces.push({ kind: 'atom', x: pt.bytes, mass });
      else pieces.push({ kind: 'uniform', lo: prev.bytes, hi: pt.bytes, mass });
    }
    prev = pt;
  });
  if (Math.abs(prev.p - 1) > 1e-6) throw new ThresholdError('CDF_INCOMPLETE', `last probability is ${prev.p}, expected 1`, lineOf(points.length - 1));
  return build('cdf', pieces);
}

/**
 * The empirical distribution of measured flow sizes (bytes; sizes ≤ 0 are ignored): an atom at each
 * distinct size with its share of the flows.
 * @throws ThresholdError CDF_EMPTY when no size is positive
 */
export function fromSamples(sizes: readonly number[]): FlowSizeDistribution {
  const xs = sizes.filter((s) => Number.isFinite(s) && s > 0).sort((a, b) => a - b);
  if (xs.length === 0) throw new ThresholdError('CDF_EMPTY', 'no flow with a positive size');
  const pieces: Piece[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j < xs.length && xs[j] === xs[i]) j++;
    pieces.push({ kind: 'atom', x: xs[i]!, mass: (j - i) / xs.length });
    i = j;
  }
  return { ...build('empirical', pieces), samples: xs.length };
}

function build(source: 'cdf' | 'empirical', raw: Piece[]): FlowSizeDistribution {
  const total = raw.reduce((s, p) => s + p.mass, 0);
  const pieces = raw.map((p) => ({ ...p, mass: p.mass / total }));
  const n = pieces.length;
  const ends = new Float64Array(n);
  const cumF = new Float64Array(n);
  const cumM1 = new Float64Array(n);
  const cumM2 = new Float64Array(n);
  let F = 0;
  let M1 = 0;
  let M2 = 0;
  pieces.forEach((p, k) => {
    const m = pieceMoments(p, p.kind === 'atom' ? p.x : p.hi);
    F += m.F;
    M1 += m.M1;
    M2 += m.M2;
    ends[k] = p.kind === 'atom' ? p.x : p.hi;
    cumF[k] = F;
    cumM1[k] = M1;
    cumM2[k] = M2;
  });
  if (!(M1 > 0)) throw new ThresholdError('CDF_EMPTY', 'every flow has size 0');
  return { source, pieces, meanBytes: M1, secondMoment: M2, maxBytes: ends[n - 1]!, ends, cumF, cumM1, cumM2 };
}

/** The moments of one piece restricted to sizes ≤ a. */
function pieceMoments(p: Piece, a: number): PartialMoments {
  if (p.kind === 'atom') return p.x <= a ? { F: p.mass, M1: p.mass * p.x, M2: p.mass * p.x * p.x } : { F: 0, M1: 0, M2: 0 };
  if (a <= p.lo) return { F: 0, M1: 0, M2: 0 };
  const b = Math.min(a, p.hi);
  const d = p.mass / (p.hi - p.lo);
  return { F: d * (b - p.lo), M1: (d * (b * b - p.lo * p.lo)) / 2, M2: (d * (b * b * b - p.lo * p.lo * p.lo)) / 3 };
}

/** F(a), M1(a), M2(a) of `d` at size `a` (bytes; Infinity gives 1, E[S], E[S²]). */
export function partialMoments(d: FlowSizeDistribution, a: number): PartialMoments {
  // k = number of pieces whose end is ≤ a: those count in full
  let lo = 0;
  let hi = d.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (d.ends[mid]! <= a) lo = mid + 1;
    else hi = mid;
  }
  const k = lo;
  const base = k > 0 ? { F: d.cumF[k - 1]!, M1: d.cumM1[k - 1]!, M2: d.cumM2[k - 1]! } : { F: 0, M1: 0, M2: 0 };
  if (k >= d.pieces.length) return base;
  const part = pieceMoments(d.pieces[k]!, a);
  return { F: base.F + part.F, M1: base.M1 + part.M1, M2: base.M2 + part.M2 };
}

/** P(S ≤ a). */
export function cdfAt(d: FlowSizeDistribution, a: number): number {
  return Math.min(1, partialMoments(d, a).F);
}

/** The smallest size a with P(S ≤ a) ≥ p (p in [0, 1]), bytes. */
export function quantile(d: FlowSizeDistribution, p: number): number {
  const q = Math.min(1, Math.max(0, p));
  let k = 0;
  while (k < d.pieces.length - 1 && d.cumF[k]! < q - 1e-12) k++;
  const piece = d.pieces[k]!;
  if (piece.kind === 'atom') return piece.x;
  const before = k > 0 ? d.cumF[k - 1]! : 0;
  const frac = Math.min(1, Math.max(0, (q - before) / piece.mass));
  return piece.lo + frac * (piece.hi - piece.lo);
}

/**
 * The CDF as points (size, P(S ≤ size)): every piece end, plus the start of each jump (size, P(S < size)),
 * so that linear interpolation between consecutive points (a repeated size = a jump) reproduces it exactly.
 * At most `maxPoints` ends are kept (evenly by index, always the last one).
 */
export function cdfPoints(d: FlowSizeDistribution, maxPoints = 200): CdfPoint[] {
  const n = d.pieces.length;
  const step = n > maxPoints ? (n - 1) / (maxPoints - 1) : 1;
  const keep = new Set<number>();
  for (let i = 0; i < Math.min(n, maxPoints); i++) keep.add(Math.round(i * step));
  keep.add(n - 1);
  const out: CdfPoint[] = [];
  let prevEnd = -1;
  for (const k of [...keep].sort((a, b) => a - b)) {
    const piece = d.pieces[k]!;
    const before = k > 0 ? d.cumF[k - 1]! : 0;
    if (piece.kind === 'atom' && (step === 1 || k === 0)) out.push({ bytes: piece.x, p: before });
    else if (piece.kind === 'uniform' && piece.lo !== prevEnd && step === 1) out.push({ bytes: piece.lo, p: before });
    out.push({ bytes: d.ends[k]!, p: d.cumF[k]! });
    prevEnd = d.ends[k]!;
  }
  return out;
}

/** `.cdf` text for `d` (the format {@link parseCdf} reads), with a comment line on top. */
export function formatCdf(d: FlowSizeDistribution, comment: string, maxPoints = 200): string {
  const lines = [`# ${comment}`, '# columns: flow_size_bytes cumulative_probability'];
  for (const p of cdfPoints(d, maxPoints)) lines.push(`${p.bytes} ${Number(p.p.toPrecision(12))}`);
  return lines.join('\n') + '\n';
}
