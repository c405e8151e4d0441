/**
 * Per-tenant limits at the sending host (BwE §4: the host enforcer limits a flow group, the sum of its
 * flows, to the group's allocation): after each allocation run, per (agent, tenant) the aggregate is the
 * sum of the allocated rates of the tenant's live allocated flowlets sent from that agent's host. The
 * agent shapes all the tenant's declared flows through one HTB class at that rate (agent/tenant-classes.ts),
 * so a new flowlet of the tenant is bounded from its first packet, before its own rate could arrive.
 *
 * Only flowlets whose tenant was declared by the agent (local API) count: the agent can steer only the
 * flows it knows the tenant of. Pure: flowlets and agents in, `rates.tenants` entries out.
 *
 * Damping, as for flowlet rates (rate-effects.ts {@link rateMoved}): a pushed aggregate changes only when it
 * moved by more than `rateChangeThreshold`·pushed AND `rateChangeMinBps` — but not held back by
 * `minUpdateIntervalMs`: a tenant's aggregate is one entry per host, not one per flowlet, and holding a
 * one-run transient (a tenant's last flowlet ending for a moment gives the other tenant the whole link) for
 * that interval let the other tenant overshoot its share for half a second at a time. A tenant with no allocated flowlet at the host keeps its last aggregate (held, not
 * 0: its next request is bounded at once); the limit is cleared (`rateBps: null`) only after the tenant had
 * no live flowlet at the host for `tenantIdleMs` (0: never).
 *
 * In mode `both` the meter of a flowlet its agent shapes in its tenant's class polices at the tenant's host
 * limit (·(1 + margin)), not at the flowlet's own rate (meter-book.ts): within the class the tenant's flows
 * share its aggregate, and a per-flowlet meter would police a busy flow down to the share of flowlets that
 * are live but idle (a kept-alive connection between two requests).
 */
import type { TenantRate } from '../../protocol/agent.js';
import type { Agent, Flowlet } from './flowlets.js';
import { rateMoved } from './rate-effects.js';
import type { EnforcementSettings } from './types.js';

/** Default idle time after which a tenant's limit at a host is cleared, ms. */
export const DEFAULT_TENANT_IDLE_MS = 5000;
/**
 * Tenant limits kept per agent at most (declared names are agent input): a further tenant gets no host
 * limit (its flowlets keep their own limits) until one is cleared.
 */
export const MAX_TENANT_LIMITS_PER_AGENT = 1024;

/** What a flowlet contributes (structurally a {@link Flowlet}). */
export type TenantFlowlet = Pick<Flowlet, 'agentId' | 'tenant' | 'state' | 'allocatedBps'> & { readonly tenantDeclared?: boolean };

/** One host's tenants: live = has a live declared flowlet; sumBps = Σ allocated rates (allocated flowlets only). */
export interface TenantAggregate {
  readonly live: boolean;
  /** undefined when none of the tenant's live flowlets is allocated yet */
  readonly sumBps: number | undefined;
}

/**
 * Per agent id, per tenant: whether the tenant has a live declared flowlet at the agent's host and the sum
 * of the allocated rates of those that are allocated (finite, > 0), bit/s.
 */
export function tenantAggregates(flowlets: Iterable<TenantFlowlet>): Map<string, Map<string, TenantAggregate>> {
  const out = new Map<string, Map<string, { live: boolean; sumBps: number | undefined }>>();
  for (const f of flowlets) {
    if (f.tenant === null || f.tenantDeclared !== true) continue;
    let byTenant = out.get(f.agentId);
    if (!byTenant) out.set(f.agentId, (byTenant = new Map()));
    let agg = byTenant.get(f.tenant);
    if (!agg) byTenant.set(f.tenant, (agg = { live: true, sumBps: undefined }));
    const r = f.allocatedBps;
    if (f.state === 'allocated' && r !== undefined && r > 0 && Number.isFinite(r)) agg.sumBps = (agg.sumBps ?? 0) + r;
  }
  return out;
}

/** What was pushed for one (agent, tenant). */
interface Pushed {
  rateBps: number;
  atMs: number;
  /** the last time the tenant had a live declared flowlet at the host, ms */
  liveMs: number;
}

/** The tenant limits pushed to each agent, and the decisions of the next run. */
export class TenantLimitBook {
  private readonly byAgent = new Map<string, Map<string, Pushed>>();

  constructor(private readonly settings: EnforcementSettings) {}

  /**
   * The `tenants` entries each connected agent should get now (only agents with a change are in the map),
   * recorded as pushed. An agent that is not connected gets nothing (its hello resets it: {@link forget}).
   */
  decide(flowlets: Iterable<TenantFlowlet>, agents: ReadonlyMap<string, Pick<Agent, 'connected'>>, nowMs: number): Map<string, TenantRate[]> {
    const out = new Map<string, TenantRate[]>();
    const aggs = tenantAggregates(flowlets);
    const idleMs = this.settings.tenantIdleMs ?? DEFAULT_TENANT_IDLE_MS;
    const push = (agentId: string, e: TenantRate): void => {
      let list = out.get(agentId);
      if (!list) out.set(agentId, (list = []));
      list.push(e);
    };
    for (const [agentId, byTenant] of aggs) {
      if (!agents.get(agentId)?.connected) continue;
      let book = this.byAgent.get(agentId);
      if (!book) this.byAgent.set(agentId, (book = new Map()));
      for (const [tenant, agg] of byTenant) {
        const old = book.get(tenant);
        if (old) old.liveMs = nowMs;
        const r = agg.sumBps;
        if (r === undefined) continue; // live but nothing allocated yet: hold
        if (!old && book.size >= MAX_TENANT_LIMITS_PER_AGENT) continue;
        if (!rateMoved(this.settings, old?.rateBps, r, undefined, nowMs)) continue;
        const rateBps = Math.max(1, Math.round(r));
        book.set(tenant, { rateBps, atMs: nowMs, liveMs: nowMs });
        push(agentId, { tenant, rateBps });
      }
    }
    if (idleMs > 0) {
      for (const [agentId, book] of this.byAgent) {
        if (!agents.get(agentId)?.connected) continue;
        for (const [tenant, p] of book) {
          if (nowMs - p.liveMs < idleMs) continue;
          book.delete(tenant);
          push(agentId, { tenant, rateBps: null });
        }
      }
    }
    return out;
  }

  /** An agent said hello (its limits are pushed afresh) or expired. */
  forget(agentId: string): void {
    this.byAgent.delete(agentId);
  }

  /** The limit last pushed for `tenant` at `agentId`, bit/s (undefined: none). */
  rateOf(agentId: string, tenant: string): number | undefined {
    return this.byAgent.get(agentId)?.get(tenant)?.rateBps;
  }

  /** The limits last pushed to `agentId`: tenant → bit/s. */
  limitsOf(agentId: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, p] of this.byAgent.get(agentId) ?? []) out[t] = p.rateBps;
    return out;
  }
}
