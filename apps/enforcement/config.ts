/**
 * The configuration enforcement reads: its own sections (allocator, enforcement, agents, tenants) and
 * the few keys of other sections it needs (routing's priority and idle timeout: meters attach to the
 * pinned entries; QoS's classes: pushed to agents; the topology's link capacities). controller/main.ts
 * passes exactly this, not the whole file (README.md "Configuration" documents each key).
 */
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
    readonly tenantWeightPer: 'tenant' | 'flowlet';
  };
  readonly enforcement: {
    readonly mode: EnforcementSettings['mode'];
    readonly meterMarginFraction: number;
    readonly meterPer: EnforcementSettings['meterPer'];
    readonly meterBurstMs: number;
    readonly statsIntervalMs: number;
    /** metered entries expire this long after the controller last refreshed them, s (0: never) */
    readonly meterExpiryS: number;
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
