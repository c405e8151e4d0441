/**
 * The flowlet allocator (Flowtune, BwE, FCA, SCC; apps/allocator/README.md): public surface for the controller app, the CLI and the
 * simulator. Pure code, no I/O.
 */
export { AllocatorError, type AllocatorErrorCode } from './errors.js';
export { Fabric } from './fabric.js';
export { FlowletTable, type FlowletSpec, type TableOptions, type TableListener } from './table.js';
export { FlowtuneOptimizer, DEFAULT_GAMMA, utilityOf, type FlowtuneOptions } from './flowtune.js';
export { ParallelFlowtune } from './parallel/pool.js';
export { createPolicy, maxminAllocate, POLICY_NAMES, type Policy, type PolicyName, type PolicyOptions } from './policy.js';
export { fcaAllocate, type FcaOptions } from './fca.js';
export { divisionsAllocate, type DivisionSpec } from './divisions.js';
export { parseProblem, validateProblem, type Problem, type FlowSpec, type LinkSpec, type GroupSpec } from './problem.js';
export { buildInstance, addFlow, type Instance } from './instance.js';
export { allocateProblem, type AllocationResult, type AllocateOptions } from './allocate.js';
export { simulate, type SimOptions, type SimResult } from './simulator/fluid.js';
export { buildLinkFlows, type LinkFlows } from './csr.js';
