/**
 * The inner loops of Flowtune's optimizer (Flowtune §4, DESIGN §3 "Network utility maximization"), written
 * over plain typed arrays so the single-threaded optimizer and the worker threads run the very same code
 * (hence bit-identical results). No allocation, no Map, no closures inside a loop.
 *
 * Units: rates and capacities in bits/s, prices in utility per bit/s (weight / rate).
 */

/** The per-flow arrays a rate pass reads (a FlowletTable satisfies it). */
export interface FlowArrays {
  readonly weight: Float64Array;
  readonly rateCap: Float64Array;
  readonly pathLen: Int32Array;
  readonly path: Int32Array;
  readonly maxHops: number;
}

/**
 * Rate pass over slots [from, to): x_s = (w_s / q_s)^(1/α) with q_s = Σ_{l∈s} p_l, clamped to (0, rateCap];
 * adds x_s to `load[l]` and the dual Hessian diagonal term x_s/(α q_s) to `hess[l]` (zero for a clamped flow,
 * whose rate no longer depends on the price). `load`/`hess` must be zeroed by the caller.
 */
export function ratePass(
  f: FlowArrays, price: Float64Array, rate: Float64Array, load: Float64Array, hess: Float64Array,
  from: number, to: number, alpha: number,
): void {
  const { weight, rateCap, pathLen, path, maxHops } = f;
  for (let s = from; s < to; s++) {
    const o = s * maxHops;
    const n = pathLen[s]!;
    let q = 0;
    let m = 0;
    for (let j = 0; j < n; j++) {
      const pl = price[path[o + j]!]!;
      q += pl;
      if (pl > 0) m++;
    }
    if (ROWSUM === 0 || m === 0) m = 1;
    const w = weight[s]!;
    const cap = rateCap[s]!;
    let x: number;
    let hq = 0;
    if (!(w > 0)) {
      x = 0;
    } else if (alpha === 1) {
      if (q * cap <= w) { x = cap; hq = q > 0 ? (m * cap) / q : 0; } // also covers q = 0 without dividing
      else { x = w / q; hq = (m * x) / q; }
    } else {
      x = q > 0 ? Math.pow(w / q, 1 / alpha) : Infinity;
      if (x >= cap) x = cap;
      else hq = x / (alpha * q);
    }
    rate[s] = x;
    for (let j = 0; j < n; j++) {
      const l = path[o + j]!;
      load[l]! += x;
      hess[l]! += hq;
    }
  }
}

/**
 * NED price update for links [0, L) (Flowtune §4.2): p ← max(0, p + γ (y − c)/H). A link whose flows are
 * all clamped (H = 0) doubles its price when over-subscribed (at least to W_l/c_l, the one-link optimum)
 * and halves it otherwise; a link without flowlets has price 0; a new link starts at W_l/c_l (warm start
 * for everything else: prices persist). Also writes the utilisation ratio r_l = y_l/c_l for F-NORM.
 * Returns max_l r_l (for U-NORM).
 */
export let FLOOR = 0.5;
export let ROWSUM = 1;
export let NOUPDATE = false;
export let LOGSTEP = false;
export let SCALEW = false;
export let SEEDNEW = true;
export function setScaleW(f: boolean, g: boolean): void { SCALEW = f; SEEDNEW = g; }
export function setLogStep(f: boolean): void { LOGSTEP = f; }
export function setNoUpdate(f: boolean): void { NOUPDATE = f; }
export function setRowsum(f: number): void { ROWSUM = f; }
export function setFloor(f: number): void { FLOOR = f; }
export function priceUpdate(
  price: Float64Array, load: Float64Array, hess: Float64Array, ratio: Float64Array,
  capacity: Float64Array, linkWeight: Float64Array, L: number, gamma: number,
): number {
  let maxRatio = 0;
  for (let l = 0; l < L; l++) {
    const c = capacity[l]!;
    const y = load[l]!;
    const r = y / c;
    ratio[l] = r;
    if (r > maxRatio) maxRatio = r;
    if (NOUPDATE) continue;
    const W = linkWeight[l]!;
    if (!(W > 0)) { price[l] = 0; continue; }
    const p = price[l]!;
    const h = hess[l]!;
    let pn: number;
    if (h > 0 && LOGSTEP && p > 0) {
      const rho = (gamma * (y - c)) / (p * h);
      pn = rho >= 0 ? p * (1 + rho) : p / (1 - rho);
    } else if (h > 0) pn = p + (gamma * (y - c)) / h;
    else if (y > c) pn = Math.max(2 * p, W / c);
    else pn = 0.5 * p;
    // Newton on Σ w/q overshoots downwards (the load is convex in the price): fall at most by half.
    if (pn < FLOOR * p) pn = FLOOR * p;
    // NaN/Infinity guard: keep the old price.
    price[l] = pn > 0 ? (pn < Infinity ? pn : p) : 0;
  }
  return maxRatio;
}

/** Starts links that just gained flowlets at the one-link optimum W_l / c_l (warm start for the rest). */
export function seedPrices(
  price: Float64Array, capacity: Float64Array, linkWeight: Float64Array, lastWeight: Float64Array, L: number,
): void {
  for (let l = 0; l < L; l++) {
    const W = linkWeight[l]!;
    const last = lastWeight[l]!;
    if (price[l] === 0 && W > 0 && SEEDNEW) price[l] = W / capacity[l]!;
    else if (SCALEW && last > 0 && W !== last) price[l] = price[l]! * (W / last);
    lastWeight[l] = W;
  }
}

/**
 * F-NORM over slots [from, to) (Flowtune §4.3): x̂_s = x_s / max_{l∈s} r_l, so no link is over-subscribed
 * and under-used paths scale up; also capped by the flow's rate cap. `uniform` > 0 selects U-NORM, dividing
 * every flow by that one factor (max_l r_l) instead.
 */
export function normalizePass(
  f: FlowArrays, rate: Float64Array, ratio: Float64Array, out: Float64Array,
  from: number, to: number, uniform: number,
): void {
  const { rateCap, pathLen, path, maxHops } = f;
  for (let s = from; s < to; s++) {
    let m = uniform;
    if (m <= 0) {
      const o = s * maxHops;
      const n = pathLen[s]!;
      for (let j = 0; j < n; j++) {
        const r = ratio[path[o + j]!]!;
        if (r > m) m = r;
      }
    }
    const x = rate[s]!;
    const v = m > 0 ? x / m : 0;
    const cap = rateCap[s]!;
    out[s] = v < cap ? v : cap;
  }
}

/** Sums K per-block partial arrays (each of stride `stride`) into `dst[0..L)`, in block order. */
export function reduceParts(parts: Float64Array, K: number, stride: number, dst: Float64Array, L: number): void {
  for (let l = 0; l < L; l++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += parts[k * stride + l]!;
    dst[l] = acc;
  }
}
