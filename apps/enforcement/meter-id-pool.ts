/**
 * The meter ids of one switch (pure): flow meters are numbered 1..OFPM_MAX (OpenFlow 1.3.5 §7.3.4.4),
 * the switch says how many it holds (OFPMP_METER_FEATURES max_meter); the MeterEnforcer takes one per
 * meter it sets and gives it back once the switch confirmed the meter's deletion.
 */
import { highestMeterId, OFPM } from '../../openflow/codec/index.js';

/** Highest id a pool hands out: flow meters are 1..OFPM_MAX (§7.3.4.4); the pool stays below OFPM_MAX. */
export const MAX_POOL_METER_ID = highestMeterId(OFPM.MAX);

/**
 * Meter ids of one switch: 1..max, handed out lowest-first; a released id is reused before any higher
 * one (so ids stay small and dense, as `ovs-ofctl dump-meters` and switch tables like). Never 0, never
 * ≥ OFPM_MAX. `max` is the switch's OFPMP_METER_FEATURES max_meter, clamped to [0, OFPM_MAX − 1].
 */
export class MeterIdPool {
  /** Highest id this pool may hand out (0: none). */
  readonly max: number;
  private fresh = 1;
  /** Released ids below `fresh`, a binary min-heap. */
  private readonly freed: number[] = [];
  private readonly used = new Set<number>();

  /** @throws RangeError when `max` is not a non-negative integer */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`meter id pool max must be an integer ≥ 0, got ${max}`);
    this.max = highestMeterId(max);
  }

  /** Ids currently handed out. */
  get inUse(): number {
    return this.used.size;
  }

  /** Ids still available. */
  get available(): number {
    return this.max - this.used.size;
  }

  /** True when `id` is handed out. */
  has(id: number): boolean {
    return this.used.has(id);
  }

  /** The lowest free id, now in use; undefined when the pool is exhausted. */
  acquire(): number | undefined {
    let id: number | undefined;
    if (this.freed.length > 0) id = heapPop(this.freed);
    else if (this.fresh <= this.max) id = this.fresh++;
    if (id !== undefined) this.used.add(id);
    return id;
  }

  /** Gives `id` back. @returns false (and does nothing) when `id` was not handed out. */
  release(id: number): boolean {
    if (!this.used.delete(id)) return false;
    heapPush(this.freed, id);
    return true;
  }
}

function heapPush(h: number[], v: number): void {
  h.push(v);
  for (let i = h.length - 1; i > 0; ) {
    const p = (i - 1) >> 1;
    if (h[p]! <= h[i]!) break;
    [h[p], h[i]] = [h[i]!, h[p]!];
    i = p;
  }
}

function heapPop(h: number[]): number | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length === 0 || last === undefined) return top;
  h[0] = last;
  for (let i = 0; ; ) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && h[l]! < h[m]!) m = l;
    if (r < h.length && h[r]! < h[m]!) m = r;
    if (m === i) break;
    [h[m], h[i]] = [h[i]!, h[m]!];
    i = m;
  }
  return top;
}
