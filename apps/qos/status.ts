/**
 * What the QoS app reports per port (REST /api/v1/qos): the plan, and for each part whether the platform
 * applied it and why not. Plain data.
 */
import type { PortPlan } from './plan.js';

/** One part of the plan on one port. */
export interface PartStatus {
  /** the part is wanted on this platform (e.g. the DSCP classifier only where set_queue does not steer) */
  readonly required: boolean;
  readonly applied: boolean;
  /** why not applied / how applied */
  readonly detail: string;
}

export interface PortQosStatus {
  readonly plan: PortPlan;
  /** Bridge.datapath_type ('netdev' = userspace datapath, '' or 'system' = kernel) */
  readonly datapathType: string | undefined;
  /** QoS + Queue rows in OVSDB (linux-htb) */
  readonly queues: PartStatus & { readonly changed: boolean };
  /** tc u32 DSCP filters */
  readonly classifier: PartStatus;
  /** RED with ecn under each class */
  readonly ecn: PartStatus;
  /** when the last apply finished, ms since the epoch */
  readonly appliedAtMs: number;
}
