/**
 * The allocation round of the enforcement core (pure, time passed in): each flowlet's place in the
 * allocator's long-lived FlowletTable (apps/allocator/table.ts) on the path routing pinned for it (or the
 * path read back from the switches), and the policy run over that table, warm-started (the table and the
 * policy live as long as the core). Records each allocated flowlet's rate and the load of every link.
 *
 * Bounds: a path longer than {@link MAX_LINKS} links is refused by the table (the flowlet stays pending,
 * `table-refused`).
 */
import type { Action } from '../../openflow/codec/index.js';
import { createPolicy, type Policy } from '../allocator/policy.js';
import { FlowletTable } from '../allocator/table.js';
import type { FlowKey, RouteInfo } from '../routing/types.js';
import type { TopologyView } from '../../topology/types.js';
import { fcaClassesOf } from './fca-classes.js';
import { setPending, type CoreNotify, type Flowlet } from './flowlets.js';
import { LinkRegistry } from './links.js';
import { ingressActions, resolvePath, routeHops, routeSig, type Hop, type ResolvedPath } from './paths.js';
import type { EnforcementSettings, Now } from './types.js';

/** Longest path the table accepts (host uplink + 8 switch hops, with room). */
export const MAX_LINKS = 12;

/** Payload bytes per IP byte of a full-sized TCP segment on a 1500-byte MTU (1448 of 1500: IPv4 + TCP + timestamps). */
export const PAYLOAD_PER_IP_BYTE = 1448 / 1500;

/**
 * What is left of `f`'s declared size (FCA's remaining volume), bytes, given `extraPayloadBytes` sent since its
 * last report; the agents count IP bytes, taken as full-sized segments' payload ({@link PAYLOAD_PER_IP_BYTE}).
 * Infinity when no size was declared; never below 0.
 */
export function remainingPayloadBytes(f: Pick<Flowlet, 'sizeBytes' | 'bytes'>, extraPayloadBytes = 0): number {
  return f.sizeBytes === undefined ? Infinity : Math.max(0, f.sizeBytes - f.bytes * PAYLOAD_PER_IP_BYTE - extraPayloadBytes);
}

export class Allocation {
  readonly links: LinkRegistry;
  readonly table: FlowletTable;
  readonly policy: Policy;
  private readonly transfers = new Map<string, number>();
  private loads = new Float64Array(0);

  constructor(
    private readonly settings: EnforcementSettings,
    private readonly topology: TopologyView,
    private readonly route: (key: FlowKey) => RouteInfo | undefined,
    private readonly notify: CoreNotify,
  ) {
    this.links = new LinkRegistry(topology, settings.capacity);
    this.table = new FlowletTable(this.links.fabric, { maxHops: MAX_LINKS });
    this.policy = createPolicy(settings.policy, this.table, {
      iterations: settings.iterationsPerRun,
      fca: {
        ...(settings.fcaReserve !== undefined ? { reserve: settings.fcaReserve } : {}),
        ...(settings.fcaMinRateBps !== undefined ? { minRateBps: settings.fcaMinRateBps } : {}),
      },
    });
  }

  /** Re-reads every link capacity (ports change speed, links are discovered). */
  refreshCapacities(): void {
    if (this.links.refresh()) this.table.refreshRateCaps();
  }

  /**
   * Moves a flowlet on: small → pending-path (once `large`) → allocated, following route changes; a
   * pending flowlet records why (waiting-for-discovery, no-route, route-not-installed).
   */
  place(f: Flowlet, large: boolean, now: Now): void {
    if (f.state === 'small') {
      if (!large) return;
      f.state = 'pending-path';
      f.pendingSinceMs = now.ms;
    }
    const route = this.route(f.flowKey);
    if (!route || route.path.length === 0) {
      if (f.state !== 'pending-path') return;
      if (!this.topology.ready()) setPending(f, 'waiting-for-discovery', null, now.ms);
      else if (!f.pending || f.pending.reason === 'waiting-for-discovery' || f.pending.reason === 'route-not-installed') setPending(f, 'no-route', null, now.ms);
      return;
    }
    // not before routing's entries are confirmed: a meter is attached to the pinned ingress entry
    if (!route.installed) {
      if (f.state === 'pending-path') setPending(f, 'route-not-installed', null, now.ms);
      return;
    }
    const sig = routeSig(route);
    if (f.path && f.path.sig === sig) return;
    this.setPath(f, resolvePath(this.links, f.flow.src, this.srcAt(f), routeHops(route), ingressActions(route), false, sig), now);
  }

  /** Places `f` on the path read from the switches (`actions`: its ingress entry's). False when the table refuses it. */
  adoptPath(f: Flowlet, hops: readonly Hop[], actions: readonly Action[], now: Now): boolean {
    const sig = `adopted:${hops.map((h) => `${h.dpid}:${h.inPort}>${h.outPort}`).join(',')}`;
    return this.setPath(f, resolvePath(this.links, f.flow.src, this.srcAt(f), hops, actions, true, sig), now);
  }

  /** Takes `f` out of the table (it ended). */
  release(f: Flowlet): void {
    if (f.handle >= 0) this.table.remove(f.handle);
    f.handle = -1;
  }

  /**
   * What is left of `f`'s declared size after its latest progress (FCA §4.1 ranks transfers by remaining
   * volume). The declared size counts payload while the agents count IP bytes, so the bytes sent are taken
   * as full-sized TCP segments' payload ({@link PAYLOAD_PER_IP_BYTE}): counting headers as payload would
   * call a flow done 3.5% before its end and leave its tail to work conservation alone (FCA §4.3).
   */
  noteProgress(f: Flowlet): void {
    if (f.handle >= 0 && f.sizeBytes !== undefined) this.table.setRemaining(f.handle, remainingPayloadBytes(f) * 8);
  }

  /** Runs the policy and records each allocated flowlet's rate and the link loads. */
  allocate(flowlets: ReadonlyMap<string, Flowlet>, now: Now): void {
    this.loads = new Float64Array(this.links.fabric.size);
    if (this.table.size === 0) return;
    if ((this.settings.tenantWeightPer ?? 'tenant') === 'tenant') this.divideTenantWeights(flowlets);
    if (this.settings.policy === 'fca' && !fcaClassesOf(this.settings)) this.predictRemaining(flowlets, now);
    const rates = this.policy.compute();
    for (const f of flowlets.values()) {
      if (f.state !== 'allocated' || f.handle < 0) continue;
      const r = rates[this.table.slotOf(f.handle)]!;
      f.allocatedBps = r;
      if (r > 0 && f.allocatedEpochUs === undefined) {
        f.allocatedEpochUs = now.epochUs;
        this.notify('debug', 'flowlet_allocated', { flowlet: f.key, rateBps: Math.round(r), links: f.path!.linkIds, tenant: f.tenant, weight: f.weight });
      }
      for (const l of f.path!.links) this.loads[l]! += r;
    }
    if (this.settings.workConserving === true && this.settings.mode !== 'meters' && this.settings.policy !== 'fca') this.ceilings(flowlets);
  }

  /**
   * Work-conserving enforcement: each allocated flowlet's ceiling, what its agent lets it borrow above its
   * rate from the host link's unused capacity (HTB rate + ceil, agent/tc.ts). The rate stays the NUM
   * allocation (Flowtune §4: the rates maximise Σ wᵢ·log xᵢ subject to the link capacities; maxmin: BwE's
   * weighted max-min), what HTB guarantees the flowlet; the ceiling
   * adds the flowlet's weighted share of the capacity the allocation leaves free on each of the OTHER links
   * of its path — min over those links l of (c_l − Σ rates on l) · w / Σ w on l — so the ceilings of
   * the flowlets crossing a link never add up to more than its capacity, and where the optimum fills a
   * link downstream (a weighted split at a receiver, a spine bottleneck) the ceiling is the rate. What the
   * host link lends is capacity its allocation gave to flowlets that do not use it right now: ones that
   * ended but whose end the controller has not learned yet (the agent's idle gap plus its poll), ones TCP
   * keeps below their rate. HTB lends it within the host at once, before the allocator could. Capped at
   * the host link; without a host uplink in the path, the ceiling is the rate.
   */
  private ceilings(flowlets: ReadonlyMap<string, Flowlet>): void {
    const cap = this.links.fabric.capacity;
    const linkWeight = this.table.linkWeight;
    const weight = this.table.weight;
    for (const f of flowlets.values()) {
      if (f.state !== 'allocated' || f.handle < 0 || f.allocatedBps === undefined) continue;
      const r = f.allocatedBps;
      const links = f.path!.links;
      if (!(r > 0) || links.length === 0 || !f.path!.linkIds[0]!.startsWith('host:')) {
        f.ceilBps = undefined;
        continue;
      }
      const w = weight[this.table.slotOf(f.handle)]!;
      let head = Infinity;
      for (let i = 1; i < links.length; i++) {
        const l = links[i]!;
        const free = Math.max(0, cap[l]! - this.loads[l]!);
        head = Math.min(head, linkWeight[l]! > 0 ? (free * w) / linkWeight[l]! : free);
      }
      f.ceilBps = Math.max(r, Math.min(cap[links[0]!]!, r + head));
    }
  }

  /** Allocated load per link id after the last run, bit/s (links crossed by no allocated flowlet: 0). */
  linkLoads(): Map<string, number> {
    const m = new Map<string, number>();
    const ids = this.links.fabric.ids;
    for (let l = 0; l < ids.length; l++) m.set(ids[l]!, this.loads[l] ?? 0);
    return m;
  }

  /**
   * FCA ranks and paces transfers by their remaining volume (FCA §4.1–4.2), but agents report bytes only
   * every progress interval (and at the small-flowlet crossing), while at 20 Mbit/s a whole transfer takes
   * ~0.1 s. Between reports each sized flowlet's remaining volume is taken down by what the rate enforced
   * now (the rate pushed to its agent) lets through since its last report, so a transfer that should be
   * done hands its links to the next one at once instead of at its next report or its end (idle gap +
   * poll). Right after a promotion this over-counts (the new rate did not hold since the report); a flow
   * slower than predicted is corrected by its next report. Never below 0.
   */
  private predictRemaining(flowlets: ReadonlyMap<string, Flowlet>, now: Now): void {
    for (const f of flowlets.values()) {
      if (f.state !== 'allocated' || f.handle < 0 || f.sizeBytes === undefined) continue;
      const sinceS = Math.max(0, now.epochUs - f.last.atEpochUs) / 1e6;
      this.table.setRemaining(f.handle, remainingPayloadBytes(f, ((f.agentBps ?? 0) * sinceS) / 8) * 8);
    }
  }

  private srcAt(f: Flowlet) {
    return this.topology.hostByIpv4(f.flow.src)?.attachment;
  }

  /** (Re)adds the flowlet to the table on `path`. False when the table refuses it (it stays pending). */
  private setPath(f: Flowlet, path: ResolvedPath, now: Now): boolean {
    this.release(f);
    try {
      f.handle = this.table.add({
        path: path.links, weight: f.weight, tenant: f.tenantIndex,
        ...(f.sizeBytes !== undefined ? { sizeBits: f.sizeBytes * 8 } : {}),
        ...(f.transferId !== undefined ? { transfer: this.transferIndex(f.transferId) } : {}),
      });
    } catch (err) {
      f.state = 'pending-path';
      f.pendingSinceMs ??= now.ms;
      setPending(f, 'table-refused', (err as Error).message, now.ms);
      this.notify('warn', 'flowlet_not_allocated', { flowlet: f.key, err: (err as Error).message });
      return false;
    }
    this.noteProgress(f);
    if (f.path && f.path.sig !== path.sig) this.notify('info', 'flowlet_path_changed', { flowlet: f.key, links: path.linkIds });
    f.path = path;
    f.state = 'allocated';
    f.pending = undefined;
    return true;
  }

  private transferIndex(id: string): number {
    let i = this.transfers.get(id);
    if (i === undefined) this.transfers.set(id, (i = this.transfers.size));
    return i;
  }

  /**
   * A tenant's weight divided equally among its allocated flowlets (BwE §4): with n flowlets of tenant t
   * on one bottleneck, each gets weight w_t ÷ n, so the tenant gets w_t ÷ Σ w of it. Flowlets of no tenant
   * keep their own weight. Only changed weights are written to the table.
   */
  private divideTenantWeights(flowlets: ReadonlyMap<string, Flowlet>): void {
    const counts = new Map<number, number>();
    for (const f of flowlets.values()) {
      if (f.state === 'allocated' && f.handle >= 0 && f.tenantIndex >= 0) counts.set(f.tenantIndex, (counts.get(f.tenantIndex) ?? 0) + 1);
    }
    if (counts.size === 0) return;
    for (const f of flowlets.values()) {
      if (f.state !== 'allocated' || f.handle < 0 || f.tenantIndex < 0) continue;
      const w = f.weight / counts.get(f.tenantIndex)!;
      if (this.table.weight[this.table.slotOf(f.handle)] !== w) this.table.setWeight(f.handle, w);
    }
  }
}
