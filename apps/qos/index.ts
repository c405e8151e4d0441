/** QoS (Karuna's switch side): plan (pure), tc text (pure), the shell app. Thresholds live in thresholds/. */
export { createQosApp, type QosApp, type QosAppConfig, type QosAppOptions, type QueueCounters } from './app.js';
export { planPort, ovsRows, dscpQueueRule, queueOfDscp, portKey, type PortPlan, type QueuePlan, type EcnPlan, type QosPlanConfig } from './plan.js';
export type { PortQosStatus, PartStatus } from './status.js';
export * from './tc.js';
export { computePriorityThresholds, type PriorityThresholds } from './priority-thresholds.js';
