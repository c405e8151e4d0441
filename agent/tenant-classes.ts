/**
 * Per-tenant limits at the sending host (BwE §4: a host enforcer limits a flow group — here a tenant's
 * flows from this host — to the group's allocation as one aggregate, not flow by flow). Pure text of the
 * tc lines, like tc.ts, for the same persistent `tc -batch` (tc-batch.ts):
 *
 *   class add dev IF parent 1:1 classid 1:<n> htb rate <r>bit ceil <r>bit ...        (one limited tenant)
 *   filter add dev IF parent 1: protocol ip prio 10 handle 800::<m> u32 match ip dst D/32
 *     match ip protocol P 0xff match ip sport SP 0xffff match ip dport DP 0xffff flowid 1:<n>  (one steered flow)
 *
 * The controller pushes each tenant's aggregate (`rates.tenants`, apps/enforcement/tenant-limits.ts); the
 * agent steers a flow of a tenant that has a class into it locally, as soon as it knows the flow's tenant —
 * at its declaration when the declaration names the source port (the filter is in place before the first
 * packet), else at its flowlet's start — so the tenant's new flowlets never run unlimited while their own
 * rates are on the way. A steered flow's filter stays while the flow has a live flowlet (a kept-alive
 * connection keeps its tenant) and for `steerIdleMs` after its last flowlet ended; then it is removed.
 *
 * Numbers: a tenant class takes a number n (class 1:n), a steering filter a number m (u32 node 800::m), both
 * from the pool of the flowlet limits (tc.ts {@link LimitNumbers}, shared), so no id collides with a flowlet's
 * class or filter. A flow is never steered and limited per flowlet at once (the agent clears the flowlet's
 * own limit when it steers the flow), so the order of filters within the u32 table does not matter.
 * Steered flows are bounded by `maxSteered`; beyond it the oldest idle one is dropped, else the flow stays
 * unsteered (limited per flowlet as before).
 */
import type { FiveTuple } from '../protocol/agent.js';
import { classDelLine, classLine, filterDelLine, FLOWLET_FILTER_PRIO, type LimitNumbers } from './tc.js';

/** The part of a 5-tuple a steering filter matches (every packet on the interface is this host's). */
export interface SteerKey {
  readonly dst: string;
  readonly proto: number;
  readonly sport: number;
  readonly dport: number;
}

/** Default bound on steered flows. */
export const DEFAULT_MAX_STEERED = 1024;
/** Default time a steered flow's filter outlives its last flowlet, ms. */
export const DEFAULT_STEER_IDLE_MS = 2000;

const hex = (n: number): string => n.toString(16);

/** `dst|proto|sport|dport`. */
export function steerKeyString(k: SteerKey): string {
  return `${k.dst}|${k.proto}|${k.sport}|${k.dport}`;
}

/** The steering key of a 5-tuple. */
export function steerKeyOf(flow: FiveTuple): SteerKey {
  return { dst: flow.dst, proto: flow.proto, sport: flow.sport, dport: flow.dport };
}

/** The u32 filter steering flow `k` to tenant class 1:n, with node id m. */
export function steerFilterLine(dev: string, m: number, k: SteerKey, n: number): string {
  return (
    `filter add dev ${dev} parent 1: protocol ip prio ${FLOWLET_FILTER_PRIO} handle 800::${hex(m)} u32 ` +
    `match ip dst ${k.dst}/32 match ip protocol ${k.proto} 0xff ` +
    `match ip sport ${k.sport} 0xffff match ip dport ${k.dport} 0xffff flowid 1:${hex(n)}`
  );
}

/** A tenant's class as installed. */
export interface TenantLimit {
  readonly tenant: string;
  /** the class minor */
  readonly n: number;
  /** after clamping to the link rate, bit/s */
  readonly rateBps: number;
  /** flows steered into it now */
  readonly steered: number;
}

interface Steered {
  readonly key: SteerKey;
  readonly m: number;
  tenant: string;
  /** live flowlet ids of the flow */
  readonly live: Set<string>;
  /** when the flow became idle (no live flowlet), ms; undefined while live */
  idleSinceMs: number | undefined;
}

/** The tenant classes and steered flows of one interface (no I/O: the caller writes the lines). */
export class TenantClasses {
  private readonly classes = new Map<string, { n: number; rateBps: number }>();
  private readonly steered = new Map<string, Steered>();

  constructor(
    readonly dev: string,
    readonly linkRateBps: number,
    private readonly numbers: LimitNumbers,
    private readonly opts: { readonly maxSteered?: number; readonly steerIdleMs?: number } = {},
  ) {}

  /** Whether `tenant` has a class. */
  has(tenant: string): boolean {
    return this.classes.has(tenant);
  }

  /**
   * Sets (a new class or `class change`) or removes (`null`: its filters, then its class) the limit of
   * `tenant`. `created`: the class is new (the caller steers the tenant's known flows into it).
   * `exhausted`: no number free (nothing written).
   */
  setLimit(tenant: string, rateBps: number | null): { lines: string[]; created: boolean; exhausted: boolean } {
    const old = this.classes.get(tenant);
    if (rateBps === null) {
      if (!old) return { lines: [], created: false, exhausted: false };
      const lines: string[] = [];
      for (const [ks, s] of this.steered) if (s.tenant === tenant) lines.push(...this.unsteer(ks, s));
      this.classes.delete(tenant);
      this.numbers.release(old.n);
      lines.push(classDelLine(this.dev, old.n));
      return { lines, created: false, exhausted: false };
    }
    const rate = Math.max(8, Math.round(Math.min(rateBps, this.linkRateBps)));
    if (old) {
      if (old.rateBps === rate) return { lines: [], created: false, exhausted: false };
      old.rateBps = rate;
      return { lines: [classLine('change', this.dev, old.n, rate)], created: false, exhausted: false };
    }
    const n = this.numbers.take();
    if (n === undefined) return { lines: [], created: false, exhausted: true };
    this.classes.set(tenant, { n, rateBps: rate });
    return { lines: [classLine('add', this.dev, n, rate)], created: true, exhausted: false };
  }

  /**
   * Steers flow `key` into `tenant`'s class (a no-op when it already is); `flowletId`: a live flowlet of the
   * flow (kept until {@link release}). `steered` false: the tenant has no class, or no number is free.
   */
  steer(tenant: string, key: SteerKey, nowMs: number, flowletId?: string): { lines: string[]; steered: boolean } {
    const cls = this.classes.get(tenant);
    if (!cls) return { lines: [], steered: false };
    const ks = steerKeyString(key);
    let s = this.steered.get(ks);
    const lines: string[] = [];
    if (s && s.tenant !== tenant) {
      // the flow changed tenant (a reused 5-tuple): re-point its filter
      lines.push(filterDelLine(this.dev, s.m), steerFilterLine(this.dev, s.m, key, cls.n));
      s.tenant = tenant;
    }
    if (!s) {
      if (this.steered.size >= (this.opts.maxSteered ?? DEFAULT_MAX_STEERED)) lines.push(...this.evictIdle());
      const m = this.steered.size < (this.opts.maxSteered ?? DEFAULT_MAX_STEERED) ? this.numbers.take() : undefined;
      if (m === undefined) return { lines, steered: false };
      s = { key, m, tenant, live: new Set(), idleSinceMs: nowMs };
      this.steered.set(ks, s);
      lines.push(steerFilterLine(this.dev, m, key, cls.n));
    }
    if (flowletId !== undefined) {
      s.live.add(flowletId);
      s.idleSinceMs = undefined;
    } else if (s.live.size === 0) s.idleSinceMs = nowMs; // declared again: about to be used
    return { lines, steered: true };
  }

  /** The tenant flow `key` is steered to, if any. */
  tenantOf(key: SteerKey): string | undefined {
    return this.steered.get(steerKeyString(key))?.tenant;
  }

  /** Flowlet `flowletId` of flow `key` ended: the flow's filter idles from `nowMs` once no flowlet of it lives. */
  release(key: SteerKey, flowletId: string, nowMs: number): void {
    const s = this.steered.get(steerKeyString(key));
    if (!s || !s.live.delete(flowletId)) return;
    if (s.live.size === 0) s.idleSinceMs = nowMs;
  }

  /** Removes the filters of flows idle for `steerIdleMs` at `nowMs`. */
  sweep(nowMs: number): string[] {
    const idleMs = this.opts.steerIdleMs ?? DEFAULT_STEER_IDLE_MS;
    const lines: string[] = [];
    for (const [ks, s] of this.steered) {
      if (s.idleSinceMs !== undefined && nowMs - s.idleSinceMs >= idleMs) lines.push(...this.unsteer(ks, s));
    }
    return lines;
  }

  /** Tenants with a class and no live steered flow (dropped when the controller is back: it re-pushes the live ones). */
  idleTenants(): string[] {
    const live = new Set<string>();
    for (const s of this.steered.values()) if (s.live.size > 0) live.add(s.tenant);
    return [...this.classes.keys()].filter((t) => !live.has(t));
  }

  /** Removes every filter and class. */
  clearAll(): string[] {
    return [...this.classes.keys()].flatMap((t) => this.setLimit(t, null).lines);
  }

  /** Every tenant class with its rate and steered flows. */
  limits(): TenantLimit[] {
    const count = new Map<string, number>();
    for (const s of this.steered.values()) count.set(s.tenant, (count.get(s.tenant) ?? 0) + 1);
    return [...this.classes].map(([tenant, c]) => ({ tenant, n: c.n, rateBps: c.rateBps, steered: count.get(tenant) ?? 0 }));
  }

  private unsteer(ks: string, s: Steered): string[] {
    this.steered.delete(ks);
    this.numbers.release(s.m);
    return [filterDelLine(this.dev, s.m)];
  }

  /** Drops the flow idle the longest (to make room); [] when none is idle. */
  private evictIdle(): string[] {
    let oldest: [string, Steered] | undefined;
    for (const e of this.steered) {
      if (e[1].idleSinceMs !== undefined && (!oldest || e[1].idleSinceMs < oldest[1].idleSinceMs!)) oldest = e;
    }
    return oldest ? this.unsteer(oldest[0], oldest[1]) : [];
  }
}
