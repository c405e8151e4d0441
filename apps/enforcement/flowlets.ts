/**
 * The enforcement core's record of host agents and their flowlets (pure): who is registered, each
 * flowlet's lifecycle fields (small → pending-path → allocated, why it is pending, its adoption back-off,
 * what was pushed and confirmed), and the ended flowlets kept for the API — the last `keep` of them, so
 * a late acknowledgement or meter confirmation still counts. Flowlets are keyed `<agentId>/<id>`; the
 * map keeps their arrival order (the order runs, effects and views follow).
 *
 * Placement on paths is allocation.ts's, meters are meter-book.ts's; this file only keeps the records.
 */
import type { FiveTuple, FlowletStart } from '../../protocol/agent.js';
import { flowKeyString, IPPROTO_TCP, IPPROTO_UDP } from '../routing/flow-key.js';
import type { FlowKey } from '../routing/types.js';
import type { ResolvedPath } from './paths.js';
import { Ring } from './stats.js';
import type { Tenants } from './tenants.js';
import type { FlowletState, FlowletView, Now, PendingReason } from './types.js';

/** Ended flowlets (and reaction samples) kept for the API when the settings do not say. */
export const DEFAULT_KEEP = 1000;

/** Why a flowlet left the table: `ended` by its agent, `expired` (agent gone), `resync` (not in the agent's hello). */
export type EndReason = 'ended' | 'expired' | 'resync';

/** Where the core reports what is worth a log line (the shell logs it). */
export type CoreNotify = (level: 'debug' | 'info' | 'warn', event: string, fields: Record<string, unknown>) => void;

/** One active flowlet. Rates bit/s, sizes bytes, `…EpochUs` µs since the epoch, `…Ms` injected-clock ms. */
export interface Flowlet {
  readonly key: string;
  readonly agentId: string;
  readonly id: string;
  readonly flow: FiveTuple;
  readonly flowKey: FlowKey;
  readonly tenant: string | null;
  readonly weight: number;
  readonly tenantIndex: number;
  /** the agent declared the tenant (local API), so it can steer the flow into the tenant's host class */
  readonly tenantDeclared: boolean;
  readonly sizeBytes?: number;
  readonly deadlineMs?: number;
  readonly transferId?: string;
  readonly firstPacketEpochUs: number;
  readonly reportedEpochUs: number;
  bytes: number;
  last: { bytes: number; atEpochUs: number };
  measuredBps?: number;
  state: FlowletState;
  pendingSinceMs?: number;
  /** why it is not allocated (undefined once allocated) */
  pending?: { reason: PendingReason; detail: string | null; sinceMs: number };
  /** reading its path from the switches (adoption.ts) */
  adoption: { inFlight: boolean; failures: number; nextMs: number; repinRequested: boolean; loggedReason?: string };
  /** its slot handle in the allocator's FlowletTable (-1: not in it) */
  handle: number;
  path?: ResolvedPath;
  allocatedBps?: number;
  /** what it may borrow up to at its host (work-conserving enforcement), bit/s; undefined: its rate */
  ceilBps?: number;
  agentBps?: number;
  /** the ceiling last pushed to its agent with agentBps, bit/s (undefined: none, a hard limit) */
  agentCeilBps?: number;
  /** its tenant's limit at its host when the agent shapes the tenant as one class (tenant-limits.ts), bit/s */
  tenantHostBps?: number;
  /** the priority class (DSCP) last pushed to its agent (fca priority enforcement) */
  agentDscp?: number;
  allocatedEpochUs?: number;
  /** when the agent's rate was last changed (ms), and updates counted for this flowlet */
  agentPushedMs?: number;
  agentUpdates: number;
  meterUpdates: number;
  agentEnforcedEpochUs?: number;
  meterEnforcedEpochUs?: number;
  meterKey?: string;
}

/** One registered (or vanished, not yet expired) agent. */
export interface Agent {
  readonly id: string;
  hostname: string;
  iface: string;
  ipv4: readonly string[];
  connected: boolean;
  sinceMs: number;
  lastSeenMs: number;
  goneAtMs?: number;
  readonly flowlets: Set<string>;
  seq: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class FlowletRegistry {
  readonly agents = new Map<string, Agent>();
  readonly flowlets = new Map<string, Flowlet>();
  private readonly endedRing: Ring<FlowletView>;
  /** the ended views by flowlet key (late acknowledgements and meter confirmations still count) */
  private readonly ended = new Map<string, Mutable<FlowletView>>();
  private readonly warnedTenants = new Set<string>();

  constructor(
    private readonly tenants: Tenants,
    private readonly smallFlowletBytes: number,
    keep: number,
    private readonly notify: CoreNotify,
  ) {
    this.endedRing = new Ring(keep);
  }

  /** A new flowlet of agent `a` (its tenant and weight chosen now; an unknown declared tenant is warned once). */
  start(a: Agent, s: FlowletStart, now: Now): Flowlet {
    const choice = this.tenants.choose(s.tenant, s.flow.src);
    if (choice.unknownDeclared !== undefined && !this.warnedTenants.has(choice.unknownDeclared)) {
      this.warnedTenants.add(choice.unknownDeclared);
      this.notify('warn', 'unknown_tenant', { tenant: choice.unknownDeclared, agentId: a.id, weight: 1 });
    }
    const f: Flowlet = {
      key: flowletKey(a.id, s.id), agentId: a.id, id: s.id, flow: s.flow, flowKey: flowKeyOfTuple(s.flow),
      tenant: choice.tenant, weight: choice.weight, tenantIndex: choice.index, tenantDeclared: s.tenant !== undefined,
      ...(s.sizeBytes !== undefined ? { sizeBytes: s.sizeBytes } : {}),
      ...(s.deadlineMs !== undefined ? { deadlineMs: s.deadlineMs } : {}),
      ...(s.transferId !== undefined ? { transferId: s.transferId } : {}),
      firstPacketEpochUs: s.firstPacketEpochUs, reportedEpochUs: now.epochUs,
      bytes: s.bytes, last: { bytes: s.bytes, atEpochUs: s.firstPacketEpochUs },
      state: 'small', handle: -1, agentUpdates: 0, meterUpdates: 0,
      adoption: { inFlight: false, failures: 0, nextMs: 0, repinRequested: false },
    };
    this.flowlets.set(f.key, f);
    a.flowlets.add(f.key);
    return f;
  }

  /** Bytes sent by `atEpochUs`: the measured rate from the previous report, and the byte count. */
  progress(f: Flowlet, bytes: number, atEpochUs: number): void {
    const dt = atEpochUs - f.last.atEpochUs;
    if (dt > 0 && bytes >= f.last.bytes) {
      f.measuredBps = ((bytes - f.last.bytes) * 8) / (dt / 1e6);
      f.last = { bytes, atEpochUs };
    }
    f.bytes = Math.max(f.bytes, bytes);
  }

  /** Whether `f` is at or above `smallFlowletBytes` (declared size or bytes sent): allocated (FCA §4.4). */
  large(f: Flowlet): boolean {
    const min = this.smallFlowletBytes;
    return (f.sizeBytes ?? 0) >= min || f.bytes >= min;
  }

  /** Drops `f` from the active set; `view` (its last view) is kept among the ended ones. */
  end(f: Flowlet, view: FlowletView, reason: EndReason, endedEpochUs: number): void {
    this.flowlets.delete(f.key);
    this.agents.get(f.agentId)?.flowlets.delete(f.key);
    const v: Mutable<FlowletView> = { ...view, endReason: reason, endedEpochUs };
    this.endedRing.push(v);
    this.ended.set(f.key, v);
    if (this.ended.size > this.endedRing.capacity) this.ended.delete(this.ended.keys().next().value!);
  }

  /**
   * The agent (`agent`) or the meter (`meter`) enforced flowlet `key` at `atEpochUs`: recorded on the
   * active flowlet, or on its ended view when the confirmation came after its end — the first one only.
   * @returns first packet → enforced, µs, when this is the first confirmation; undefined otherwise
   */
  enforced(key: string, by: 'agent' | 'meter', atEpochUs: number): number | undefined {
    const field = by === 'agent' ? 'agentEnforcedEpochUs' : 'meterEnforcedEpochUs';
    const f = this.flowlets.get(key);
    if (f) {
      if (f[field] !== undefined) return undefined;
      f[field] = atEpochUs;
      return atEpochUs - f.firstPacketEpochUs;
    }
    const v = this.ended.get(key);
    if (!v || v[field] !== null) return undefined;
    v[field] = atEpochUs;
    v.reactionUs = { ...v.reactionUs, [by]: atEpochUs - v.firstPacketEpochUs };
    return atEpochUs - v.firstPacketEpochUs;
  }

  /** The ended flowlets kept, oldest first. */
  endedViews(): FlowletView[] {
    return this.endedRing.toArray();
  }
}

/** Records why `f` is not allocated (the time is kept while the reason stays the same). */
export function setPending(f: Flowlet, reason: PendingReason, detail: string | null, nowMs: number): void {
  if (f.pending?.reason === reason && f.pending.detail === detail) return;
  f.pending = { reason, detail, sinceMs: f.pending?.reason === reason ? f.pending.sinceMs : nowMs };
}

/** The key of flowlet `id` of agent `agentId`. */
export function flowletKey(agentId: string, id: string): string {
  return `${agentId}/${id}`;
}

export function sameTuple(a: FiveTuple, b: FiveTuple): boolean {
  return a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport;
}

/** The flow key routing uses for a 5-tuple (ports only for TCP and UDP). */
export function flowKeyOfTuple(t: FiveTuple): FlowKey {
  const base = { ipv4Src: t.src, ipv4Dst: t.dst, ipProto: t.proto };
  return t.proto === IPPROTO_TCP || t.proto === IPPROTO_UDP ? { ...base, srcPort: t.sport, dstPort: t.dport } : base;
}

/** The flow key string of a 5-tuple (routing's key form). */
export function tupleKeyString(t: FiveTuple): string {
  return flowKeyString(flowKeyOfTuple(t));
}
