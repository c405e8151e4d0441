/**
 * The allocator's view of the fabric (each flowlet's path comes from routing's pinned route):
 * directed links with capacities, addressed by stable string ids and dense {@link Fabric} indices.
 *
 * Link ids: `host:<ipv4>` is a source host's uplink (host → its leaf); `<dpid hex16>:<port>` is the egress
 * direction of a switch port (a spine-leaf link, or a leaf's downlink to a host). A flowlet's path is its
 * source's uplink followed by one egress port per hop of its route (the last is the destination host's
 * downlink).
 *
 * Capacities (the topology's rule, topology/graph.ts): a switch-to-switch link takes the topology's
 * FabricLink.capacityBps; a host link takes config `topology.links["<dpid>:<port>"]` of its leaf port, else
 * `topology.defaultCapacityBps`, else the port's current speed, else 1 Gbit/s. {@link refresh} re-reads
 * them all (ports change speed, links are discovered). Pure: reads the TopologyView only.
 */
import { Fabric } from '../allocator/fabric.js';
import { dpidPortKey } from '../../lib/dpid.js';
import type { PortRef, TopologyView } from '../../topology/types.js';

/** Capacity when nothing else says (topology/graph.ts FALLBACK_CAPACITY_BPS). */
export const FALLBACK_LINK_BPS = 1e9;

export interface CapacityConfig {
  /** config `topology.links`: "<dpid hex16>:<port>" → bit/s */
  readonly links: Readonly<Record<string, number>>;
  /** config `topology.defaultCapacityBps` */
  readonly defaultBps?: number;
}

/** What a link id stands for: a host uplink measured at its leaf port, or a switch egress port. */
type LinkSource = { readonly kind: 'host'; readonly at: PortRef } | { readonly kind: 'port'; readonly at: PortRef };

export function hostLinkId(ip: string): string {
  return `host:${ip}`;
}

export function portLinkId(dpid: bigint, portNo: number): string {
  return dpidPortKey(dpid, portNo);
}

export class LinkRegistry {
  readonly fabric = new Fabric();
  private readonly sources: LinkSource[] = [];

  constructor(
    private readonly topology: TopologyView,
    private readonly capacity: CapacityConfig,
  ) {}

  /** Index of the uplink of host `ip` attached at `at` (added on first use). */
  hostLink(ip: string, at: PortRef): number {
    return this.ensure(hostLinkId(ip), { kind: 'host', at });
  }

  /** Index of the egress direction of a switch port (added on first use). */
  portLink(dpid: bigint, portNo: number): number {
    return this.ensure(portLinkId(dpid, portNo), { kind: 'port', at: { dpid, portNo } });
  }

  /** Re-reads every capacity; true when one changed (callers then refresh the table's rate caps). */
  refresh(): boolean {
    const bySrc = this.linkCapacities();
    let changed = false;
    for (let l = 0; l < this.fabric.size; l++) {
      const c = this.capacityOf(this.sources[l]!, bySrc);
      if (c !== this.fabric.capacity[l]) {
        this.fabric.setCapacity(l, c);
        changed = true;
      }
    }
    return changed;
  }

  /** The capacity of link `l`, bit/s. */
  capacityBps(l: number): number {
    return this.fabric.capacity[l]!;
  }

  /** The port rule: config per port, config default, the port's speed, the fallback. */
  portCapacity(at: PortRef): number {
    const configured = this.capacity.links[portLinkId(at.dpid, at.portNo)] ?? this.capacity.defaultBps;
    if (configured !== undefined) return configured;
    const speed = this.topology.switch(at.dpid)?.ports.get(at.portNo)?.currSpeedBps ?? 0;
    return speed > 0 ? speed : FALLBACK_LINK_BPS;
  }

  private ensure(id: string, src: LinkSource): number {
    const l = this.fabric.indexOf(id);
    if (l >= 0) {
      if (src.kind === 'host') this.sources[l] = src; // the host may have moved
      return l;
    }
    const idx = this.fabric.addLink(id, this.capacityOf(src, this.linkCapacities()));
    this.sources[idx] = src;
    return idx;
  }

  private capacityOf(src: LinkSource, bySrc: ReadonlyMap<string, number>): number {
    if (src.kind === 'port') {
      const c = bySrc.get(portLinkId(src.at.dpid, src.at.portNo));
      if (c !== undefined && c > 0) return c;
    }
    return this.portCapacity(src.at);
  }

  private linkCapacities(): Map<string, number> {
    const m = new Map<string, number>();
    for (const l of this.topology.links()) m.set(portLinkId(l.src.dpid, l.src.portNo), l.capacityBps);
    return m;
  }
}
