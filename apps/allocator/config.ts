/**
 * The `allocator` section of the configuration (README.md "Configuration"): the policy and how the online
 * allocator runs (period, iterations, damping, what is too small to allocate). Enforcement runs the
 * allocator and reads this section (apps/enforcement/config.ts); controller/config composes it into the
 * file's schema.
 */
import { Type, type StaticDecode } from '@sinclair/typebox';
import { int, oneOf, SECTION } from '../../lib/config-schema.js';

/** Policies the online allocator runs (apps/allocator createPolicy). */
export const ALLOCATOR_POLICIES = ['flowtune', 'maxmin', 'fca'] as const;

export const AllocatorSection = Type.Object(
  {
    policy: oneOf(ALLOCATOR_POLICIES, 'flowtune', 'flowtune: weighted proportional fairness (NED + F-NORM); maxmin: weighted max-min (BwE); fca: transfer-aware (FCA)'),
    intervalMs: int(10, 3_600_000, 100, 'period of the allocator run besides the run after each batch of agent events, ms'),
    iterationsPerRun: int(1, 10_000, 1, 'NED iterations per run (flowtune: one per change, warm-started prices)'),
    rateChangeThreshold: Type.Number({
      minimum: 0, maximum: 10, default: 0.05,
      description: 'push a rate to agents and meters only when it changed by more than this fraction (0.05 = 5%) AND by more than rateChangeMinBps',
      errorMessage: 'must be a fraction ≥ 0 (0.05 = 5%)',
    }),
    rateChangeMinBps: Type.Number({
      minimum: 0, maximum: 1e15, default: 500_000,
      description: 'absolute hysteresis: push a rate only when it changed by more than this many bit/s (and by more than rateChangeThreshold)',
      errorMessage: 'must be a number of bit/s ≥ 0',
    }),
    minUpdateIntervalMs: int(0, 3_600_000, 500, "a flowlet's rate (a meter's) changes at most once per this period; first rates and clears are exempt, ms"),
    runOnProgress: Type.Boolean({
      default: false,
      description: 'run the allocator after every batch of agent events; false: only after batches that start, enlarge or end an allocated flowlet (and every intervalMs)',
    }),
    tenantWeightPer: oneOf(['tenant', 'flowlet'] as const, 'tenant', "tenant: a tenant's weight is divided equally among its allocated flowlets, so each tenant gets its weighted share however many flowlets it runs (BwE); flowlet: every flowlet carries its tenant's full weight"),
    fcaReserve: Type.Number({
      minimum: 0, maximum: 0.5, default: 0.000001,
      description: 'fca: fraction of every link held back from the transfer-by-transfer rates and water-filled among all flowlets (FCA §4.3), so a starved flow still has a positive rate; 0 = the paper\'s strict order',
      errorMessage: 'must be a fraction in [0, 0.5]',
    }),
    fcaMinRateBps: Type.Number({
      minimum: 0, maximum: 1e15, default: 250_000,
      description: "fca: floor of every allocated flowlet's rate, bit/s, before the transfers are served in order: a few packets per agent idle gap, so a waiting flow's TCP keeps its ACK clock and its flowlet (FCA §4.3 work conservation; 0 = off)",
      errorMessage: 'must be a number of bit/s ≥ 0',
    }),
    smallFlowletBytes: int(0, 1e15, 50_000, 'flowlets below this many bytes (declared size, or bytes sent so far) are not allocated: they ride the top priority (FCA §4.4)'),
  },
  { ...SECTION, description: 'the online flowlet allocator (apps/allocator) fed by the host agents' },
);

/** The `allocator` section, validated, defaults filled in. */
export type AllocatorSectionConfig = StaticDecode<typeof AllocatorSection>;
