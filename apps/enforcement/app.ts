/**
 * The enforcement app's shell (controller side of live allocation; Faucet style: find the state, call the core
 * with `now`, perform what it returned). It owns:
 * - the agent channels (agent-server.ts: unix socket + the REST server's WebSocket route) and the agents'
 *   sessions on them (agent-sessions.ts: authentication, limits, `welcome`), whose messages feed the
 *   {@link EnforcementCore};
 * - the allocation loop: one run after each batch of agent events (coalesced with setImmediate, so one
 *   batch → one run) and one every `allocator.intervalMs` (clock timer); each run's effects are performed
 *   here — `rates` written to the agent's channel, meters set / removed through the {@link MeterEnforcer};
 * - meter statistics polled every `enforcement.statsIntervalMs`;
 * - path adoption after a controller restart (adopt.ts) for flowlets stranded without a route: checked
 *   at every tick, so a flowlet is read within one tick of discovery settling;
 * - switchUp / switchDown → MeterEnforcer.switchUp (probe + clean slate) / switchDown.
 * Errors never escape: each is logged (with the dpid where there is one) and contained.
 */
import type { WebSocket } from 'ws';
import { nowEpochUs, type Thresholds, type WelcomeMsg } from '../../protocol/agent.js';
import type { App, AppContext, SwitchHandle } from '../../openflow/app-api.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { EnforcementConfig } from './config.js';
import { dpidHex, type Logger } from '../../lib/log.js';
import type { PriorityThresholds } from '../qos/index.js';
import type { FlowKey, RouteInfo } from '../routing/types.js';
import type { TopologyView } from '../../topology/types.js';
import { readPathFromSwitches, removeStaleEntries } from './adopt.js';
import type { AgentRejectReason } from './agent-guard.js';
import { AgentServer } from './agent-server.js';
import { AgentSessions } from './agent-sessions.js';
import { EnforcementCore } from './core.js';
import { fcaClassDscps, fcaUnrankedThresholds, hostBands } from './fca-classes.js';
import { MeterEnforcer, type MeterInfo, type MeterSupport } from './meter-enforcer.js';
import type { AgentView, AllocatorView, EnforcementEffect, EnforcementSettings, FlowletView, Now } from './types.js';

export interface EnforcementAppOptions {
  readonly topology: TopologyView;
  /** routing's pinned route of a flow key (RoutingApp.core.route) */
  readonly route: (key: FlowKey) => RouteInfo | undefined;
  /** the sections and keys enforcement reads (config.ts), not the whole file */
  readonly config: EnforcementConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** PIAS/Karuna thresholds computed at start: pushed to agents in `welcome` */
  readonly priorityThresholds?: PriorityThresholds;
  /** wall clock, µs since the epoch (default protocol/agent.ts nowEpochUs) */
  readonly epochUs?: () => number;
  /** ms a flowlet waits for a route, once discovery settled, before its path is read from the switches (default 500) */
  readonly adoptAfterMs?: number;
  /** meter ids at the top of each switch's range kept for other apps (the per-port packet-in meters); default 0 */
  readonly reservedMeterIds?: number;
}

/** What the REST API reads (controller/rest/enforcement.ts). */
export interface EnforcementSource {
  flowlets(): FlowletView[];
  /** Keys of the active flowlets and one view by key (paging without building every view). */
  flowletKeys(): string[];
  flowletByKey(key: string): FlowletView | undefined;
  /** Closes an agent's channel (REST, bearer token): false when it is not connected. */
  disconnectAgent(agentId: string, reason: string): boolean;
  endedFlowlets(): FlowletView[];
  allocator(): AllocatorView;
  agents(): AgentView[];
  meters(): MeterInfo[];
  meterSupport(): MeterSupport[];
  /** samples kept, µs (first packet → enforced at the agent / the meter; first packet → reported) */
  reactionSamples(): { agent: number[]; meter: number[]; report: number[] };
  /** allocated load per link id (`<dpid hex16>:<port>`, `host:<ip>`), bit/s */
  linkLoads(): ReadonlyMap<string, number>;
  /** A WebSocket accepted on /api/v1/agents/ws. */
  adoptWebSocket(ws: WebSocket, peer: string): void;
  /** Whether the WebSocket channel is served (only when agent authentication is configured). */
  agentWebSocket(): boolean;
  /** Agent messages and items rejected (authentication, limits, foreign addresses), by reason. */
  agentRejections(): Record<AgentRejectReason, number>;
}

export interface EnforcementApp {
  readonly app: App;
  readonly core: EnforcementCore;
  readonly meters: MeterEnforcer;
  readonly agentServer: AgentServer;
  readonly source: EnforcementSource;
  /** Starts the unix listener (when configured). Never rejects. */
  start(): Promise<void>;
  /** The `welcome` an agent gets. */
  welcome(agentId: string): WelcomeMsg;
  /** Runs the allocator now (tests); effects performed as usual. */
  runNow(): void;
  /** Resolves when every meter operation and adoption started so far has finished. */
  settled(): Promise<void>;
  /** Stops timers, agent channels, the socket file, and removes every meter. Idempotent. */
  stop(): Promise<void>;
}

/** Whether fca's order is enforced by priority classes (policy fca, `enforcement.fcaEnforce: priority`, QoS on). */
export function fcaByPriority(config: EnforcementConfig): boolean {
  return config.allocator.policy === 'fca' && config.enforcement.fcaEnforce === 'priority' && config.qos.enabled;
}

/** The core's settings from the config. */
export function enforcementSettings(config: EnforcementConfig, adoptAfterMs?: number): EnforcementSettings {
  return {
    policy: config.allocator.policy,
    iterationsPerRun: config.allocator.iterationsPerRun,
    rateChangeThreshold: config.allocator.rateChangeThreshold,
    rateChangeMinBps: config.allocator.rateChangeMinBps,
    minUpdateIntervalMs: config.allocator.minUpdateIntervalMs,
    smallFlowletBytes: config.allocator.smallFlowletBytes,
    ...(fcaByPriority(config) ? { fcaClassDscps: fcaClassDscps(config.qos.queues, config.qos.dscpMap) } : {}),
    ...(config.allocator.fcaReserve !== undefined ? { fcaReserve: config.allocator.fcaReserve } : {}),
    ...(config.allocator.fcaMinRateBps !== undefined ? { fcaMinRateBps: config.allocator.fcaMinRateBps } : {}),
    tenantWeightPer: config.allocator.tenantWeightPer,
    mode: config.enforcement.mode,
    workConserving: config.enforcement.workConserving,
    meterMarginFraction: config.enforcement.meterMarginFraction,
    meterPer: config.enforcement.meterPer,
    tenantLimits: config.enforcement.tenantLimits,
    tenantIdleMs: config.enforcement.tenantIdleMs,
    expiryMs: config.agents.expiryMs,
    tenants: config.tenants,
    capacity: { links: config.topology.links, ...(config.topology.defaultCapacityBps !== undefined ? { defaultBps: config.topology.defaultCapacityBps } : {}) },
    ...(adoptAfterMs !== undefined ? { adoptAfterMs } : {}),
  };
}

/**
 * The Karuna classes pushed to agents: PIAS demotion thresholds and, per priority (0 = highest), the
 * first DSCP of the matching queue (highest queue first; the lowest priority is DSCP 0, best effort).
 */
export function agentThresholds(
  pt: PriorityThresholds | undefined,
  dscpMap: Readonly<Record<string, readonly number[]>>,
  small?: { readonly queues: number; readonly smallFlowletBytes: number },
): Thresholds | undefined {
  if (!pt || pt.thresholdsBytes.length === 0) {
    // No distribution configured: two classes — flowlets under the small-flowlet threshold (not allocated,
    // FCA §4.4) ride the top queue's DSCP, the rest best effort.
    const top = small && small.queues > 1 ? dscpMap[String(small.queues - 1)]?.[0] : undefined;
    return top === undefined || !small || small.smallFlowletBytes <= 0 ? undefined
      : { thresholdsBytes: [small.smallFlowletBytes], dscpByPriority: [top, 0] };
  }
  const n = Math.min(pt.thresholdsBytes.length + 1, pt.queues, 8);
  const dscpByPriority: number[] = [];
  for (let p = 0; p < n - 1; p++) dscpByPriority.push(dscpMap[String(pt.queues - 1 - p)]?.[0] ?? 0);
  dscpByPriority.push(0);
  return { thresholdsBytes: pt.thresholdsBytes.slice(0, n - 1), dscpByPriority };
}

/** Builds the app; nothing listens or ticks until {@link EnforcementApp.start}. */
export function createEnforcementApp(opts: EnforcementAppOptions): EnforcementApp {
  return new EnforcementShell(opts).api();
}

class EnforcementShell {
  readonly core: EnforcementCore;
  readonly meters: MeterEnforcer;
  readonly agents: AgentServer;
  private readonly log: Logger;
  private readonly epochUs: () => number;
  private readonly sessions: AgentSessions;
  private readonly knownSwitches = new Set<bigint>();
  private readonly running = new Set<Promise<unknown>>();
  private tick: TimerHandle | undefined;
  private statsTimer: TimerHandle | undefined;
  private refreshTimer: TimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;
  private started = false;
  private stopping: Promise<void> | undefined;
  /** the context the app host gives at registration (App.attach): the app's way to the switches */
  private ctx: AppContext | undefined;
  private readonly switches = (dpid: bigint): SwitchHandle | undefined => this.ctx?.switch(dpid);

  constructor(private readonly opts: EnforcementAppOptions) {
    const c = opts.config;
    this.log = opts.log.child({ app: 'enforcement' });
    this.epochUs = opts.epochUs ?? nowEpochUs;
    this.core = new EnforcementCore(enforcementSettings(c, opts.adoptAfterMs), opts.topology, opts.route, (level, event, fields) => {
      this.log[level]({ event, ...fields }, event.replace(/_/g, ' '));
    });
    this.meters = new MeterEnforcer({
      switches: this.switches, log: opts.log, clock: opts.clock, priority: c.routing.priority + 1,
      idleTimeoutS: c.routing.idleTimeoutS, burstMs: c.enforcement.meterBurstMs,
      // the meter goes on routing's pinned ingress entry (one entry per flow, whose idle timeout keeps
      // working); a host-pair meter goes on the pinned entry of each flow of the pair
      attachPriority: c.routing.priority,
      // metered entries expire unless refreshed: the switches stop policing once the controller is gone
      expiryS: c.enforcement.meterExpiryS,
      ...(opts.reservedMeterIds ? { reservedTopIds: opts.reservedMeterIds } : {}),
    });
    this.agents = new AgentServer({
      log: this.log, clock: opts.clock, heartbeatMs: c.agents.heartbeatMs,
      onMessage: (ch, msg) => this.sessions.onMessage(ch, msg),
      onClose: (ch) => this.sessions.onClose(ch),
    });
    this.sessions = new AgentSessions({
      core: this.core, config: c, clock: opts.clock, log: this.log, topology: opts.topology,
      thresholds: fcaByPriority(c) ? fcaUnrankedThresholds(c.qos.queues, c.qos.dscpMap) : agentThresholds(opts.priorityThresholds, c.qos.dscpMap,
        c.qos.enabled ? { queues: c.qos.queues, smallFlowletBytes: c.allocator.smallFlowletBytes } : undefined),
      ...(fcaByPriority(c) ? { hostBands: hostBands(c.qos.queues, c.qos.dscpMap) } : {}),
      now: () => this.now(),
      schedule: () => this.schedule(),
      stopped: () => this.stopped,
    });
  }

  api(): EnforcementApp {
    const app: App = {
      name: 'enforcement',
      attach: (c) => {
        this.ctx = c;
      },
      handlers: {
        switchUp: (e) => {
          this.knownSwitches.add(e.dpid);
          if (this.stopped || !metersInUse(this.opts.config.enforcement.mode)) return;
          this.track(this.meters.switchUp(e.dpid).then(() => {
            this.core.forgetMetersOn(e.dpid);
            this.schedule();
          }, (err: unknown) => this.log.warn({ event: 'meter_switch_up_failed', dpid: dpidHex(e.dpid), err }, 'meter probe / clean slate failed')));
        },
        switchDown: (e) => {
          this.knownSwitches.delete(e.dpid);
          this.meters.switchDown(e.dpid);
          this.core.forgetMetersOn(e.dpid);
        },
      },
    };
    const source: EnforcementSource = {
      flowlets: () => this.core.flowletViews(),
      flowletKeys: () => this.core.flowletKeys(),
      flowletByKey: (k) => this.core.flowletByKey(k),
      disconnectAgent: (id, reason) => this.sessions.disconnect(id, reason),
      endedFlowlets: () => this.core.endedViews(),
      allocator: () => this.core.allocatorView(this.opts.clock.now()),
      agents: () => this.core.agentViews(),
      meters: () => this.meters.list(),
      meterSupport: () => [...this.knownSwitches].sort().map((d) => this.meters.support(d) ?? { dpid: dpidHex(d), supported: false, maxMeter: 0, bandTypes: [], reason: 'not probed yet' }),
      reactionSamples: () => this.core.reactionSamples(),
      linkLoads: () => this.core.linkLoads(),
      adoptWebSocket: (ws, peer) => this.agents.adoptWebSocket(ws, peer),
      agentWebSocket: () => this.sessions.authConfigured(),
      agentRejections: () => this.sessions.rejectedCounts(),
    };
    return {
      app, core: this.core, meters: this.meters, agentServer: this.agents, source,
      start: () => this.start(),
      welcome: (id) => this.sessions.welcome(id),
      runNow: () => this.run(),
      settled: async () => {
        while (this.running.size > 0) await Promise.allSettled([...this.running]);
      },
      stop: () => (this.stopping ??= this.stop()),
    };
  }

  private now(): Now {
    return { ms: this.opts.clock.now(), epochUs: this.epochUs() };
  }

  private async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    const c = this.opts.config;
    this.armTick();
    if (metersInUse(c.enforcement.mode)) {
      this.armStats();
      this.armRefresh();
    }
    if (c.agents.socketPath !== '') await this.agents.listenUnix(c.agents.socketPath, parseInt(c.agents.socketMode, 8));
    this.log.info({ event: 'enforcement_started', policy: c.allocator.policy, mode: c.enforcement.mode, meterPer: c.enforcement.meterPer, socket: this.agents.listeningPath ?? null }, 'allocator and enforcement running');
  }

  /* ------------------------------------------------------------ the loop */

  /** One run after the current batch of events (many messages in one tick → one run). */
  private schedule(): void {
    if (this.stopped || this.immediate !== undefined) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.run();
    });
  }

  private armTick(): void {
    if (this.stopped) return;
    this.tick = this.opts.clock.setTimeout(() => {
      this.tick = undefined;
      this.run();
      this.adoptStranded();
      this.armTick();
    }, this.opts.config.allocator.intervalMs);
  }

  private armStats(): void {
    if (this.stopped) return;
    this.statsTimer = this.opts.clock.setTimeout(() => {
      this.statsTimer = undefined;
      this.track(this.meters.pollStats().then(
        () => this.core.meterStats(this.meters.list()),
        (err: unknown) => this.log.warn({ event: 'meter_stats_failed', err }, 'meter stats poll failed'),
      ).finally(() => this.armStats()));
    }, this.opts.config.enforcement.statsIntervalMs);
  }

  /** Re-adds the metered entries every third of `enforcement.meterExpiryS` (none when 0). */
  private armRefresh(): void {
    const everyMs = this.meters.refreshIntervalMs;
    if (this.stopped || everyMs <= 0) return;
    this.refreshTimer = this.opts.clock.setTimeout(() => {
      this.refreshTimer = undefined;
      this.track(this.meters.refresh().then(() => undefined).finally(() => this.armRefresh()));
    }, everyMs);
  }

  private run(): void {
    if (this.stopped) return;
    let effects: EnforcementEffect[];
    const t0 = performance.now();
    try {
      effects = this.core.run(this.now());
    } catch (err) {
      this.log.error({ event: 'allocator_failed', err }, 'allocation run failed');
      return;
    }
    this.core.noteRunDuration(Math.round((performance.now() - t0) * 1000));
    if (effects.length > 0) this.perform(effects);
  }

  private perform(effects: readonly EnforcementEffect[]): void {
    let rates = 0;
    let meters = 0;
    for (const e of effects) {
      if (e.kind === 'rates') {
        const ch = this.sessions.channel(e.agentId);
        if (ch?.open) ch.send(e.msg);
        rates += e.msg.set.length + e.msg.clear.length;
      } else if (e.kind === 'meterSet') {
        meters++;
        const { key } = e.target;
        this.track(this.meters.set(e.target).then(
          () => {
            this.core.meterInstalled(key, e.flowlets, this.epochUs());
            this.core.meterStats(this.meters.list()); // meter ids for the API
          },
          (err: unknown) => {
            if (this.stopped) return;
            this.core.meterFailed(key, this.opts.clock.now());
            // the enforcer logged the failure with its cause; here only that it will be retried
            this.log.debug({ event: 'meter_retry_scheduled', key, dpid: dpidHex(e.target.dpid), code: (err as { code?: string }).code }, 'meter not installed; retrying later');
          },
        ));
      } else {
        meters++;
        this.track(this.meters.remove(e.key).catch((err: unknown) => this.log.warn({ event: 'meter_remove_failed', key: e.key, err }, 'meter removal failed')));
      }
    }
    this.log.debug({ event: 'allocation_updates', agentUpdates: rates, meterUpdates: meters, flowlets: this.core.activeFlowlets }, 'rates pushed');
  }

  /**
   * Flowlets stranded without a route: read their paths from the switches, or (after repeated failures)
   * remove the last run's entries of their flows so that routing pins them afresh.
   */
  private adoptStranded(): void {
    if (this.stopped) return;
    const { topology } = this.opts;
    const switches = this.switches;
    for (const req of this.core.adoptionDue(this.opts.clock.now())) {
      if (req.action === 'repin') {
        this.track(removeStaleEntries(req.flowKey, topology, switches).then(
          (n) => { if (!this.stopped) this.core.repinResult(req.key, { ok: true, switches: n }, this.now()); },
          (err: unknown) => { if (!this.stopped) this.core.repinResult(req.key, { ok: false, reason: errText(err) }, this.now()); },
        ));
        continue;
      }
      this.track(readPathFromSwitches(req.flowKey, topology, switches).then((r) => {
        if (this.stopped) return;
        const adopted = this.core.adoptionResult(req.key, r.ok ? { ok: true, hops: r.path.hops, actions: r.path.actions } : r, this.now());
        if (adopted) this.schedule();
      }, (err: unknown) => {
        if (!this.stopped) this.core.adoptionResult(req.key, { ok: false, reason: `reading the flow tables failed: ${errText(err)}` }, this.now());
      }));
    }
  }

  private track<T>(p: Promise<T>): void {
    const q = p.finally(() => this.running.delete(q));
    this.running.add(q);
  }

  private async stop(): Promise<void> {
    this.stopped = true;
    if (this.tick !== undefined) this.opts.clock.clearTimeout(this.tick);
    if (this.statsTimer !== undefined) this.opts.clock.clearTimeout(this.statsTimer);
    if (this.refreshTimer !== undefined) this.opts.clock.clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.tick = this.statsTimer = this.immediate = undefined;
    await this.agents.close();
    await Promise.allSettled([...this.running]);
    await this.meters.close();
    this.log.info({ event: 'enforcement_stopped' }, 'allocator and enforcement stopped');
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether `mode` enforces with OpenFlow meters (meters, both). */
function metersInUse(mode: string): boolean {
  return mode === 'meters' || mode === 'both';
}
