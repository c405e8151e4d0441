/**
 * Stranded flowlets after a controller restart (pure, time passed in): a flowlet pending without any
 * route of routing's for `adoptAfterMs` once discovery has settled is stranded — its packets hit the last
 * run's entries and never reach routing — so the shell reads its path from the switches (adopt.ts does
 * the reading). A failed read is retried with back-off ({@link ADOPT_RETRY_MS} doubling up to
 * {@link ADOPT_RETRY_MAX_MS}); after {@link REPIN_AFTER_FAILURES} failed reads the last run's entries of the
 * flow are removed so that routing pins it afresh at its next packet. Each step is recorded as the
 * flowlet's pending reason (adopting, adoption-failed, repinning).
 */
import type { Action } from '../../openflow/codec/index.js';
import type { FiveTuple } from '../../protocol/agent.js';
import type { FlowKey, RouteInfo } from '../routing/types.js';
import type { TopologyView } from '../../topology/types.js';
import type { Allocation } from './allocation.js';
import { setPending, type CoreNotify, type Flowlet } from './flowlets.js';
import type { Hop } from './paths.js';
import type { EnforcementSettings, Now } from './types.js';

/** A flowlet pending this long once discovery has settled is read from the switches, ms. */
export const DEFAULT_ADOPT_AFTER_MS = 500;
/** Back-off between reads of one flowlet's path: first retry after this, doubling, ms. */
export const ADOPT_RETRY_MS = 250;
/** Longest back-off between reads, ms. */
export const ADOPT_RETRY_MAX_MS = 2000;
/** Failed reads after which the last run's entries of the flow are removed (routing then pins it afresh). */
export const REPIN_AFTER_FAILURES = 2;

/**
 * What the shell does for a stranded flowlet: `read` its path from the switches (then
 * EnforcementCore.adoptionResult), or `repin`: remove the last run's entries of its flow so that
 * routing pins it afresh (then EnforcementCore.repinResult).
 */
export interface AdoptionRequest {
  readonly action: 'read' | 'repin';
  readonly key: string;
  readonly flow: FiveTuple;
  readonly flowKey: FlowKey;
}

/** The outcome of a `read`: the path and its ingress entry's actions, or why not. */
export type ReadOutcome = { ok: true; hops: readonly Hop[]; actions: readonly Action[] } | { ok: false; reason: string };
/** The outcome of a `repin`: the switches whose entries were removed, or why not. */
export type RepinOutcome = { ok: true; switches: number } | { ok: false; reason: string };

export class Adoption {
  constructor(
    private readonly settings: EnforcementSettings,
    private readonly topology: TopologyView,
    private readonly route: (key: FlowKey) => RouteInfo | undefined,
    private readonly flowlets: ReadonlyMap<string, Flowlet>,
    private readonly allocation: Allocation,
    private readonly notify: CoreNotify,
  ) {}

  /**
   * Stranded flowlets to resolve now: pending without any route of routing's for `adoptAfterMs` while
   * discovery has settled (before that, a path read from the switches cannot be trusted: every port looks
   * like an edge port), not being read already, and past their back-off. Each is marked in flight until
   * {@link result} / {@link repinResult}.
   */
  due(nowMs: number): AdoptionRequest[] {
    if (!this.topology.ready()) return [];
    const after = this.settings.adoptAfterMs ?? DEFAULT_ADOPT_AFTER_MS;
    const out: AdoptionRequest[] = [];
    for (const f of this.flowlets.values()) {
      if (f.state !== 'pending-path' || f.pendingSinceMs === undefined || nowMs - f.pendingSinceMs < after) continue;
      if (f.adoption.inFlight || nowMs < f.adoption.nextMs || this.route(f.flowKey) !== undefined) continue;
      f.adoption.inFlight = true;
      const repin = f.adoption.failures >= REPIN_AFTER_FAILURES && !f.adoption.repinRequested;
      if (!repin) setPending(f, 'adopting', null, nowMs);
      out.push({ action: repin ? 'repin' : 'read', key: f.key, flow: f.flow, flowKey: f.flowKey });
    }
    return out;
  }

  /**
   * The outcome of a `read` request: the path (adopted and allocated at the next run) or why not (the
   * flowlet is read again after its back-off; the first failure of each reason is logged). True when adopted.
   */
  result(key: string, result: ReadOutcome, now: Now): boolean {
    const f = this.flowlets.get(key);
    if (!f) return false;
    f.adoption.inFlight = false;
    if (result.ok) return this.adopt(key, result.hops, result.actions, now);
    if (f.state !== 'pending-path') return false;
    const a = f.adoption;
    a.failures++;
    a.nextMs = now.ms + Math.min(ADOPT_RETRY_MAX_MS, ADOPT_RETRY_MS * 2 ** (a.failures - 1));
    setPending(f, 'adoption-failed', result.reason, now.ms);
    if (a.loggedReason !== result.reason) {
      a.loggedReason = result.reason;
      this.notify('warn', 'adoption_failed', { flowlet: key, reason: result.reason, failures: a.failures, retryInMs: a.nextMs - now.ms });
    }
    return false;
  }

  /** The outcome of a `repin` request: the flow waits for its next packet (or the removal failed: read again later). */
  repinResult(key: string, result: RepinOutcome, now: Now): void {
    const f = this.flowlets.get(key);
    if (!f) return;
    f.adoption.inFlight = false;
    if (f.state !== 'pending-path') return;
    if (!result.ok) {
      this.result(key, { ok: false, reason: `removing the last run's entries failed: ${result.reason}` }, now);
      return;
    }
    f.adoption.repinRequested = true;
    f.adoption.nextMs = now.ms + ADOPT_RETRY_MAX_MS;
    setPending(f, 'repinning', `the last run's entries removed from ${result.switches} switches; routing pins the flow at its next packet`, now.ms);
    this.notify('info', 'flow_repin_requested', { flowlet: key, switches: result.switches });
  }

  /** The path read from the switches for a stranded flowlet (`actions`: its ingress entry's). */
  adopt(key: string, hops: readonly Hop[], actions: readonly Action[], now: Now): boolean {
    const f = this.flowlets.get(key);
    if (!f || f.state !== 'pending-path' || hops.length === 0) return false;
    const ok = this.allocation.adoptPath(f, hops, actions, now);
    if (ok) this.notify('info', 'path_adopted', { flowlet: key, hops: hops.length, afterFailures: f.adoption.failures });
    return ok;
  }
}
