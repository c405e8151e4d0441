/**
 * Small bounded collections for the enforcement core's read views: a ring buffer (the last N ended
 * flowlets, the last N reaction-time samples), percentiles, and an events-per-second window. Pure.
 */

/** The last `capacity` items pushed, oldest first on read. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.items.length;
    this.count = Math.min(this.count + 1, this.items.length);
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const n = this.items.length;
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.next - this.count + i + n) % n]!);
    return out;
  }
}

/** Count, p50 and p99 (nearest rank) of samples; null percentiles when empty. */
export interface SampleSummary {
  readonly count: number;
  readonly p50Us: number | null;
  readonly p99Us: number | null;
}

/** Nearest-rank percentile of sorted values (q in [0, 1]). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** Reaction-time samples (µs): the last N kept, the total count. */
export class Samples {
  private readonly ring: Ring<number>;
  private total = 0;

  constructor(capacity: number) {
    this.ring = new Ring<number>(capacity);
  }

  add(us: number): void {
    if (!Number.isFinite(us)) return;
    this.ring.push(us);
    this.total++;
  }

  /** All samples ever added. */
  get count(): number {
    return this.total;
  }

  /** The kept samples, oldest first. */
  values(): number[] {
    return this.ring.toArray();
  }

  summary(): SampleSummary {
    const sorted = this.ring.toArray().sort((a, b) => a - b);
    return { count: this.total, p50Us: percentile(sorted, 0.5), p99Us: percentile(sorted, 0.99) };
  }
}

/** Events counted in 1-s buckets; `rate(now)` = events in the last `windowS` seconds ÷ windowS. */
export class EventRate {
  private readonly buckets: Float64Array;
  private readonly stamps: Float64Array;

  constructor(readonly windowS = 10) {
    this.buckets = new Float64Array(windowS);
    this.stamps = new Float64Array(windowS).fill(-1);
  }

  add(n: number, nowMs: number): void {
    const sec = Math.floor(nowMs / 1000);
    const i = ((sec % this.windowS) + this.windowS) % this.windowS;
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += n;
  }

  rate(nowMs: number): number {
    const sec = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let i = 0; i < this.windowS; i++) {
      const s = this.stamps[i]!;
      if (s >= 0 && s > sec - this.windowS && s <= sec) sum += this.buckets[i]!;
    }
    return sum / this.windowS;
  }
}
