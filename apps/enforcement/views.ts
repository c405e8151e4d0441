/**
 * The read views the REST API serves (GET /api/v1/flowlets, /api/v1/allocator, /api/v1/agents), built
 * from the core's records (pure; a new object each call, nothing shared with the records).
 */
import type { EnforcementCounters } from './counters.js';
import type { Agent, Flowlet } from './flowlets.js';
import type { MeterBook } from './meter-book.js';
import type { Policy } from '../allocator/policy.js';
import { PENDING_REASONS, type AgentView, type AllocatorView, type EnforcementSettings, type FlowletView, type PendingReason } from './types.js';

/** One flowlet as GET /api/v1/flowlets shows it (its meter's rate, id and measured rate from `meters`). */
export function flowletView(f: Flowlet, meters: MeterBook, smallFlowletBytes: number): FlowletView {
  const mk = f.meterKey;
  return {
    agentId: f.agentId, id: f.id, flow: f.flow, tenant: f.tenant, weight: f.weight, state: f.state,
    path: f.path ? { links: f.path.linkIds, hops: f.path.hops, adopted: f.path.adopted } : null,
    bytes: f.bytes, sizeBytes: f.sizeBytes ?? null, transferId: f.transferId ?? null, deadlineMs: f.deadlineMs ?? null,
    allocatedBps: f.state === 'allocated' ? (f.allocatedBps ?? null) : null,
    agentRateBps: f.agentBps ?? null,
    agentCeilBps: f.agentCeilBps ?? null,
    agentDscp: f.agentDscp ?? null,
    meterRateBps: (mk !== undefined ? meters.rateBps(mk) : undefined) ?? null,
    measuredBps: f.measuredBps ?? null,
    meterMeasuredBps: mk !== undefined ? (meters.measuredBps(mk) ?? null) : null,
    meterKey: mk ?? null,
    meterId: mk !== undefined ? (meters.meterId(mk) ?? null) : null,
    pathAdopted: f.path?.adopted ?? false,
    pending: f.state === 'allocated' ? null
      : f.state === 'small' ? { reason: 'small', detail: `under smallFlowletBytes (${smallFlowletBytes} bytes): rides the top priority, not allocated`, sinceMs: null }
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

/** GET /api/v1/allocator: the policy, the run counters, the flowlets by state and pending reason, the reaction times. */
export function allocatorView(
  settings: EnforcementSettings, policy: Policy, counters: EnforcementCounters, flowlets: Iterable<Flowlet>, nowMs: number,
): AllocatorView {
  const counts = { small: 0, 'pending-path': 0, allocated: 0 };
  const pendingByReason = Object.fromEntries(PENDING_REASONS.map((r) => [r, 0])) as Record<PendingReason, number>;
  let active = 0;
  for (const f of flowlets) {
    active++;
    counts[f.state]++;
    if (f.state === 'pending-path' && f.pending) pendingByReason[f.pending.reason]++;
  }
  return {
    policy: settings.policy,
    mode: settings.mode,
    meterPer: settings.meterPer,
    iterations: policy.iterations,
    runs: counters.runs,
    lastRunDurationUs: counters.lastRunDurationUs,
    lastRunAtMs: counters.lastRunAtMs,
    eventsPerSecond: counters.eventRate.rate(nowMs),
    activeFlowlets: active,
    allocatedFlowlets: counts.allocated,
    smallFlowlets: counts.small,
    pendingFlowlets: counts['pending-path'],
    pendingByReason,
    updatesSent: { ...counters.updates },
    updatesPerFlowlet: counters.updatesPerFlowlet(),
    reaction: { agent: counters.agentReaction.summary(), meter: counters.meterReaction.summary(), report: counters.reportLatency.summary() },
  };
}

/** GET /api/v1/agents: one agent. */
export function agentView(a: Agent): AgentView {
  return {
    id: a.id, hostname: a.hostname, interface: a.iface, ipv4: [...a.ipv4], connected: a.connected,
    sinceMs: a.sinceMs, lastSeenMs: a.lastSeenMs, flowlets: a.flowlets.size,
  };
}
