/**
 * Shapes of the routing app (apps/routing): its configuration, the flow key, the frame fields it reads,
 * the effects its pure core returns, and the read view ({@link RouteInfo}) the REST API serves.
 *
 * Times are ms of the injected clock; datapath ids are bigint inside, 16 hex digits in RouteInfo.
 */
import type { OutMessage } from '../../openflow/app-api.js';
import type { Ipv4Packet, ParsedFrame } from '../../lib/packet/frame.js';

/** Routing configuration (all optional; defaults in {@link resolveRoutingConfig}). */
export interface RoutingConfig {
  /** PRNG seed for the path choice (FCA §5.2 random explicit routing); same seed ⇒ same choices. Default 1. */
  readonly seed?: number;
  /** Idle timeout of pinned entries, s (0 = none). Default 10. */
  readonly idleTimeoutS?: number;
  /** Priority of pinned entries (must be above the table-miss 0 and the LLDP entry's). Default 1000. */
  readonly priority?: number;
  /** Flow table the pinned entries go into. Default 0. */
  readonly tableId?: number;
  /** Minimum gap between two ARP probes for the same unknown destination, ms. Default 1000. */
  readonly probeIntervalMs?: number;
  /** Packets buffered per pin while its entries are being installed; beyond, released at once. Default 64. */
  readonly maxPendingPackets?: number;
  /** Pinned flows at most; beyond, the least recently used of an ingress port holding at least half as many as the port holding the most is removed with its entries. Default 20000. */
  readonly maxRoutes?: number;
  /** Pinned flows crossing one switch at most; beyond, the least recently used through it (of an ingress port holding at least half as many there as the port holding the most) is removed. Default 5000. */
  readonly maxRoutesPerSwitch?: number;
  /** ARP probes for unknown destinations per second, all addresses together (0: none). Default 50. */
  readonly maxProbesPerSecond?: number;
}

export interface ResolvedRoutingConfig {
  readonly seed: number;
  readonly idleTimeoutS: number;
  readonly priority: number;
  readonly tableId: number;
  readonly probeIntervalMs: number;
  readonly maxPendingPackets: number;
  readonly maxRoutes: number;
  readonly maxRoutesPerSwitch: number;
  readonly maxProbesPerSecond: number;
}

/** Fills in the defaults; throws RangeError naming the bad key. */
export function resolveRoutingConfig(c: RoutingConfig = {}): ResolvedRoutingConfig {
  const r: ResolvedRoutingConfig = {
    seed: c.seed ?? 1,
    idleTimeoutS: c.idleTimeoutS ?? 10,
    priority: c.priority ?? 1000,
    tableId: c.tableId ?? 0,
    probeIntervalMs: c.probeIntervalMs ?? 1000,
    maxPendingPackets: c.maxPendingPackets ?? 64,
    maxRoutes: c.maxRoutes ?? 20_000,
    maxRoutesPerSwitch: c.maxRoutesPerSwitch ?? 5000,
    maxProbesPerSecond: c.maxProbesPerSecond ?? 50,
  };
  const check = (key: keyof ResolvedRoutingConfig, lo: number, hi: number): void => {
    const v = r[key];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`routing.${key} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  check('seed', -0x80000000, 0xffffffff);
  check('idleTimeoutS', 0, 0xffff);
  check('priority', 1, 0xffff);
  check('tableId', 0, 0xfe);
  check('probeIntervalMs', 0, 3_600_000);
  check('maxPendingPackets', 0, 100_000);
  check('maxRoutes', 1, 10_000_000);
  check('maxRoutesPerSwitch', 1, 10_000_000);
  check('maxProbesPerSecond', 0, 1_000_000);
  return r;
}

/** What identifies a flow: the 5-tuple for TCP (6) and UDP (17), (src, dst, protocol) otherwise. */
export interface FlowKey {
  readonly ipv4Src: string;
  readonly ipv4Dst: string;
  readonly ipProto: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
}

/**
 * The frame fields routing reads: a structural subset of lib/packet/frame.ts `ParsedFrame` (no LLDP, no
 * TTL; DSCP absent = 0), so tests can build these by hand. MACs "aa:bb:…", IPv4 dotted quads.
 */
export interface RoutingFrame extends Pick<ParsedFrame, 'ethDst' | 'ethSrc' | 'vlanVid' | 'ethertype' | 'arp'> {
  readonly ipv4?: Pick<Ipv4Packet, 'src' | 'dst' | 'proto' | 'srcPort' | 'dstPort'> & { readonly dscp?: number };
}

/** A packet-in as the core sees it: where it entered, what it is, and the bytes to release it with. */
export interface PacketInput {
  readonly dpid: bigint;
  readonly inPort: number;
  readonly frame: RoutingFrame;
  /** the full frame (table-miss sends OFPCML_NO_BUFFER) */
  readonly data: Buffer;
  /** the switch's buffer id, OFP_NO_BUFFER when the data is complete */
  readonly bufferId: number;
}

/** Messages for one switch. */
export interface SwitchMessages {
  readonly dpid: bigint;
  readonly msgs: readonly OutMessage[];
}

/**
 * What the core asks the shell to do.
 * - `send`: write the messages to the switch, fire and forget (packet-outs, deletes); a missing switch is skipped.
 * - `install`: run the stages in order; in a stage, `transact` (messages + barrier) on every switch at
 *   once; when every stage succeeded call `core.installed(key, cookie)`, on the first failure
 *   `core.installFailed(key, cookie)`, and perform the effects they return.
 */
export type RoutingEffect =
  | { readonly kind: 'send'; readonly dpid: bigint; readonly msgs: readonly OutMessage[] }
  | {
      readonly kind: 'install';
      readonly key: string;
      readonly cookie: bigint;
      readonly stages: readonly (readonly SwitchMessages[])[];
    };

/** One switch of a pinned path, for the API. */
export interface RouteHopInfo {
  /** 16 hex digits */
  readonly dpid: string;
  readonly inPort: number;
  readonly outPort: number;
}

/** A pinned flow (REST `/api/v1/routes`). */
export interface RouteInfo {
  readonly flowKey: FlowKey;
  /** source / destination host MACs */
  readonly srcHost: string;
  readonly dstHost: string;
  /** the switches crossed, ingress first */
  readonly path: readonly RouteHopInfo[];
  /** the spine crossed (leaf-spine paths), 16 hex digits */
  readonly spine?: string;
  /** which of the equal-cost paths was chosen (index in canonical order) and how many there were */
  readonly choice: { readonly index: number; readonly of: number };
  /** the cookie of the route's current entries, 16 hex digits */
  readonly cookie: string;
  /** false while the entries are being installed */
  readonly installed: boolean;
  readonly createdMs: number;
  /** times the route was moved to another path (failure, host move) */
  readonly repinned: number;
  /** when it was last re-pinned */
  readonly repinnedMs?: number;
  /** OpenFlow queue every hop's entry sets (set_queue), when the QoS rule gave one */
  readonly queue?: number;
  /** eth_dst the last hop's entry sets, when the frames do not carry the destination host's MAC */
  readonly rewriteDst?: string;
}
