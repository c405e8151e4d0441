/**
 * The flowlet table (ARCHITECTURE.md "Principles": typed arrays on the hot path): every active flowlet as one slot in struct-of-arrays typed
 * arrays. Flow→links is a fixed-stride CSR (`path[slot*maxHops + j]`, `pathLen[slot]`), so arrival and
 * departure cost O(path length): a departure swap-removes inside its block, nothing is rebuilt.
 *
 * Slots are grouped in `blocks` contiguous regions (Flowtune §5's blocks: by default the block of a flow is
 * chosen from its first link, i.e. its source); block k holds slots [k*blockCap, k*blockCap + count[k]).
 * Callers hold stable *handles*; slots move on removal.
 */
import { AllocatorError } from './errors.js';
import { Fabric, growF64, growI32, newF64, newI32 } from './fabric.js';

/** What a caller says about a new flowlet. Rates and sizes are bits/s and bits. */
export interface FlowletSpec {
  /** Link indices in the fabric, in order; 1..maxHops entries. */
  readonly path: ArrayLike<number>;
  /** Utility / max-min weight, ≥ 0 (default 1). */
  readonly weight?: number;
  /** Demand cap in bits/s (default: none = Infinity). */
  readonly demandBps?: number;
  /** Size in bits (default: unknown = Infinity); `remainingBits` starts equal to it. */
  readonly sizeBits?: number;
  /** Transfer (coflow) index, or -1 (default). */
  readonly transfer?: number;
  /** Tenant index, or -1. */
  readonly tenant?: number;
  /** Division index, or -1. */
  readonly division?: number;
  /** Block override; default: path[0] mod blocks. */
  readonly block?: number;
}

/**
 * Observer of slot changes (the flowtune optimizer keeps its link aggregates current with it, so an
 * arrival costs O(path length) instead of a pass over all flows).
 */
export interface TableListener {
  /** Slot `s` now holds a new flowlet. */
  added(s: number): void;
  /** Slot `s` is about to be vacated (its data is still readable). */
  removing(s: number): void;
  /** The flowlet in slot `from` moved to slot `to`. */
  moved(from: number, to: number): void;
  /** Every slot may have moved (the table grew). */
  relocated(): void;
}

/** Construction options of a table. */
export interface TableOptions {
  /** Maximum links per path (default 8). */
  readonly maxHops?: number;
  /** Number of blocks (default 1). Worker mode runs one block per worker. */
  readonly blocks?: number;
  /** Initial slots per block (default 64; doubles when full). */
  readonly blockCapacity?: number;
  /** Allocate on SharedArrayBuffer (worker mode). */
  readonly shared?: boolean;
}

/** Struct-of-arrays flowlet table. Public arrays are read by the policies; mutate only through methods. */
export class FlowletTable {
  readonly maxHops: number;
  readonly blocks: number;
  readonly shared: boolean;
  blockCap: number;
  /** Bumped whenever an array is reallocated (worker pools re-share their views). */
  generation = 0;
  /** Live flowlets per block. */
  readonly count: Int32Array;
  weight!: Float64Array;
  demand!: Float64Array;
  sizeBits!: Float64Array;
  remainingBits!: Float64Array;
  /** Rate clamp, bits/s: min(smallest capacity on the path, demand). */
  rateCap!: Float64Array;
  transfer!: Int32Array;
  tenant!: Int32Array;
  division!: Int32Array;
  pathLen!: Int32Array;
  path!: Int32Array;
  handleOfSlot!: Int32Array;
  /** Σ weight of flowlets crossing each link, kept incrementally. */
  linkWeight: Float64Array;
  /** Number of flowlets crossing each link, kept incrementally. */
  linkCount: Int32Array;
  private slotOfHandle: Int32Array;
  private readonly listeners: TableListener[] = [];
  private freeHandles: number[] = [];
  private nextHandle = 0;
  private live = 0;

  constructor(readonly fabric: Fabric, opts: TableOptions = {}) {
    this.maxHops = opts.maxHops ?? 8;
    this.blocks = Math.max(1, opts.blocks ?? 1);
    this.shared = opts.shared ?? false;
    this.blockCap = Math.max(1, opts.blockCapacity ?? 64);
    this.count = newI32(this.blocks, this.shared);
    this.allocSlots(this.blocks * this.blockCap);
    this.linkWeight = newF64(Math.max(16, fabric.size), this.shared);
    this.linkCount = newI32(Math.max(16, fabric.size), this.shared);
    this.slotOfHandle = new Int32Array(64).fill(-1);
  }

  /** Number of live flowlets. */
  get size(): number {
    return this.live;
  }

  /** Slot of a live handle; throws ALLOC_UNKNOWN_FLOW otherwise. */
  slotOf(handle: number): number {
    const s = handle >= 0 && handle < this.nextHandle ? this.slotOfHandle[handle]! : -1;
    if (s < 0) throw new AllocatorError('ALLOC_UNKNOWN_FLOW', `no live flowlet with handle ${handle}`);
    return s;
  }

  /** Registers an observer of slot changes. */
  listen(l: TableListener): void {
    this.listeners.push(l);
  }

  /** Adds a flowlet; O(path length) unless a block must grow. Returns its stable handle. */
  add(spec: FlowletSpec): number {
    this.checkSpec(spec);
    this.ensureLinks();
    const k = spec.block === undefined ? spec.path[0]! % this.blocks : spec.block % this.blocks;
    if (this.count[k]! >= this.blockCap) this.grow();
    const s = k * this.blockCap + this.count[k]!;
    this.count[k]!++;
    const handle = this.newHandle();
    this.handleOfSlot[s] = handle;
    this.slotOfHandle[handle] = s;
    this.writeSlot(s, spec);
    this.live++;
    for (const l of this.listeners) l.added(s);
    return handle;
  }

  /** Removes a flowlet by handle: the last slot of its block moves into the hole. */
  remove(handle: number): void {
    const s = this.slotOf(handle);
    for (const l of this.listeners) l.removing(s);
    this.linkAggregate(s, -1);
    const k = Math.floor(s / this.blockCap);
    const last = k * this.blockCap + this.count[k]! - 1;
    if (s !== last) {
      this.moveSlot(last, s);
      for (const l of this.listeners) l.moved(last, s);
    }
    this.count[k]!--;
    this.slotOfHandle[handle] = -1;
    this.freeHandles.push(handle);
    this.live--;
  }

  /** Changes a flowlet's weight (≥ 0). */
  setWeight(handle: number, w: number): void {
    checkWeight(w);
    const s = this.slotOf(handle);
    for (const l of this.listeners) l.removing(s);
    this.linkAggregate(s, -1);
    this.weight[s] = w;
    this.linkAggregate(s, +1);
    for (const l of this.listeners) l.added(s);
  }

  /** Changes a flowlet's demand cap, bits/s (Infinity = none). */
  setDemand(handle: number, bps: number): void {
    const s = this.slotOf(handle);
    for (const l of this.listeners) l.removing(s);
    this.demand[s] = bps >= 0 ? bps : Infinity;
    this.rateCap[s] = this.pathMinCap(s);
    for (const l of this.listeners) l.added(s);
  }

  /** Sets the bits a flowlet still has to send. */
  setRemaining(handle: number, bits: number): void {
    this.remainingBits[this.slotOf(handle)] = bits > 0 ? bits : 0;
  }

  /** Recomputes every path's minimum capacity after Fabric.setCapacity. */
  refreshRateCaps(): void {
    this.forEachSlot((s) => { this.rateCap[s] = this.pathMinCap(s); });
    for (const l of this.listeners) l.relocated();
  }

  /** Calls `fn(slot)` for every live slot, block by block. */
  forEachSlot(fn: (slot: number) => void): void {
    for (let k = 0; k < this.blocks; k++) {
      const base = k * this.blockCap;
      for (let s = base; s < base + this.count[k]!; s++) fn(s);
    }
  }

  /** Total slot span (blocks × blockCap): per-slot scratch arrays must be at least this long. */
  get span(): number {
    return this.blocks * this.blockCap;
  }

  private checkSpec(spec: FlowletSpec): void {
    const n = spec.path.length;
    if (n === 0) throw new AllocatorError('ALLOC_EMPTY_PATH', 'empty path');
    if (n > this.maxHops) throw new AllocatorError('ALLOC_PATH_TOO_LONG', `path of ${n} links > ${this.maxHops}`);
    for (let j = 0; j < n; j++) {
      const l = spec.path[j]!;
      if (!Number.isInteger(l) || l < 0 || l >= this.fabric.size) {
        throw new AllocatorError('ALLOC_UNKNOWN_LINK', `unknown link #${String(l)}`);
      }
    }
    checkWeight(spec.weight ?? 1);
  }

  private writeSlot(s: number, spec: FlowletSpec): void {
    const n = spec.path.length;
    this.pathLen[s] = n;
    for (let j = 0; j < n; j++) this.path[s * this.maxHops + j] = spec.path[j]!;
    this.weight[s] = spec.weight ?? 1;
    this.demand[s] = spec.demandBps !== undefined && spec.demandBps >= 0 ? spec.demandBps : Infinity;
    this.sizeBits[s] = spec.sizeBits !== undefined && spec.sizeBits >= 0 ? spec.sizeBits : Infinity;
    this.remainingBits[s] = this.sizeBits[s]!;
    this.transfer[s] = spec.transfer ?? -1;
    this.tenant[s] = spec.tenant ?? -1;
    this.division[s] = spec.division ?? -1;
    this.rateCap[s] = this.pathMinCap(s);
    this.linkAggregate(s, +1);
  }

  private moveSlot(from: number, to: number): void {
    const H = this.maxHops;
    this.pathLen[to] = this.pathLen[from]!;
    this.path.copyWithin(to * H, from * H, from * H + H);
    this.weight[to] = this.weight[from]!;
    this.demand[to] = this.demand[from]!;
    this.sizeBits[to] = this.sizeBits[from]!;
    this.remainingBits[to] = this.remainingBits[from]!;
    this.rateCap[to] = this.rateCap[from]!;
    this.transfer[to] = this.transfer[from]!;
    this.tenant[to] = this.tenant[from]!;
    this.division[to] = this.division[from]!;
    const h = this.handleOfSlot[from]!;
    this.handleOfSlot[to] = h;
    this.slotOfHandle[h] = to;
  }

  private linkAggregate(s: number, sign: 1 | -1): void {
    const o = s * this.maxHops;
    const w = this.weight[s]!;
    for (let j = 0; j < this.pathLen[s]!; j++) {
      const l = this.path[o + j]!;
      this.linkCount[l]! += sign;
      // Re-zero exactly when the last flowlet leaves, so rounding never leaves a ghost weight.
      this.linkWeight[l] = this.linkCount[l] === 0 ? 0 : Math.max(0, this.linkWeight[l]! + sign * w);
    }
  }

  private pathMinCap(s: number): number {
    let m = this.demand[s]!;
    const o = s * this.maxHops;
    for (let j = 0; j < this.pathLen[s]!; j++) m = Math.min(m, this.fabric.capacity[this.path[o + j]!]!);
    return m;
  }

  private newHandle(): number {
    const h = this.freeHandles.pop() ?? this.nextHandle++;
    if (h >= this.slotOfHandle.length) {
      const a = new Int32Array(this.slotOfHandle.length * 2).fill(-1);
      a.set(this.slotOfHandle);
      this.slotOfHandle = a;
    }
    return h;
  }

  private ensureLinks(): void {
    const L = this.fabric.size;
    if (L <= this.linkWeight.length) return;
    this.linkWeight = growF64(this.linkWeight, L * 2, this.shared);
    this.linkCount = growI32(this.linkCount, L * 2, this.shared);
    this.generation++;
  }

  private allocSlots(n: number): void {
    const sh = this.shared;
    this.weight = newF64(n, sh);
    this.demand = newF64(n, sh);
    this.sizeBits = newF64(n, sh);
    this.remainingBits = newF64(n, sh);
    this.rateCap = newF64(n, sh);
    this.transfer = newI32(n, sh);
    this.tenant = newI32(n, sh);
    this.division = newI32(n, sh);
    this.pathLen = newI32(n, sh);
    this.path = newI32(n * this.maxHops, sh);
    this.handleOfSlot = newI32(n, sh);
    this.generation++;
  }

  /** Doubles every block, relocating slots (handles keep working). */
  private grow(): void {
    const old = { ...this.arrays(), cap: this.blockCap };
    this.blockCap *= 2;
    this.allocSlots(this.blocks * this.blockCap);
    const H = this.maxHops;
    for (let k = 0; k < this.blocks; k++) {
      for (let i = 0; i < this.count[k]!; i++) {
        const from = k * old.cap + i;
        const to = k * this.blockCap + i;
        this.copyFromOld(old, from, to, H);
      }
    }
    for (const l of this.listeners) l.relocated();
  }

  private arrays() {
    return {
      weight: this.weight, demand: this.demand, sizeBits: this.sizeBits, remainingBits: this.remainingBits,
      rateCap: this.rateCap, transfer: this.transfer, tenant: this.tenant, division: this.division,
      pathLen: this.pathLen, path: this.path, handleOfSlot: this.handleOfSlot,
    };
  }

  private copyFromOld(old: ReturnType<FlowletTable['arrays']>, from: number, to: number, H: number): void {
    this.weight[to] = old.weight[from]!;
    this.demand[to] = old.demand[from]!;
    this.sizeBits[to] = old.sizeBits[from]!;
    this.remainingBits[to] = old.remainingBits[from]!;
    this.rateCap[to] = old.rateCap[from]!;
    this.transfer[to] = old.transfer[from]!;
    this.tenant[to] = old.tenant[from]!;
    this.division[to] = old.division[from]!;
    this.pathLen[to] = old.pathLen[from]!;
    this.path.set(old.path.subarray(from * H, from * H + H), to * H);
    const h = old.handleOfSlot[from]!;
    this.handleOfSlot[to] = h;
    this.slotOfHandle[h] = to;
  }
}

function checkWeight(w: number): void {
  if (typeof w !== 'number' || !(w >= 0 && w <= 1e12)) {
    throw new AllocatorError('ALLOC_BAD_WEIGHT', `weight must be a number in [0, 1e12], got ${String(w)}`);
  }
}
