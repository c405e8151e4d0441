/**
 * The fabric model shared by discovery, host tracking, routing and the REST API. Plain data; the graph
 * that maintains it (topology/graph.ts) is pure (no I/O, time passed in as `nowMs`).
 *
 * Units: capacities in bits per second; times in ms (the injected clock's milliseconds).
 * dpids are bigint; `dpidHex` is the 16-hex-digit form used in logs and the API.
 */
import type { RejectedLink } from './link-guard.js';

/** One end of a link: a switch port. */
export interface PortRef {
  readonly dpid: bigint;
  readonly portNo: number;
}

export type SwitchRole = 'leaf' | 'spine' | 'unknown';

/** A switch port as the fabric sees it (from PORT_DESC / PORT_STATUS). */
export interface FabricPort {
  readonly portNo: number;
  readonly name: string;
  readonly hwAddr: string;
  /** OFPPS_LINK_DOWN clear and OFPPC_PORT_DOWN clear */
  readonly up: boolean;
  /** ofp_port.curr_speed × 1000 (the spec's kbit/s → bit/s); 0 when the switch does not say */
  readonly currSpeedBps: number;
}

export interface FabricSwitch {
  readonly dpid: bigint;
  readonly dpidHex: string;
  readonly role: SwitchRole;
  /** physical ports by number (OFPP_LOCAL and other reserved ports excluded) */
  readonly ports: ReadonlyMap<number, FabricPort>;
}

/** A directed inter-switch link learnt from LLDP (src sent the LLDP frame, dst received it). */
export interface FabricLink {
  readonly src: PortRef;
  readonly dst: PortRef;
  /** from the config (per link, else default), else the ports' curr_speed (the smaller), in bit/s */
  readonly capacityBps: number;
  /** when the last LLDP frame proving this link arrived */
  readonly lastSeenMs: number;
}

/** A host learnt from ARP / IPv4 packet-ins on an edge port (a port with no LLDP neighbour). */
export interface FabricHost {
  readonly mac: string;
  /** the IPv4 address once known (an event is raised when it becomes known) */
  readonly ipv4?: string;
  readonly attachment: PortRef;
  readonly lastSeenMs: number;
}

/**
 * A switch-level path: the directed links crossed in order (empty when source and destination hosts hang
 * off the same switch). All paths in one path set have the same (minimal) number of links.
 */
export type FabricPath = readonly FabricLink[];

/** One switch's part of a host-to-host path: match on `inPort`, output on `outPort`. */
export interface Hop {
  readonly dpid: bigint;
  readonly inPort: number;
  readonly outPort: number;
}

export type FabricEvent =
  | { readonly type: 'switchAdded'; readonly sw: FabricSwitch }
  | { readonly type: 'switchRemoved'; readonly dpid: bigint }
  | { readonly type: 'portChanged'; readonly dpid: bigint; readonly port: FabricPort }
  | { readonly type: 'linkUp'; readonly link: FabricLink }
  /** reason: 'timeout' | 'portDown' | 'switchDown' | … */
  | { readonly type: 'linkDown'; readonly link: FabricLink; readonly reason: string }
  | { readonly type: 'hostAdded'; readonly host: FabricHost }
  | { readonly type: 'hostMoved'; readonly host: FabricHost; readonly from: PortRef }
  | { readonly type: 'hostIpLearned'; readonly host: FabricHost }
  /**
   * A host forgotten; reason 'fabricPort': it had been learnt on a port that LLDP later showed to be an
   * inter-switch port (e.g. a flooded frame seen before discovery finished), so its attachment was wrong.
   */
  | { readonly type: 'hostRemoved'; readonly host: FabricHost; readonly reason: string }
  /** emitted once after any batch of the above (roles and path sets may have changed) */
  | { readonly type: 'topologyChanged' };

/**
 * The read-only view of the fabric that apps and the REST API use (apps never reach into another app's
 * state; ARCHITECTURE.md "Layers"). Implemented by the topology app over its FabricGraph.
 */
export interface TopologyView {
  switches(): readonly FabricSwitch[];
  switch(dpid: bigint): FabricSwitch | undefined;
  links(): readonly FabricLink[];
  hosts(): readonly FabricHost[];
  hostByMac(mac: string): FabricHost | undefined;
  hostByIpv4(ip: string): FabricHost | undefined;
  /** true when the port has an LLDP neighbour (an inter-switch port) */
  isFabricPort(ref: PortRef): boolean;
  /** LLDP sightings refused by the link guard (host port at an end, or probe delay far above the fabric's) */
  rejectedLinks?(): readonly RejectedLink[];
  /** ports that carried host traffic: never probed, never a link end until they go down and up */
  hostPorts?(): readonly PortRef[];
  /** all equal-cost shortest switch-level paths from `src` to `dst` (one empty path when src == dst) */
  paths(src: bigint, dst: bigint): readonly FabricPath[];
  /**
   * Ports to flood a broadcast on, per switch, along one loop-free spanning tree of the fabric plus every
   * edge port, excluding the port the packet came in on.
   */
  floodPorts(dpid: bigint, inPort: number): readonly number[];
  /** Discovery settled: every connected switch's ports have been probed and no link changed for a while. */
  ready(): boolean;
  /** Subscribes to fabric events; returns the unsubscribe function. */
  subscribe(listener: (events: readonly FabricEvent[]) => void): () => void;
}
