/**
 * The fabric the allocator sees: directed links with capacities in bits/s, addressed by a dense index
 * (ARCHITECTURE.md "Principles": struct-of-arrays, no `Map` lookups on the hot path; ids are resolved once at the edge).
 */
import { AllocatorError, subjectError } from './errors.js';

/** Largest capacity accepted, bits/s (1 Ebit/s): keeps every product in the optimizer finite. */
export const MAX_CAPACITY_BPS = 1e18;
/** Smallest capacity accepted, bits/s. */
export const MIN_CAPACITY_BPS = 1e-3;

/** Links as parallel arrays: `capacity[l]` in bits/s, `ids[l]` the external id. Capacity is fixed in size. */
export class Fabric {
  readonly ids: string[] = [];
  capacity: Float64Array;
  private readonly index = new Map<string, number>();

  constructor(initialLinks = 16, private readonly shared = false) {
    this.capacity = newF64(Math.max(1, initialLinks), shared);
  }

  /** Number of links. */
  get size(): number {
    return this.ids.length;
  }

  /** Adds a link; returns its index. Throws ALLOC_DUPLICATE_ID / ALLOC_BAD_CAPACITY naming the link. */
  addLink(id: string, capacityBps: number): number {
    if (this.index.has(id)) throw subjectError('ALLOC_DUPLICATE_ID', 'link', id, 'duplicate link id');
    checkCapacity(id, capacityBps);
    const l = this.ids.length;
    if (l >= this.capacity.length) this.capacity = growF64(this.capacity, l * 2, this.shared);
    this.ids.push(id);
    this.index.set(id, l);
    this.capacity[l] = capacityBps;
    return l;
  }

  /** Index of a link id, or -1. */
  indexOf(id: string): number {
    return this.index.get(id) ?? -1;
  }

  /** Changes a link's capacity (bits/s). Callers must refresh flow path minima (FlowletTable.refreshRateCaps). */
  setCapacity(l: number, capacityBps: number): void {
    if (l < 0 || l >= this.size) throw new AllocatorError('ALLOC_UNKNOWN_LINK', `no link #${l}`);
    checkCapacity(this.ids[l]!, capacityBps);
    this.capacity[l] = capacityBps;
  }
}

function checkCapacity(id: string, c: number): void {
  if (typeof c !== 'number' || !(c >= MIN_CAPACITY_BPS && c <= MAX_CAPACITY_BPS)) {
    throw subjectError('ALLOC_BAD_CAPACITY', 'link', id,
      `capacityBps must be a number in [${MIN_CAPACITY_BPS}, ${MAX_CAPACITY_BPS}], got ${String(c)}`);
  }
}

/** A Float64Array, on a SharedArrayBuffer when `shared` (worker mode). */
export function newF64(n: number, shared: boolean): Float64Array {
  return shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
}

/** An Int32Array, on a SharedArrayBuffer when `shared`. */
export function newI32(n: number, shared: boolean): Int32Array {
  return shared ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n);
}

/** Copies `a` into a larger array of length `n`. */
export function growF64(a: Float64Array, n: number, shared: boolean): Float64Array {
  const b = newF64(n, shared);
  b.set(a);
  return b;
}

/** Copies `a` into a larger array of length `n`. */
export function growI32(a: Int32Array, n: number, shared: boolean): Int32Array {
  const b = newI32(n, shared);
  b.set(a);
  return b;
}
