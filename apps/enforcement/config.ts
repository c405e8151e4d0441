/**
 * The configuration enforcement reads: the schemas of its own sections (`enforcement`, `agents`,
 * `tenants`; the `allocator` section is apps/allocator/config.ts's), composed into the file's schema by
 * controller/config, the check that spans tenants (unique names), and {@link EnforcementConfig}: its
 * sections and the few keys of other sections it needs (routing's priority and idle timeout: meters
 * attach to the pinned entries; QoS's classes: pushed to agents; the topology's link capacities).
 * controller/main.ts passes exactly this, not the whole file (README.md "Configuration" documents each key).
 */
import { Type } from '@sinclair/typebox';
import { ConfigError } from '../../lib/config-error.js';
import { int, oneOf, SECTION } from '../../lib/config-schema.js';
import type { TenantConfig } from './tenants.js';
import type { EnforcementSettings } from './types.js';

export interface EnforcementConfig {
  readonly allocator: {
    readonly policy: EnforcementSettings['policy'];
    readonly intervalMs: number;
    readonly iterationsPerRun: number;
    readonly rateChangeThreshold: number;
    readonly rateChangeMinBps: number;
    readonly minUpdateIntervalMs: number;
    readonly runOnProgress: boolean;
    readonly smallFlowletBytes: number;
    readonly fcaReserve?: number;
    readonly fcaMinRateBps?: number;
    readonly tenantWeightPer: 'tenant' | 'flowlet';
  };
  readonly enforcement: {
    readonly mode: EnforcementSettings['mode'];
    /** agents let allocated flowlets borrow their host link's unused capacity up to a ceiling (allocation.ts) */
    readonly workConserving: boolean;
    readonly meterMarginFraction: number;
    readonly meterPer: EnforcementSettings['meterPer'];
    readonly meterBurstMs: number;
    readonly statsIntervalMs: number;
    /** metered entries expire this long after the controller last refreshed them, s (0: never) */
    readonly meterExpiryS: number;
    /** push per-tenant aggregates to agents (one HTB class per tenant at the host) */
    readonly tenantLimits: boolean;
    /** a tenant's host limit is cleared after this long without a live flowlet there, ms (0: never) */
    readonly tenantIdleMs: number;
    /** fca: `rates` (per-flowlet limits) or `priority` (transfer classes by DSCP, fca-classes.ts) */
    readonly fcaEnforce?: 'rates' | 'priority';
  };
  readonly agents: {
    readonly socketPath: string;
    readonly heartbeatMs: number;
    readonly expiryMs: number;
    readonly idleGapMs?: number | undefined;
    readonly socketMode: string;
    readonly auth: {
      readonly secrets: Readonly<Record<string, string>>;
      readonly sharedSecret?: string | undefined;
      readonly unix: boolean;
      readonly timeoutMs: number;
    };
    readonly maxAgents: number;
    readonly maxActiveFlowletsPerAgent: number;
    readonly maxEventsPerSecond: number;
  };
  readonly tenants: readonly TenantConfig[];
  /** routing: the priority of pinned entries (meters attach at it) and their idle timeout, s */
  readonly routing: { readonly priority: number; readonly idleTimeoutS: number };
  /** QoS: whether it runs, its queues and DSCP map (the Karuna classes pushed to agents) */
  readonly qos: { readonly enabled: boolean; readonly queues: number; readonly dscpMap: Readonly<Record<string, readonly number[]>> };
  /** the topology's link capacities, bit/s (`<dpid hex16>:<port>` → bit/s) */
  readonly topology: { readonly links: Readonly<Record<string, number>>; readonly defaultCapacityBps?: number | undefined };
}

export const ENFORCEMENT_MODES = ['meters', 'agents', 'both', 'mark'] as const;

export const EnforcementSection = Type.Object(
  {
    mode: oneOf(ENFORCEMENT_MODES, 'both', 'who enforces the rates: OpenFlow meters on the ingress leaf, the host agents (HTB), or both (agents shape, meters police above); mark = no rate allocation at all: agents only mark DSCP by the PIAS/Karuna thresholds (the priority-only baseline of experiments)'),
    workConserving: Type.Boolean({
      default: true,
      description: "modes 'agents' and 'both', policies flowtune and maxmin: the agent's class of an allocated flowlet guarantees its rate and may borrow the host link's unused capacity up to a ceiling = the rate + the flowlet's weighted share of the capacity the allocation leaves free on the rest of its path (so no downstream link is offered more than its capacity); meters police above the ceiling. false: every rate is a hard limit",
    }),
    meterMarginFraction: Type.Number({
      minimum: 0, maximum: 10, default: 0.1,
      description: "mode 'both': meters police at rate·(1 + margin), above the agents' shaping",
      errorMessage: 'must be a fraction ≥ 0 (0.1 = 10% above the rate)',
    }),
    meterPer: oneOf(['flowlet', 'hostPair'] as const, 'flowlet', 'one meter per allocated flowlet, or per (source, destination) host pair on the ingress leaf'),
    meterBurstMs: int(1, 10_000, 20, "meter burst, ms of traffic at the meter's rate (too small a burst starves TCP below the rate)"),
    statsIntervalMs: int(100, 3_600_000, 1000, 'period of meter statistics polls (measured rate per meter), ms'),
    tenantLimits: Type.Boolean({
      default: true,
      description: "per-tenant enforcement at the sending host (BwE): each agent gets the sum of the allocated rates of each declared tenant's flowlets from its host and shapes that tenant's flows as one HTB class, from their first packet; false = per-flowlet limits only",
    }),
    tenantIdleMs: int(0, 86_400_000, 5000, "a tenant's limit at a host is held while the tenant is idle there (its next request is bounded at once) and cleared after this long without a live flowlet of it (0 = never), ms"),
    meterExpiryS: int(0, 65_535, 10, "metered entries expire this long after the controller's last refresh (every third of it), so the switches stop policing within this time once the controller is gone, like the agents after their grace (default 10 s); 0 = meters stay while the controller is down, s"),
    fcaEnforce: oneOf(['rates', 'priority'] as const, 'rates', "policy fca: enforce its transfer order by per-flowlet rates (HTB/meters), or by strict-priority classes: transfers ranked smallest remaining first ride the QoS queues below the top one (first served highest, the rest best effort), with no rate limit and no meters (FCA §4.2 order, Aalo-style; needs qos.enabled and ≥ 3 queues)"),
  },
  { ...SECTION, description: 'how allocated rates are enforced' },
);

export const AgentsSection = Type.Object(
  {
    socketPath: Type.String({ default: '/run/rivulet/agents.sock', description: 'unix socket the host agents connect to (NDJSON; "" = none: agents use the WebSocket /api/v1/agents/ws)' }),
    heartbeatMs: int(10, 600_000, 1000, 'ping period on every agent channel; a channel silent for 3 periods is dropped, ms'),
    expiryMs: int(0, 86_400_000, 5000, "a vanished agent's flowlets expire after this long unless it comes back, ms"),
    idleGapMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000, description: 'idle gap that ends a flowlet, pushed to agents (absent: the agents\' own default), ms' })),
    socketMode: Type.String({ pattern: '^0?[0-7]{3}$', default: '0600', description: 'file mode of the unix socket (octal; default owner only: the socket\'s protection when agents need no secret on it)' }),
    auth: Type.Object({
      secrets: Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ minLength: 16, maxLength: 1024 }), {
        default: {}, description: 'per-agent secrets, agent id → secret (≥ 16 characters); an agent listed here must prove this one',
      }),
      sharedSecret: Type.Optional(Type.String({ minLength: 16, maxLength: 1024, description: 'secret of every agent not listed in `secrets`' })),
      unix: Type.Boolean({ default: false, description: 'require authentication on the unix socket too (else its file mode protects it; a second hello with a connected agent id must authenticate either way)' }),
      timeoutMs: int(100, 600_000, 5000, 'a channel that has not authenticated this long after its hello is closed, ms'),
    }, { additionalProperties: false, default: {}, description: 'agent authentication (HMAC challenge-response); the WebSocket channel is off unless a secret is configured' }),
    maxAgents: int(1, 1_000_000, 1024, 'agents registered at once; more hellos are refused'),
    maxActiveFlowletsPerAgent: int(1, 10_000_000, 1024, "an agent's active flowlets; further starts are rejected (error on the channel, counted, not stored)"),
    maxEventsPerSecond: int(1, 100_000_000, 20_000, 'flowlet events (starts, progress, ends, acks) per second per agent, with a burst of one second; the excess is rejected and counted'),
  },
  { ...SECTION, description: 'the host-agent channel (protocol/agent.ts)' },
);

/** An IPv4 address or prefix: `10.0.1.2`, `10.0.1.0/24`. */
export const IPV4_OR_CIDR_PATTERN =
  '^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}(/([0-9]|[12][0-9]|3[0-2]))?$';

export const TenantSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, description: 'tenant name (agents may declare it per flowlet)' }),
    weight: Type.Number({ exclusiveMinimum: 0, maximum: 1e6, default: 1, description: "weight of each of the tenant's flowlets in the allocator", errorMessage: 'must be a weight > 0' }),
    members: Type.Array(Type.String({ pattern: IPV4_OR_CIDR_PATTERN, errorMessage: 'must be an IPv4 address or prefix such as 10.0.1.0/24' }), {
      default: [], description: 'source hosts of the tenant: IPv4 addresses or CIDR prefixes',
    }),
  },
  { additionalProperties: false },
);

export const TenantsSection = Type.Array(TenantSchema, {
  default: [],
  description: "tenants with weights; a flowlet's weight is its declared tenant's, else the first tenant whose members hold its source, else 1",
  errorMessage: 'must be a list of tenants { name, weight, members }',
});

/** @throws ConfigError CONFIG_INVALID naming `tenants.<i>.name` of the second tenant with a name */
export function checkTenants(tenants: readonly { readonly name: string }[], file?: string): void {
  const seen = new Map<string, number>();
  tenants.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) {
      throw new ConfigError('CONFIG_INVALID', `tenants.${i}.name`, `tenant "${t.name}" is already defined by tenants.${first}`, file);
    }
    seen.set(t.name, i);
  });
}
