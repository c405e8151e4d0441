/**
 * The host agent (ARCHITECTURE.md "Data path: a flowlet, from agent to meter"): detects flowlets in the
 * host's outgoing traffic, reports them to the
 * controller over the agent channel, enforces the rates the controller sends (HTB classes through tc)
 * and marks Karuna/PIAS priority classes (DSCP through nftables).
 *
 * Detection, two ways (`detector`):
 * - `kernel` (the default of {@link startHostAgent}): the nftables table (agent/nft-rules.ts) keeps the
 *   live flowlets in a dynamic set and logs each flowlet's first packet, and the packet that takes it past
 *   the small-flowlet threshold, to NFLOG; tcpdump hands over only those packets (a start and a first
 *   `progress` are reported when they happen), and the agent polls the set for later progress and ends
 *   (agent/kernel-detector.ts): every `pollMs` while a live flowlet is past the threshold (its end frees
 *   an allocation), every `smallPollMs` while every live flowlet is under it (their ends change no
 *   allocation), every `idlePollMs` when none lives; its timer wakes for the polls only. Cost grows with
 *   flowlets and polls, not packets.
 * - `packets`: every outgoing packet header through tcpdump into JavaScript (agent/detector.ts); for
 *   hosts whose kernel lacks nftables dynamic sets. Its cost grows with the packet rate.
 * Marking is in the kernel either way: PIAS classes by the bytes of the flow's current message (quota
 * sets that start afresh after `messageGapMs` idle), and
 * per-flow overrides for declared sizes/deadlines and controller DSCPs (agent/dscp.ts). All nft work
 * goes through ONE long-lived `nft -i` process (agent/nft-session.ts), all tc work through one
 * `tc -batch -` (agent/tc-batch.ts).
 *
 * {@link HostAgent} is the orchestrator with an injected clock and injected writers (tc lines, nft
 * requests, the event sink), so its timeline is unit-testable; {@link startHostAgent} wires it to the
 * real edges (tcpdump, `tc -batch`, `nft -i`, the channel, the local API).
 *
 * Controller unreachable (BwE §6.5: keep enforcing the last allocation when the allocator is away):
 *   connected ──channel lost──▶ grace (limits kept for `graceMs`, default 10 s)
 *   grace ──graceMs──▶ fallback (ALL rate limits removed, controller-given DSCPs dropped: plain TCP;
 *   the local PIAS marking stays, its thresholds are host policy)
 *   grace|fallback ──welcome──▶ connected (the hello resynced the active flowlets; the controller's next
 *   `rates` re-limit them)
 * In grace a flowlet that ends keeps its limit on its 5-tuple (the flow's next flowlet runs at the last
 * rate too); the limits of flowlets that are no longer live are removed when the controller is back.
 * Limits set before a reconnect within the grace period stay until the controller changes or clears them,
 * or the flowlet ends.
 */
import { hostname as osHostname } from 'node:os';
import { systemClock, type Clock, type TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { AgentChannel } from './channel.js';
import { PacketCapture } from './capture.js';
import { FlowletDetector, flowKey, flowletStart, type DetectorEvent, type FlowDeclaration, type FlowletSource, type LiveFlowlet, type OutgoingPacket } from './detector.js';
import { dscpOfPriority, flowletPriority, OverridePlanner } from './dscp.js';
import { KernelFlowletTracker, type StartPacket } from './kernel-detector.js';
import { classifyLines, crossingLines, CROSSED_PREFIX, LIST_LIVE, parseLiveSet, tableLines, teardownLines as nftTeardownLines } from './nft-rules.js';
import { NftSession, type NftResult } from './nft-session.js';
import { startLocalApi, type LocalApi } from './local-api.js';
import {
  AGENT_PROTOCOL_VERSION,
  nowEpochUs,
  type ChannelAddress,
  type ControllerMessage,
  type Enforced,
  type FiveTuple,
  type FlowletEnd,
  type FlowletProgress,
  type FlowletStart,
  type HelloMsg,
  type RatesMsg,
  type Thresholds,
  type WelcomeMsg,
} from '../protocol/agent.js';
import { bandLines, LimitNumbers, rootLines, teardownLines, TcPlanner } from './tc.js';
import { TcBatch } from './tc-batch.js';
import { steerKeyOf, TenantClasses, type SteerKey, type TenantLimit } from './tenant-classes.js';

export interface AgentConfig {
  readonly agentId: string;
  readonly hostname: string;
  /** the shaped interface */
  readonly interface: string;
  readonly ipv4: readonly string[];
  readonly mac?: string;
  /** line rate of the interface, bit/s */
  readonly linkRateBps: number;
  /** idle gap ending a flowlet, ms (default 100; a welcome's idleGapMs overrides) */
  readonly idleGapMs?: number;
  /** how long the last rates are kept after the channel is lost, ms (default 10 000) */
  readonly graceMs?: number;
  /** progress period of live flowlets, ms (default 500) */
  readonly progressIntervalMs?: number;
  /** period of the agent's tick (idle ends, progress, polls), ms (default 20) */
  readonly tickMs?: number;
  /** how flowlets are detected (see the file comment; default `packets` here, `kernel` in startHostAgent) */
  readonly detector?: DetectorKind;
  /**
   * kernel detection: poll period of the live set while a live flowlet has reached the small-flowlet
   * threshold, ms (default 100): its end (seen within this after its idle gap) lets the controller give its
   * rate to others. A poll costs ≈ 1 ms of CPU here (nft ≈ 0.2 ms + ≈ 60 µs per element of the set, and as
   * much in Node, a wake-up each), a third of the agent's CPU at 100 ms. At 250 ms, replaying the web-search
   * run's allocated flowlets through the allocator, the late ends (idle gap + half a poll on average) kept
   * 15–18% of the large flowlets' allocated rate from them (against ends known at once); at 100 ms 10–13%.
   * In the web-search experiment (README "Agent cost and rate churn", seed 2) 150 and 200 ms took the
   * agent from 2.98 to 3.00 and 2.79% of a core, and the > 10 MB flows' mean slowdown from 1.00× ecmp to
   * 1.13× and 1.15×: the late ends cost the large flows more than the polls cost the agent.
   */
  readonly pollMs?: number;
  /**
   * kernel detection: poll period while every live flowlet is under the small-flowlet threshold, ms (default
   * 500): the controller allocates none of them, so their ends change no rate; a crossing is logged by the
   * kernel and reported at once, and brings the next poll forward to `pollMs`.
   */
  readonly smallPollMs?: number;
  /** kernel detection: poll period when no flowlet is known to live (finds starts whose log was dropped), ms (default 1000) */
  readonly idlePollMs?: number;
  /** kernel detection: NFLOG group of flowlet starts (default 7; groups are per network namespace) */
  readonly nflogGroup?: number;
  /** live flowlets tracked at most (the kernel set's size too), default 50 000 */
  readonly maxFlowlets?: number;
  /**
   * PIAS marking: idle time after which a 5-tuple's bytes count afresh as a new message (top class again), ms
   * (default 250: longer than one minimum retransmission timeout, so a stalled large flow keeps its class)
   */
  readonly messageGapMs?: number;
}

export type DetectorKind = 'kernel' | 'packets';

/** Where flowlet events and enforcement acknowledgements go (the channel). */
export interface EventSink {
  addStart(s: FlowletStart): void;
  addProgress(p: FlowletProgress): void;
  /**
   * A flowlet's end. `deferrable`: nothing the controller enforces or allocates depends on it — a small
   * flowlet (under `smallFlowletBytes`, FCA §4.4: never allocated) with no limit, no controller DSCP, no
   * declaration and no tenant — so it may ride with the next events message or heartbeat (at most one
   * heartbeat period later) instead of costing a message of its own.
   */
  addEnd(e: FlowletEnd, deferrable?: boolean): void;
  addEnforced(e: Enforced): void;
}

/** Writes tc lines; returns the write time, µs since the epoch ({@link TcBatch}). */
export interface TcWriter {
  write(lines: readonly string[]): number;
}

/** Runs nft commands as one transaction; never rejects ({@link NftSession}). */
export interface NftRunner {
  run(commands: readonly string[]): Promise<NftResult>;
  readonly available: boolean;
}

export interface AgentDeps {
  /** timers (ms) */
  readonly clock: Clock;
  /** µs since the epoch, the clock of packet timestamps and of the protocol's times */
  readonly nowEpochUs: () => number;
  readonly log: Logger;
  readonly tc: TcWriter;
  /** absent: no DSCP marking (and no kernel detection) */
  readonly nft?: NftRunner;
  readonly events: EventSink;
}

/** connecting: never welcomed yet; grace: channel lost, limits kept; fallback: limits removed. */
export type ControlState = 'connecting' | 'connected' | 'grace' | 'fallback';

/** A live flowlet as the local API shows it. */
export interface FlowletStatus extends LiveFlowlet {
  /** the installed limit, bit/s; null: unlimited */
  readonly rateLimitBps: number | null;
  /**
   * Karuna/PIAS priority (0 = highest) by the override or by this flowlet's bytes; null without thresholds.
   * Without an override the kernel classes by the FLOW's bytes, so the flow's class is this or lower.
   */
  readonly priority: number | null;
  /** the override DSCP (declared size/deadline, controller); null: classed by the flow's bytes in the kernel */
  readonly dscp: number | null;
}

export interface AgentHealth {
  readonly agentId: string;
  readonly interface: string;
  readonly connected: boolean;
  readonly state: ControlState;
  /** when `state` was entered, µs since the epoch */
  readonly sinceEpochUs: number;
  /** seq of the last `rates` applied; null before any */
  readonly lastRatesSeq: number | null;
  /** in grace: when the limits will be removed, µs since the epoch */
  readonly graceEndsAtEpochUs: number | null;
  readonly limits: number;
  readonly liveFlowlets: number;
  readonly marking: 'nft' | 'off';
  readonly detector: DetectorKind;
  /** kernel detection: polls of the live set answered, flowlet starts and threshold crossings logged */
  readonly polls: number;
  readonly startsLogged: number;
  readonly crossingsLogged: number;
  /** per-tenant host limits (BwE §4, agent/tenant-classes.ts): rate, class minor and flows steered into it */
  readonly tenantLimits: readonly TenantLimit[];
}

export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_TICK_MS = 20;
export const DEFAULT_POLL_MS = 100;
export const DEFAULT_SMALL_POLL_MS = 500;
export const DEFAULT_IDLE_POLL_MS = 1000;
export const DEFAULT_NFLOG_GROUP = 7;

/** The orchestrator (see the file comment). */
export class HostAgent {
  readonly detector: FlowletSource;
  private readonly packets: FlowletDetector | undefined;
  private readonly kernel: KernelFlowletTracker | undefined;
  private readonly tcPlan: TcPlanner;
  private readonly tenantPlan: TenantClasses;
  private readonly overrides = new OverridePlanner();
  /** DSCPs the controller asked for, by flowlet id */
  private readonly dscpOverrides = new Map<string, number>();
  /**
   * Overrides kept across an idle gap, by flow key: the flowlet ended before its declared message was all
   * sent, so the next flowlet of the 5-tuple continues it (its `declared` is the carried rest) and keeps the
   * class the controller gave the message until the controller classes the new flowlet (see {@link ended}).
   */
  private readonly held = new Map<string, FiveTuple>();
  /** the strict-priority bands of the default class last installed (welcome.hostBands) */
  private hostBands: readonly (readonly number[])[] | undefined;
  /**
   * Every live flowlet id (an ended flowlet is already gone from the detector): its 5-tuple, and whether its
   * start carried a declaration or a tenant (the controller may allocate it whatever its bytes)
   */
  private readonly liveStarts = new Map<string, { readonly flow: FiveTuple; readonly declared: boolean }>();
  private thresholds: Thresholds | undefined;
  private state: ControlState = 'connecting';
  private sinceUs: number;
  private lastRatesSeq: number | null = null;
  private graceTimer: TimerHandle | undefined;
  private graceEndsUs: number | null = null;
  private tickTimer: TimerHandle | undefined;
  /** when the armed tick fires, clock ms */
  private tickDueMs = 0;
  /** the threshold the kernel's crossing rule logs at, bytes */
  private crossingBytes: number;
  private stopped = false;
  private polling = false;
  private lastPollUs = 0;
  private polls = 0;
  private startsLogged = 0;
  private crossingsLogged = 0;
  private gapMs: number;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    const opts = {
      idleGapMs: config.idleGapMs ?? 100,
      ...(config.progressIntervalMs !== undefined ? { progressIntervalMs: config.progressIntervalMs } : {}),
      ...(config.maxFlowlets !== undefined ? { maxFlowlets: config.maxFlowlets } : {}),
    };
    this.gapMs = opts.idleGapMs;
    if (config.detector === 'kernel') this.detector = this.kernel = new KernelFlowletTracker(opts);
    else this.detector = this.packets = new FlowletDetector(opts);
    const numbers = new LimitNumbers(); // shared: flowlet limits and tenant classes/filters never collide
    this.tcPlan = new TcPlanner(config.interface, config.linkRateBps, numbers);
    this.tenantPlan = new TenantClasses(config.interface, config.linkRateBps, numbers);
    this.sinceUs = deps.nowEpochUs();
    this.crossingBytes = this.detector.options.smallFlowletBytes;
  }

  /** Installs the root HTB (deleting a stale one of a previous run first) and the nft table; starts ticking. */
  async start(opts: { readonly deleteStaleRoot?: boolean } = {}): Promise<void> {
    this.deps.tc.write(rootLines(this.config.interface, this.config.linkRateBps, { deleteStale: opts.deleteStaleRoot === true }));
    await this.installTable();
    this.deps.log.info(
      { event: 'shaping_ready', dev: this.config.interface, linkRateBps: this.config.linkRateBps, detector: this.config.detector ?? 'packets' },
      `HTB root on ${this.config.interface} at ${this.config.linkRateBps} bit/s`,
    );
    this.armTick();
  }

  /** One captured outgoing packet (`packets` detection). */
  packet(p: OutgoingPacket): void {
    if (!this.stopped && this.packets) this.handle(this.packets.packet(p));
  }

  /** A flowlet start logged by the kernel (`kernel` detection). */
  flowletLogged(p: StartPacket): void {
    if (this.stopped || !this.kernel) return;
    this.startsLogged++;
    this.handle(this.kernel.started(p));
    this.rearmTick();
  }

  /** A flowlet's crossing of the small-flowlet threshold, logged by the kernel (`kernel` detection). */
  flowletCrossed(p: StartPacket): void {
    if (this.stopped || !this.kernel) return;
    this.crossingsLogged++;
    this.handle(this.kernel.crossed(p));
    this.rearmTick();
  }

  /**
   * A declaration from the local API: attaches to the next flowlet of its 5-tuple, or at once to the live
   * flowlet of its 5-tuple that it covers (detector.ts, DeclaringSource.declare).
   */
  declare(d: FlowDeclaration): void {
    const events = this.detector.declare(d, this.deps.nowEpochUs());
    // a declared tenant with a host limit: the flow is steered before its first packet (BwE §4)
    if (d.tenant !== undefined && d.sport && events.length === 0) this.write(this.steer(d.tenant, { dst: d.dst, proto: d.proto, sport: d.sport, dport: d.dport }));
    if (events.length > 0) this.handle(events);
  }

  /** The hello of a (re)connect: every live flowlet, with its bytes so far. */
  hello(): HelloMsg {
    return {
      type: 'hello',
      version: AGENT_PROTOCOL_VERSION,
      agentId: this.config.agentId,
      hostname: this.config.hostname,
      interface: this.config.interface,
      ipv4: [...this.config.ipv4],
      ...(this.config.mac ? { mac: this.config.mac } : {}),
      linkRateBps: this.config.linkRateBps,
      active: this.detector.flowlets().map((f) => this.withTenant(flowletStart(f))),
    };
  }

  /** The channel is up (welcome received). */
  channelUp(w: WelcomeMsg): void {
    if (this.graceTimer) this.deps.clock.clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.graceEndsUs = null;
    const was = this.state;
    this.enter('connected');
    // limits kept in grace for flowlets that have since ended: the controller does not know their ids
    const live = new Set(this.detector.flowlets().map((f) => f.id));
    const stale = this.tcPlan.all().filter((l) => !live.has(l.id)).flatMap((l) => this.tcPlan.clear(l.id));
    // tenant limits with no live flow: the controller re-pushes those of live tenants after the hello
    for (const t of this.tenantPlan.idleTenants()) stale.push(...this.tenantPlan.setLimit(t, null).lines);
    if (stale.length > 0) this.deps.tc.write(stale);
    if (was === 'fallback' || was === 'grace') {
      this.deps.log.info({ event: 'fallback_left', from: was }, `controller back: left ${was}, resynced ${this.detector.flowlets().length} flowlet(s)`);
    }
    this.deps.log.info({ event: 'registered', agentId: w.agentId, heartbeatMs: w.heartbeatMs }, `registered with the controller as ${w.agentId}`);
  }

  /** The channel was lost: keep the limits for the grace period, then remove them all. */
  channelDown(reason: string): void {
    if (this.stopped || this.state === 'grace' || this.state === 'fallback') return;
    const graceMs = this.config.graceMs ?? DEFAULT_GRACE_MS;
    this.enter('grace');
    this.graceEndsUs = this.sinceUs + graceMs * 1000;
    this.deps.log.warn({ event: 'fallback_grace', reason, graceMs, limits: this.tcPlan.all().length }, `controller unreachable (${reason}): keeping the last rates for ${graceMs} ms`);
    this.graceTimer = this.deps.clock.setTimeout(() => this.enterFallback(), graceMs);
  }

  /** A controller message (welcome, rates, thresholds). */
  message(msg: ControllerMessage): void {
    if (this.stopped) return;
    switch (msg.type) {
      case 'welcome': {
        this.detector.configure({ smallFlowletBytes: msg.smallFlowletBytes, ...(msg.idleGapMs !== undefined ? { idleGapMs: msg.idleGapMs } : {}) });
        const gapChanged = this.kernel !== undefined && msg.idleGapMs !== undefined && msg.idleGapMs !== this.gapMs;
        if (msg.idleGapMs !== undefined) this.gapMs = msg.idleGapMs;
        const thresholdsChanged = msg.thresholds !== undefined && JSON.stringify(msg.thresholds) !== JSON.stringify(this.thresholds);
        if (msg.thresholds) this.thresholds = msg.thresholds;
        if (msg.hostBands && JSON.stringify(msg.hostBands) !== JSON.stringify(this.hostBands)) {
          this.hostBands = msg.hostBands;
          this.deps.tc.write(bandLines(this.config.interface, this.config.linkRateBps, msg.hostBands));
        }
        // the live set's timeout is the gap: a new gap re-creates the table (overrides re-added)
        const crossingChanged = this.kernel !== undefined && msg.smallFlowletBytes !== this.crossingBytes;
        if (gapChanged) void this.installTable().then(() => this.applyNft(this.overrides.resyncLines()));
        else {
          if (thresholdsChanged) this.applyNft(classifyLines(this.thresholds));
          if (crossingChanged) {
            this.crossingBytes = msg.smallFlowletBytes;
            this.applyNft(crossingLines({ smallFlowletBytes: msg.smallFlowletBytes, nflogGroup: this.config.nflogGroup ?? DEFAULT_NFLOG_GROUP }));
          }
        }
        this.remarkAll();
        return;
      }
      case 'thresholds':
        this.thresholds = msg.thresholds;
        this.deps.log.info({ event: 'thresholds', thresholds: msg.thresholds }, 'priority thresholds updated');
        this.applyNft(classifyLines(this.thresholds));
        this.remarkAll();
        return;
      case 'rates':
        this.applyRates(msg);
        return;
      default:
        return;
    }
  }

  /** Periodic work at the current time: idle ends (packets), polls of the live set (kernel), declarations. */
  tick(): void {
    if (this.stopped) return;
    const now = this.deps.nowEpochUs();
    this.handle(this.detector.tick(now));
    if (this.held.size > 0) this.applyNft(this.sweepHeld());
    this.write(this.tenantPlan.sweep(this.deps.clock.now()));
    if (this.kernel) this.maybePoll(now);
  }

  /** Live flowlets with their limits and classes. */
  flowlets(): FlowletStatus[] {
    return this.detector.flowlets().map((f) => {
      const dscp = this.overrides.dscpOf(f.flow) ?? null;
      const priority = this.thresholds
        ? (dscp !== null ? Math.max(0, this.thresholds.dscpByPriority.indexOf(dscp)) : flowletPriority({ ...f.declared, bytes: f.bytes }, this.thresholds))
        : null;
      return { ...f, rateLimitBps: this.tcPlan.limitOf(f.id)?.rateBps ?? null, priority, dscp };
    });
  }

  health(): AgentHealth {
    return {
      agentId: this.config.agentId,
      interface: this.config.interface,
      connected: this.state === 'connected',
      state: this.state,
      sinceEpochUs: this.sinceUs,
      lastRatesSeq: this.lastRatesSeq,
      graceEndsAtEpochUs: this.state === 'grace' ? this.graceEndsUs : null,
      limits: this.tcPlan.all().length,
      liveFlowlets: this.detector.flowlets().length,
      marking: this.deps.nft?.available ? 'nft' : 'off',
      detector: this.kernel ? 'kernel' : 'packets',
      polls: this.polls,
      startsLogged: this.startsLogged,
      crossingsLogged: this.crossingsLogged,
      tenantLimits: this.tenantPlan.limits(),
    };
  }

  /** Stops ticking and removes the root qdisc and the nft table (the caller then stops tc itself). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.tickTimer, this.graceTimer]) if (t) this.deps.clock.clearTimeout(t);
    this.tickTimer = this.graceTimer = undefined;
    this.tcPlan.clearAll();
    this.tenantPlan.clearAll();
    this.deps.tc.write(teardownLines(this.config.interface));
    if (this.deps.nft) await this.deps.nft.run(nftTeardownLines());
    this.overrides.reset();
    this.deps.log.info({ event: 'shaping_removed', dev: this.config.interface }, `removed the HTB root and the nft table of ${this.config.interface}`);
  }

  private async installTable(): Promise<void> {
    const nft = this.deps.nft;
    if (!nft) return;
    this.overrides.reset();
    this.held.clear();
    if (this.kernel) this.crossingBytes = this.detector.options.smallFlowletBytes;
    const r = await nft.run(tableLines({
      idleGapMs: this.gapMs,
      ...(this.kernel ? { nflogGroup: this.config.nflogGroup ?? DEFAULT_NFLOG_GROUP, smallFlowletBytes: this.crossingBytes } : {}),
      maxFlowlets: this.detector.options.maxFlowlets,
      ...(this.thresholds ? { thresholds: this.thresholds } : {}),
      ...(this.config.messageGapMs !== undefined ? { messageGapMs: this.config.messageGapMs } : {}),
    }));
    if (!r.ok) {
      this.deps.log.error({ event: 'nft_table_failed', error: r.error }, this.kernel
        ? 'cannot install the nftables table: no flowlet will be detected (try --detector packets)'
        : 'cannot install the nftables table: no DSCP marking');
    }
  }

  /** The poll period that applies now, ms (see the file comment). */
  private pollEveryMs(): number {
    const k = this.kernel!;
    return k.size === 0 ? (this.config.idlePollMs ?? DEFAULT_IDLE_POLL_MS)
      : k.anyLarge ? (this.config.pollMs ?? DEFAULT_POLL_MS) : (this.config.smallPollMs ?? DEFAULT_SMALL_POLL_MS);
  }

  private maybePoll(nowUs: number): void {
    if (this.polling || !this.deps.nft?.available) return;
    // due within half a tick counts as due: a Node timer runs from the loop's cached time, so the tick
    // armed for a poll may fire a little before it by the wall clock (missing it cost a wake-up and a tick)
    const every = (this.pollEveryMs() - (this.config.tickMs ?? DEFAULT_TICK_MS) / 2) * 1000;
    if (nowUs - this.lastPollUs < every) return;
    this.polling = true;
    this.lastPollUs = nowUs;
    void this.deps.nft.run([LIST_LIVE]).then((r) => {
      this.polling = false;
      if (this.stopped || !r.ok || r.output.length === 0) return;
      let elements;
      try {
        elements = parseLiveSet(r.output[0]!);
      } catch (err) {
        this.deps.log.warn({ event: 'nft_poll_unreadable', err }, 'the live set listing is not JSON');
        return;
      }
      this.polls++;
      this.handle(this.kernel!.snapshot(nowUs, this.deps.nowEpochUs(), elements));
    });
  }

  private enter(s: ControlState): void {
    this.state = s;
    this.sinceUs = this.deps.nowEpochUs();
  }

  private enterFallback(): void {
    this.graceTimer = undefined;
    this.graceEndsUs = null;
    const n = this.tcPlan.all().length + this.tenantPlan.limits().length;
    this.deps.tc.write([...this.tcPlan.clearAll(), ...this.tenantPlan.clearAll()]);
    this.dscpOverrides.clear();
    const heldLines = [...this.held.values()].flatMap((h) => this.overrides.unmark(h));
    this.held.clear();
    this.enter('fallback');
    this.applyNft(heldLines);
    this.remarkAll();
    this.deps.log.warn({ event: 'fallback_entered', limitsRemoved: n }, `controller still unreachable: removed all ${n} rate limit(s) (plain TCP)`);
  }

  private applyRates(msg: RatesMsg): void {
    const lines: string[] = this.applyTenantLimits(msg.tenants ?? []);
    const acks: { id: string; rateBps: number | null }[] = [];
    const nft: string[] = [];
    let unknown = 0;
    for (const s of msg.set) {
      const f = this.detector.byId(s.id);
      if (!f) {
        unknown++;
        continue;
      }
      if (this.tenantPlan.tenantOf(steerKeyOf(f.flow)) !== undefined) {
        // steered into its tenant's class: the tenant's aggregate bounds it (no class of its own under 1:1,
        // which would escape the aggregate); within the tenant its flows share the class
        acks.push({ id: s.id, rateBps: s.rateBps });
        if (s.dscp !== undefined) this.dscpOverrides.set(s.id, s.dscp);
        else this.dscpOverrides.delete(s.id);
        nft.push(...this.markLines(f));
        continue;
      }
      if (s.rateBps > this.tcPlan.linkRateBps) {
        // above the link rate: no limit (a class-only set, FCA's order by priority), the flowlet in the default class
        lines.push(...this.tcPlan.clear(s.id));
        acks.push({ id: s.id, rateBps: null });
      } else {
        const r = this.tcPlan.set(s.id, f.flow, s.rateBps, s.ceilBps);
        if (!r.ok) {
          this.deps.log.warn({ event: 'limits_exhausted', id: s.id }, `no free HTB class for ${s.id}: left unlimited`);
          continue;
        }
        lines.push(...r.lines);
        acks.push({ id: s.id, rateBps: r.limit.rateBps });
      }
      if (s.dscp !== undefined) this.dscpOverrides.set(s.id, s.dscp);
      else this.dscpOverrides.delete(s.id);
      nft.push(...this.markLines(f));
    }
    for (const id of msg.clear) {
      lines.push(...this.tcPlan.clear(id));
      acks.push({ id, rateBps: null });
      if (this.dscpOverrides.delete(id)) {
        const f = this.detector.byId(id);
        if (f) nft.push(...this.markLines(f));
      }
    }
    const at = this.deps.tc.write(lines);
    for (const a of acks) this.deps.events.addEnforced({ ...a, atEpochUs: at });
    this.lastRatesSeq = msg.seq;
    this.applyNft(nft);
    this.deps.log.info(
      { event: 'rates_applied', seq: msg.seq, set: acks.filter((a) => a.rateBps !== null).length, clear: msg.clear.length, unknown, tcLines: lines.length },
      `rates #${msg.seq} applied`,
    );
  }

  /** Detector events: reported, and their tc and nft changes written once for the lot (one write each). */
  private handle(events: readonly DetectorEvent[]): void {
    const nft: string[] = [];
    const tc: string[] = [];
    for (const e of events) {
      if (e.type === 'start') {
        const start = this.withTenant(e.start);
        const declared = start.sizeBytes !== undefined || start.deadlineMs !== undefined || start.transferId !== undefined || start.tenant !== undefined;
        this.liveStarts.set(e.start.id, { flow: e.start.flow, declared });
        if (start.tenant !== undefined) tc.push(...this.steer(start.tenant, steerKeyOf(start.flow), start.id));
        this.deps.events.addStart(start);
        const f = this.detector.byId(e.start.id);
        if (f) nft.push(...this.markLines(f));
      } else if (e.type === 'progress') this.deps.events.addProgress(e.progress);
      else nft.push(...this.ended(e.end, tc));
    }
    this.write(tc);
    this.applyNft(nft);
  }

  /** A flowlet's end: reported; its limit's tc lines go to `tc`; returns the nft lines of its override. */
  private ended(e: FlowletEnd, tc: string[]): string[] {
    const limit = this.tcPlan.limitOf(e.id);
    // In grace the last rates stand for the flows (BwE §6.5: keep the last known allocation): a flowlet
    // that ends there — a TCP timeout is an idle gap — keeps its limit on its 5-tuple, so the flow's next
    // flowlet runs at it too. The limit goes at fallback, or when the controller is back (channelUp).
    if (limit && this.state !== 'grace') tc.push(...this.tcPlan.clear(e.id));
    const controllerDscp = this.dscpOverrides.delete(e.id);
    // the 5-tuple's override goes unless a new flowlet of the same 5-tuple already lives (it re-marks itself)
    const live = this.liveStarts.get(e.id);
    this.liveStarts.delete(e.id);
    const flow = live?.flow;
    if (flow) this.tenantPlan.release(steerKeyOf(flow), e.id, this.deps.clock.now());
    // a small flowlet's end changes no allocation (the controller allocates none): it rides with the next message
    this.deps.events.addEnd(e, !limit && !controllerDscp && !live?.declared && e.bytes < this.detector.options.smallFlowletBytes);
    if (!flow || this.detector.hasLive(flow)) return [];
    // A flowlet that ends before its declared message is all sent (a TCP stall: a timeout, a lower
    // priority class starved by strict priority, a paused sender) keeps its class for the message's next
    // flowlet. Unmarked, the next packets would ride the top class ahead of the flow's own packets still
    // queued in its class (reordering: spurious fast retransmits) and ahead of every ranked transfer,
    // until the controller classes the new flowlet again.
    if (this.detector.carriedFor(flow) && this.overrides.dscpOf(flow) !== undefined) {
      this.held.set(flowKey(flow), flow);
      return [];
    }
    return this.overrides.unmark(flow);
  }

  /** Held overrides whose message's rest expired unused: removed (a flowlet of the 5-tuple now live decides its own). */
  private sweepHeld(): string[] {
    const out: string[] = [];
    for (const [key, flow] of this.held) {
      const live = this.detector.hasLive(flow);
      if (!live && this.detector.carriedFor(flow)) continue;
      this.held.delete(key);
      if (!live) out.push(...this.overrides.unmark(flow));
    }
    return out;
  }

  /**
   * The `tenants` of a `rates` message (BwE §4): each tenant's class set, changed or removed; a new class
   * takes the tenant's live flowlets and its pending declarations that name their source port.
   */
  private applyTenantLimits(tenants: NonNullable<RatesMsg['tenants']>): string[] {
    const lines: string[] = [];
    const now = this.deps.clock.now();
    for (const t of tenants) {
      const r = this.tenantPlan.setLimit(t.tenant, t.rateBps);
      lines.push(...r.lines);
      if (r.exhausted) this.deps.log.warn({ event: 'limits_exhausted', tenant: t.tenant }, `no free HTB class for tenant ${t.tenant}: left unlimited`);
      this.deps.log.info({ event: 'tenant_limit', tenant: t.tenant, rateBps: t.rateBps, created: r.created }, `tenant ${t.tenant} limited to ${t.rateBps ?? 'none'} bit/s`);
      if (!r.created) continue;
      for (const f of this.detector.flowlets()) if (f.declared?.tenant === t.tenant) lines.push(...this.steer(t.tenant, steerKeyOf(f.flow), f.id, now));
      for (const d of this.detector.pendingDeclarations()) {
        if (d.tenant === t.tenant && d.sport) lines.push(...this.steer(t.tenant, { dst: d.dst, proto: d.proto, sport: d.sport, dport: d.dport }, undefined, now));
      }
    }
    return lines;
  }

  /** Steers flow `key` into `tenant`'s class (when it has one), dropping the per-flowlet limits of its live flowlets. */
  private steer(tenant: string, key: SteerKey, flowletId?: string, nowMs = this.deps.clock.now()): string[] {
    const r = this.tenantPlan.steer(tenant, key, nowMs, flowletId);
    if (!r.steered) return r.lines;
    const own = this.tcPlan.all().filter((l) => l.flow.dst === key.dst && l.flow.proto === key.proto && l.flow.sport === key.sport && l.flow.dport === key.dport);
    return [...r.lines, ...own.flatMap((l) => this.tcPlan.clear(l.id))];
  }

  /**
   * A flow keeps its tenant: a flowlet with no declaration of its own on a 5-tuple steered into a tenant's
   * class (the next request on a kept-alive connection) is reported as that tenant's, so the controller
   * counts it in the tenant's aggregate at this host.
   */
  private withTenant(s: FlowletStart): FlowletStart {
    if (s.tenant !== undefined) return s;
    const tenant = this.tenantPlan.tenantOf(steerKeyOf(s.flow));
    return tenant === undefined ? s : { ...s, tenant };
  }

  private write(lines: readonly string[]): void {
    if (lines.length > 0) this.deps.tc.write(lines);
  }

  /** The override a live flowlet wants (controller DSCP, else a declared deadline/size class), as nft commands. */
  private markLines(f: LiveFlowlet): string[] {
    if (!this.deps.nft) return [];
    const d = f.declared;
    // one class only (no demotion): the classify chain already gives every flow that DSCP, no override needed
    const declared = this.thresholds && this.thresholds.dscpByPriority.length > 1 && d && (d.deadlineMs !== undefined || d.sizeBytes !== undefined)
      ? dscpOfPriority(flowletPriority({ ...d, bytes: f.bytes }, this.thresholds), this.thresholds) : undefined;
    const dscp = this.dscpOverrides.get(f.id) ?? declared;
    this.held.delete(flowKey(f.flow));
    // a flowlet that continues a declared message keeps the message's class until the controller sends one
    if (dscp === undefined && this.detector.isRest(f.declared) && this.overrides.dscpOf(f.flow) !== undefined) return [];
    return dscp === undefined ? this.overrides.unmark(f.flow) : this.overrides.mark(f.flow, dscp);
  }

  /** Every live flowlet's override brought up to date (new thresholds, fallback). */
  private remarkAll(): void {
    this.applyNft(this.detector.flowlets().flatMap((f) => this.markLines(f)));
  }

  private applyNft(lines: string[]): void {
    const nft = this.deps.nft;
    if (!nft || lines.length === 0 || !nft.available) return;
    void nft.run(lines).then((r) => {
      if (!r.ok && nft.available && !this.stopped) void nft.run(this.overrides.resyncLines());
    });
  }

  /**
   * The delay of the next tick, ms: `tickMs` (packets detection: idle ends are found by ticks); with kernel
   * detection the first multiple of `tickMs` at which a poll is due (the same polls as a tick every
   * `tickMs` would make, without the wake-ups in between).
   */
  private tickDelayMs(): number {
    const tickMs = this.config.tickMs ?? DEFAULT_TICK_MS;
    // while a poll is under way the next is due a period after it was asked (lastPollUs), not a tick later
    if (!this.kernel || !this.deps.nft?.available) return tickMs;
    const dueInMs = (this.lastPollUs + this.pollEveryMs() * 1000 - this.deps.nowEpochUs()) / 1000;
    return Math.max(1, Math.ceil(dueInMs / tickMs)) * tickMs;
  }

  private armTick(): void {
    const delayMs = this.tickDelayMs();
    this.tickDueMs = this.deps.clock.now() + delayMs;
    this.tickTimer = this.deps.clock.setTimeout(() => {
      this.tickTimer = undefined;
      this.tick();
      if (!this.stopped) this.armTick();
    }, delayMs);
  }

  /** A start or crossing may shorten the poll period (idle → live): the tick is brought forward to the poll then due. */
  private rearmTick(): void {
    if (this.stopped || !this.tickTimer) return;
    if (this.deps.clock.now() + this.tickDelayMs() >= this.tickDueMs) return;
    this.deps.clock.clearTimeout(this.tickTimer);
    this.armTick();
  }
}

export interface HostAgentOptions extends AgentConfig {
  readonly controller: ChannelAddress;
  readonly log: Logger;
  /** local API port on 127.0.0.1 (0: no local API) */
  readonly apiPort: number;
  /** delete an `htb 1:` root left by a previous run before installing ours */
  readonly deleteStaleRoot?: boolean;
  /** the agent's secret for the controller's challenge (protocol/agent.ts agentAuthMac) */
  readonly secret?: string;
}

/** A running agent with every edge attached. */
export interface RunningHostAgent {
  readonly agent: HostAgent;
  readonly channel: AgentChannel;
  readonly api: LocalApi | undefined;
  /** Removes the qdisc and nft table, stops tcpdump and tc by pid, closes the channel and the API. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the agent on the real edges: tc -batch, nft, the channel, tcpdump, the local API.
 * @throws the local API's listen error (EADDRINUSE…); everything started before it is stopped first
 */
export async function startHostAgent(opts: HostAgentOptions): Promise<RunningHostAgent> {
  const log = opts.log;
  const tc = new TcBatch({ log });
  const nft = new NftSession({ log });
  const detector: DetectorKind = opts.detector ?? 'kernel';
  let channel: AgentChannel | undefined;
  const sink: EventSink = {
    addStart: (s) => channel?.addStart(s),
    addProgress: (p) => channel?.addProgress(p),
    addEnd: (e, deferrable) => channel?.addEnd(e, deferrable),
    addEnforced: (e) => channel?.addEnforced(e),
  };
  const agent = new HostAgent({ ...opts, detector }, { clock: systemClock, nowEpochUs, log, tc, nft, events: sink });
  channel = new AgentChannel({
    address: opts.controller,
    log,
    nowEpochUs,
    hello: () => agent.hello(),
    onUp: (w) => agent.channelUp(w),
    onDown: (why) => agent.channelDown(why),
    onMessage: (m) => agent.message(m),
    ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    // events are few (per flowlet, not per packet): the events of one wake-up go out together at its end
    // (a microtask), never held by a timer that would wake the agent again
    flushMs: 0,
  });
  const exclude = opts.controller.kind === 'ws' ? wsExclude(opts.controller.url) : undefined;
  const capture = detector === 'kernel'
    ? new PacketCapture({
      dev: opts.interface, log, nflogGroup: opts.nflogGroup ?? DEFAULT_NFLOG_GROUP, onPacket: (p) => agent.flowletLogged(p),
      prefixed: { prefix: CROSSED_PREFIX, onPacket: (p) => agent.flowletCrossed(p) },
    })
    : new PacketCapture({ dev: opts.interface, log, onPacket: (p) => agent.packet(p), ...(exclude ? { exclude } : {}) });
  await agent.start({ deleteStaleRoot: opts.deleteStaleRoot === true });
  capture.start();
  channel.start();
  let api: LocalApi | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await api?.close();
      channel!.close();
      await capture.stop();
      await agent.stop();
      await tc.stop();
      await nft.stop();
      log.info({ event: 'agent_stopped' }, 'agent stopped: qdisc and nft table removed, tcpdump and tc ended');
    })());
  if (opts.apiPort > 0) {
    try {
      api = await startLocalApi({ agent, port: opts.apiPort, log });
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return { agent, channel, api, stop };
}

function wsExclude(url: string): { host: string; port: number } | undefined {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.startsWith('127.')) return undefined;
  return { host, port: Number(u.port || (u.protocol === 'wss:' ? 443 : 80)) };
}

/** The default agent id: the host name. */
export function defaultAgentId(): string {
  return osHostname();
}
