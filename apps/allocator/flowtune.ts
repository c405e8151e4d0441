/**
 * The `flowtune` policy (Flowtune, NSDI 2017, §4): network utility maximisation with weighted
 * proportional fairness (α-fair optional), solved by NED price iterations warm-started from the previous
 * prices, followed by F-NORM (or U-NORM) so the output is always feasible.
 *
 * `iterate(n)`: after a change (arrival, departure, weight or demand change) first a warm start (prices of
 * links whose flowlets changed are rescaled by their weight change) and one rate pass at those prices (x,
 * load y, Hessian diagonal H); then n × (NED price update → rate pass); then F-NORM of the last pass. So the
 * rates handed out always reflect the latest prices. Without a change since the last call, the last pass is
 * still exact and an iteration costs one rate pass (plus the normalisation pass once per call).
 * Rates in bits/s, indexed by table slot.
 */
import { AllocatorError } from './errors.js';
import { newF64 } from './fabric.js';
import {
  clearAggregates, LINK_STRIDE, normalizePass, P, priceUpdate, R, ratePass,
  ratios, reduceParts, seedPrices, Y,
} from './ned.js';
import type { FlowletTable, TableListener } from './table.js';

/** Options of the flowtune optimizer. */
export interface FlowtuneOptions {
  /** Largest NED step size γ ∈ (0, 1] (default 0.85; each link adapts below it). */
  readonly gamma?: number;
  /** α of α-fair utility (default 1 = proportional fairness). */
  readonly alpha?: number;
  /** Normaliser: 'f' = F-NORM (default), 'u' = U-NORM. */
  readonly norm?: 'f' | 'u';
}

/** Default largest NED step size. */
export const DEFAULT_GAMMA = 0.85;

/** Per-link and per-slot state of the optimizer: prices persist across changes (warm start). */
export class FlowtuneOptimizer implements TableListener {
  readonly gamma: number;
  readonly alpha: number;
  readonly norm: 'f' | 'u';
  /** Interleaved link state, LINK_STRIDE doubles per link: price, load, Hessian diagonal, utilisation. */
  links: Float64Array;
  /** Σ weight per link when prices were last seeded (detects links whose flowlets changed). */
  lastWeight: Float64Array;
  /** Per-link signed step size (see priceUpdate). */
  step: Float64Array;
  /** Per-block partial (y, H) pairs (K > 1), block k at offset k·2·linkCapacity. */
  parts: Float64Array;
  linkCapacity = 0;
  /** Unnormalised rates of the last rate pass, bits/s, and each flow's Hessian term. */
  rate: Float64Array;
  sens: Float64Array;
  /** Normalised (feasible) rates, bits/s: the allocation. */
  out: Float64Array;
  /** Total NED iterations run. */
  iterations = 0;
  /**
   * True when flowlets arrived, left or changed (or arrays were reallocated) since the last rate pass: the
   * next iteration then first warm-starts and re-aggregates; otherwise the last pass is still exact.
   */
  changed = true;
  private tableGeneration = -1;

  constructor(readonly table: FlowletTable, opts: FlowtuneOptions = {}) {
    this.gamma = opts.gamma ?? DEFAULT_GAMMA;
    this.alpha = opts.alpha ?? 1;
    this.norm = opts.norm ?? 'f';
    if (!(this.gamma > 0 && this.gamma <= 1)) throw new AllocatorError('ALLOC_BAD_OPTION', 'gamma must be in (0, 1]');
    if (!(this.alpha > 0 && this.alpha < 1e6)) throw new AllocatorError('ALLOC_BAD_OPTION', 'alpha must be in (0, 1e6)');
    const empty = new Float64Array(0);
    this.links = this.lastWeight = this.step = this.parts = this.rate = this.sens = this.out = empty;
    this.ensureCapacity();
    table.listen(this);
  }

  /** Price of link l. */
  price(l: number): number {
    return this.links[l * LINK_STRIDE + P]!;
  }

  /** Load of link l in the last rate pass (unnormalised), bits/s. */
  load(l: number): number {
    return this.links[l * LINK_STRIDE + Y]!;
  }

  /** Runs `n` ≥ 1 NED iterations from the current prices and leaves normalised rates in `out`. */
  iterate(n = 1): void {
    this.prepare();
    for (let i = 0; i < n; i++) {
      this.updatePrices(i > 0);
      this.aggregate();
      this.iterations++;
    }
    this.normalize(this.computeRatios());
  }

  /** Before iterating: grow arrays, warm-start changed links, one rate pass at those prices. */
  prepare(): void {
    this.ensureCapacity();
    if (!this.changed) return;
    this.seed();
    this.aggregate();
  }

  /** Warm start of links whose flowlets changed (see seedPrices). */
  seed(): void {
    const t = this.table;
    seedPrices(this.links, t.fabric.capacity, t.linkWeight, this.lastWeight, this.step, t.fabric.size);
  }

  /** One NED price update from the current aggregates (`adapt`: per-link step adaptation, see priceUpdate). */
  updatePrices(adapt: boolean): void {
    const t = this.table;
    priceUpdate(this.links, t.fabric.capacity, t.linkWeight, t.fabric.size, this.gamma, this.step, adapt);
  }

  /** r_l = y_l/c_l for every link; returns the largest. */
  computeRatios(): number {
    return ratios(this.links, this.table.fabric.capacity, this.table.fabric.size);
  }

  /** Σ_s U(x̂_s) over flows with positive weight and rate (w·log x for α = 1). */
  utility(): number {
    let u = 0;
    this.table.forEachSlot((s) => { u += utilityOf(this.table.weight[s]!, this.out[s]!, this.alpha); });
    return u;
  }

  /** Rate pass for every block into the link aggregates (per-block partials reduced in block order). */
  aggregate(): void {
    this.changed = false;
    const t = this.table;
    const K = t.blocks;
    const L = t.fabric.size;
    if (K === 1) {
      clearAggregates(this.links, L);
      ratePass(t, this.links, this.rate, this.sens, this.links, LINK_STRIDE, Y, 0, t.count[0]!, this.alpha);
    } else {
      this.parts.fill(0);
      for (let k = 0; k < K; k++) this.blockRatePass(k);
      this.reduce();
    }
  }

  /** Rate pass of block k into its partial (y, H) pairs (what worker k does in multicore mode). */
  blockRatePass(k: number): void {
    const t = this.table;
    const from = k * t.blockCap;
    ratePass(t, this.links, this.rate, this.sens, this.parts, 2, k * 2 * this.linkCapacity,
      from, from + t.count[k]!, this.alpha);
  }

  /** y, H = Σ_k partials in block order (the reduction shared with worker mode). */
  reduce(): void {
    reduceParts(this.parts, this.table.blocks, this.linkCapacity, this.links, this.table.fabric.size);
  }

  /** Normalises every block from the current ratios. */
  normalize(maxRatio: number): void {
    const t = this.table;
    for (let k = 0; k < t.blocks; k++) this.normalizeBlock(k, maxRatio);
  }

  /** Normalises block k (what worker k does in multicore mode). */
  normalizeBlock(k: number, maxRatio: number): void {
    const t = this.table;
    const from = k * t.blockCap;
    normalizePass(t, this.links, this.rate, this.out, from, from + t.count[k]!, this.norm === 'u' ? maxRatio : 0);
  }

  /** TableListener: a new flowlet has no allocation until the next iteration. */
  added(s: number): void {
    this.changed = true;
    if (this.fits()) { this.rate[s] = 0; this.out[s] = 0; }
  }

  /** TableListener: nothing to undo (aggregates are rebuilt by every iteration's first rate pass). */
  removing(): void {
    this.changed = true;
  }

  /** TableListener: per-slot results follow the flowlet, so `out` stays readable by slot between iterations. */
  moved(from: number, to: number): void {
    this.changed = true;
    if (!this.fits()) return;
    this.rate[to] = this.rate[from]!;
    this.sens[to] = this.sens[from]!;
    this.out[to] = this.out[from]!;
  }

  /** TableListener: slots relocated (arrays are re-sized at the next iteration). */
  relocated(): void {
    this.changed = true;
  }

  private fits(): boolean {
    const t = this.table;
    return this.rate.length >= t.span && this.linkCapacity >= t.linkWeight.length;
  }

  /** Grows per-link and per-slot arrays after the fabric or the table grew (keeps prices). */
  ensureCapacity(): void {
    const t = this.table;
    const L = Math.max(16, t.linkWeight.length);
    if (this.linkCapacity < L) {
      this.links = grown(this.links, L * LINK_STRIDE, t.shared);
      this.lastWeight = grown(this.lastWeight, L, t.shared);
      this.step = grown(this.step, L, t.shared);
      this.parts = newF64(2 * L * t.blocks, t.shared);
      this.linkCapacity = L;
      this.changed = true;
    }
    if (this.tableGeneration !== t.generation || this.rate.length < t.span) {
      this.rate = newF64(t.span, t.shared);
      this.sens = newF64(t.span, t.shared);
      this.out = newF64(t.span, t.shared);
      this.tableGeneration = t.generation;
      this.changed = true;
    }
  }
}

/** Utilisation ratio offset, re-exported for tests that inspect the link state. */
export const RATIO_OFFSET = R;

function grown(a: Float64Array, n: number, shared: boolean): Float64Array {
  const b = newF64(n, shared);
  b.set(a);
  return b;
}

/** w·log x (α = 1) or w·x^(1−α)/(1−α); 0 for w = 0 or x = 0 (such flows are outside the objective). */
export function utilityOf(w: number, x: number, alpha: number): number {
  if (!(w > 0) || !(x > 0)) return 0;
  return alpha === 1 ? w * Math.log(x) : (w * Math.pow(x, 1 - alpha)) / (1 - alpha);
}
