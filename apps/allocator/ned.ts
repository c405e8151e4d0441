/**
 * The inner loops of Flowtune's optimizer (Flowtune §4, network utility maximization), written
 * over plain typed arrays so the single-threaded optimizer and the worker threads run the very same code
 * (hence bit-identical results). No allocation, no Map, no closures inside a loop.
 *
 * Link state is interleaved, 4 doubles per link (one cache line serves a link's whole state):
 * `links[4l] = p_l` (price), `[4l+1] = y_l` (load), `[4l+2] = H_l` (dual Hessian diagonal), `[4l+3] = r_l`
 * (utilisation y/c). Per-block partial sums (multicore mode) use 2 doubles per link: y, H.
 * Units: rates and capacities in bits/s, prices in utility per bit/s (weight / rate).
 */


/** Offsets inside a link's 4-double record. */
export const P = 0;
export const Y = 1;
export const H = 2;
export const R = 3;
/** Doubles per link in the link state. */
export const LINK_STRIDE = 4;

/** The per-flow arrays a rate pass reads (a FlowletTable satisfies it). */
export interface FlowArrays {
  readonly weight: Float64Array;
  readonly rateCap: Float64Array;
  readonly pathLen: Int32Array;
  readonly path: Int32Array;
  readonly maxHops: number;
}

/**
 * Rate pass over slots [from, to): x_s = (w_s / q_s)^(1/α) with q_s = Σ_{l∈s} p_l, clamped to [0, rateCap];
 * adds x_s and the Hessian term −∂x_s/∂q_s to the accumulator `acc` (stride `accStride`: y at +0, H at +1;
 * pass the link state with stride 4 and offset Y, or a block's partial array with stride 2), and stores both
 * per slot in `rate` / `sens` so a departure can subtract them. The accumulator must be zeroed by the caller.
 */
export function ratePass(
  f: FlowArrays, links: Float64Array, rate: Float64Array, sens: Float64Array,
  acc: Float64Array, accStride: number, accOffset: number, from: number, to: number, alpha: number,
): void {
  const { weight, rateCap, pathLen, path, maxHops } = f;
  for (let s = from; s < to; s++) {
    const o = s * maxHops;
    const n = pathLen[s]!;
    // Leaf-spine paths have 4 links (2 within a rack): unrolled, the loads are independent and V8 keeps
    // the indices in registers (about 40% faster than the loop); other lengths take the loop.
    let q = 0;
    if (n === 4) {
      q = links[path[o]! * LINK_STRIDE]! + links[path[o + 1]! * LINK_STRIDE]! +
        links[path[o + 2]! * LINK_STRIDE]! + links[path[o + 3]! * LINK_STRIDE]!;
    } else if (n === 2) {
      q = links[path[o]! * LINK_STRIDE]! + links[path[o + 1]! * LINK_STRIDE]!;
    } else {
      for (let j = 0; j < n; j++) q += links[path[o + j]! * LINK_STRIDE]!;
    }
    const w = weight[s]!;
    const cap = rateCap[s]!;
    let x: number;
    let hq: number;
    if (alpha === 1 && w > 0) {
      // q·cap ≤ w also covers q = 0 without dividing; a clamped flow contributes its sensitivity at the
      // clamping point q = w/cap, i.e. cap²/w, which keeps the Newton step bounded near zero prices.
      if (q * cap <= w) { x = cap; hq = (cap * cap) / w; }
      else { x = w / q; hq = x / q; }
    } else {
      x = flowRate(w, cap, q, alpha);
      hq = flowSensitivity(w, cap, q, x, alpha);
    }
    rate[s] = x;
    sens[s] = hq;
    if (n === 4) {
      scatter(acc, path[o]! * accStride + accOffset, x, hq);
      scatter(acc, path[o + 1]! * accStride + accOffset, x, hq);
      scatter(acc, path[o + 2]! * accStride + accOffset, x, hq);
      scatter(acc, path[o + 3]! * accStride + accOffset, x, hq);
    } else {
      for (let j = 0; j < n; j++) scatter(acc, path[o + j]! * accStride + accOffset, x, hq);
    }
  }
}

/** acc[a] += x; acc[a+1] += hq. */
function scatter(acc: Float64Array, a: number, x: number, hq: number): void {
  acc[a]! += x;
  acc[a + 1]! += hq;
}

/** x = (w/q)^(1/α) clamped to [0, cap]; 0 for w ≤ 0; cap when q = 0. */
export function flowRate(w: number, cap: number, q: number, alpha: number): number {
  if (!(w > 0)) return 0;
  if (alpha === 1) return q * cap <= w ? cap : w / q;
  const x = q > 0 ? Math.pow(w / q, 1 / alpha) : Infinity;
  return x >= cap ? cap : x;
}

/** −∂x/∂q at the flow's operating point (at the clamping point for a clamped flow); 0 for w ≤ 0. */
export function flowSensitivity(w: number, cap: number, q: number, x: number, alpha: number): number {
  if (!(w > 0) || !(cap > 0)) return 0;
  if (x < cap) return x / (alpha * q);
  const qc = alpha === 1 ? w / cap : w / Math.pow(cap, alpha); // the path price at which the clamp releases
  return cap / (alpha * qc);
}

/**
 * NED price update for links [0, L) (Flowtune §4.2): the Newton step on the dual with the exact diagonal,
 * Δp = γ_l (y − c)/H, taken in log-price so a price never crosses zero: with ρ = Δp/p, p ← p(1+ρ) when
 * raising and p/(1−ρ) when lowering (identical to first order), never below p/2 in one step (the load is
 * convex in p, so Newton overshoots downwards). With `adapt` (the 2nd and later iterations without a change
 * in between), γ_l halves whenever the link's excess demand y − c changes sign between iterations
 * (oscillation: flows crossing two bottlenecks make the diagonal step up to twice too long) and grows back
 * by 1.2× otherwise, up to `gammaMax`; without, γ_l = gammaMax. `step[l]` keeps sign·γ_l (0 = fresh).
 * A link whose flows are insensitive (H = 0) doubles its price when over-subscribed (at least to W_l/c_l);
 * a link without flowlets has price 0. Non-finite results keep the old price.
 */
export function priceUpdate(
  links: Float64Array, capacity: Float64Array, linkWeight: Float64Array, L: number, gammaMax: number,
  step: Float64Array, adapt: boolean,
): void {
  for (let l = 0; l < L; l++) {
    const i = l * LINK_STRIDE;
    const W = linkWeight[l]!;
    if (!(W > 0)) { links[i] = 0; continue; }
    const c = capacity[l]!;
    const y = links[i + Y]!;
    const p = links[i]!;
    const h = links[i + H]!;
    const sign = y > c ? 1 : -1;
    let gamma = gammaMax;
    if (adapt) gamma = adaptStep(step, l, sign, gammaMax);
    else step[l] = sign * gammaMax;
    let pn: number;
    if (h > 0 && p > 0) {
      const rho = (gamma * (y - c)) / (p * h);
      pn = rho >= 0 ? p * (1 + rho) : p / (1 - rho);
    } else if (h > 0) {
      pn = y > c ? (gamma * (y - c)) / h : 0;
    } else {
      pn = y > c ? Math.max(2 * p, W / c) : 0.5 * p;
    }
    if (pn < 0.5 * p) pn = 0.5 * p;
    links[i] = pn > 0 ? (pn < Infinity ? pn : p) : 0;
  }
}

/** Per-link step size: halve on a sign flip of the excess demand, else grow 1.2× up to gammaMax. */
function adaptStep(step: Float64Array, l: number, sign: 1 | -1, gammaMax: number): number {
  const prev = step[l]!;
  let g: number;
  if (prev === 0) g = gammaMax;
  else {
    const mag = prev < 0 ? -prev : prev;
    g = (prev > 0 ? 1 : -1) !== sign ? Math.max(0.5 * mag, 0.02) : Math.min(1.2 * mag, gammaMax);
  }
  step[l] = sign * g;
  return g;
}

/**
 * Warm start (Flowtune §4: prices persist across changes). A link whose set of flowlets changed (its total
 * weight went from W' = `lastWeight[l]` to W) has its price rescaled by W/W' — exact for a link whose flows
 * have no other bottleneck — or, if it had no price yet, starts at the one-link optimum W/c; its step size
 * is reset. `lastWeight` is updated.
 */
export function seedPrices(
  links: Float64Array, capacity: Float64Array, linkWeight: Float64Array, lastWeight: Float64Array,
  step: Float64Array, L: number,
): void {
  for (let l = 0; l < L; l++) {
    const W = linkWeight[l]!;
    if (W === lastWeight[l]) continue;
    const i = l * LINK_STRIDE;
    if (links[i] === 0 || !(lastWeight[l]! > 0)) links[i] = W > 0 ? W / capacity[l]! : 0;
    else links[i] = links[i]! * (W / lastWeight[l]!);
    step[l] = 0;
    lastWeight[l] = W;
  }
}

/** r_l = y_l / c_l for links [0, L); returns max_l r_l (for U-NORM). */
export function ratios(links: Float64Array, capacity: Float64Array, L: number): number {
  let m = 0;
  for (let l = 0; l < L; l++) {
    const i = l * LINK_STRIDE;
    const r = links[i + Y]! / capacity[l]!;
    links[i + R] = r;
    if (r > m) m = r;
  }
  return m;
}

/**
 * F-NORM over slots [from, to) (Flowtune §4.3): x̂_s = x_s / max_{l∈s} r_l, so no link is over-subscribed
 * and under-used paths scale up; also capped by the flow's rate cap. `uniform` > 0 selects U-NORM, dividing
 * every flow by that one factor (max_l r_l) instead.
 */
export function normalizePass(
  f: FlowArrays, links: Float64Array, rate: Float64Array, out: Float64Array,
  from: number, to: number, uniform: number,
): void {
  const { rateCap, pathLen, path, maxHops } = f;
  for (let s = from; s < to; s++) {
    const m = uniform > 0 ? uniform : pathMaxRatio(links, path, s * maxHops, pathLen[s]!);
    const v = m > 0 ? rate[s]! / m : 0;
    const cap = rateCap[s]!;
    out[s] = v < cap ? v : cap;
  }
}

/** max_{l ∈ path} r_l for the path at `path[o .. o+n)` (unrolled for 2 and 4 links). */
function pathMaxRatio(links: Float64Array, path: Int32Array, o: number, n: number): number {
  if (n === 4) {
    const a = links[path[o]! * LINK_STRIDE + R]!;
    const b = links[path[o + 1]! * LINK_STRIDE + R]!;
    const c = links[path[o + 2]! * LINK_STRIDE + R]!;
    const d = links[path[o + 3]! * LINK_STRIDE + R]!;
    const ab = a > b ? a : b;
    const cd = c > d ? c : d;
    return ab > cd ? ab : cd;
  }
  if (n === 2) {
    const a = links[path[o]! * LINK_STRIDE + R]!;
    const b = links[path[o + 1]! * LINK_STRIDE + R]!;
    return a > b ? a : b;
  }
  let m = 0;
  for (let j = 0; j < n; j++) {
    const r = links[path[o + j]! * LINK_STRIDE + R]!;
    if (r > m) m = r;
  }
  return m;
}

/** Sums K per-block partials (2 doubles per link, block k at k·2·stride) into the link state, block order. */
export function reduceParts(parts: Float64Array, K: number, stride: number, links: Float64Array, L: number): void {
  for (let l = 0; l < L; l++) {
    let y = 0;
    let h = 0;
    for (let k = 0; k < K; k++) {
      const a = k * 2 * stride + 2 * l;
      y += parts[a]!;
      h += parts[a + 1]!;
    }
    links[l * LINK_STRIDE + Y] = y;
    links[l * LINK_STRIDE + H] = h;
  }
}

/** Zeroes y and H of links [0, L) in the link state. */
export function clearAggregates(links: Float64Array, L: number): void {
  for (let l = 0; l < L; l++) {
    links[l * LINK_STRIDE + Y] = 0;
    links[l * LINK_STRIDE + H] = 0;
  }
}
