/**
 * The `flowtune` policy (Flowtune, NSDI 2017, §4; DESIGN §3): network utility maximisation with weighted
 * proportional fairness (α-fair optional), solved by NED price iterations warm-started from the previous
 * prices, followed by F-NORM (or U-NORM) so the output is always feasible.
 *
 * One `iterate(n)` = n rate passes and n price updates; the last rate pass is normalised into `out`.
 * Rates in bits/s, indexed by table slot.
 */
import { AllocatorError } from './errors.js';
import { newF64 } from './fabric.js';
import { normalizePass, priceUpdate, ratePass, reduceParts, seedPrices, setNoUpdate } from './ned.js';
export let FRESH = false;
export function setFresh(f: boolean): void { FRESH = f; }
import type { FlowletTable } from './table.js';

/** Options of the flowtune optimizer. */
export interface FlowtuneOptions {
  /** NED step size γ ∈ (0, 1] (default 1). */
  readonly gamma?: number;
  /** α of α-fair utility (default 1 = proportional fairness). */
  readonly alpha?: number;
  /** Normaliser: 'f' = F-NORM (default), 'u' = U-NORM. */
  readonly norm?: 'f' | 'u';
}

/** Per-link and per-slot state of the optimizer: prices persist across changes (warm start). */
export class FlowtuneOptimizer {
  readonly gamma: number;
  readonly alpha: number;
  readonly norm: 'f' | 'u';
  price: Float64Array;
  /** Σ weight per link at the previous iteration (prices are rescaled by the change: warm start). */
  lastWeight: Float64Array;
  load: Float64Array;
  hess: Float64Array;
  ratio: Float64Array;
  /** Per-block partial load/hess (K > 1), block k at offset k·linkStride. */
  loadParts: Float64Array;
  hessParts: Float64Array;
  linkStride: number;
  /** Unnormalised rates of the last rate pass, bits/s. */
  rate: Float64Array;
  /** Normalised (feasible) rates, bits/s: the allocation. */
  out: Float64Array;
  /** Total NED iterations run. */
  iterations = 0;
  private tableGeneration = -1;

  constructor(readonly table: FlowletTable, opts: FlowtuneOptions = {}) {
    this.gamma = opts.gamma ?? 1;
    this.alpha = opts.alpha ?? 1;
    this.norm = opts.norm ?? 'f';
    if (!(this.gamma > 0 && this.gamma <= 1)) throw new AllocatorError('ALLOC_BAD_OPTION', 'gamma must be in (0, 1]');
    if (!(this.alpha > 0 && this.alpha < 1e6)) throw new AllocatorError('ALLOC_BAD_OPTION', 'alpha must be > 0');
    this.linkStride = 0;
    this.price = this.lastWeight = this.load = this.hess = this.ratio = this.loadParts = this.hessParts = new Float64Array(0);
    this.rate = this.out = new Float64Array(0);
    this.ensureCapacity();
  }

  /** Runs `n` ≥ 1 NED iterations from the current prices and leaves normalised rates in `out`. */
  iterate(n = 1): void {
    this.ensureCapacity();
    const t = this.table;
    const L = t.fabric.size;
    seedPrices(this.price, t.fabric.capacity, t.linkWeight, this.lastWeight, L);
    for (let i = 0; i < n; i++) {
      this.aggregate();
      const maxRatio = priceUpdate(this.price, this.load, this.hess, this.ratio, t.fabric.capacity,
        t.linkWeight, L, this.gamma);
      if (i === n - 1 && !FRESH) this.normalize(maxRatio);
      this.iterations++;
    }
    if (FRESH) {
      this.aggregate();
      setNoUpdate(true);
      const maxRatio = priceUpdate(this.price, this.load, this.hess, this.ratio, t.fabric.capacity,
        t.linkWeight, L, this.gamma);
      setNoUpdate(false);
      this.normalize(maxRatio);
    }
  }

  /** Σ_s w_s·U(x̂_s) over flows with positive weight and rate (log utility for α = 1). */
  utility(): number {
    let u = 0;
    this.table.forEachSlot((s) => { u += utilityOf(this.table.weight[s]!, this.out[s]!, this.alpha); });
    return u;
  }

  /** Rate pass for every block into load/hess (per-block partials reduced in block order when K > 1). */
  aggregate(): void {
    const t = this.table;
    const K = t.blocks;
    const L = t.fabric.size;
    if (K === 1) {
      this.load.fill(0, 0, L);
      this.hess.fill(0, 0, L);
      ratePass(t, this.price, this.rate, this.load, this.hess, 0, t.count[0]!, this.alpha);
      return;
    }
    this.loadParts.fill(0);
    this.hessParts.fill(0);
    for (let k = 0; k < K; k++) this.blockRatePass(k);
    reduceParts(this.loadParts, K, this.linkStride, this.load, L);
    reduceParts(this.hessParts, K, this.linkStride, this.hess, L);
  }

  /** Rate pass of block k into its partial arrays (what a worker does). */
  blockRatePass(k: number): void {
    const t = this.table;
    const from = k * t.blockCap;
    const o = k * this.linkStride;
    ratePass(t, this.price, this.rate,
      this.loadParts.subarray(o, o + this.linkStride), this.hessParts.subarray(o, o + this.linkStride),
      from, from + t.count[k]!, this.alpha);
  }

  /** Normalises every block from the last ratios. */
  normalize(maxRatio: number): void {
    const t = this.table;
    const uniform = this.norm === 'u' ? maxRatio : 0;
    for (let k = 0; k < t.blocks; k++) {
      const from = k * t.blockCap;
      normalizePass(t, this.rate, this.ratio, this.out, from, from + t.count[k]!, uniform);
    }
  }

  /** Grows per-link and per-slot arrays after the fabric or the table grew (keeps prices). */
  ensureCapacity(): void {
    const t = this.table;
    const L = Math.max(16, t.linkWeight.length);
    if (this.price.length < L) {
      const p = newF64(L, t.shared);
      p.set(this.price);
      this.price = p;
      const w = newF64(L, t.shared);
      w.set(this.lastWeight);
      this.lastWeight = w;
      this.load = newF64(L, t.shared);
      this.hess = newF64(L, t.shared);
      this.ratio = newF64(L, t.shared);
      this.linkStride = L;
      this.loadParts = newF64(L * t.blocks, t.shared);
      this.hessParts = newF64(L * t.blocks, t.shared);
    }
    if (this.tableGeneration !== t.generation || this.rate.length < t.span) {
      this.rate = newF64(t.span, t.shared);
      this.out = newF64(t.span, t.shared);
      this.tableGeneration = t.generation;
    }
  }
}

/** w·log x (α = 1) or w·x^(1−α)/(1−α); 0 for w = 0 or x = 0 (such flows are outside the objective). */
export function utilityOf(w: number, x: number, alpha: number): number {
  if (!(w > 0) || !(x > 0)) return 0;
  return alpha === 1 ? w * Math.log(x) : (w * Math.pow(x, 1 - alpha)) / (1 - alpha);
}
