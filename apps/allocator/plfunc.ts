/**
 * Piecewise-linear bandwidth functions (BwE, SIGCOMM 2015, §4): B(s) maps a fair share s ≥ 0 to a
 * bandwidth in bits/s, non-decreasing, through breakpoints (xs[i], ys[i]) with xs[0] = 0, then a straight
 * tail of slope `tail` (0 = capped). Weighted max-min is B(s) = w·s; a demand d caps it at d.
 * Immutable values; every operation returns a new function.
 */

/** A non-decreasing piecewise-linear function on [0, ∞). */
export interface PLFunc {
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly tail: number;
}

/** B(s) = w·s (weighted max-min), optionally capped at `cap` bits/s. */
export function linear(w: number, cap = Infinity): PLFunc {
  const f: PLFunc = { xs: [0], ys: [0], tail: Math.max(0, w) };
  return cap < Infinity ? capAt(f, cap) : f;
}

/** Builds a function from user points [[share, bps], …] (sorted by share, non-decreasing bps); capped after. */
export function fromPoints(points: readonly (readonly [number, number])[], cap = Infinity): PLFunc {
  const xs = [0];
  const ys = [0];
  for (const [x, y] of points) {
    if (x === 0) { ys[0] = Math.max(ys[0]!, y); continue; }
    xs.push(x);
    ys.push(Math.max(y, ys[ys.length - 1]!));
  }
  return capAt({ xs, ys, tail: 0 }, cap);
}

/** B(s). */
export function evalAt(f: PLFunc, s: number): number {
  const { xs, ys } = f;
  const n = xs.length;
  if (s >= xs[n - 1]!) return ys[n - 1]! + (f.tail > 0 ? f.tail * (s - xs[n - 1]!) : 0);
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= s) lo = mid; else hi = mid;
  }
  const x0 = xs[lo]!;
  const x1 = xs[hi]!;
  return ys[lo]! + ((ys[hi]! - ys[lo]!) * (s - x0)) / (x1 - x0);
}

/** sup B (Infinity when the tail rises). */
export function supremum(f: PLFunc): number {
  return f.tail > 0 ? Infinity : f.ys[f.ys.length - 1]!;
}

/** Smallest s with B(s) = sup B (Infinity when the tail rises): where a flow becomes satisfied. */
export function saturationPoint(f: PLFunc): number {
  if (f.tail > 0) return Infinity;
  const top = f.ys[f.ys.length - 1]!;
  for (let i = 0; i < f.ys.length; i++) if (f.ys[i]! >= top) return f.xs[i]!;
  return f.xs[f.xs.length - 1]!;
}

/** Smallest s ≥ 0 with B(s) ≥ y; Infinity when y > sup B. */
export function inverse(f: PLFunc, y: number): number {
  const { xs, ys } = f;
  const n = xs.length;
  if (y <= ys[0]!) return 0;
  for (let i = 1; i < n; i++) {
    if (ys[i]! >= y) {
      const dy = ys[i]! - ys[i - 1]!;
      return xs[i - 1]! + ((xs[i]! - xs[i - 1]!) * (y - ys[i - 1]!)) / dy;
    }
  }
  return f.tail > 0 ? xs[n - 1]! + (y - ys[n - 1]!) / f.tail : Infinity;
}

/** Σ_i f_i. */
export function sum(fs: readonly PLFunc[]): PLFunc {
  const xs = mergeXs(fs.map((f) => f.xs));
  const ys = xs.map((x) => fs.reduce((a, f) => a + evalAt(f, x), 0));
  return { xs, ys, tail: fs.reduce((a, f) => a + f.tail, 0) };
}

/** min(B, cap). */
export function capAt(f: PLFunc, cap: number): PLFunc {
  if (!(cap < Infinity)) return f;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < f.xs.length; i++) {
    if (f.ys[i]! >= cap) break;
    xs.push(f.xs[i]!);
    ys.push(f.ys[i]!);
  }
  if (xs.length === 0) return { xs: [0], ys: [cap], tail: 0 };
  const s = inverse(f, cap);
  if (s < Infinity) { xs.push(s); ys.push(cap); }
  return { xs, ys, tail: 0 };
}

/**
 * How child c's bandwidth depends on its parent's total y = A(s) = Σ children B(s) when the parent's
 * allocation is water-filled among its children: points (A(x_i), B_c(x_i)) over A's breakpoints.
 */
export function shareOf(child: PLFunc, aggregate: PLFunc): PLFunc {
  const xs = mergeXs([aggregate.xs, child.xs]);
  const px: number[] = [];
  const py: number[] = [];
  for (const x of xs) {
    const a = evalAt(aggregate, x);
    const b = evalAt(child, x);
    if (px.length > 0 && a <= px[px.length - 1]!) { py[py.length - 1] = Math.max(py[py.length - 1]!, b); continue; }
    px.push(a);
    py.push(b);
  }
  const tail = aggregate.tail > 0 ? child.tail / aggregate.tail : 0;
  return { xs: px, ys: py, tail };
}

/** f ∘ g: u ↦ f(g(u)). */
export function compose(f: PLFunc, g: PLFunc): PLFunc {
  const us = new Set<number>(g.xs);
  for (const x of f.xs) {
    const u = inverse(g, x);
    if (u < Infinity) us.add(u);
  }
  const xs = [...us].sort((a, b) => a - b);
  const ys = xs.map((u) => evalAt(f, evalAt(g, u)));
  // A rising g reaches every breakpoint of f, so past the last u, f∘g is linear with slope f.tail·g.tail.
  return { xs, ys, tail: g.tail > 0 ? f.tail * g.tail : 0 };
}

function mergeXs(lists: readonly (readonly number[])[]): number[] {
  const set = new Set<number>();
  for (const l of lists) for (const x of l) set.add(x);
  return [...set].sort((a, b) => a - b);
}
