/**
 * Live allocation, controller side (ARCHITECTURE.md "Data path: a flowlet"): host agents report flowlets, the allocator runs over
 * their paths, rates go to the agents and to OpenFlow meters on the ingress leaves.
 */
export { createEnforcementApp, enforcementSettings, agentThresholds, type EnforcementApp, type EnforcementAppOptions, type EnforcementSource } from './app.js';
export { EnforcementCore, flowKeyOfTuple, METER_RETRY_MS, type AdoptionRequest, type CoreNotify } from './core.js';
export { AgentServer, type AgentChannel, type AgentServerOptions } from './agent-server.js';
export { readPathFromSwitches, removeStaleEntries, type AdoptedPath, type AdoptionResult } from './adopt.js';
export { LinkRegistry, hostLinkId, portLinkId } from './links.js';
export { Tenants, parsePrefix, ipv4ToInt, type TenantConfig } from './tenants.js';
export * from './types.js';
