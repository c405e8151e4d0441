/**
 * The enforcement core (the controller side of live allocation; a pure core, ARCHITECTURE.md
 * "Principles": no sockets, no timers, time passed in). Host agents' messages go in ({@link hello},
 * {@link events}, {@link seen}, {@link agentGone}); {@link run} places flowlets on their paths and runs the
 * allocator (allocation.ts), then returns the {@link EnforcementEffect}s: rates for agents
 * (rate-effects.ts) and meters for the ingress leaves (meter-book.ts), only where they matter. This class
 * composes those parts and keeps the lifecycle of a flowlet; each part has its own file:
 * - flowlets.ts: the agents, the flowlets and the ended ones kept for the API;
 * - allocation.ts: the paths in the allocator's FlowletTable and the policy run;
 * - rate-effects.ts: the damping and the agents' `rates`;
 * - meter-book.ts: the meters set, failed, measured, and their effects;
 * - adoption.ts: stranded flowlets after a controller restart;
 * - counters.ts and views.ts: what GET /api/v1/flowlets, /allocator, /agents show.
 *
 * {@link events} says whether the batch changed the allocation problem (a flowlet that became large, an
 * allocated flowlet's end): the shell runs the allocator at flowlet starts and ends, not at every progress
 * report (and periodically). Updates are counted per flowlet (`updatesPerFlowlet` in {@link allocatorView}).
 *
 * Flowlets are keyed by (agentId, flowlet id). One is `small` until its declared size or its bytes sent
 * reach `smallFlowletBytes` (FCA §4.4: not allocated, it rides the top priority), then `pending-path`
 * until routing has a route for its flow key (retried on every run), then `allocated`. Every pending
 * flowlet carries why it is not allocated ({@link PendingReason}). Its weight comes from its tenant
 * (tenants.ts). An agent that disconnects keeps its flowlets for `expiryMs`; its hello (reconnect)
 * replaces its flowlet set and has every rate pushed again.
 *
 * Modes: `agents` → rates only; `meters` → meters only; `both` → the agent gets r and the meter
 * r·(1 + meterMarginFraction) (agents shape, meters police above); `mark` → nothing allocated or pushed.
 */
import type { EventsMsg, FlowletStart, HelloMsg } from '../../protocol/agent.js';
import type { Action } from '../../openflow/codec/index.js';
import type { Policy } from '../allocator/policy.js';
import type { FlowletTable } from '../allocator/table.js';
import type { FlowKey, RouteInfo } from '../routing/types.js';
import type { TopologyView } from '../../topology/types.js';
import { Adoption, type AdoptionRequest, type ReadOutcome, type RepinOutcome } from './adoption.js';
import { Allocation } from './allocation.js';
import { EnforcementCounters } from './counters.js';
import { fcaClassesOf } from './fca-classes.js';
import { DEFAULT_KEEP, FlowletRegistry, flowletKey, sameTuple, type Agent, type CoreNotify, type EndReason, type Flowlet } from './flowlets.js';
import type { LinkRegistry } from './links.js';
import { MeterBook } from './meter-book.js';
import type { Hop } from './paths.js';
import { agentRateEffects } from './rate-effects.js';
import { TenantLimitBook } from './tenant-limits.js';
import { Tenants } from './tenants.js';
import type { AgentView, AllocatorView, EnforcementEffect, EnforcementSettings, FlowletView, Now } from './types.js';
import { agentView, allocatorView, flowletView } from './views.js';

export { METER_RETRY_MS } from './meter-book.js';
export { ADOPT_RETRY_MAX_MS, ADOPT_RETRY_MS, DEFAULT_ADOPT_AFTER_MS, REPIN_AFTER_FAILURES, type AdoptionRequest } from './adoption.js';
export { flowKeyOfTuple, tupleKeyString, type CoreNotify } from './flowlets.js';

export class EnforcementCore {
  readonly settings: EnforcementSettings;
  private readonly registry: FlowletRegistry;
  private readonly allocation: Allocation;
  private readonly meters: MeterBook;
  private readonly adoption: Adoption;
  private readonly counters: EnforcementCounters;
  private readonly tenantLimits: TenantLimitBook;
  private readonly notify: CoreNotify;

  constructor(
    settings: EnforcementSettings,
    topology: TopologyView,
    route: (key: FlowKey) => RouteInfo | undefined,
    notify: CoreNotify = () => {},
  ) {
    this.settings = settings;
    const keep = settings.keep ?? DEFAULT_KEEP;
    this.registry = new FlowletRegistry(new Tenants(settings.tenants), settings.smallFlowletBytes, keep, notify);
    this.allocation = new Allocation(settings, topology, route, notify);
    this.meters = new MeterBook(settings);
    this.adoption = new Adoption(settings, topology, route, this.registry.flowlets, this.allocation, notify);
    this.counters = new EnforcementCounters(keep);
    this.tenantLimits = new TenantLimitBook(settings);
    this.notify = notify;
  }

  /** The allocator's links (ids, capacities). */
  get links(): LinkRegistry {
    return this.allocation.links;
  }

  /** The allocator's long-lived flowlet table. */
  get table(): FlowletTable {
    return this.allocation.table;
  }

  /** The allocation policy (warm-started across runs). */
  get policy(): Policy {
    return this.allocation.policy;
  }

  private get agents(): Map<string, Agent> {
    return this.registry.agents;
  }

  private get flowlets(): Map<string, Flowlet> {
    return this.registry.flowlets;
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
    this.tenantLimits.forget(a.id);
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
        f.agentCeilBps = undefined;
      } else {
        if (f) this.remove(f, 'resync', now.epochUs);
        this.start(a, s, now);
      }
    }
    this.counters.eventRate.add(1 + msg.active.length, now.ms);
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
    const r = this.registry;
    let changed = false;
    for (const s of msg.starts) {
      const old = this.flowlets.get(flowletKey(agentId, s.id));
      if (old) this.remove(old, 'resync', now.epochUs);
      const f = this.start(a, s, now);
      this.counters.reportLatency.add(now.epochUs - s.firstPacketEpochUs);
      if (r.large(f)) changed = true;
    }
    for (const p of msg.progress) {
      const f = this.flowlets.get(flowletKey(agentId, p.id));
      if (!f) continue;
      const was = f.state !== 'small' || r.large(f);
      r.progress(f, p.bytes, p.atEpochUs);
      this.allocation.noteProgress(f);
      if (!was && r.large(f)) changed = true;
    }
    for (const e of msg.enforced) {
      if (e.rateBps === null) continue;
      this.enforced(flowletKey(agentId, e.id), 'agent', e.atEpochUs);
    }
    for (const e of msg.ends) {
      const f = this.flowlets.get(flowletKey(agentId, e.id));
      if (!f) continue;
      f.bytes = Math.max(f.bytes, e.bytes);
      if (f.state !== 'small' || f.agentBps !== undefined || r.large(f)) changed = true;
      // no clear: the agent removed the limit itself when it ended the flowlet
      this.remove(f, 'ended', e.lastPacketEpochUs);
    }
    this.counters.eventRate.add(msg.starts.length + msg.progress.length + msg.ends.length + msg.enforced.length, now.ms);
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
    this.counters.eventRate.add(1, now.ms);
    this.notify('info', 'agent_gone', { agentId, flowlets: a.flowlets.size, expiresInMs: this.settings.expiryMs });
  }

  /* ------------------------------------------------------------ the allocation run */

  /** Expiry, capacities, paths, the policy, then the effects of what changed. */
  run(now: Now): EnforcementEffect[] {
    this.expire(now);
    this.allocation.refreshCapacities();
    for (const f of this.flowlets.values()) this.allocation.place(f, this.registry.large(f), now);
    const out: EnforcementEffect[] = [];
    if (this.settings.mode === 'mark') { // priority marking only (Karuna/PIAS without rates): nothing to allocate or push
      this.counters.ran(now.ms);
      return out;
    }
    this.allocation.allocate(this.flowlets, now);
    if (this.settings.mode !== 'meters') {
      this.counters.updates.agents += agentRateEffects(this.settings, this.flowlets.values(), this.agents, now.ms, out);
      if (this.settings.tenantLimits !== false) this.tenantEffects(now.ms, out);
    }
    for (const f of this.flowlets.values()) {
      f.tenantHostBps = this.settings.tenantLimits !== false && this.settings.mode !== 'meters' && f.tenantDeclared && f.tenant !== null
        ? this.tenantLimits.rateOf(f.agentId, f.tenant) : undefined;
    }
    // fca by priority classes: nothing to police (the order is enforced by the queues)
    if (this.settings.mode !== 'agents' && !fcaClassesOf(this.settings)) this.counters.updates.meters += this.meters.effects(this.flowlets, now.ms, out);
    this.counters.ran(now.ms);
    return out;
  }

  /** Per-tenant host limits (tenant-limits.ts) joined to each agent's `rates` of this run, or a message of their own. */
  private tenantEffects(nowMs: number, out: EnforcementEffect[]): void {
    for (const [agentId, tenants] of this.tenantLimits.decide(this.flowlets.values(), this.agents, nowMs)) {
      const i = out.findIndex((x) => x.kind === 'rates' && x.agentId === agentId);
      const e = out[i];
      if (e?.kind === 'rates') out[i] = { ...e, msg: { ...e.msg, tenants } };
      else out.push({ kind: 'rates', agentId, msg: { type: 'rates', seq: this.agents.get(agentId)!.seq++, set: [], clear: [], tenants } });
      for (const t of tenants) this.notify('debug', 'tenant_limit', { agentId, tenant: t.tenant, rateBps: t.rateBps });
    }
  }

  /** The tenant limits last pushed to an agent: tenant → bit/s. */
  tenantLimitsOf(agentId: string): Record<string, number> {
    return this.tenantLimits.limitsOf(agentId);
  }

  /** The shell timed the last run. */
  noteRunDuration(us: number): void {
    this.counters.lastRunDurationUs = us;
  }

  /* ------------------------------------------------------------ meter reports */

  /** MeterEnforcer.set of `key` resolved at `atEpochUs`: the flowlets it covers are enforced at the meter. */
  meterInstalled(key: string, flowlets: readonly string[], atEpochUs: number): void {
    this.meters.confirmed(key);
    for (const fk of flowlets) this.enforced(fk, 'meter', atEpochUs);
  }

  /** MeterEnforcer.set of `key` failed: set again after METER_RETRY_MS. */
  meterFailed(key: string, nowMs: number): void {
    this.meters.failed(key, nowMs);
  }

  /** A switch went down or came up again (its meters were forgotten): the next run sets them anew. */
  forgetMetersOn(dpid: bigint): void {
    this.meters.forgetOn(dpid);
  }

  /** Meter ids and measured rates (MeterEnforcer.list()). */
  meterStats(infos: readonly { readonly key: string; readonly meterId: number; readonly stats?: { readonly measuredBps: number } }[]): void {
    this.meters.stats(infos);
  }

  /* ------------------------------------------------------------ adoption (controller restart, adoption.ts) */

  /** Stranded flowlets to resolve now (adoption.ts); each is in flight until {@link adoptionResult} / {@link repinResult}. */
  adoptionDue(nowMs: number): AdoptionRequest[] {
    return this.adoption.due(nowMs);
  }

  /** The outcome of a `read` request: adopted (true), or read again after a back-off. */
  adoptionResult(key: string, result: ReadOutcome, now: Now): boolean {
    return this.adoption.result(key, result, now);
  }

  /** The outcome of a `repin` request: the flow waits for its next packet (or the removal failed: read again later). */
  repinResult(key: string, result: RepinOutcome, now: Now): void {
    this.adoption.repinResult(key, result, now);
  }

  /** The path read from the switches for a stranded flowlet (`actions`: its ingress entry's). */
  adopt(key: string, hops: readonly Hop[], actions: readonly Action[], now: Now): boolean {
    return this.adoption.adopt(key, hops, actions, now);
  }

  /* ------------------------------------------------------------ read views (views.ts) */

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
    return this.registry.endedViews();
  }

  /** One active flowlet by agent and id. */
  flowlet(agentId: string, id: string): FlowletView | undefined {
    return this.flowletByKey(flowletKey(agentId, id));
  }

  allocatorView(nowMs: number): AllocatorView {
    return allocatorView(this.settings, this.allocation.policy, this.counters, this.flowlets.values(), nowMs);
  }

  /** Samples kept, µs: first packet → enforced at the agent / at the meter, first packet → reported. */
  reactionSamples(): { agent: number[]; meter: number[]; report: number[] } {
    return this.counters.reactionSamples();
  }

  agentViews(): AgentView[] {
    return [...this.agents.values()].map(agentView);
  }

  /** Allocated load per link id after the last run, bit/s (links crossed by no allocated flowlet: 0). */
  linkLoads(): Map<string, number> {
    return this.allocation.linkLoads();
  }

  /* ------------------------------------------------------------ internals: the lifecycle */

  private start(a: Agent, s: FlowletStart, now: Now): Flowlet {
    return this.registry.start(a, s, now);
  }

  /** A first confirmation that flowlet `key` is enforced (by its agent or its meter): a reaction sample. */
  private enforced(key: string, by: 'agent' | 'meter', atEpochUs: number): void {
    const us = this.registry.enforced(key, by, atEpochUs);
    if (us !== undefined) this.counters.reaction(by, us);
  }

  private remove(f: Flowlet, reason: EndReason, endedEpochUs: number): void {
    if (reason !== 'resync') {
      // the meter's removal (next run) counts for the flowlet it covered
      const ownMeter = this.settings.meterPer === 'flowlet' && f.meterKey !== undefined && this.meters.has(f.meterKey);
      this.counters.flowletEnded(f, ownMeter);
    }
    this.allocation.release(f);
    this.registry.end(f, this.view(f), reason, endedEpochUs);
  }

  private expire(now: Now): void {
    for (const a of [...this.agents.values()]) {
      if (a.connected || a.goneAtMs === undefined || now.ms - a.goneAtMs < this.settings.expiryMs) continue;
      const n = a.flowlets.size;
      for (const key of [...a.flowlets]) this.remove(this.flowlets.get(key)!, 'expired', now.epochUs);
      this.agents.delete(a.id);
      this.tenantLimits.forget(a.id);
      this.notify('info', 'agent_expired', { agentId: a.id, flowlets: n });
    }
  }

  private view(f: Flowlet): FlowletView {
    return flowletView(f, this.meters, this.settings.smallFlowletBytes);
  }
}
