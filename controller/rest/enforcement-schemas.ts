/**
 * JSON schemas (TypeBox) of the live-allocation endpoints: flowlets, allocator, meters, agents.
 * Rates bit/s, sizes bytes, `…EpochUs` µs since the epoch, `…Ms` ms of the controller's clock.
 */
import { NextCursor, PageQueryProps } from './page.js';
import { Type } from '@sinclair/typebox';
import { PENDING_REASONS } from '../../apps/enforcement/types.js';

const Dpid = Type.String({ pattern: '^[0-9a-f]{16}$', description: 'datapath id, 16 hex digits' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const NumOrNull = (description: string) => Nullable(Type.Number({ description }));

const FiveTuple = Type.Object({
  src: Type.String(), dst: Type.String(), proto: Type.Integer(), sport: Type.Integer(), dport: Type.Integer(),
}, { title: 'FiveTuple' });

export const FlowletSchema = Type.Object(
  {
    agentId: Type.String(),
    id: Type.String({ description: 'the agent’s flowlet id' }),
    flow: FiveTuple,
    tenant: Nullable(Type.String()),
    weight: Type.Number(),
    state: Type.Union([Type.Literal('small'), Type.Literal('pending-path'), Type.Literal('allocated')], {
      description: 'small: below allocator.smallFlowletBytes, not allocated; pending-path: no route known yet',
    }),
    path: Nullable(Type.Object({
      links: Type.Array(Type.String(), { description: 'allocator link ids: host:<ip> (source uplink), <dpid>:<port> (egress port)' }),
      hops: Type.Array(Type.Object({ dpid: Dpid, inPort: Type.Integer(), outPort: Type.Integer() })),
      adopted: Type.Boolean({ description: 'read from the switches’ tables (after a controller restart), not from routing' }),
    })),
    bytes: Type.Number(),
    sizeBytes: NumOrNull('declared size'),
    transferId: Nullable(Type.String()),
    deadlineMs: NumOrNull('declared deadline'),
    allocatedBps: NumOrNull('the allocator’s latest rate'),
    agentRateBps: NumOrNull('rate last pushed to the agent'),
    agentCeilBps: NumOrNull('ceiling pushed with it: what it may borrow up to at its host (work-conserving enforcement); null: the rate is a hard limit'),
    agentDscp: Nullable(Type.Integer({ minimum: 0, maximum: 63, description: 'priority class (DSCP) pushed by fca priority enforcement; null: none' })),
    meterRateBps: NumOrNull('rate of its meter (the pair’s total in hostPair mode)'),
    measuredBps: NumOrNull('from the agent’s successive byte counts'),
    meterMeasuredBps: NumOrNull('from the meter statistics'),
    meterKey: Nullable(Type.String()),
    meterId: Nullable(Type.Integer()),
    pathAdopted: Type.Boolean({ description: 'path.adopted' }),
    pending: Nullable(Type.Object({
      reason: Type.Union([Type.Literal('small'), ...PENDING_REASONS.map((r) => Type.Literal(r))], {
        description: 'why it is not allocated: small (by design), waiting-for-discovery, no-route, route-not-installed, ' +
          'adopting (reading its path from the switches), adoption-failed (detail: where the read stopped; retried), ' +
          'repinning (the last run\'s entries removed; pinned afresh at its next packet), table-refused',
      }),
      detail: Nullable(Type.String()),
      sinceMs: NumOrNull('when this reason began, ms of the controller clock'),
    }, { description: 'null once allocated' })),
    firstPacketEpochUs: Type.Number({ description: 'the agent’s capture saw the first packet' }),
    reportedEpochUs: Type.Number({ description: 'when the controller received the start' }),
    allocatedEpochUs: NumOrNull('first rate computed'),
    agentEnforcedEpochUs: NumOrNull('the agent applied its first rate'),
    meterEnforcedEpochUs: NumOrNull('its meter was confirmed by the switch'),
    endedEpochUs: NumOrNull('ended flowlets: last packet, or expiry'),
    reactionUs: Type.Object({
      agent: NumOrNull('first packet → enforced at the agent, µs'),
      meter: NumOrNull('first packet → enforced at the meter, µs'),
    }),
    endReason: Type.Optional(Type.Union([Type.Literal('ended'), Type.Literal('expired'), Type.Literal('resync')])),
  },
  { title: 'Flowlet' },
);

export const FlowletList = Type.Object({ flowlets: Type.Array(FlowletSchema), nextCursor: Type.Optional(NextCursor) });

export const FlowletQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('ended')], { description: 'active (default) or the recently ended ones' })),
    ...PageQueryProps,
  },
  { additionalProperties: false },
);

export const AgentIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export const AgentDisconnect = Type.Object({ disconnected: Type.String() });

const Reaction = Type.Object({ count: Type.Integer(), p50Us: Nullable(Type.Number()), p99Us: Nullable(Type.Number()) });

export const AllocatorSchema = Type.Object(
  {
    policy: Type.String(),
    mode: Type.String({ description: 'meters | agents | both | mark' }),
    meterPer: Type.String({ description: 'flowlet | hostPair' }),
    iterations: Type.Integer({ description: 'optimizer iterations so far (flowtune), else runs of the policy' }),
    runs: Type.Integer(),
    lastRunDurationUs: NumOrNull('duration of the last run'),
    lastRunAtMs: NumOrNull('when the last run happened, controller clock'),
    eventsPerSecond: Type.Number({ description: 'agent events per second over the last 10 s' }),
    activeFlowlets: Type.Integer(),
    allocatedFlowlets: Type.Integer(),
    smallFlowlets: Type.Integer(),
    pendingFlowlets: Type.Integer(),
    pendingByReason: Type.Object(Object.fromEntries(PENDING_REASONS.map((r) => [r, Type.Integer()])), { description: 'pending-path flowlets by why they are not allocated' }),
    updatesSent: Type.Object({ agents: Type.Integer({ description: 'rate set/clear entries' }), meters: Type.Integer({ description: 'meter sets and removals' }) }),
    updatesPerFlowlet: Type.Object({
      ended: Type.Integer({ description: 'flowlets ended so far' }),
      endedAllocated: Type.Integer({ description: 'of them, allocated ones' }),
      agentPerAllocated: NumOrNull('mean rate updates (set and clear entries) per allocated flowlet'),
      meterPerAllocated: NumOrNull('mean meter sets and removals per allocated flowlet'),
      agentPerFlowlet: NumOrNull('mean rate updates per flowlet, small ones included'),
      meterPerFlowlet: NumOrNull('mean meter updates per flowlet, small ones included'),
    }, { description: 'rate updates per flowlet, over the flowlets that ended' }),
    reaction: Type.Object({ agent: Reaction, meter: Reaction, report: Reaction }, {
      description: 'first packet → enforced at the agent / meter, and first packet (agent) → reported to the controller, over the last 1000 flowlets',
    }),
  },
  { title: 'Allocator' },
);

export const MeterSchema = Type.Object(
  {
    key: Type.String(),
    dpid: Dpid,
    meterId: Type.Integer({ description: '0 while none is held' }),
    rateBps: Type.Number(),
    burstBytes: Type.Number(),
    state: Type.Union([Type.Literal('installing'), Type.Literal('installed'), Type.Literal('failed')]),
    error: Type.Optional(Type.String()),
    installedAtMs: Type.Optional(Type.Number()),
    stats: Type.Optional(Type.Object({ packets: Type.Number(), bytes: Type.Number(), measuredBps: Type.Number(), sampledAtMs: Type.Number() })),
  },
  { title: 'Meter' },
);

export const MeterSupportSchema = Type.Object(
  {
    dpid: Dpid, supported: Type.Boolean(), maxMeter: Type.Integer(), bandTypes: Type.Array(Type.String()),
    reason: Type.Optional(Type.String()),
  },
  { title: 'MeterSupport' },
);

export const MeterList = Type.Object({ meters: Type.Array(MeterSchema), nextCursor: Type.Optional(NextCursor), switches: Type.Array(MeterSupportSchema) });

export const AgentSchema = Type.Object(
  {
    id: Type.String(), hostname: Type.String(), interface: Type.String(), ipv4: Type.Array(Type.String()),
    connected: Type.Boolean(),
    since: Type.String({ format: 'date-time', description: 'when it (last) registered' }),
    lastSeenMs: Type.Number({ description: 'ms since its last message' }),
    flowlets: Type.Integer(),
  },
  { title: 'Agent' },
);

export const AgentList = Type.Object({
  agents: Type.Array(AgentSchema),
  nextCursor: Type.Optional(NextCursor),
  rejected: Type.Optional(Type.Record(Type.String(), Type.Integer(), {
    description: 'agent items and connections rejected since start, by reason: foreignSource, hostMismatch, activeLimit, rateLimit, agentLimit, unauthenticated, idInUse (never stored)',
  })),
});

/** Ryu's /stats/meter/{dpid}: `{ "<dpid decimal>": [ … ] }`. */
export const RyuMeterStats = Type.Record(Type.String(), Type.Array(Type.Object({
  meter_id: Type.Integer(), flow_count: Type.Integer(), packet_in_count: Type.Number(), byte_in_count: Type.Number(),
  rate_kbps: Type.Number(), measured_bps: Nullable(Type.Number()), key: Type.String(),
})));
