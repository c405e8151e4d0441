/**
 * Shapes of the enforcement app (controller side of live allocation): its settings, the effects its pure core
 * returns, and the read views the REST API serves. Rates bit/s, sizes bytes, `…EpochUs` µs since the
 * Unix epoch (the agents' and the controller's clocks agree in Mininet), `…Ms` ms of the injected clock.
 */
import type { Action, Match } from '../../openflow/codec/index.js';
import type { FiveTuple, RatesMsg } from '../../protocol/agent.js';
import type { TenantConfig } from './tenants.js';
import type { CapacityConfig } from './links.js';
import type { SampleSummary } from './stats.js';

export type AllocatorPolicyName = 'flowtune' | 'maxmin' | 'fca';
/** `mark`: no allocation and no rates; agents report flowlets and mark DSCP by the pushed thresholds only. */
export type EnforcementMode = 'meters' | 'agents' | 'both' | 'mark';
export type MeterPer = 'flowlet' | 'hostPair';

/** Everything the core needs from the config (sections allocator, enforcement, agents, tenants, topology). */
export interface EnforcementSettings {
  readonly policy: AllocatorPolicyName;
  readonly iterationsPerRun: number;
  /** push when |new − pushed| > threshold · pushed AND > rateChangeMinBps (both hysteresis bounds) */
  readonly rateChangeThreshold: number;
  /** absolute hysteresis, bit/s (default 0: relative only) */
  readonly rateChangeMinBps?: number;
  /** a flowlet's rate (a meter's) is changed at most once per this period, ms; first rates and clears are exempt (default 0) */
  readonly minUpdateIntervalMs?: number;
  readonly smallFlowletBytes: number;
  /** fca: fraction of each link water-filled among all flowlets (FCA §4.3; default the policy's, 1e-6) */
  readonly fcaReserve?: number;
  /** fca: floor of every flowlet's rate before transfers are served, bit/s (default the policy's, 0) */
  readonly fcaMinRateBps?: number;
  /**
   * fca: enforce the transfer order by strict-priority classes instead of rates (`enforcement.fcaEnforce:
   * priority`): the DSCP of each data class, highest first (fca-classes.ts); absent: rates
   */
  readonly fcaClassDscps?: readonly number[];
  readonly mode: EnforcementMode;
  /**
   * Agents (modes `agents`, `both`) let each allocated flowlet borrow its host link's unused capacity above
   * its rate, up to a ceiling: its rate plus its weighted share of what the allocation leaves free on every
   * other link of its path (allocation.ts `ceilings`); in mode `both` meters police above the ceiling.
   * Not under `fca` (its order would be undone). Default false here (the config's default is true).
   */
  readonly workConserving?: boolean;
  readonly meterMarginFraction: number;
  readonly meterPer: MeterPer;
  /** a vanished agent's flowlets expire after this, ms */
  readonly expiryMs: number;
  readonly tenants: readonly TenantConfig[];
  /**
   * `tenant`: a tenant's weight is divided equally among its allocated flowlets, so the tenant as a whole
   * gets its weighted share of a bottleneck however many flowlets it runs (BwE §4: a user group's share is
   * divided among its flows; SCC: tenant shares); `flowlet`: every flowlet carries its tenant's full
   * weight (a tenant with more flowlets gets more). Default `tenant`.
   */
  readonly tenantWeightPer?: 'tenant' | 'flowlet';
  /**
   * Push each host's per-tenant aggregate to its agent (`rates.tenants`), which shapes the tenant's declared
   * flows as one HTB class (BwE §4: per-group enforcement at the host; tenant-limits.ts). Default true.
   */
  readonly tenantLimits?: boolean;
  /** a tenant's limit at a host is cleared after it had no live flowlet there this long, ms (0: never; default 5000) */
  readonly tenantIdleMs?: number;
  readonly capacity: CapacityConfig;
  /** a flowlet pending this long without a route, once discovery settled, is read from the switches, ms (default 500) */
  readonly adoptAfterMs?: number;
  /** ended flowlets and reaction samples kept for the API (default 1000) */
  readonly keep?: number;
}

/** The time of an event: the injected clock's ms and the wall clock's µs since the epoch. */
export interface Now {
  readonly ms: number;
  readonly epochUs: number;
}

/** What a meter must do (structurally apps/enforcement/meter-enforcer.ts `MeterTarget`). */
export interface MeterSpec {
  readonly key: string;
  /** the ingress leaf */
  readonly dpid: bigint;
  readonly match: Match;
  readonly actions: readonly Action[];
  readonly rateBps: number;
  /** host-pair meters: every pinned entry the meter goes on (one per flow of the pair) */
  readonly attachments?: readonly { readonly match: Match; readonly actions: readonly Action[] }[];
}

/**
 * What the core asks the shell to do.
 * - `rates`: write the message to the agent's channel (skipped when it is not connected).
 * - `meterSet`: MeterEnforcer.set(target); on success call `core.meterInstalled(key, rateBps, atEpochUs)`,
 *   on failure `core.meterFailed(key, now)`. `flowlets` are the flowlet keys the meter covers.
 * - `meterRemove`: MeterEnforcer.remove(key).
 */
export type EnforcementEffect =
  | { readonly kind: 'rates'; readonly agentId: string; readonly msg: RatesMsg }
  | { readonly kind: 'meterSet'; readonly target: MeterSpec; readonly flowlets: readonly string[] }
  | { readonly kind: 'meterRemove'; readonly key: string };

export type FlowletState = 'small' | 'pending-path' | 'allocated';

/**
 * Why a `pending-path` flowlet is not allocated:
 * - `waiting-for-discovery`: the topology has not settled (no path can be trusted yet);
 * - `no-route`: routing has not pinned the flow (normal for the first ms of a flow; after a controller
 *   restart the flow's packets hit the last run's entries and never reach routing: it is then read back);
 * - `route-not-installed`: routing pinned it, its entries are not confirmed yet;
 * - `adopting`: its path is being read from the switches' flow tables;
 * - `adoption-failed`: the read failed (`detail` says where), retried with back-off;
 * - `repinning`: the last run's entries were removed; routing pins the flow at its next packet;
 * - `table-refused`: the flowlet table refused the path (`detail`: the error).
 */
export const PENDING_REASONS = [
  'waiting-for-discovery', 'no-route', 'route-not-installed', 'adopting', 'adoption-failed', 'repinning', 'table-refused',
] as const;
export type PendingReason = typeof PENDING_REASONS[number];

/** One switch of a flowlet's path (dpid: 16 hex digits). */
export interface PathHop {
  readonly dpid: string;
  readonly inPort: number;
  readonly outPort: number;
}

/** A flowlet as GET /api/v1/flowlets shows it. */
export interface FlowletView {
  readonly agentId: string;
  readonly id: string;
  readonly flow: FiveTuple;
  readonly tenant: string | null;
  readonly weight: number;
  readonly state: FlowletState;
  /** link ids (`host:<ip>`, `<dpid>:<port>`) and switches; adopted: read from the switches' tables */
  readonly path: { readonly links: readonly string[]; readonly hops: readonly PathHop[]; readonly adopted: boolean } | null;
  readonly bytes: number;
  readonly sizeBytes: number | null;
  readonly transferId: string | null;
  readonly deadlineMs: number | null;
  /** the allocator's latest rate */
  readonly allocatedBps: number | null;
  /** the rate last pushed to the agent / set on the meter */
  readonly agentRateBps: number | null;
  /** the ceiling pushed with it: what its class may borrow up to at its host (work-conserving enforcement); null: none, the rate is a hard limit */
  readonly agentCeilBps: number | null;
  /** the priority class (DSCP) pushed to its agent by fca's priority enforcement; null: none pushed */
  readonly agentDscp: number | null;
  readonly meterRateBps: number | null;
  /** from the agent's successive byte counts */
  readonly measuredBps: number | null;
  /** from the meter's statistics (per host pair in hostPair mode) */
  readonly meterMeasuredBps: number | null;
  readonly meterKey: string | null;
  readonly meterId: number | null;
  /** path read from the switches (after a controller restart) = path.adopted */
  readonly pathAdopted: boolean;
  /**
   * Why it is not allocated (null once allocated): a {@link PendingReason}, or `small` (under
   * smallFlowletBytes: not allocated by design); `detail` names the cause, `sinceMs` (injected clock) when
   * this reason began.
   */
  readonly pending: { readonly reason: PendingReason | 'small'; readonly detail: string | null; readonly sinceMs: number | null } | null;
  /** the agent's capture saw the first packet */
  readonly firstPacketEpochUs: number;
  /** the controller received the start */
  readonly reportedEpochUs: number;
  /** the first rate was computed */
  readonly allocatedEpochUs: number | null;
  /** the agent applied its first rate (its `enforced` acknowledgement) */
  readonly agentEnforcedEpochUs: number | null;
  /** the switch confirmed its meter */
  readonly meterEnforcedEpochUs: number | null;
  /** ended flowlets: the last packet, or the expiry */
  readonly endedEpochUs: number | null;
  /** first packet → enforced, µs */
  readonly reactionUs: { readonly agent: number | null; readonly meter: number | null };
  /** ended flowlets: why (`ended` by the agent, `expired` agent gone, `resync` not in the agent's hello) */
  readonly endReason?: 'ended' | 'expired' | 'resync';
}

/** GET /api/v1/allocator. */
export interface AllocatorView {
  readonly policy: AllocatorPolicyName;
  readonly mode: EnforcementMode;
  readonly meterPer: MeterPer;
  readonly iterations: number;
  readonly runs: number;
  readonly lastRunDurationUs: number | null;
  readonly lastRunAtMs: number | null;
  readonly eventsPerSecond: number;
  readonly activeFlowlets: number;
  readonly allocatedFlowlets: number;
  readonly smallFlowlets: number;
  readonly pendingFlowlets: number;
  /** pending-path flowlets by why they are not allocated */
  readonly pendingByReason: Readonly<Record<PendingReason, number>>;
  readonly updatesSent: { readonly agents: number; readonly meters: number };
  /**
   * Rate updates per flowlet, over the flowlets that ended: `agent` counts the set and clear entries sent
   * for the flowlet, `meter` the meter sets and removals of its meter (a host-pair meter counts for each
   * flowlet it covers). Means per allocated flowlet and per flowlet (small ones included); null before any.
   */
  readonly updatesPerFlowlet: {
    readonly ended: number;
    readonly endedAllocated: number;
    readonly agentPerAllocated: number | null;
    readonly meterPerAllocated: number | null;
    readonly agentPerFlowlet: number | null;
    readonly meterPerFlowlet: number | null;
  };
  /** first packet → enforced (agent, meter), and first packet → reported to the controller (report) */
  readonly reaction: { readonly agent: SampleSummary; readonly meter: SampleSummary; readonly report: SampleSummary };
}

/** GET /api/v1/agents. */
export interface AgentView {
  readonly id: string;
  readonly hostname: string;
  readonly interface: string;
  readonly ipv4: readonly string[];
  readonly connected: boolean;
  /** when it (last) registered, ms of the injected clock */
  readonly sinceMs: number;
  readonly lastSeenMs: number;
  readonly flowlets: number;
}
