/**
 * The enforcement core (the controller side of live allocation; a pure core, ARCHITECTURE.md
 * "Principles": no sockets, no timers, time passed in). Host agents' messages go in ({@link hello},
 * {@link events}, {@link agentGone}); {@link run} places
 * flowlets on their paths in one long-lived FlowletTable, runs the configured allocator policy
 * (warm-started: the table and the policy live as long as the core), and returns the
 * {@link EnforcementEffect}s: rates for agents and meters for the ingress leaves, only where they matter:
 *
 * Damping (first rates and removals always go out):
 * - hysteresis, relative AND absolute: a pushed rate changes only when |new − pushed| exceeds both
 *   `rateChangeThreshold`·pushed and `rateChangeMinBps`;
 * - at most one change per flowlet (per meter) every `minUpdateIntervalMs`;
 * - {@link events} says whether the batch changed the allocation problem (a flowlet that became large,
 *   an allocated flowlet's end): the shell runs the allocator at flowlet starts and ends, not at every
 *   progress report (and periodically);
 * - a meter polices at the rate plus its margin (mode `both`), so it changes only when the rate moved
 *   beyond max(`rateChangeThreshold`, `meterMarginFraction`), or when it would police below the rate;
 * - a flowlet's end sends no clear: the agent removed its limit itself when it ended the flowlet.
 * Updates are counted per flowlet (`updatesPerFlowlet` in {@link allocatorView}).
 *
 * Flowlets are keyed by (agentId, flowlet id). One is `small` until its declared size or its bytes sent
 * reach `smallFlowletBytes` (FCA §4.4: not allocated, it rides the top priority), then `pending-path`
 * until routing has a route for its flow key (retried on every run), then `allocated`. A flowlet pending
 * for `adoptAfterMs` once discovery has settled is stranded — after a controller restart its packets hit
 * the last run's entries and never reach routing — so the shell reads its path from the switches
 * ({@link adoptionDue}, {@link adoptionResult}), retried with back-off; after
 * {@link REPIN_AFTER_FAILURES} failed reads the stale entries are removed so that routing pins the flow
 * afresh at its next packet. Every pending flowlet carries why it is not allocated ({@link PendingReason}). Its weight comes from its tenant
 * (tenants.ts). An agent that disconnects keeps its flowlets for `expiryMs`; its hello (reconnect)
 * replaces its flowlet set and has every rate pushed again.
 *
 * Modes: `agents` → rates only; `meters` → meters only; `both` → the agent gets r and the meter
 * r·(1 + meterMarginFraction) (agents shape, meters police above).
 */
import type { EventsMsg, FiveTuple, FlowletStart, HelloMsg, RatesMsg } from '../../protocol/agent.js';
import type { Action } from '../../openflow/codec/index.js';
import { createPolicy, type Policy } from '../allocator/policy.js';
import { FlowletTable } from '../allocator/table.js';
import { flowKeyString, IPPROTO_TCP, IPPROTO_UDP } from '../routing/flow-key.js';
import type { FlowKey, RouteInfo } from '../routing/types.js';
import type { TopologyView } from '../../topology/types.js';
import { LinkRegistry } from './links.js';
import { planMeters, type DesiredMeter } from './meter-plan.js';
import { ingressActions, resolvePath, routeHops, routeSig, type Hop, type ResolvedPath } from './paths.js';
import { EventRate, Ring, Samples } from './stats.js';
import { Tenants } from './tenants.js';
import type {
  AgentView, AllocatorView, EnforcementEffect, EnforcementSettings, FlowletState, FlowletView, Now, PendingReason,
} from './types.js';
import { PENDING_REASONS } from './types.js';

/** A failed meter is set again after this long, ms. */
export const METER_RETRY_MS = 5000;
/** A flowlet pending this long once discovery has settled is read from the switches, ms. */
export const DEFAULT_ADOPT_AFTER_MS = 500;
/** Back-off between reads of one flowlet's path: first retry after this, doubling, ms. */
export const ADOPT_RETRY_MS = 250;
/** Longest back-off between reads, ms. */
export const ADOPT_RETRY_MAX_MS = 2000;
/** Failed reads after which the last run's entries of the flow are removed (routing then pins it afresh). */
export const REPIN_AFTER_FAILURES = 2;
const DEFAULT_KEEP = 1000;
/** Longest path the table accepts (host uplink + 8 switch hops, with room). */
const MAX_LINKS = 12;

/** Where the core reports what is worth a log line (the shell logs it). */
export type CoreNotify = (level: 'debug' | 'info' | 'warn', event: string, fields: Record<string, unknown>) => void;

interface Flowlet {
  readonly key: string;
  readonly agentId: string;
  readonly id: string;
  readonly flow: FiveTuple;
  readonly flowKey: FlowKey;
  readonly tenant: string | null;
  readonly weight: number;
  readonly tenantIndex: number;
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
  /** reading its path from the switches */
  adoption: { inFlight: boolean; failures: number; nextMs: number; repinRequested: boolean; loggedReason?: string };
  handle: number;
  path?: ResolvedPath;
  allocatedBps?: number;
  agentBps?: number;
  allocatedEpochUs?: number;
  /** when the agent's rate was last changed (ms), and updates counted for this flowlet */
  agentPushedMs?: number;
  agentUpdates: number;
  meterUpdates: number;
  agentEnforcedEpochUs?: number;
  meterEnforcedEpochUs?: number;
  meterKey?: string;
}

interface Agent {
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

interface InstalledMeter {
  readonly dpid: bigint;
  rateBps: number;
  sig: string;
  failedAtMs?: number;
  setAtMs: number;
  /** flowlet keys it covered when last set (its removal counts for them) */
  flowlets: readonly string[];
}

/**
 * What the shell does for a stranded flowlet: `read` its path from the switches (then
 * {@link EnforcementCore.adoptionResult}), or `repin`: remove the last run's entries of its flow so that
 * routing pins it afresh (then {@link EnforcementCore.repinResult}).
 */
export interface AdoptionRequest {
  readonly action: 'read' | 'repin';
  readonly key: string;
  readonly flow: FiveTuple;
  readonly flowKey: FlowKey;
}

/** The flow key routing uses for a 5-tuple (ports only for TCP and UDP). */
export function flowKeyOfTuple(t: FiveTuple): FlowKey {
  const base = { ipv4Src: t.src, ipv4Dst: t.dst, ipProto: t.proto };
  return t.proto === IPPROTO_TCP || t.proto === IPPROTO_UDP ? { ...base, srcPort: t.sport, dstPort: t.dport } : base;
}

export class EnforcementCore {
  readonly settings: EnforcementSettings;
  readonly links: LinkRegistry;
  readonly table: FlowletTable;
  readonly policy: Policy;
  private readonly tenants: Tenants;
  private readonly agents = new Map<string, Agent>();
  private readonly flowlets = new Map<string, Flowlet>();
  private readonly clears = new Map<string, string[]>();
  private readonly installed = new Map<string, InstalledMeter>();
  private readonly meterIds = new Map<string, number>();
  private readonly meterMeasured = new Map<string, number>();
  private readonly transfers = new Map<string, number>();
  private readonly warnedTenants = new Set<string>();
  private readonly endedRing: Ring<FlowletView>;
  /** the ended views by flowlet key (late acknowledgements and meter confirmations still count) */
  private readonly ended = new Map<string, Mutable<FlowletView>>();
  private readonly agentReaction: Samples;
  private readonly meterReaction: Samples;
  private readonly reportLatency: Samples;
  private readonly perFlowlet = { ended: 0, endedAllocated: 0, agentAllocated: 0, meterAllocated: 0, agentAll: 0, meterAll: 0 };
  private readonly eventRate = new EventRate(10);
  private loads = new Float64Array(0);
  private runs = 0;
  private lastRunAtMs: number | null = null;
  private lastRunDurationUs: number | null = null;
  private readonly updates = { agents: 0, meters: 0 };

  constructor(
    settings: EnforcementSettings,
    private readonly topology: TopologyView,
    private readonly route: (key: FlowKey) => RouteInfo | undefined,
    private readonly notify: CoreNotify = () => {},
  ) {
    this.settings = settings;
    this.tenants = new Tenants(settings.tenants);
    this.links = new LinkRegistry(topology, settings.capacity);
    this.table = new FlowletTable(this.links.fabric, { maxHops: MAX_LINKS });
    this.policy = createPolicy(settings.policy, this.table, { iterations: settings.iterationsPerRun });
    const keep = settings.keep ?? DEFAULT_KEEP;
    this.endedRing = new Ring(keep);
    this.agentReaction = new Samples(keep);
    this.meterReaction = new Samples(keep);
    this.reportLatency = new Samples(keep);
  }

  /* ------------------------------------------------------------ agent events */

  /** An agent registered (or re-registered): its flowlet set becomes `msg.active`; every rate is pushed again. */
  hello(msg: HelloMsg, now: Now): void {
    let a = this.agents.get(msg.agentId);
    if (!a) {
      a = { id: msg.agentId, hostname: msg.hostname, iface: msg.interface, ipv4: msg.ipv4, connected: true, sinceMs: now.ms, lastSeenMs: now.ms, flowlets: new Set(), seq: 0 };
      this.agents.set(a.id, a);
    }
    Object.assign(a, { hostname: msg.hostname, iface: msg.interface, ipv4: [...msg.ipv4], connected: true, sinceMs: now.ms, lastSeenMs: now.ms });
    a.goneAtMs = undefined;
    this.clears.delete(a.id);
    const active = new Set(msg.active.map((s) => s.id));
    for (const key of [...a.flowlets]) {
      const f = this.flowlets.get(key)!;
      if (!active.has(f.id)) this.remove(f, 'resync', now.epochUs);
    }
    for (const s of msg.active) {
      const f = this.flowlets.get(flowletKey(a.id, s.id));
      if (f && sameTuple(f.flow, s.flow)) {
        f.bytes = Math.max(f.bytes, s.bytes);
        f.agentBps = undefined;
      } else {
        if (f) this.remove(f, 'resync', now.epochUs);
        this.start(a, s, now);
      }
    }
    this.eventRate.add(1 + msg.active.length, now.ms);
    this.notify('info', 'agent_registered', { agentId: a.id, hostname: a.hostname, ipv4: a.ipv4, flowlets: msg.active.length });
  }

  /**
   * A batch of flowlet events from a registered agent (unknown agents and flowlets are ignored).
   * @returns true when the batch changed the allocation problem — a flowlet started large or became large,
   *   an allocated (or rate-limited) flowlet ended — so the allocator should run now; progress that only
   *   updates bytes, small flowlets and acknowledgements wait for the periodic run
   */
  events(agentId: string, msg: EventsMsg, now: Now): boolean {
    const a = this.agents.get(agentId);
    if (!a) return false;
    a.lastSeenMs = now.ms;
    let changed = false;
    for (const s of msg.starts) {
      const old = this.flowlets.get(flowletKey(agentId, s.id));
      if (old) this.remove(old, 'resync', now.epochUs);
      const f = this.start(a, s, now);
      this.reportLatency.add(now.epochUs - s.firstPacketEpochUs);
      if (this.large(f)) changed = true;
    }
    for (const p of msg.progress) {
      const f = this.flowlets.get(flowletKey(agentId, p.id));
      if (!f) continue;
      const was = f.state !== 'small' || this.large(f);
      this.progress(f, p.bytes, p.atEpochUs);
      if (!was && this.large(f)) changed = true;
    }
    for (const e of msg.enforced) {
      if (e.rateBps === null) continue;
      const key = flowletKey(agentId, e.id);
      const f = this.flowlets.get(key);
      if (f) {
        if (f.agentEnforcedEpochUs !== undefined) continue;
        f.agentEnforcedEpochUs = e.atEpochUs;
        this.agentReaction.add(e.atEpochUs - f.firstPacketEpochUs);
        continue;
      }
      const v = this.ended.get(key); // the acknowledgement came after the end
      if (!v || v.agentEnforcedEpochUs !== null) continue;
      v.agentEnforcedEpochUs = e.atEpochUs;
      v.reactionUs = { ...v.reactionUs, agent: e.atEpochUs - v.firstPacketEpochUs };
      this.agentReaction.add(e.atEpochUs - v.firstPacketEpochUs);
    }
    for (const e of msg.ends) {
      const f = this.flowlets.get(flowletKey(agentId, e.id));
      if (!f) continue;
      f.bytes = Math.max(f.bytes, e.bytes);
      if (f.state !== 'small' || f.agentBps !== undefined || this.large(f)) changed = true;
      // no clear: the agent removed the limit itself when it ended the flowlet
      this.remove(f, 'ended', e.lastPacketEpochUs);
    }
    this.eventRate.add(msg.starts.length + msg.progress.length + msg.ends.length + msg.enforced.length, now.ms);
    return changed;
  }

  /** Any message (a ping) from the agent: it is alive. */
  seen(agentId: string, now: Now): void {
    const a = this.agents.get(agentId);
    if (a) a.lastSeenMs = now.ms;
  }

  /** The agent's channel closed: its flowlets expire after `expiryMs` unless it says hello again. */
  agentGone(agentId: string, now: Now): void {
    const a = this.agents.get(agentId);
    if (!a || !a.connected) return;
    a.connected = false;
    a.goneAtMs = now.ms;
    this.clears.delete(agentId);
    this.eventRate.add(1, now.ms);
    this.notify('info', 'agent_gone', { agentId, flowlets: a.flowlets.size, expiresInMs: this.settings.expiryMs });
  }

  /* ------------------------------------------------------------ the allocation run */

  /** Expiry, capacities, paths, the policy, then the effects of what changed. */
  run(now: Now): EnforcementEffect[] {
    this.expire(now);
    if (this.links.refresh()) this.table.refreshRateCaps();
    for (const f of this.flowlets.values()) this.place(f, now);
    const out: EnforcementEffect[] = [];
    if (this.settings.mode === 'mark') { // priority marking only (Karuna/PIAS without rates): nothing to allocate or push
      this.runs++;
      this.lastRunAtMs = now.ms;
      return out;
    }
    this.allocate(now);
    if (this.settings.mode !== 'meters') this.agentEffects(out, now);
    else this.clears.clear();
    if (this.settings.mode !== 'agents') this.meterEffects(out, now);
    this.runs++;
    this.lastRunAtMs = now.ms;
    return out;
  }

  /** The shell timed the last run. */
  noteRunDuration(us: number): void {
    this.lastRunDurationUs = us;
  }

  /* ------------------------------------------------------------ meter reports */

  /** MeterEnforcer.set of `key` resolved at `atEpochUs`: the flowlets it covers are enforced at the meter. */
  meterInstalled(key: string, flowlets: readonly string[], atEpochUs: number): void {
    const m = this.installed.get(key);
    if (m) m.failedAtMs = undefined;
    for (const fk of flowlets) {
      const f = this.flowlets.get(fk);
      if (f) {
        if (f.meterEnforcedEpochUs !== undefined) continue;
        f.meterEnforcedEpochUs = atEpochUs;
        this.meterReaction.add(atEpochUs - f.firstPacketEpochUs);
        continue;
      }
      const v = this.ended.get(fk); // confirmed after the flowlet ended
      if (!v || v.meterEnforcedEpochUs !== null) continue;
      v.meterEnforcedEpochUs = atEpochUs;
      v.reactionUs = { ...v.reactionUs, meter: atEpochUs - v.firstPacketEpochUs };
      this.meterReaction.add(atEpochUs - v.firstPacketEpochUs);
    }
  }

  /** MeterEnforcer.set of `key` failed: set again after METER_RETRY_MS. */
  meterFailed(key: string, nowMs: number): void {
    const m = this.installed.get(key);
    if (m) m.failedAtMs = nowMs;
  }

  /** A switch went down or came up again (its meters were forgotten): the next run sets them anew. */
  forgetMetersOn(dpid: bigint): void {
    for (const [key, m] of this.installed) if (m.dpid === dpid) this.installed.delete(key);
  }

  /** Meter ids and measured rates (MeterEnforcer.list()). */
  meterStats(infos: readonly { readonly key: string; readonly meterId: number; readonly stats?: { readonly measuredBps: number } }[]): void {
    this.meterIds.clear();
    for (const i of infos) {
      this.meterIds.set(i.key, i.meterId);
      if (i.stats) this.meterMeasured.set(i.key, i.stats.measuredBps);
    }
  }

  /* ------------------------------------------------------------ adoption (controller restart) */

  /**
   * Stranded flowlets to resolve now: pending without any route of routing's for `adoptAfterMs` while
   * discovery has settled (before that, a path read from the switches cannot be trusted: every port looks
   * like an edge port), not being read already, and past their back-off. Each is marked in flight until
   * {@link adoptionResult} / {@link repinResult}.
   */
  adoptionDue(nowMs: number): AdoptionRequest[] {
    if (!this.topology.ready()) return [];
    const after = this.settings.adoptAfterMs ?? DEFAULT_ADOPT_AFTER_MS;
    const out: AdoptionRequest[] = [];
    for (const f of this.flowlets.values()) {
      if (f.state !== 'pending-path' || f.pendingSinceMs === undefined || nowMs - f.pendingSinceMs < after) continue;
      if (f.adoption.inFlight || nowMs < f.adoption.nextMs || this.route(f.flowKey) !== undefined) continue;
      f.adoption.inFlight = true;
      const repin = f.adoption.failures >= REPIN_AFTER_FAILURES && !f.adoption.repinRequested;
      if (!repin) this.setPending(f, 'adopting', null, nowMs);
      out.push({ action: repin ? 'repin' : 'read', key: f.key, flow: f.flow, flowKey: f.flowKey });
    }
    return out;
  }

  /**
   * The outcome of a `read` request: the path (adopted and allocated at the next run) or why not (the
   * flowlet is read again after a back-off of {@link ADOPT_RETRY_MS} doubling up to
   * {@link ADOPT_RETRY_MAX_MS}; the first failure of each reason is logged). True when adopted.
   */
  adoptionResult(key: string, result: { ok: true; hops: readonly Hop[]; actions: readonly Action[] } | { ok: false; reason: string }, now: Now): boolean {
    const f = this.flowlets.get(key);
    if (!f) return false;
    f.adoption.inFlight = false;
    if (result.ok) return this.adopt(key, result.hops, result.actions, now);
    if (f.state !== 'pending-path') return false;
    const a = f.adoption;
    a.failures++;
    a.nextMs = now.ms + Math.min(ADOPT_RETRY_MAX_MS, ADOPT_RETRY_MS * 2 ** (a.failures - 1));
    this.setPending(f, 'adoption-failed', result.reason, now.ms);
    if (a.loggedReason !== result.reason) {
      a.loggedReason = result.reason;
      this.notify('warn', 'adoption_failed', { flowlet: key, reason: result.reason, failures: a.failures, retryInMs: a.nextMs - now.ms });
    }
    return false;
  }

  /** The outcome of a `repin` request: the flow waits for its next packet (or the removal failed: read again later). */
  repinResult(key: string, result: { ok: true; switches: number } | { ok: false; reason: string }, now: Now): void {
    const f = this.flowlets.get(key);
    if (!f) return;
    f.adoption.inFlight = false;
    if (f.state !== 'pending-path') return;
    if (!result.ok) {
      this.adoptionResult(key, { ok: false, reason: `removing the last run's entries failed: ${result.reason}` }, now);
      return;
    }
    f.adoption.repinRequested = true;
    f.adoption.nextMs = now.ms + ADOPT_RETRY_MAX_MS;
    this.setPending(f, 'repinning', `the last run's entries removed from ${result.switches} switches; routing pins the flow at its next packet`, now.ms);
    this.notify('info', 'flow_repin_requested', { flowlet: key, switches: result.switches });
  }

  /** The path read from the switches for a stranded flowlet (`actions`: its ingress entry's). */
  adopt(key: string, hops: readonly Hop[], actions: readonly Action[], now: Now): boolean {
    const f = this.flowlets.get(key);
    if (!f || f.state !== 'pending-path' || hops.length === 0) return false;
    const sig = `adopted:${hops.map((h) => `${h.dpid}:${h.inPort}>${h.outPort}`).join(',')}`;
    const ok = this.setPath(f, resolvePath(this.links, f.flow.src, this.srcAt(f), hops, actions, true, sig), now);
    if (ok) this.notify('info', 'path_adopted', { flowlet: key, hops: hops.length, afterFailures: f.adoption.failures });
    return ok;
  }

  /* ------------------------------------------------------------ read views */

  get activeFlowlets(): number {
    return this.flowlets.size;
  }

  flowletViews(): FlowletView[] {
    return [...this.flowlets.values()].map((f) => this.view(f));
  }

  /** Keys of the active flowlets (`agentId/id`), for paging without building every view. */
  flowletKeys(): string[] {
    return [...this.flowlets.keys()];
  }

  /** The view of one active flowlet by key (see {@link flowletKeys}). */
  flowletByKey(key: string): FlowletView | undefined {
    const f = this.flowlets.get(key);
    return f && this.view(f);
  }

  endedViews(): FlowletView[] {
    return this.endedRing.toArray();
  }

  /** One active flowlet by agent and id. */
  flowlet(agentId: string, id: string): FlowletView | undefined {
    const f = this.flowlets.get(flowletKey(agentId, id));
    return f && this.view(f);
  }

  allocatorView(nowMs: number): AllocatorView {
    const pf = this.perFlowlet;
    const counts = { small: 0, 'pending-path': 0, allocated: 0 };
    const pendingByReason = Object.fromEntries(PENDING_REASONS.map((r) => [r, 0])) as Record<PendingReason, number>;
    for (const f of this.flowlets.values()) {
      counts[f.state]++;
      if (f.state === 'pending-path' && f.pending) pendingByReason[f.pending.reason]++;
    }
    return {
      policy: this.settings.policy,
      mode: this.settings.mode,
      meterPer: this.settings.meterPer,
      iterations: this.policy.iterations,
      runs: this.runs,
      lastRunDurationUs: this.lastRunDurationUs,
      lastRunAtMs: this.lastRunAtMs,
      eventsPerSecond: this.eventRate.rate(nowMs),
      activeFlowlets: this.flowlets.size,
      allocatedFlowlets: counts.allocated,
      smallFlowlets: counts.small,
      pendingFlowlets: counts['pending-path'],
      pendingByReason,
      updatesSent: { ...this.updates },
      updatesPerFlowlet: {
        ended: pf.ended,
        endedAllocated: pf.endedAllocated,
        agentPerAllocated: pf.endedAllocated > 0 ? pf.agentAllocated / pf.endedAllocated : null,
        meterPerAllocated: pf.endedAllocated > 0 ? pf.meterAllocated / pf.endedAllocated : null,
        agentPerFlowlet: pf.ended > 0 ? pf.agentAll / pf.ended : null,
        meterPerFlowlet: pf.ended > 0 ? pf.meterAll / pf.ended : null,
      },
      reaction: { agent: this.agentReaction.summary(), meter: this.meterReaction.summary(), report: this.reportLatency.summary() },
    };
  }

  /** Samples kept, µs: first packet → enforced at the agent / at the meter, first packet → reported. */
  reactionSamples(): { agent: number[]; meter: number[]; report: number[] } {
    return { agent: this.agentReaction.values(), meter: this.meterReaction.values(), report: this.reportLatency.values() };
  }

  agentViews(): AgentView[] {
    return [...this.agents.values()].map((a) => ({
      id: a.id, hostname: a.hostname, interface: a.iface, ipv4: [...a.ipv4], connected: a.connected,
      sinceMs: a.sinceMs, lastSeenMs: a.lastSeenMs, flowlets: a.flowlets.size,
    }));
  }

  /** Allocated load per link id after the last run, bit/s (links crossed by no allocated flowlet: 0). */
  linkLoads(): Map<string, number> {
    const m = new Map<string, number>();
    const ids = this.links.fabric.ids;
    for (let l = 0; l < ids.length; l++) m.set(ids[l]!, this.loads[l] ?? 0);
    return m;
  }

  /* ------------------------------------------------------------ internals: flowlets */

  private start(a: Agent, s: FlowletStart, now: Now): Flowlet {
    const choice = this.tenants.choose(s.tenant, s.flow.src);
    if (choice.unknownDeclared !== undefined && !this.warnedTenants.has(choice.unknownDeclared)) {
      this.warnedTenants.add(choice.unknownDeclared);
      this.notify('warn', 'unknown_tenant', { tenant: choice.unknownDeclared, agentId: a.id, weight: 1 });
    }
    const f: Flowlet = {
      key: flowletKey(a.id, s.id), agentId: a.id, id: s.id, flow: s.flow, flowKey: flowKeyOfTuple(s.flow),
      tenant: choice.tenant, weight: choice.weight, tenantIndex: choice.index,
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

  private progress(f: Flowlet, bytes: number, atEpochUs: number): void {
    const dt = atEpochUs - f.last.atEpochUs;
    if (dt > 0 && bytes >= f.last.bytes) {
      f.measuredBps = ((bytes - f.last.bytes) * 8) / (dt / 1e6);
      f.last = { bytes, atEpochUs };
    }
    f.bytes = Math.max(f.bytes, bytes);
    if (f.handle >= 0 && f.sizeBytes !== undefined) this.table.setRemaining(f.handle, Math.max(0, f.sizeBytes - f.bytes) * 8);
  }

  private remove(f: Flowlet, reason: 'ended' | 'expired' | 'resync', endedEpochUs: number): void {
    if (reason !== 'resync') {
      const pf = this.perFlowlet;
      // the meter's removal (next run) counts for the flowlet it covered
      const ownMeter = this.settings.meterPer === 'flowlet' && f.meterKey !== undefined && this.installed.has(f.meterKey);
      const meterUpdates = f.meterUpdates + (ownMeter ? 1 : 0);
      pf.ended++;
      pf.agentAll += f.agentUpdates;
      pf.meterAll += meterUpdates;
      if (f.allocatedEpochUs !== undefined) {
        pf.endedAllocated++;
        pf.agentAllocated += f.agentUpdates;
        pf.meterAllocated += meterUpdates;
      }
    }
    if (f.handle >= 0) this.table.remove(f.handle);
    f.handle = -1;
    this.flowlets.delete(f.key);
    this.agents.get(f.agentId)?.flowlets.delete(f.key);
    const v: Mutable<FlowletView> = { ...this.view(f), endReason: reason, endedEpochUs };
    this.endedRing.push(v);
    this.ended.set(f.key, v);
    if (this.ended.size > this.endedRing.capacity) this.ended.delete(this.ended.keys().next().value!);
  }


  private expire(now: Now): void {
    for (const a of [...this.agents.values()]) {
      if (a.connected || a.goneAtMs === undefined || now.ms - a.goneAtMs < this.settings.expiryMs) continue;
      const n = a.flowlets.size;
      for (const key of [...a.flowlets]) this.remove(this.flowlets.get(key)!, 'expired', now.epochUs);
      this.agents.delete(a.id);
      this.notify('info', 'agent_expired', { agentId: a.id, flowlets: n });
    }
  }

  private large(f: Flowlet): boolean {
    const min = this.settings.smallFlowletBytes;
    return (f.sizeBytes ?? 0) >= min || f.bytes >= min;
  }

  /** Moves a flowlet on: small → pending-path → allocated, following route changes. */
  private place(f: Flowlet, now: Now): void {
    if (f.state === 'small') {
      if (!this.large(f)) return;
      f.state = 'pending-path';
      f.pendingSinceMs = now.ms;
    }
    const route = this.route(f.flowKey);
    if (!route || route.path.length === 0) {
      if (f.state !== 'pending-path') return;
      if (!this.topology.ready()) this.setPending(f, 'waiting-for-discovery', null, now.ms);
      else if (!f.pending || f.pending.reason === 'waiting-for-discovery' || f.pending.reason === 'route-not-installed') this.setPending(f, 'no-route', null, now.ms);
      return;
    }
    // not before routing's entries are confirmed: a meter is attached to the pinned ingress entry
    if (!route.installed) {
      if (f.state === 'pending-path') this.setPending(f, 'route-not-installed', null, now.ms);
      return;
    }
    const sig = routeSig(route);
    if (f.path && f.path.sig === sig) return;
    this.setPath(f, resolvePath(this.links, f.flow.src, this.srcAt(f), routeHops(route), ingressActions(route), false, sig), now);
  }

  private srcAt(f: Flowlet) {
    return this.topology.hostByIpv4(f.flow.src)?.attachment;
  }

  /** (Re)adds the flowlet to the table on `path`. False when the table refuses it (it stays pending). */
  private setPath(f: Flowlet, path: ResolvedPath, now: Now): boolean {
    if (f.handle >= 0) this.table.remove(f.handle);
    f.handle = -1;
    try {
      f.handle = this.table.add({
        path: path.links, weight: f.weight, tenant: f.tenantIndex,
        ...(f.sizeBytes !== undefined ? { sizeBits: f.sizeBytes * 8 } : {}),
        ...(f.transferId !== undefined ? { transfer: this.transferIndex(f.transferId) } : {}),
      });
    } catch (err) {
      f.state = 'pending-path';
      f.pendingSinceMs ??= now.ms;
      this.setPending(f, 'table-refused', (err as Error).message, now.ms);
      this.notify('warn', 'flowlet_not_allocated', { flowlet: f.key, err: (err as Error).message });
      return false;
    }
    if (f.sizeBytes !== undefined) this.table.setRemaining(f.handle, Math.max(0, f.sizeBytes - f.bytes) * 8);
    if (f.path && f.path.sig !== path.sig) this.notify('info', 'flowlet_path_changed', { flowlet: f.key, links: path.linkIds });
    f.path = path;
    f.state = 'allocated';
    f.pending = undefined;
    return true;
  }

  /** Records why `f` is not allocated (the time is kept while the reason stays the same). */
  private setPending(f: Flowlet, reason: PendingReason, detail: string | null, nowMs: number): void {
    if (f.pending?.reason === reason && f.pending.detail === detail) return;
    f.pending = { reason, detail, sinceMs: f.pending?.reason === reason ? f.pending.sinceMs : nowMs };
  }

  private transferIndex(id: string): number {
    let i = this.transfers.get(id);
    if (i === undefined) this.transfers.set(id, (i = this.transfers.size));
    return i;
  }

  /** Runs the policy and records each allocated flowlet's rate and the link loads. */
  private allocate(now: Now): void {
    this.loads = new Float64Array(this.links.fabric.size);
    if (this.table.size === 0) return;
    if ((this.settings.tenantWeightPer ?? 'tenant') === 'tenant') this.divideTenantWeights();
    const rates = this.policy.compute();
    for (const f of this.flowlets.values()) {
      if (f.state !== 'allocated' || f.handle < 0) continue;
      const r = rates[this.table.slotOf(f.handle)]!;
      f.allocatedBps = r;
      if (r > 0 && f.allocatedEpochUs === undefined) {
        f.allocatedEpochUs = now.epochUs;
        this.notify('debug', 'flowlet_allocated', { flowlet: f.key, rateBps: Math.round(r), links: f.path!.linkIds, tenant: f.tenant, weight: f.weight });
      }
      for (const l of f.path!.links) this.loads[l]! += r;
    }
  }

  /**
   * A tenant's weight divided equally among its allocated flowlets (BwE §4): with n flowlets of tenant t
   * on one bottleneck, each gets weight w_t ÷ n, so the tenant gets w_t ÷ Σ w of it. Flowlets of no tenant
   * keep their own weight. Only changed weights are written to the table.
   */
  private divideTenantWeights(): void {
    const counts = new Map<number, number>();
    for (const f of this.flowlets.values()) {
      if (f.state === 'allocated' && f.handle >= 0 && f.tenantIndex >= 0) counts.set(f.tenantIndex, (counts.get(f.tenantIndex) ?? 0) + 1);
    }
    if (counts.size === 0) return;
    for (const f of this.flowlets.values()) {
      if (f.state !== 'allocated' || f.handle < 0 || f.tenantIndex < 0) continue;
      const w = f.weight / counts.get(f.tenantIndex)!;
      if (this.table.weight[this.table.slotOf(f.handle)] !== w) this.table.setWeight(f.handle, w);
    }
  }

  /* ------------------------------------------------------------ internals: effects */

  /** Whether `r` should replace `pushed` (set at `pushedMs`): hysteresis, relative AND absolute, and the minimum interval. */
  private changed(pushed: number | undefined, r: number, pushedMs: number | undefined, nowMs: number, relative = this.settings.rateChangeThreshold): boolean {
    if (pushed === undefined) return true;
    const d = Math.abs(r - pushed);
    if (d <= relative * pushed || d <= (this.settings.rateChangeMinBps ?? 0)) return false;
    return pushedMs === undefined || nowMs - pushedMs >= (this.settings.minUpdateIntervalMs ?? 0);
  }

  private agentEffects(out: EnforcementEffect[], now: Now): void {
    const sets = new Map<string, RatesMsg['set'][number][]>();
    for (const f of this.flowlets.values()) {
      const r = f.allocatedBps;
      if (f.state !== 'allocated' || r === undefined || !(r > 0) || !Number.isFinite(r)) continue;
      if (!this.agents.get(f.agentId)?.connected || !this.changed(f.agentBps, r, f.agentPushedMs, now.ms)) continue;
      f.agentBps = r;
      f.agentPushedMs = now.ms;
      f.agentUpdates++;
      let list = sets.get(f.agentId);
      if (!list) sets.set(f.agentId, (list = []));
      list.push({ id: f.id, rateBps: Math.max(1, Math.round(r)) });
    }
    const agentIds = new Set([...sets.keys(), ...this.clears.keys()]);
    for (const id of agentIds) {
      const a = this.agents.get(id);
      const set = sets.get(id) ?? [];
      const clear = this.clears.get(id) ?? [];
      if (!a || !a.connected || set.length + clear.length === 0) continue;
      out.push({ kind: 'rates', agentId: id, msg: { type: 'rates', seq: a.seq++, set, clear } });
      this.updates.agents += set.length + clear.length;
    }
    this.clears.clear();
  }

  private meterEffects(out: EnforcementEffect[], now: Now): void {
    const desired = this.desiredMeters();
    for (const key of [...this.installed.keys()]) {
      if (desired.has(key)) continue;
      this.installed.delete(key);
      this.meterMeasured.delete(key);
      out.push({ kind: 'meterRemove', key });
      this.updates.meters++;
    }
    const margin = this.settings.mode === 'both' ? this.settings.meterMarginFraction : 0;
    const relative = Math.max(this.settings.rateChangeThreshold, margin);
    for (const [key, d] of desired) {
      for (const fk of d.flowlets) this.flowlets.get(fk)!.meterKey = key;
      const m = this.installed.get(key);
      if (m?.failedAtMs !== undefined && now.ms - m.failedAtMs < METER_RETRY_MS) continue;
      if (m && m.failedAtMs === undefined && m.sig === d.sig) {
        // within its margin the meter still passes the rate; policing below the rate itself, it must move
        if (margin > 0) {
          // mode both: the agents shape, the meter only polices above them — it moves when it would police
          // below the rate (an increase beyond the margin) or is loose by more than a second margin
          const tooTight = m.rateBps < d.spec.rateBps / (1 + margin);
          const tooLoose = m.rateBps > d.spec.rateBps * (1 + margin) && this.changed(m.rateBps / (1 + margin), d.spec.rateBps / (1 + margin), m.setAtMs, now.ms, relative);
          if (!tooTight && !tooLoose) continue;
        } else if (!this.changed(m.rateBps, d.spec.rateBps, m.setAtMs, now.ms, relative)) continue;
      }
      this.installed.set(key, { dpid: d.spec.dpid, rateBps: d.spec.rateBps, sig: d.sig, setAtMs: now.ms, flowlets: d.flowlets });
      for (const fk of d.flowlets) this.flowlets.get(fk)!.meterUpdates++;
      out.push({ kind: 'meterSet', target: d.spec, flowlets: d.flowlets });
      this.updates.meters++;
    }
  }

  /** The meters the current allocation wants, by key (meter-plan.ts); records each flowlet's meter key. */
  private desiredMeters(): Map<string, DesiredMeter> {
    const live: Flowlet[] = [];
    for (const f of this.flowlets.values()) {
      f.meterKey = undefined;
      if (f.state === 'allocated' && f.path && f.allocatedBps !== undefined && f.allocatedBps > 0 && Number.isFinite(f.allocatedBps)) live.push(f);
    }
    // mode both: the meter polices above what the agent was told (its pushed rate), not the allocator's latest
    const rateOf = (f: Flowlet): number => (this.settings.mode === 'both' && f.agentBps !== undefined ? f.agentBps : f.allocatedBps!);
    return planMeters(live.map((f) => ({ key: f.key, flow: f.flow, flowKey: f.flowKey, path: f.path!, allocatedBps: rateOf(f) })), this.settings);
  }

  private view(f: Flowlet): FlowletView {
    const meter = f.meterKey !== undefined ? this.installed.get(f.meterKey) : undefined;
    return {
      agentId: f.agentId, id: f.id, flow: f.flow, tenant: f.tenant, weight: f.weight, state: f.state,
      path: f.path ? { links: f.path.linkIds, hops: f.path.hops, adopted: f.path.adopted } : null,
      bytes: f.bytes, sizeBytes: f.sizeBytes ?? null, transferId: f.transferId ?? null, deadlineMs: f.deadlineMs ?? null,
      allocatedBps: f.state === 'allocated' ? (f.allocatedBps ?? null) : null,
      agentRateBps: f.agentBps ?? null,
      meterRateBps: meter?.rateBps ?? null,
      measuredBps: f.measuredBps ?? null,
      meterMeasuredBps: f.meterKey !== undefined ? (this.meterMeasured.get(f.meterKey) ?? null) : null,
      meterKey: f.meterKey ?? null,
      meterId: f.meterKey !== undefined ? (this.meterIds.get(f.meterKey) ?? null) : null,
      pathAdopted: f.path?.adopted ?? false,
      pending: f.state === 'allocated' ? null
        : f.state === 'small' ? { reason: 'small', detail: `under smallFlowletBytes (${this.settings.smallFlowletBytes} bytes): rides the top priority, not allocated`, sinceMs: null }
          : f.pending ? { ...f.pending } : { reason: 'no-route', detail: null, sinceMs: f.pendingSinceMs ?? null },
      firstPacketEpochUs: f.firstPacketEpochUs, reportedEpochUs: f.reportedEpochUs,
      allocatedEpochUs: f.allocatedEpochUs ?? null, agentEnforcedEpochUs: f.agentEnforcedEpochUs ?? null,
      meterEnforcedEpochUs: f.meterEnforcedEpochUs ?? null, endedEpochUs: null,
      reactionUs: {
        agent: f.agentEnforcedEpochUs !== undefined ? f.agentEnforcedEpochUs - f.firstPacketEpochUs : null,
        meter: f.meterEnforcedEpochUs !== undefined ? f.meterEnforcedEpochUs - f.firstPacketEpochUs : null,
      },
    };
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function flowletKey(agentId: string, id: string): string {
  return `${agentId}/${id}`;
}

function sameTuple(a: FiveTuple, b: FiveTuple): boolean {
  return a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport;
}

/** The flow key string of a 5-tuple (routing's key form). */
export function tupleKeyString(t: FiveTuple): string {
  return flowKeyString(flowKeyOfTuple(t));
}
