/**
 * The routing core (ARCHITECTURE.md "Principles": pure core): no I/O, time passed in. Every method takes an event and `now`
 * (ms) and returns the {@link RoutingEffect}s the shell must perform; the shell reports back when an
 * install finished ({@link RoutingCore.installed}) or failed ({@link RoutingCore.installFailed}).
 *
 * Per flow (flow-key.ts) the core pins ONE path chosen uniformly at random (seeded, prng.ts) among the
 * equal-cost shortest paths between the two hosts' switches (FCA §5.2: random explicit routing, ECMP-like),
 * installs exact-match entries on every hop — every hop but the ingress first, the ingress last, each stage
 * confirmed by a barrier (the shell shares one barrier per switch among the installs of one event-loop
 * turn) — and releases the first packet at once with a packet-out on its hop's output port, so it never
 * waits for a barrier round trip. Packets of the flow that reach the controller while the install is in
 * flight are held and released once it is confirmed, so no packet of the flow is lost to setup. A pin in progress is keyed
 * by flow key: packet-ins of the same flow from any switch of the path are held and released along the
 * chosen path, never re-pinned.
 *
 * Failures (ARCHITECTURE.md "Commitments" 9): a route crossing a link that went down or a switch that left is re-pinned
 * at once onto a surviving equal-cost path (new entries egress first, then the stale entries deleted by
 * their cookie); a route left without a path is removed with its entries. A moved host re-pins its routes.
 *
 * Unknown destination: the packet is held (a few per address, for three probe intervals) and an ARP
 * request for the destination, on behalf of the source host, is flooded along the tree at most once per
 * `probeIntervalMs` per address. The reply teaches the topology app where the host is; its hostAdded /
 * hostIpLearned event pins the held packets. Packets still waiting after three intervals are dropped (the
 * sender's retransmission tries again). A hostRemoved event removes the host's routes.
 */
import { randomInt } from 'node:crypto';
import type { OutMessage } from '../../openflow/app-api.js';
import { dpidHex } from '../../lib/dpid.js';
import { cookieHex } from '../../lib/cookies.js';
import { isGroupMac } from '../../lib/packet/frame.js';
import type { Action, Instruction } from '../../openflow/codec/index.js';
import type { FabricEvent, FabricHost, FabricLink, FabricPath, Hop, PortRef, TopologyView } from '../../topology/types.js';
import { arpEffects, ETH_TYPE_ARP, probeEffects, sendOnPort } from './arp.js';
import { arpUnicastDeletes, arpUnicastEffects } from './arp-unicast.js';
import { applyActions, deleteByCookie, isRoutingCookie, outputTo, packetOut, pinEntry, routingCookie } from './builders.js';
import { FloodDedup, floodEffects } from './flood.js';
import { UnknownDestinations } from './unknown-dst.js';
import { flowKeyOf, flowKeyString, flowMatch } from './flow-key.js';
import { canonicalPaths, hopsOf, pathUsesLink, spineOf } from './paths.js';
import { Prng } from './prng.js';
import {
  resolveRoutingConfig,
  type FlowKey,
  type PacketInput,
  type ResolvedRoutingConfig,
  type RouteInfo,
  type RoutingConfig,
  type RoutingEffect,
  type SwitchMessages,
} from './types.js';

const ETH_TYPE_IPV4 = 0x0800;
/** A packet-in on a hop of an installed route this long after its entries were written re-writes the entry. */
const REWRITE_AFTER_MS = 1000;

/** A packet held until its pin is installed. */
interface HeldPacket {
  readonly dpid: bigint;
  readonly inPort: number;
  readonly data: Buffer;
  readonly bufferId: number;
}

/**
 * A pinned flow (mutable core state; never handed out — {@link RouteInfo} is the read view). A removed
 * route object may be reused for the next pin (RoutingCore.spare): nothing outside the core's tables keeps one.
 */
interface Route {
  key: string;
  flow: FlowKey;
  srcMac: string;
  dstMac: string;
  /** eth_dst to set on the last hop when the frames do not carry the destination host's MAC */
  rewriteDst: string | undefined;
  /** OpenFlow queue of the flow's DSCP class (set_queue on every hop), when the QoS rule is given */
  queue: number | undefined;
  /** the current path, its hops and switches, its end ports (shared by the routes between the same two ports on that path) */
  walk: Walk;
  /** which of the equal-cost paths was chosen (index in canonical order) and how many there were */
  choiceIndex: number;
  choiceOf: number;
  cookie: bigint;
  /** the cookie's pin serial (its low 24 bits): the key of the cookie-indexed maps (a small integer hashes fast, a BigInt does not) */
  serial: number;
  installed: boolean;
  createdMs: number;
  repinned: number;
  repinnedMs: number | undefined;
  /** when the entries were last (re)written: a packet-in on a hop long after that means the entry is gone */
  writtenMs: number;
  /** packets held until the install is confirmed (absent when none: most routes never hold one) */
  held: HeldPacket[] | undefined;
  /** cookie of the install in flight (at most one per route: a re-pin waits for it) */
  busy: bigint | undefined;
  /** a re-pin arrived while `busy`: install the current path when the busy install reports */
  deferred: boolean;
  /** entries of earlier paths to delete once the current install is confirmed */
  stale: { cookie: bigint; dpids: readonly bigint[] }[] | undefined;
  /** neighbours in the recency order of all routes ({@link RouteTable}); `listed` while in that table */
  older: Route | undefined;
  newer: Route | undefined;
  listed: boolean;
  /** where the route sits in the flow index ({@link RouteTable}) */
  slot: number;
  /**
   * neighbours in the recency order of the routes of each switch of `dpids` (same index; {@link SwitchRoutes}):
   * `swOlder[j]` is the next older route crossing `dpids[j]`
   */
  swOlder: (Route | undefined)[];
  swNewer: (Route | undefined)[];
}

/** The routes crossing one switch, least recently used first: a list threaded through the routes (`swOlder` / `swNewer`). */
interface SwitchRoutes {
  readonly dpid: bigint;
  size: number;
  oldest: Route | undefined;
  newest: Route | undefined;
  /** how many of them each ingress port holds */
  readonly ports: Map<string, PortShare>;
  /** at least the largest of `ports` (raised as a share grows; made exact when a victim is chosen below it) */
  most: number;
}

/** How many routes one ingress port holds (through one switch, or in all). */
interface PortShare {
  size: number;
  readonly ingress: string;
  /** emptied and dropped: walks that resolved it look it up again */
  dead: boolean;
}

/** A walk's port shares: per switch of its `dpids` (same index), and of its ingress port in all. */
interface WalkShares {
  readonly perSwitch: readonly PortShare[];
  readonly all: PortShare;
}

/** True when none of `shares` was dropped. */
function alive(shares: readonly PortShare[]): boolean {
  for (let j = 0; j < shares.length; j++) if (shares[j]!.dead) return false;
  return true;
}

/** The largest of `shares` (a scan: only when a victim falls below the bound kept on the way). */
function largestShare(shares: ReadonlyMap<string, PortShare>): number {
  let most = 0;
  for (const g of shares.values()) if (g.size > most) most = g.size;
  return most;
}

/** Index of `dpid` in `route.walk.dpids` (a handful of switches per path). */
function slotOf(route: Route, dpid: bigint): number {
  const d = route.walk.dpids;
  for (let j = 0; j < d.length; j++) if (d[j] === dpid) return j;
  return -1;
}

/** `route` becomes the newest of list `sw` (its size is the caller's), through slot `j` of its dpids. */
function swAppend(sw: SwitchRoutes, route: Route, j: number, dpid: bigint): void {
  const newest = sw.newest;
  route.swOlder[j] = newest;
  route.swNewer[j] = undefined;
  if (newest) newest.swNewer[slotOf(newest, dpid)] = route;
  else sw.oldest = route;
  sw.newest = route;
}

/** Takes `route` (slot `j`) out of list `sw` (its size is the caller's). */
function swUnlink(sw: SwitchRoutes, route: Route, j: number, dpid: bigint): void {
  const older = route.swOlder[j];
  const newer = route.swNewer[j];
  if (older) older.swNewer[slotOf(older, dpid)] = newer;
  else sw.oldest = newer;
  if (newer) newer.swOlder[slotOf(newer, dpid)] = older;
  else sw.newest = older;
  route.swOlder[j] = undefined;
  route.swNewer[j] = undefined;
}

/**
 * A flow key as four int32 numbers (the table's key): IPv4 source and destination, the ports (source in
 * the high 16 bits; 0 without ports) and the protocol with bit 8 set when the key has ports.
 */
export interface FlowNumbers {
  k0: number;
  k1: number;
  k2: number;
  k3: number;
}

/** Dotted quad → int32 (the bytes of the address, big-endian); NaN-free: a malformed part reads as 0. */
function ipv4Int(s: string): number {
  let v = 0;
  let part = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      v = (v << 8) | (part & 0xff);
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return (v << 8) | (part & 0xff);
}

/** The numbers of `flow` (from its text fields: the slow way, off the packet-in path). */
function flowNumbersOf(flow: FlowKey, out: FlowNumbers): FlowNumbers {
  const ports = flow.srcPort !== undefined && flow.dstPort !== undefined;
  out.k0 = ipv4Int(flow.ipv4Src);
  out.k1 = ipv4Int(flow.ipv4Dst);
  out.k2 = ports ? ((flow.srcPort! << 16) | flow.dstPort!) : 0;
  out.k3 = flow.ipProto | (ports ? 0x100 : 0);
  return out;
}

/** The numbers of a flow key string (flowKeyString's form), for the rare look-ups that have only the string. */
function flowNumbersOfKey(key: string, out: FlowNumbers): FlowNumbers | undefined {
  const m = /^([\d.]+)>([\d.]+)\/(\d+)(?::(\d+)>(\d+))?$/.exec(key);
  if (!m) return undefined;
  const ports = m[4] !== undefined;
  return flowNumbersOf({ ipv4Src: m[1]!, ipv4Dst: m[2]!, ipProto: Number(m[3]), ...(ports ? { srcPort: Number(m[4]), dstPort: Number(m[5]) } : {}) }, out);
}

function hashFlow(k0: number, k1: number, k2: number, k3: number): number {
  let h = Math.imul(k0 ^ 0x2545f491, 0x9e3779b1) ^ k1;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ k2;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ k3;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return h ^ (h >>> 15);
}

/**
 * The routes by flow key in recency order. The index is an open-addressing hash table over the key's
 * numbers (keys in one Int32Array, four per slot; linear probing, deletion by backward shift, at most half
 * full): a look-up reads the numbers from the packet, builds no string and hashes none. The recency order
 * is a linked list threaded through the routes themselves (no list node per route), so the least recently
 * used route is found in O(1) and a touch moves the route without table operations.
 */
export class RouteTable {
  private keys = new Int32Array(4 * 1024);
  private slots: (Route | undefined)[] = new Array<Route | undefined>(1024).fill(undefined);
  private mask = 1023;
  private count = 0;
  private oldestRoute: Route | undefined;
  private newestRoute: Route | undefined;
  get size(): number {
    return this.count;
  }
  get(k0: number, k1: number, k2: number, k3: number): Route | undefined {
    const keys = this.keys;
    for (let i = hashFlow(k0, k1, k2, k3) & this.mask; ; i = (i + 1) & this.mask) {
      const r = this.slots[i];
      if (r === undefined) return undefined;
      const o = i << 2;
      if (keys[o] === k0 && keys[o + 1] === k1 && keys[o + 2] === k2 && keys[o + 3] === k3) return r;
    }
  }
  /** Adds `route` under `n` (absent from the table) as the most recent. */
  set(n: FlowNumbers, route: Route): void {
    this.place(route, n.k0, n.k1, n.k2, n.k3);
    if (++this.count * 2 > this.slots.length) this.grow();
    this.append(route);
  }
  /** Removes `route` (listed) from the index and the recency order. */
  delete(route: Route): void {
    let i = route.slot;
    if (this.slots[i] !== route) return;
    this.slots[i] = undefined;
    this.count--;
    this.unlink(route);
    // backward shift: pull later entries of the probe run into the hole when their home allows it
    const keys = this.keys;
    for (let j = (i + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const r = this.slots[j];
      if (r === undefined) return;
      const o = j << 2;
      const home = hashFlow(keys[o]!, keys[o + 1]!, keys[o + 2]!, keys[o + 3]!) & this.mask;
      // r stays when its home lies cyclically in (i, j]
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue;
      const d = i << 2;
      keys[d] = keys[o]!;
      keys[d + 1] = keys[o + 1]!;
      keys[d + 2] = keys[o + 2]!;
      keys[d + 3] = keys[o + 3]!;
      this.slots[i] = r;
      r.slot = i;
      this.slots[j] = undefined;
      i = j;
    }
  }
  /** `route` (in the table) becomes the most recently used. */
  touch(route: Route): void {
    if (route === this.newestRoute) return;
    this.unlink(route);
    this.append(route);
  }
  oldest(): Route | undefined {
    return this.oldestRoute;
  }
  /** Routes, oldest first (a copy: callers may delete while they walk it). */
  values(): Route[] {
    const out: Route[] = [];
    for (let r = this.oldestRoute; r; r = r.newer) out.push(r);
    return out;
  }
  private place(route: Route, k0: number, k1: number, k2: number, k3: number): void {
    let i = hashFlow(k0, k1, k2, k3) & this.mask;
    while (this.slots[i] !== undefined) i = (i + 1) & this.mask;
    const o = i << 2;
    this.keys[o] = k0;
    this.keys[o + 1] = k1;
    this.keys[o + 2] = k2;
    this.keys[o + 3] = k3;
    this.slots[i] = route;
    route.slot = i;
  }
  private grow(): void {
    const keys = this.keys;
    const slots = this.slots;
    this.keys = new Int32Array(keys.length * 2);
    this.slots = new Array<Route | undefined>(slots.length * 2).fill(undefined);
    this.mask = this.slots.length - 1;
    for (let i = 0; i < slots.length; i++) {
      const r = slots[i];
      if (r !== undefined) this.place(r, keys[i << 2]!, keys[(i << 2) + 1]!, keys[(i << 2) + 2]!, keys[(i << 2) + 3]!);
    }
  }
  private append(r: Route): void {
    r.listed = true;
    r.older = this.newestRoute;
    r.newer = undefined;
    if (this.newestRoute) this.newestRoute.newer = r;
    else this.oldestRoute = r;
    this.newestRoute = r;
  }
  private unlink(r: Route): void {
    if (r.older) r.older.newer = r.newer;
    else this.oldestRoute = r.newer;
    if (r.newer) r.newer.older = r.older;
    else this.newestRoute = r.older;
    r.older = undefined;
    r.newer = undefined;
    r.listed = false;
  }
}

/**
 * Routes by pin serial: an array indexed by the serial's low bits (no hashing, one slot per route). At
 * most one route per slot — {@link RoutingCore.newCookie} skips serials whose slot is taken — and at most
 * half the slots used: the array doubles (up to 2^24 slots, one per serial) before it gets fuller.
 */
class SerialTable {
  private slots: (Route | undefined)[] = new Array<Route | undefined>(1024).fill(undefined);
  private mask = 1023;
  private used = 0;
  get(serial: number): Route | undefined {
    const r = this.slots[serial & this.mask];
    return r !== undefined && r.serial === serial ? r : undefined;
  }
  /** True when the slot of `serial` holds a route (of this serial or another). */
  taken(serial: number): boolean {
    return this.slots[serial & this.mask] !== undefined;
  }
  /** Files `route` under its serial (whose slot newCookie found free). */
  set(route: Route): void {
    const i = route.serial & this.mask;
    if (this.slots[i] === route) return;
    this.slots[i] = route;
    if (++this.used * 2 > this.slots.length && this.slots.length < 0x1000000) this.grow();
  }
  /** Removes `route` if it is filed under its current serial. */
  delete(route: Route): void {
    const i = route.serial & this.mask;
    if (this.slots[i] !== route) return;
    this.slots[i] = undefined;
    this.used--;
  }
  private grow(): void {
    const old = this.slots;
    this.slots = new Array<Route | undefined>(old.length * 2).fill(undefined);
    this.mask = this.slots.length - 1;
    for (const r of old) if (r !== undefined) this.slots[r.serial & this.mask] = r;
  }
}

/** Placeholder of a route's per-switch neighbours until it is tracked (never written). */
const NO_NEIGHBOURS: (Route | undefined)[] = [];

const NO_FLOW: FlowKey = Object.freeze({ ipv4Src: '', ipv4Dst: '', ipProto: 0 });
const NO_PORT: PortRef = Object.freeze({ dpid: 0n, portNo: 0 });
/** The walk of a route not pinned yet (never used for a message). */
const NO_WALK: Walk = Object.freeze({ path: [], src: NO_PORT, dst: NO_PORT, ingress: '', shares: undefined, hops: [], dpids: [], outputs: [], applies: [], queued: new Map() });

/** A route in its initial state (its flow fields are set by the pin that takes it). */
function blankRoute(): Route {
  return {
    key: '', flow: NO_FLOW, srcMac: '', dstMac: '', rewriteDst: undefined, queue: undefined, walk: NO_WALK,
    choiceIndex: 0, choiceOf: 0, cookie: 0n, serial: 0, installed: false, createdMs: 0, repinned: 0,
    repinnedMs: undefined, writtenMs: 0, held: undefined, busy: undefined, deferred: false, stale: undefined,
    older: undefined, newer: undefined, listed: false, slot: -1, swOlder: NO_NEIGHBOURS, swNewer: NO_NEIGHBOURS,
  };
}

/**
 * A removed route back in its initial state, for the next pin to take ({@link RoutingCore.spare}): its
 * neighbour arrays are kept (all undefined after untrack) so a path of as many switches reuses them.
 */
function resetRoute(r: Route): void {
  r.key = '';
  r.flow = NO_FLOW;
  r.walk = NO_WALK;
  r.rewriteDst = undefined;
  r.queue = undefined;
  r.cookie = 0n;
  r.serial = 0;
  r.installed = false;
  r.repinned = 0;
  r.repinnedMs = undefined;
  r.held = undefined;
  r.busy = undefined;
  r.deferred = false;
  r.stale = undefined;
  r.older = undefined;
  r.newer = undefined;
  r.listed = false;
  r.slot = -1;
}

/** The hops of a path between two ports and their distinct switches (shared, never mutated). */
interface Walk {
  readonly path: FabricPath;
  /** where the flow enters the first hop and leaves the last */
  readonly src: PortRef;
  readonly dst: PortRef;
  /** `src` as a key (`dpid:port`): the routes that take the walk count in this ingress port's share (the route bounds) */
  readonly ingress: string;
  /** its port shares, resolved when a route first takes the walk (a cache filled in place, like `queued`) */
  shares: WalkShares | undefined;
  /** never mutated */
  readonly hops: readonly Hop[];
  /** the distinct switches of `hops`, in hop order */
  readonly dpids: readonly bigint[];
  /** per hop, the plain output action (no set_queue, no eth_dst rewrite) and its apply-actions instruction */
  readonly outputs: readonly (readonly Action[])[];
  readonly applies: readonly (readonly Instruction[])[];
  /**
   * per queue id, the hops' set_queue + output actions and their instructions, built the first time a
   * route of that queue takes the walk (a cache filled in place; what it holds is never mutated)
   */
  readonly queued: Map<number, QueuedActions>;
}

/** A walk's per-hop actions for one queue: set_queue then output, and their apply-actions instructions. */
interface QueuedActions {
  readonly actions: readonly (readonly Action[])[];
  readonly applies: readonly (readonly Instruction[])[];
}

/** Walks cached at most (RoutingCore.hopsFor): host-port pairs × paths actually used. */
const HOP_CACHE_MAX = 65_536;

/** What failed in one batch of fabric events. */
interface Failures {
  readonly links: FabricLink[];
  readonly switches: Set<bigint>;
}

export class RoutingCore {
  readonly config: ResolvedRoutingConfig;
  private readonly prng: Prng;
  private readonly byKey = new RouteTable();
  /** scratch: the numbers of the flow key being looked up (packetNumbers, flowNumbersOf) */
  private readonly nums: FlowNumbers = { k0: 0, k1: 0, k2: 0, k3: 0 };
  /** routes by the pin serial of their current cookie (a table indexed by the serial's low bits, see newCookie) */
  private readonly byCookie = new SerialTable();
  /**
   * Installs not yet reported whose cookie is no longer their route's (the route was re-pinned or removed
   * meanwhile): pin serial of their cookie → the switches they touch, to delete what they installed when
   * they report. An install still current is known from its route (`busy` equal to `cookie`): no entry.
   */
  private readonly inflight = new Map<number, readonly bigint[]>();
  private readonly unknown: UnknownDestinations;
  /** walks by path (identity), then source and destination port (hopsFor) */
  private readonly hopCache = new Map<FabricPath, Map<number, Walk>>();
  private hopCacheSize = 0;
  private readonly dedup = new FloodDedup();
  /**
   * Pin serial: a random 16-bit run id in bits 39–24, a counter below. A restarted controller meets the
   * entries of the last run still on the switches (fail-secure keeps them, idle timeouts keep them alive
   * under traffic): with serials restarting at 1, a new pin would share a cookie with an old entry, and
   * that entry's FLOW_REMOVED or a delete-by-cookie would hit the wrong route.
   */
  private readonly runId = randomInt(0, 0x10000);
  private serial = 0;
  /** the cookie of serial 0 of this run: a pin's cookie is this + its serial (serial < 2^24, no carry) */
  private readonly cookieBase = routingCookie(this.runId * 2 ** 24);

  /**
   * @param queueOf the QoS app's DSCP → queue rule: when given, every pinned entry carries `set_queue`
   *   for the DSCP of the flow's first packet (for platforms where set_queue steers: kernel datapath,
   *   hardware switches; the userspace datapath ignores it and is steered by the QoS app's tc filters)
   */
  constructor(
    private readonly view: TopologyView,
    config: RoutingConfig = {},
    private readonly queueOf?: (dscp: number) => number,
  ) {
    this.config = resolveRoutingConfig(config);
    this.prng = new Prng(this.config.seed);
    this.unknown = new UnknownDestinations(this.config.probeIntervalMs, this.config.maxProbesPerSecond);
  }

  /** Routes removed to stay within maxRoutes / maxRoutesPerSwitch (the shell logs it once per interval). */
  evictions = 0;
  /** ARP probes not sent because the per-second budget was spent. */
  get probesSuppressed(): number {
    return this.unknown.suppressed;
  }

  /*
   * ------------------------------------------------------------ bounds
   * Past a bound, routes go in least-recently-used order among the ingress ports that hold at least half
   * as many routes (through the switch, or in all) as the port holding the most; the routes of a port
   * below that are passed over (and count as used). A route's recency is known only from packet-ins, so
   * plain LRU would remove the established flows of every other port first when one port sets up new flows
   * fast (a flood, a scan); this way that port recycles its own routes, while ports of comparable load
   * still share the table in plain LRU order. Open vSwitch's flow-table eviction groups protect small
   * groups the same way (ovs-vswitchd.conf.db(5), Flow_Table `groups`: the largest group gives up a flow first).
   */

  /** A route evicted by makeRoom, reset, for the pin that made room to reuse (at most one kept). */
  private spare: Route | undefined;

  /** Pinned routes crossing each switch, least recently used first (lists threaded through the routes), with their ports' shares. */
  private readonly bySwitch = new Map<bigint, SwitchRoutes>();
  /** Pinned routes per ingress port in all (the bound of all routes), and at least the largest of them. */
  private readonly byIngress = new Map<string, PortShare>();
  private mostOfAll = 0;

  /** The port shares of `walk`, resolved (and created) once and cached on the walk until one is dropped. */
  private sharesOf(walk: Walk): WalkShares {
    const w = walk.shares;
    if (w && !w.all.dead && alive(w.perSwitch)) return w;
    const key = walk.ingress;
    const share = (ports: Map<string, PortShare>): PortShare => {
      let g = ports.get(key);
      if (!g) ports.set(key, (g = { size: 0, ingress: key, dead: false }));
      return g;
    };
    const perSwitch = walk.dpids.map((dpid) => {
      let sw = this.bySwitch.get(dpid);
      if (!sw) this.bySwitch.set(dpid, (sw = { dpid, size: 0, oldest: undefined, newest: undefined, ports: new Map(), most: 0 }));
      return share(sw.ports);
    });
    return (walk.shares = { perSwitch, all: share(this.byIngress) });
  }

  private track(route: Route): void {
    const dpids = route.walk.dpids;
    const shares = this.sharesOf(route.walk);
    // a reused route keeps its neighbour arrays (all undefined since untrack) when the path has as many switches
    if (route.swOlder.length !== dpids.length || route.swOlder === NO_NEIGHBOURS) {
      route.swOlder = new Array<Route | undefined>(dpids.length);
      route.swNewer = new Array<Route | undefined>(dpids.length);
    }
    for (let j = 0; j < dpids.length; j++) {
      const dpid = dpids[j]!;
      const sw = this.bySwitch.get(dpid)!;
      swAppend(sw, route, j, dpid);
      sw.size++;
      const g = shares.perSwitch[j]!;
      if (++g.size > sw.most) sw.most = g.size;
    }
    if (++shares.all.size > this.mostOfAll) this.mostOfAll = shares.all.size;
  }

  private untrack(route: Route): void {
    const dpids = route.walk.dpids;
    const shares = route.walk.shares;
    for (let j = 0; j < dpids.length; j++) {
      const dpid = dpids[j]!;
      const sw = this.bySwitch.get(dpid);
      if (!sw) continue;
      swUnlink(sw, route, j, dpid);
      sw.size--;
      const g = shares?.perSwitch[j];
      if (g && --g.size === 0) {
        g.dead = true;
        sw.ports.delete(g.ingress);
      }
      if (sw.size === 0) this.bySwitch.delete(dpid);
    }
    const all = shares?.all;
    if (all && --all.size === 0) {
      all.dead = true;
      this.byIngress.delete(all.ingress);
    }
  }

  /** A packet of the route was seen: it becomes the most recently used. */
  private touch(route: Route): void {
    this.byKey.touch(route);
    const dpids = route.walk.dpids;
    for (let j = 0; j < dpids.length; j++) {
      const dpid = dpids[j]!;
      const sw = this.bySwitch.get(dpid);
      if (!sw || sw.newest === route) continue;
      swUnlink(sw, route, j, dpid);
      swAppend(sw, route, j, dpid);
    }
  }

  /** Makes room for one more route through `dpids`: evicts routes past the bounds (see above for which). */
  private makeRoom(dpids: readonly bigint[]): RoutingEffect[] {
    const out: RoutingEffect[] = [];
    while (this.byKey.size >= this.config.maxRoutes) this.evict(this.victimOfAll(), out);
    for (let j = 0; j < dpids.length; j++) {
      const sw = this.bySwitch.get(dpids[j]!);
      while (sw && sw.size >= this.config.maxRoutesPerSwitch) this.evict(this.victimOn(sw), out);
    }
    return out;
  }

  /** The route to evict through `sw`: its least recently used of a port holding at least half the most. */
  private victimOn(sw: SwitchRoutes): Route {
    let exact = false;
    for (let n = sw.size; n > 0; n--) {
      const r = sw.oldest!;
      const j = slotOf(r, sw.dpid);
      const g = r.walk.shares?.perSwitch[j];
      if (!g || 2 * g.size >= sw.most) return r;
      if (!exact) {
        sw.most = largestShare(sw.ports);
        exact = true;
        if (2 * g.size >= sw.most) return r;
      }
      swUnlink(sw, r, j, sw.dpid); // passed over: the newest through this switch
      swAppend(sw, r, j, sw.dpid);
    }
    return sw.oldest!;
  }

  /** The route to evict of all: the least recently used of a port holding at least half the most. */
  private victimOfAll(): Route {
    let exact = false;
    for (let n = this.byKey.size; n > 0; n--) {
      const r = this.byKey.oldest()!;
      const g = r.walk.shares?.all;
      if (!g || 2 * g.size >= this.mostOfAll) return r;
      if (!exact) {
        this.mostOfAll = largestShare(this.byIngress);
        exact = true;
        if (2 * g.size >= this.mostOfAll) return r;
      }
      this.byKey.touch(r); // passed over: the newest of all
    }
    return this.byKey.oldest()!;
  }

  /** Removes `route` to make room; it becomes the spare route the pin being made takes. */
  private evict(route: Route, out: RoutingEffect[]): void {
    this.evictions++;
    this.removeInto(route, out);
    resetRoute(route);
    this.spare = route;
  }

  /* ------------------------------------------------------------ events */

  /** A packet-in (not LLDP: the shell filters those). */
  packetIn(p: PacketInput, now: number): RoutingEffect[] {
    const f = p.frame;
    if (f.vlanVid !== undefined) return [];
    const edge = !this.view.isFabricPort({ dpid: p.dpid, portNo: p.inPort });
    if (f.ethertype === ETH_TYPE_ARP) return edge && this.dedup.firstCopy(p, now) ? arpEffects(this.view, p) : [];
    if (isGroupMac(f.ethDst)) return edge && this.dedup.firstCopy(p, now) ? floodEffects(this.view, p.dpid, p.inPort, p.data) : [];
    if (f.ethertype !== ETH_TYPE_IPV4 || !f.ipv4) return this.deliverUnicast(p, edge);
    const flow = flowKeyOf(f)!;
    const n = this.packetNumbers(p.data, flow);
    const route = this.byKey.get(n.k0, n.k1, n.k2, n.k3);
    // the key string is built (not hashed) only for a new route: its install effect names the flow by it
    return route ? this.onRoute(route, p, edge, now) : this.pin(flow, flowKeyString(flow), p, edge, now);
  }

  /**
   * The numbers of the packet's flow key into `this.nums`: the IPv4 addresses straight from the frame's
   * bytes (routing sees only untagged frames: the header starts at 14), ports and protocol from `flow`.
   */
  private packetNumbers(data: Buffer, flow: FlowKey): FlowNumbers {
    if (data.length < 34 || data[12] !== 0x08 || data[13] !== 0x00) return flowNumbersOf(flow, this.nums);
    const n = this.nums;
    const ports = flow.srcPort !== undefined && flow.dstPort !== undefined;
    n.k0 = data.readInt32BE(26);
    n.k1 = data.readInt32BE(30);
    n.k2 = ports ? ((flow.srcPort! << 16) | flow.dstPort!) : 0;
    n.k3 = flow.ipProto | (ports ? 0x100 : 0);
    return n;
  }

  /** The route named `key` (an install's report): by its cookie's serial when that is current, else by key. */
  private routeOf(key: string, cookie: bigint): Route | undefined {
    const r = this.byCookie.get(serialOf(cookie));
    if (r !== undefined && r.listed && r.key === key) return r;
    const n = flowNumbersOfKey(key, this.nums);
    return n && this.byKey.get(n.k0, n.k1, n.k2, n.k3);
  }

  /** An OFPT_FLOW_REMOVED: the route whose current entry it was is removed with its other entries. */
  flowRemoved(dpid: bigint, cookie: bigint): RoutingEffect[] {
    if (!isRoutingCookie(cookie)) return [];
    const route = this.byCookie.get(serialOf(cookie));
    if (!route || route.cookie !== cookie || !route.listed) return [];
    return this.remove(route, dpid);
  }

  /** A batch of fabric events (TopologyView.subscribe): re-pin or remove the routes they break. */
  fabricEvents(events: readonly FabricEvent[], now: number): RoutingEffect[] {
    this.clearHops(); // the view hands out new path arrays after a change: the old walks are never hit again
    const failed: Failures = { links: [], switches: new Set() };
    const moved = new Map<string, PortRef>();
    const gone = new Set<string>();
    const learnt: string[] = [];
    for (const e of events) {
      if (e.type === 'linkDown') failed.links.push(e.link);
      else if (e.type === 'switchRemoved') failed.switches.add(e.dpid);
      else if (e.type === 'hostMoved') moved.set(e.host.mac, e.host.attachment);
      else if (e.type === 'hostRemoved') gone.add(e.host.mac);
      if ((e.type === 'hostAdded' || e.type === 'hostIpLearned' || e.type === 'hostMoved') && e.host.ipv4) learnt.push(e.host.ipv4);
    }
    const out: RoutingEffect[] = [];
    if (failed.links.length > 0 || failed.switches.size > 0 || moved.size > 0 || gone.size > 0) {
      for (const route of this.byKey.values()) {
        if (gone.has(route.srcMac) || gone.has(route.dstMac)) {
          out.push(...this.remove(route));
          continue;
        }
        const src = moved.get(route.srcMac) ?? route.walk.src;
        const dst = moved.get(route.dstMac) ?? route.walk.dst;
        const hostMoved = src !== route.walk.src || dst !== route.walk.dst;
        if (!hostMoved && !this.broken(route, failed)) continue;
        out.push(...this.repin(route, src, dst, now, failed));
      }
    }
    for (const ip of learnt) out.push(...this.releaseWaiting(ip, now));
    return out;
  }

  /** The shell's report: every stage of the install of `cookie` succeeded. */
  installed(key: string, cookie: bigint): RoutingEffect[] {
    const route = this.routeOf(key, cookie);
    if (!route || route.cookie !== cookie) return this.superseded(route, cookie);
    route.busy = undefined;
    route.installed = true;
    const out: RoutingEffect[] = [];
    if (route.stale) for (const s of route.stale) out.push(...deletes(s.cookie, s.dpids));
    route.stale = undefined;
    if (route.held) {
      for (const h of route.held) {
        const r = this.release(route, h);
        if (r) out.push(r);
      }
    }
    route.held = undefined;
    return out;
  }

  /** The shell's report: a stage of the install of `cookie` failed (switch error, switch gone, timeout). */
  installFailed(key: string, cookie: bigint): RoutingEffect[] {
    const route = this.routeOf(key, cookie);
    if (!route || route.cookie !== cookie) return this.superseded(route, cookie);
    const dpids = route.walk.dpids;
    route.busy = undefined; // reported: not an orphan when the route goes
    return [...this.remove(route), ...deletes(cookie, dpids)];
  }

  /**
   * An install whose path is no longer wanted reported (the route was re-pinned or removed meanwhile):
   * delete what it may have installed, then start the route's deferred install, if any.
   */
  private superseded(route: Route | undefined, cookie: bigint): RoutingEffect[] {
    const serial = serialOf(cookie);
    const out = deletes(cookie, this.inflight.get(serial) ?? []);
    this.inflight.delete(serial);
    if (!route || route.busy !== cookie) return out;
    route.busy = undefined;
    if (route.deferred) {
      route.deferred = false;
      out.push(this.installEffect(route));
    }
    return out;
  }

  /* ------------------------------------------------------------ read view */

  /** The pinned flows, oldest first. */
  routes(): RouteInfo[] {
    return this.byKey.values().map((r) => this.info(r));
  }

  /** One route by flow key, if pinned. */
  route(flow: FlowKey): RouteInfo | undefined {
    const n = flowNumbersOf(flow, this.nums);
    const r = this.byKey.get(n.k0, n.k1, n.k2, n.k3);
    return r && this.info(r);
  }

  /** Number of pinned flows. */
  get size(): number {
    return this.byKey.size;
  }

  /* ------------------------------------------------------------ pinning */

  /** First packet of a flow with no route (`key` = flowKeyString(flow)): choose a path, hold the packet, install. */
  private pin(flow: FlowKey, key: string, p: PacketInput, edge: boolean, now: number): RoutingEffect[] {
    const srcHost = edge ? undefined : (this.view.hostByIpv4(flow.ipv4Src) ?? this.view.hostByMac(p.frame.ethSrc));
    // the edge case's source port is p's (no PortRef built unless the walk is new: hopsFor)
    const srcAt = edge ? undefined : srcHost?.attachment;
    if (!edge && !srcAt) return [];
    const srcDpid = srcAt ? srcAt.dpid : p.dpid;
    const dstHost = this.view.hostByIpv4(flow.ipv4Dst);
    if (!dstHost) return edge ? this.probe(p, flow, now) : [];
    const all = canonicalPaths(this.view.paths(srcDpid, dstHost.attachment.dpid));
    // A first sighting on a transit switch: prefer a path through where the packet already is.
    const through = srcAt ? all.filter((path) => onHop(hopsOf(path, srcAt, dstHost.attachment), p)) : [];
    const pool = through.length > 0 ? through : all;
    if (pool.length === 0) return [];
    const chosen = pool[this.prng.below(pool.length)]!;
    const walk = this.hopsFor(chosen, srcDpid, srcAt ? srcAt.portNo : p.inPort, dstHost.attachment);
    if (!walk) return [];
    const out: RoutingEffect[] = this.makeRoom(walk.dpids);
    // the route evicted to make room (if any) is reused: no route object allocated per setup
    const route = this.spare ?? blankRoute();
    this.spare = undefined;
    route.key = key;
    route.flow = flow;
    route.srcMac = edge ? p.frame.ethSrc : (srcHost?.mac ?? p.frame.ethSrc);
    route.dstMac = dstHost.mac;
    route.rewriteDst = edge && p.frame.ethDst !== dstHost.mac ? dstHost.mac : undefined;
    route.queue = this.queueOf ? this.queueOf(p.frame.ipv4?.dscp ?? 0) : undefined;
    route.walk = walk;
    route.choiceIndex = all.length > 1 ? all.indexOf(chosen) : 0;
    route.choiceOf = all.length;
    route.createdMs = now;
    route.writtenMs = now;
    this.newCookie(route);
    this.byKey.set(this.nums, route); // the numbers packetIn read for this packet
    this.byCookie.set(route);
    this.track(route);
    out.push(this.installEffect(route));
    // The first packet does not wait for the entries: it leaves on its hop's output port at once (after
    // the install's first messages, on the same connection). Should it reach a downstream hop before that
    // hop's entry, it comes back as a packet-in of a route in progress and is held there until the
    // install is confirmed — delivered, never looped.
    const first = this.release(route, p);
    if (first) out.push(first);
    return out;
  }

  /** A packet of a flow that already has a route (pinned, or pin in progress). */
  private onRoute(route: Route, p: PacketInput, edge: boolean, now: number): RoutingEffect[] {
    const i = hopIndex(route.walk.hops, p.dpid, p.inPort);
    if (i >= 0) {
      this.touch(route);
      if (!route.installed && (route.held?.length ?? 0) < this.config.maxPendingPackets) {
        (route.held ??= []).push(held(p));
        return [];
      }
      const out: RoutingEffect[] = [];
      if (route.installed && now - route.writtenMs >= REWRITE_AFTER_MS) {
        // Packets of an installed route still reach the controller from this hop long after setup: its
        // entry is gone (flows wiped, switch restarted). Write it again (ADD is idempotent).
        route.writtenMs = now;
        out.push({ kind: 'send', dpid: p.dpid, msgs: [this.entryAt(route, i)] });
      }
      const r = this.release(route, p);
      if (r) out.push(r);
      return out;
    }
    if (edge && (p.dpid !== route.walk.src.dpid || p.inPort !== route.walk.src.portNo) && route.srcMac === p.frame.ethSrc) {
      // The source host now sends from another port (moved before the topology app said so).
      const effects = this.repin(route, { dpid: p.dpid, portNo: p.inPort }, route.walk.dst, now);
      const current = route.listed ? route : undefined;
      if (current && onHop(current.walk.hops, p)) (current.held ??= []).push(held(p));
      return effects;
    }
    return []; // a straggler on a path the flow no longer uses
  }

  /** Moves a route to a new path (new cookie), or removes it when no path survives. */
  private repin(route: Route, src: PortRef, dst: PortRef, now: number, failed?: Failures): RoutingEffect[] {
    if (failed && (failed.switches.has(src.dpid) || failed.switches.has(dst.dpid))) return this.remove(route);
    const all = canonicalPaths(this.view.paths(src.dpid, dst.dpid)).filter((path) => {
      if (!failed) return true;
      if (failed.links.some((l) => pathUsesLink(path, l))) return false;
      return !path.some((l) => failed.switches.has(l.src.dpid) || failed.switches.has(l.dst.dpid));
    });
    const chosen = all.length > 0 ? all[this.prng.below(all.length)]! : undefined;
    const walk = chosen && this.hopsFor(chosen, src.dpid, src.portNo, dst);
    if (!chosen || !walk) return this.remove(route);
    this.orphan(route);
    (route.stale ??= []).push({ cookie: route.cookie, dpids: route.walk.dpids });
    this.byCookie.delete(route);
    this.untrack(route);
    route.walk = walk;
    this.track(route);
    route.choiceIndex = all.indexOf(chosen);
    route.choiceOf = all.length;
    this.newCookie(route);
    route.installed = false;
    route.repinned++;
    route.repinnedMs = now;
    route.writtenMs = now;
    this.byCookie.set(route);
    if (route.busy !== undefined) {
      route.deferred = true; // one install in flight per route: this one starts when it reports
      return [];
    }
    return [this.installEffect(route)];
  }

  /** The route's cookie changes or the route goes: an install of its current cookie in flight is orphaned (`inflight`). */
  private orphan(route: Route): void {
    if (route.busy !== undefined && route.busy === route.cookie) this.inflight.set(route.serial, route.walk.dpids);
  }

  /** Forgets a route and deletes its entries (current and stale) everywhere but `except`. */
  private remove(route: Route, except?: bigint): RoutingEffect[] {
    return this.removeInto(route, [], except);
  }

  /** {@link remove}, the effects appended to `out` (returned). */
  private removeInto(route: Route, out: RoutingEffect[], except?: bigint): RoutingEffect[] {
    this.orphan(route);
    if (route.listed) {
      this.untrack(route);
      this.byKey.delete(route);
    }
    this.byCookie.delete(route);
    const dpids = route.walk.dpids;
    for (let j = 0; j < dpids.length; j++) if (dpids[j] !== except) out.push(deleteOne(route.cookie, dpids[j]!));
    if (route.stale) for (const s of route.stale) for (const dpid of s.dpids) out.push(deleteOne(s.cookie, dpid));
    return out;
  }

  /** The install of a route's current path: all hops but the ingress (egress first), then the ingress. */
  private installEffect(route: Route): RoutingEffect {
    const hops = route.walk.hops;
    const ingress: SwitchMessages = { dpid: hops[0]!.dpid, msgs: [this.entryAt(route, 0)] };
    let stages: SwitchMessages[][];
    if (hops.length === 1) stages = [[ingress]];
    else {
      const downstream: SwitchMessages[] = [];
      for (let i = hops.length - 1; i >= 1; i--) downstream.push({ dpid: hops[i]!.dpid, msgs: [this.entryAt(route, i)] });
      stages = [downstream, [ingress]];
    }
    route.busy = route.cookie;
    return { kind: 'install', key: route.key, cookie: route.cookie, stages };
  }

  /** The FLOW_MOD ADD of hop `i` of the route's current path. */
  private entryAt(route: Route, i: number): OutMessage {
    const actions = this.actionsAt(route, i);
    return pinEntry({
      cookie: route.cookie,
      tableId: this.config.tableId,
      priority: this.config.priority,
      idleTimeoutS: this.config.idleTimeoutS,
      match: flowMatch(route.flow, route.walk.hops[i]!.inPort),
      actions,
      instructions: this.sharedInstructions(route, i, actions),
    });
  }

  /** The apply-actions instruction of `actions` when they are the walk's shared ones for hop `i`, else undefined. */
  private sharedInstructions(route: Route, i: number, actions: readonly Action[]): readonly Instruction[] | undefined {
    const walk = route.walk;
    if (actions === walk.outputs[i]) return walk.applies[i];
    const q = route.queue === undefined ? undefined : walk.queued.get(route.queue);
    return q && actions === q.actions[i] ? q.applies[i] : undefined;
  }

  /** The walk's actions for queue `queue` (built on first use, then shared by the routes of that queue). */
  private queuedOf(walk: Walk, queue: number): QueuedActions {
    let q = walk.queued.get(queue);
    if (!q) {
      const actions = walk.hops.map((h): readonly Action[] => [{ type: 'OFPAT_SET_QUEUE', queueId: queue }, outputTo(h.outPort, h.inPort)]);
      q = { actions, applies: actions.map(applyActions) };
      walk.queued.set(queue, q);
    }
    return q;
  }

  /** The actions of hop `i`: output on the hop's port, after setting eth_dst on the last hop if needed. */
  private actionsAt(route: Route, i: number): readonly Action[] {
    const hop = route.walk.hops[i]!;
    const rewrite = i === route.walk.hops.length - 1 && route.rewriteDst;
    if (!rewrite) {
      // shared by the walk's routes (of the same queue): no actions built per setup
      return route.queue === undefined ? route.walk.outputs[i]! : this.queuedOf(route.walk, route.queue).actions[i]!;
    }
    const out = outputTo(hop.outPort, hop.inPort);
    const queue: Action[] = route.queue === undefined ? [] : [{ type: 'OFPAT_SET_QUEUE', queueId: route.queue }];
    return [{ type: 'OFPAT_SET_FIELD', field: { field: 'eth_dst', value: rewrite } }, ...queue, out];
  }

  /** Packet-out of a held packet on its hop of the route's current path (undefined if it is off the path). */
  private release(route: Route, h: HeldPacket): RoutingEffect | undefined {
    const i = hopIndex(route.walk.hops, h.dpid, h.inPort);
    if (i < 0) return undefined;
    return { kind: 'send', dpid: h.dpid, msgs: [packetOut(h.inPort, this.actionsAt(route, i), h.data, h.bufferId)] };
  }

  /* ------------------------------------------------------------ other traffic */

  /** Unknown destination: the packet waits (unknown-dst.ts); an ARP probe goes along the tree when due. */
  private probe(p: PacketInput, flow: FlowKey, now: number): RoutingEffect[] {
    if (!this.unknown.hold(flow.ipv4Dst, p, now)) return [];
    return probeEffects(this.view, p.dpid, p.inPort, flow.ipv4Dst);
  }

  /** The destination `ip` became known: route the packets that waited for it. */
  private releaseWaiting(ip: string, now: number): RoutingEffect[] {
    const out: RoutingEffect[] = [];
    for (const p of this.unknown.take(ip, now)) out.push(...this.packetIn(p, now));
    return out;
  }

  /** Non-IPv4 unicast: straight to the destination host's port when known (no entries), else dropped. */
  private deliverUnicast(p: PacketInput, edge: boolean): RoutingEffect[] {
    const to = edge ? this.view.hostByMac(p.frame.ethDst) : undefined;
    if (!to) return [];
    const at = to.attachment;
    if (at.dpid === p.dpid && at.portNo === p.inPort) return [];
    return [sendOnPort(at.dpid, at.portNo, p.data)];
  }

  /* ------------------------------------------------------------ helpers */

  /**
   * The hops of `path` from `src` to `dst` (hopsOf) and their distinct switches, built once per
   * (path, source port, destination port) and shared by the routes that take them: a setup between two
   * ports already walked allocates neither. Bounded (cleared past HOP_CACHE_MAX walks, and on fabric events).
   */
  private hopsFor(path: FabricPath, srcDpid: bigint, srcPort: number, dst: PortRef): Walk | undefined {
    let byPort = this.hopCache.get(path);
    const k = srcPort * 0x100000000 + dst.portNo; // two u32 ports: exact in a double
    const hit = byPort?.get(k);
    if (hit && hit.src.dpid === srcDpid && hit.dst.dpid === dst.dpid) return hit;
    const src: PortRef = { dpid: srcDpid, portNo: srcPort };
    const hops = hopsOf(path, src, dst);
    if (!hops) return undefined;
    const outputs = hops.map((h) => [outputTo(h.outPort, h.inPort)]);
    const walk: Walk = { path, src, dst, ingress: `${srcDpid}:${srcPort}`, shares: undefined, hops, dpids: uniqueDpids(hops), outputs, applies: outputs.map(applyActions), queued: new Map() };
    if (this.hopCacheSize >= HOP_CACHE_MAX) this.clearHops();
    if (!byPort) this.hopCache.set(path, (byPort = new Map()));
    if (!byPort.has(k)) this.hopCacheSize++;
    byPort.set(k, walk);
    return walk;
  }

  private clearHops(): void {
    this.hopCache.clear();
    this.hopCacheSize = 0;
  }

  private broken(route: Route, failed: Failures): boolean {
    if (route.walk.hops.some((h) => failed.switches.has(h.dpid))) return true;
    return failed.links.some((l) => pathUsesLink(route.walk.path, l));
  }

  /**
   * Unicast-ARP entries (arp-unicast.ts): for a host that appeared, moved or got its address, on every
   * switch; for every host when links or switches changed (paths may have); deleted for a forgotten host.
   */
  arpUnicast(events: readonly FabricEvent[]): RoutingEffect[] {
    const c = this.config;
    const out: RoutingEffect[] = [];
    if (events.some((e) => e.type === 'linkUp' || e.type === 'linkDown' || e.type === 'switchAdded' || e.type === 'switchRemoved')) {
      out.push(...arpUnicastEffects(this.view, this.view.hosts(), c.priority, c.tableId));
    } else {
      const changed = new Map<string, FabricHost>();
      for (const e of events) {
        if (e.type === 'hostAdded' || e.type === 'hostMoved' || e.type === 'hostIpLearned') changed.set(e.host.mac, e.host);
      }
      if (changed.size > 0) out.push(...arpUnicastEffects(this.view, [...changed.values()], c.priority, c.tableId));
    }
    for (const e of events) if (e.type === 'hostRemoved') out.push(...arpUnicastDeletes(this.view, e.host.mac));
    return out;
  }

  /**
   * Gives `route` the next free pin serial and its cookie. A serial still held by a route or an orphaned
   * install in flight is skipped (after 2^24 pins the counter wraps while long-lived routes keep theirs; at
   * most maxRoutes + the installs in flight are held, fewer than 2^24), and so is one whose slot in
   * byCookie holds another route (the table is at most half full: few are skipped).
   */
  private newCookie(route: Route): void {
    // a serial whose slot in byCookie is taken is skipped: so no two routes share a slot, and a serial a
    // route still holds (after the counter wrapped) is never handed out again
    do this.serial = (this.serial + 1) & 0xffffff;
    while (this.serial === 0 || this.byCookie.taken(this.serial) || (this.inflight.size > 0 && this.inflight.has(this.serial)));
    route.serial = this.serial;
    route.cookie = this.cookieBase + BigInt(this.serial);
  }

  private info(r: Route): RouteInfo {
    const spine = spineOf(r.walk.hops, this.view);
    return {
      flowKey: r.flow,
      srcHost: r.srcMac,
      dstHost: r.dstMac,
      path: r.walk.hops.map((h) => ({ dpid: dpidHex(h.dpid), inPort: h.inPort, outPort: h.outPort })),
      ...(spine !== undefined ? { spine: dpidHex(spine) } : {}),
      choice: { index: r.choiceIndex, of: r.choiceOf },
      cookie: cookieHex(r.cookie),
      installed: r.installed,
      createdMs: r.createdMs,
      repinned: r.repinned,
      ...(r.repinnedMs !== undefined ? { repinnedMs: r.repinnedMs } : {}),
      ...(r.queue !== undefined ? { queue: r.queue } : {}),
      ...(r.rewriteDst !== undefined ? { rewriteDst: r.rewriteDst } : {}),
    };
  }
}


/** The pin serial of a cookie (its low 24 bits; see RoutingCore.newCookie). */
function serialOf(cookie: bigint): number {
  return Number(BigInt.asUintN(24, cookie));
}

function held(p: PacketInput): HeldPacket {
  return { dpid: p.dpid, inPort: p.inPort, data: p.data, bufferId: p.bufferId };
}

/** Index of the hop at (dpid, inPort), -1 if none. */
function hopIndex(hops: readonly Hop[], dpid: bigint, inPort: number): number {
  for (let i = 0; i < hops.length; i++) if (hops[i]!.dpid === dpid && hops[i]!.inPort === inPort) return i;
  return -1;
}

function onHop(hops: readonly Hop[] | undefined, p: { dpid: bigint; inPort: number }): boolean {
  return !!hops && hops.some((h) => h.dpid === p.dpid && h.inPort === p.inPort);
}


function uniqueDpids(hops: readonly Hop[]): bigint[] {
  if (hops.length === 1) return [hops[0]!.dpid];
  return [...new Set(hops.map((h) => h.dpid))];
}

function deleteOne(cookie: bigint, dpid: bigint): RoutingEffect {
  return { kind: 'send', dpid, msgs: [deleteByCookie(cookie)] };
}

function deletes(cookie: bigint, dpids: readonly bigint[]): RoutingEffect[] {
  return dpids.map((dpid) => ({ kind: 'send' as const, dpid, msgs: [deleteByCookie(cookie)] }));
}


