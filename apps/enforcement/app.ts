/**
 * The enforcement app's shell (issue 6, controller side; Faucet style: find the state, call the core
 * with `now`, perform what it returned). It owns:
 * - the agent channels (agent-server.ts: unix socket + the REST server's WebSocket route), whose messages
 *   feed the {@link EnforcementCore}; a `welcome` answers each hello;
 * - the allocation loop: one run after each batch of agent events (coalesced with setImmediate, so one
 *   batch → one run) and one every `allocator.intervalMs` (clock timer); each run's effects are performed
 *   here — `rates` written to the agent's channel, meters set / removed through the {@link MeterEnforcer};
 * - meter statistics polled every `enforcement.statsIntervalMs`;
 * - path adoption after a controller restart (adopt.ts) for allocated flowlets without a route;
 * - switchUp / switchDown → MeterEnforcer.switchUp (probe + clean slate) / switchDown.
 * Errors never escape: each is logged (with the dpid where there is one) and contained.
 */
import type { WebSocket } from 'ws';
import { nowEpochUs, type AgentMessage, type Thresholds, type WelcomeMsg } from '../../agent/protocol.js';
import type { App, SwitchHandle } from '../../controller/api.js';
import type { Clock, TimerHandle } from '../../controller/clock.js';
import type { RivuletConfig } from '../../controller/config/index.js';
import { dpidHex, type Logger } from '../../controller/log.js';
import type { PriorityThresholds } from '../qos/index.js';
import type { FlowKey, RouteInfo } from '../routing/types.js';
import type { TopologyView } from '../../topology/types.js';
import { readPathFromSwitches } from './adopt.js';
import { AgentServer, type AgentChannel } from './agent-server.js';
import { EnforcementCore } from './core.js';
import { MeterEnforcer, type MeterInfo, type MeterSupport } from './meter-enforcer.js';
import type { AgentView, AllocatorView, EnforcementEffect, EnforcementSettings, FlowletView, Now } from './types.js';

export interface EnforcementAppOptions {
  readonly topology: TopologyView;
  /** routing's pinned route of a flow key (RoutingApp.core.route) */
  readonly route: (key: FlowKey) => RouteInfo | undefined;
  readonly config: RivuletConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** How to reach a connected switch. */
  readonly switches: (dpid: bigint) => SwitchHandle | undefined;
  /** PIAS/Karuna thresholds computed at start: pushed to agents in `welcome` */
  readonly priorityThresholds?: PriorityThresholds;
  /** wall clock, µs since the epoch (default agent/protocol.ts nowEpochUs) */
  readonly epochUs?: () => number;
  /** ms after which a stranded allocated flowlet's path is read from the switches (default 2000) */
  readonly adoptAfterMs?: number;
}

/** What the REST API reads (controller/rest/enforcement.ts). */
export interface EnforcementSource {
  flowlets(): FlowletView[];
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

/** The core's settings from the config. */
export function enforcementSettings(config: RivuletConfig, adoptAfterMs?: number): EnforcementSettings {
  return {
    policy: config.allocator.policy,
    iterationsPerRun: config.allocator.iterationsPerRun,
    rateChangeThreshold: config.allocator.rateChangeThreshold,
    rateChangeMinBps: config.allocator.rateChangeMinBps,
    minUpdateIntervalMs: config.allocator.minUpdateIntervalMs,
    smallFlowletBytes: config.allocator.smallFlowletBytes,
    mode: config.enforcement.mode,
    meterMarginFraction: config.enforcement.meterMarginFraction,
    meterPer: config.enforcement.meterPer,
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
  private readonly byAgent = new Map<string, AgentChannel>();
  private readonly knownSwitches = new Set<bigint>();
  private readonly running = new Set<Promise<unknown>>();
  private tick: TimerHandle | undefined;
  private statsTimer: TimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;
  private started = false;
  private stopping: Promise<void> | undefined;
  private readonly thresholds: Thresholds | undefined;

  constructor(private readonly opts: EnforcementAppOptions) {
    const c = opts.config;
    this.log = opts.log.child({ app: 'enforcement' });
    this.epochUs = opts.epochUs ?? nowEpochUs;
    this.core = new EnforcementCore(enforcementSettings(c, opts.adoptAfterMs), opts.topology, opts.route, (level, event, fields) => {
      this.log[level]({ event, ...fields }, event.replace(/_/g, ' '));
    });
    this.meters = new MeterEnforcer({
      switches: opts.switches, log: opts.log, clock: opts.clock, priority: c.routing.priority + 1,
      idleTimeoutS: c.routing.idleTimeoutS, burstMs: c.enforcement.meterBurstMs,
      // the meter goes on routing's pinned ingress entry (one entry per flow, whose idle timeout keeps
      // working); a host-pair meter goes on the pinned entry of each flow of the pair
      attachPriority: c.routing.priority,
    });
    this.agents = new AgentServer({
      log: this.log, clock: opts.clock, heartbeatMs: c.agents.heartbeatMs,
      onMessage: (ch, msg) => this.onMessage(ch, msg),
      onClose: (ch) => this.onClose(ch),
    });
    this.thresholds = agentThresholds(opts.priorityThresholds, c.qos.dscpMap,
      c.qos.enabled ? { queues: c.qos.queues, smallFlowletBytes: c.allocator.smallFlowletBytes } : undefined);
  }

  api(): EnforcementApp {
    const app: App = {
      name: 'enforcement',
      handlers: {
        switchUp: (e) => {
          this.knownSwitches.add(e.dpid);
          if (this.stopped || this.opts.config.enforcement.mode === 'agents') return;
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
      endedFlowlets: () => this.core.endedViews(),
      allocator: () => this.core.allocatorView(this.opts.clock.now()),
      agents: () => this.core.agentViews(),
      meters: () => this.meters.list(),
      meterSupport: () => [...this.knownSwitches].sort().map((d) => this.meters.support(d) ?? { dpid: dpidHex(d), supported: false, maxMeter: 0, bandTypes: [], reason: 'not probed yet' }),
      reactionSamples: () => this.core.reactionSamples(),
      linkLoads: () => this.core.linkLoads(),
      adoptWebSocket: (ws, peer) => this.agents.adoptWebSocket(ws, peer),
    };
    return {
      app, core: this.core, meters: this.meters, agentServer: this.agents, source,
      start: () => this.start(),
      welcome: (id) => this.welcome(id),
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
    if (c.enforcement.mode !== 'agents') this.armStats();
    if (c.agents.socketPath !== '') await this.agents.listenUnix(c.agents.socketPath);
    this.log.info({ event: 'enforcement_started', policy: c.allocator.policy, mode: c.enforcement.mode, meterPer: c.enforcement.meterPer, socket: this.agents.listeningPath ?? null }, 'allocator and enforcement running');
  }

  private welcome(agentId: string): WelcomeMsg {
    const c = this.opts.config;
    return {
      type: 'welcome', agentId, heartbeatMs: c.agents.heartbeatMs, smallFlowletBytes: c.allocator.smallFlowletBytes,
      ...(c.agents.idleGapMs !== undefined ? { idleGapMs: c.agents.idleGapMs } : {}),
      ...(this.thresholds ? { thresholds: this.thresholds } : {}),
    };
  }

  /* ------------------------------------------------------------ agent channels */

  private onMessage(ch: AgentChannel, msg: AgentMessage): void {
    if (this.stopped) return;
    switch (msg.type) {
      case 'hello': {
        const prev = this.byAgent.get(msg.agentId);
        if (prev && prev !== ch) {
          prev.agentId = undefined; // replaced: its close is not the agent going away
          prev.close(`replaced by a new connection of agent ${msg.agentId}`);
        }
        if (ch.agentId !== undefined && ch.agentId !== msg.agentId) {
          ch.close('one agent per channel: a second hello with another agentId');
          return;
        }
        ch.agentId = msg.agentId;
        this.byAgent.set(msg.agentId, ch);
        this.core.hello(msg, this.now());
        ch.send(this.welcome(msg.agentId));
        this.schedule();
        return;
      }
      case 'events':
        if (ch.agentId === undefined) {
          ch.close('events before hello');
          return;
        }
        // allocate at flowlet starts and ends; plain progress waits for the periodic run
        if (this.core.events(ch.agentId, msg, this.now()) || this.opts.config.allocator.runOnProgress) this.schedule();
        return;
      case 'ping':
        if (ch.agentId !== undefined) this.core.seen(ch.agentId, this.now());
        return;
      case 'error':
        this.log.warn({ event: 'agent_error', agentId: ch.agentId, message: msg.message }, 'agent reported an error');
        return;
    }
  }

  private onClose(ch: AgentChannel): void {
    const id = ch.agentId;
    if (id === undefined || this.byAgent.get(id) !== ch) return;
    this.byAgent.delete(id);
    if (this.stopped) return;
    this.core.agentGone(id, this.now());
    this.schedule();
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
        const ch = this.byAgent.get(e.agentId);
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

  /** Allocated flowlets without a route for a while: read their paths from the switches. */
  private adoptStranded(): void {
    if (this.stopped) return;
    for (const req of this.core.adoptionDue(this.opts.clock.now())) {
      this.track(readPathFromSwitches(req.flowKey, this.opts.topology, this.opts.switches).then((p) => {
        if (!p || this.stopped) return;
        if (this.core.adopt(req.key, p.hops, p.actions, this.now())) this.schedule();
      }, (err: unknown) => this.log.debug({ event: 'adopt_failed', flowlet: req.key, err }, 'reading the path from the switches failed')));
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
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.tick = this.statsTimer = this.immediate = undefined;
    await this.agents.close();
    await Promise.allSettled([...this.running]);
    await this.meters.close();
    this.log.info({ event: 'enforcement_stopped' }, 'allocator and enforcement stopped');
  }
}
