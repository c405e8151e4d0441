/**
 * The FabricGraph: the pure model of the fabric (ARCHITECTURE.md "Principles": a pure core). Switches and their physical
 * ports (from PORT_DESC / PORT_STATUS), directed inter-switch links learnt from LLDP, hosts learnt from
 * ARP / IPv4 on edge ports, roles, equal-cost path sets and the flooding tree.
 *
 * No I/O, no clock: every mutator takes `nowMs` where time matters and returns the {@link FabricEvent}s
 * it caused, with one `topologyChanged` last whenever anything changed (an empty array otherwise).
 * Derived data (roles, path sets, flood tree) is cached and recomputed after any change.
 *
 * Links are point-to-point: a port is the source of at most one link and the destination of at most
 * one; a newer sighting that contradicts an older link replaces it (reason 'replaced').
 */
import { OFPP, OFPPC, OFPPR, OFPPS, type Port } from '../openflow/codec/index.js';
import { dpidHex, dpidPortKey } from '../lib/dpid.js';
import { allShortestPaths, assignRoles, cmpBig, compareLinks, floodTree } from './graph-algos.js';
import { isGroupMac, type ParsedFrame } from '../lib/packet/frame.js';
import type { FabricEvent, FabricHost, FabricLink, FabricPath, FabricPort, FabricSwitch, PortRef, SwitchRole } from './types.js';

/** Link capacity used when neither the config nor the ports give one: 1 Gbit/s. */
export const FALLBACK_CAPACITY_BPS = 1e9;

export interface GraphConfig {
  /** the config's default link capacity, bit/s; when set it wins over port speeds */
  readonly defaultCapacityBps?: number;
  /** per-link capacities, bit/s, keyed "<dpidHex>:<port>" of the link's source (else its destination) port */
  readonly linkCapacityBps?: Readonly<Record<string, number>>;
  /** when nothing else gives a capacity (default {@link FALLBACK_CAPACITY_BPS}) */
  readonly fallbackCapacityBps?: number;
  /** cap on the paths returned per pair (default 4096) */
  readonly maxPaths?: number;
  /** hosts tracked at most; beyond, the least recently seen is forgotten (default 4096) */
  readonly maxHosts?: number;
  /** MACs never learnt as hosts (the controller's own probe source MAC), lower case */
  readonly ignoredMacs?: readonly string[];
}

/** A codec port → fabric port; undefined for reserved ports (LOCAL, CONTROLLER, …: above OFPP_MAX). */
export function toFabricPort(p: Port): FabricPort | undefined {
  if (p.portNo > OFPP.MAX || p.portNo === 0) return undefined;
  return {
    portNo: p.portNo,
    name: p.name,
    hwAddr: p.hwAddr,
    up: (p.state & OFPPS.LINK_DOWN) === 0 && (p.config & OFPPC.PORT_DOWN) === 0,
    currSpeedBps: p.currSpeed * 1000,
  };
}

/** A known host seen again at its attachment within this long is not re-recorded (ms). */
const HOST_REFRESH_MS = 1000;

const refKey = (r: PortRef): string => dpidPortKey(r.dpid, r.portNo);
const sameRef = (a: PortRef, b: PortRef): boolean => a.dpid === b.dpid && a.portNo === b.portNo;

interface SwitchState {
  readonly dpid: bigint;
  readonly ports: Map<number, FabricPort>;
}

export class FabricGraph {
  private readonly sws = new Map<bigint, SwitchState>();
  private readonly bySrc = new Map<string, FabricLink>();
  private readonly byDst = new Map<string, FabricLink>();
  private readonly hostMap = new Map<string, FabricHost>();
  private readonly ipIndex = new Map<string, string>();
  private cache: { roles?: Map<bigint, SwitchRole>; switches?: FabricSwitch[]; links?: FabricLink[]; tree?: Map<bigint, Set<number>>; fabric?: Map<bigint, Set<number>>; paths: Map<bigint, Map<bigint, FabricPath[]>> } = { paths: new Map() };

  private readonly ignored: ReadonlySet<string>;
  /** hosts forgotten to stay within maxHosts */
  hostEvictions = 0;

  constructor(private readonly config: GraphConfig = {}) {
    this.ignored = new Set((config.ignoredMacs ?? []).map((m) => m.toLowerCase()));
  }

  /** Forgets the hosts not seen since `olderThanMs` (host ageing); hostRemoved with reason 'idle'. */
  expireHosts(olderThanMs: number): FabricEvent[] {
    const events: FabricEvent[] = [];
    // hostMap is in least-recently-seen order (putHost re-inserts on every sighting)
    for (const h of this.hostMap.values()) {
      if (h.lastSeenMs >= olderThanMs) break;
      events.push(...this.forgetHost(h, 'idle'));
    }
    return events.length > 0 ? this.finish(events) : [];
  }

  private forgetHost(h: FabricHost, reason: string): FabricEvent[] {
    this.hostMap.delete(h.mac);
    if (h.ipv4 !== undefined && this.ipIndex.get(h.ipv4) === h.mac) this.ipIndex.delete(h.ipv4);
    return [{ type: 'hostRemoved', host: h, reason }];
  }

  /* ---------------------------------------------------------------- queries */

  /** Switches sorted by dpid, with their current role. */
  switches(): readonly FabricSwitch[] {
    this.cache.switches ??= [...this.sws.keys()].sort(cmpBig).map((d) => this.buildSwitch(d));
    return this.cache.switches;
  }

  switch(dpid: bigint): FabricSwitch | undefined {
    return this.switches().find((s) => s.dpid === dpid);
  }

  /** Directed links sorted by source then destination. */
  links(): readonly FabricLink[] {
    this.cache.links ??= [...this.bySrc.values()].sort(compareLinks);
    return this.cache.links;
  }

  /** The link leaving `ref`, if any. */
  linkFrom(ref: PortRef): FabricLink | undefined {
    return this.bySrc.get(refKey(ref));
  }

  /** The link src → dst, if the graph has exactly that one. */
  linkBetween(src: PortRef, dst: PortRef): FabricLink | undefined {
    const l = this.bySrc.get(refKey(src));
    return l && sameRef(l.dst, dst) ? l : undefined;
  }

  hosts(): readonly FabricHost[] {
    return [...this.hostMap.values()].sort((a, b) => (a.mac < b.mac ? -1 : 1));
  }

  hostByMac(mac: string): FabricHost | undefined {
    return this.hostMap.get(mac.toLowerCase());
  }

  hostByIpv4(ip: string): FabricHost | undefined {
    const mac = this.ipIndex.get(ip);
    return mac === undefined ? undefined : this.hostMap.get(mac);
  }

  /** True when the port has an LLDP neighbour in either direction. */
  isFabricPort(ref: PortRef): boolean {
    if (!this.cache.fabric) {
      const fabric = new Map<bigint, Set<number>>();
      const add = (r: PortRef): void => {
        let ports = fabric.get(r.dpid);
        if (!ports) fabric.set(r.dpid, (ports = new Set()));
        ports.add(r.portNo);
      };
      for (const l of this.bySrc.values()) add(l.src);
      for (const l of this.byDst.values()) add(l.dst);
      this.cache.fabric = fabric;
    }
    return this.cache.fabric.get(ref.dpid)?.has(ref.portNo) ?? false;
  }

  /** All equal-cost shortest paths src → dst (see graph-algos `allShortestPaths`), cached. */
  paths(src: bigint, dst: bigint): readonly FabricPath[] {
    let bySrc = this.cache.paths.get(src);
    if (!bySrc) this.cache.paths.set(src, (bySrc = new Map()));
    let p = bySrc.get(dst);
    if (!p) {
      p = allShortestPaths(this.links(), src, dst, this.config.maxPaths);
      bySrc.set(dst, p);
    }
    return p;
  }

  /** Flood-tree ports of `dpid` plus its edge ports (up, no neighbour), minus `inPort`, ascending. */
  floodPorts(dpid: bigint, inPort: number): readonly number[] {
    const sw = this.sws.get(dpid);
    if (!sw) return [];
    this.cache.tree ??= floodTree([...this.sws.keys()], this.links());
    const out = new Set(this.cache.tree.get(dpid) ?? []);
    for (const p of sw.ports.values()) if (p.up && !this.isFabricPort({ dpid, portNo: p.portNo })) out.add(p.portNo);
    out.delete(inPort);
    return [...out].sort((a, b) => a - b);
  }

  /* ---------------------------------------------------------------- switches and ports */

  /**
   * A switch connected (or reconnected) with its PORT_DESC ports (reserved ports are ignored).
   * A reconnect replaces the ports and drops links on ports now missing or down.
   */
  addSwitch(dpid: bigint, ports: readonly FabricPort[]): FabricEvent[] {
    const events: FabricEvent[] = [];
    const physical = ports.filter((p) => p.portNo > 0 && p.portNo <= OFPP.MAX);
    this.sws.set(dpid, { dpid, ports: new Map(physical.map((p) => [p.portNo, p])) });
    for (const l of this.linksOf((r) => r.dpid === dpid)) {
      const port = this.sws.get(dpid)!.ports.get(l.src.dpid === dpid ? l.src.portNo : l.dst.portNo);
      if (!port?.up) events.push(...this.dropLink(l, 'portDown'));
    }
    this.invalidate();
    events.push({ type: 'switchAdded', sw: this.switch(dpid)! });
    return this.finish(events);
  }

  /** A switch disconnected: its links go at once (reason 'switchDown'); its hosts stay known. */
  removeSwitch(dpid: bigint): FabricEvent[] {
    if (!this.sws.has(dpid)) return [];
    const events: FabricEvent[] = [];
    for (const l of this.linksOf((r) => r.dpid === dpid)) events.push(...this.dropLink(l, 'switchDown'));
    this.sws.delete(dpid);
    events.push({ type: 'switchRemoved', dpid });
    return this.finish(events);
  }

  /** OFPT_PORT_STATUS: `reason` is OFPPR_ADD / DELETE / MODIFY. A port down or deleted loses its links at once. */
  updatePort(dpid: bigint, reason: number, port: FabricPort): FabricEvent[] {
    const sw = this.sws.get(dpid);
    if (!sw || port.portNo <= 0 || port.portNo > OFPP.MAX) return [];
    const gone = reason === OFPPR.DELETE;
    if (gone) sw.ports.delete(port.portNo);
    else sw.ports.set(port.portNo, port);
    const events: FabricEvent[] = [{ type: 'portChanged', dpid, port }];
    for (const l of this.linksOf((r) => sameRef(r, { dpid, portNo: port.portNo }))) {
      if (gone || !port.up) events.push(...this.dropLink(l, 'portDown'));
      else this.putLink({ ...l, capacityBps: this.capacity(l.src, l.dst) });
    }
    return this.finish(events);
  }

  /* ---------------------------------------------------------------- links */

  /**
   * An LLDP probe sent from `src` arrived at `dst`. Ignored ([]) unless both switches are known, both
   * ports are known and up, and src ≠ dst. A new link → linkUp; a known one only refreshes lastSeenMs.
   */
  linkSeen(src: PortRef, dst: PortRef, nowMs: number): FabricEvent[] {
    if (sameRef(src, dst) || !this.portUp(src) || !this.portUp(dst)) return [];
    const old = this.bySrc.get(refKey(src));
    if (old && sameRef(old.dst, dst)) {
      const fresh = { ...old, lastSeenMs: nowMs };
      this.bySrc.set(refKey(src), fresh);
      this.byDst.set(refKey(dst), fresh);
      this.cache.links = undefined; // the sorted list holds the old object; paths keep theirs (same link)
      return [];
    }
    const events: FabricEvent[] = [];
    if (old) events.push(...this.dropLink(old, 'replaced'));
    const clash = this.byDst.get(refKey(dst));
    if (clash) events.push(...this.dropLink(clash, 'replaced'));
    const link: FabricLink = { src, dst, capacityBps: this.capacity(src, dst), lastSeenMs: nowMs };
    this.putLink(link);
    events.push({ type: 'linkUp', link });
    events.push(...this.evictHostsAt(src), ...this.evictHostsAt(dst));
    return this.finish(events);
  }

  /** Removes links last seen before `olderThanMs` (reason 'timeout'). */
  expireLinks(olderThanMs: number): FabricEvent[] {
    return this.removeLinks(this.links().filter((l) => l.lastSeenMs < olderThanMs), 'timeout');
  }

  /** Removes the given links (matched by source port and destination) with `reason`. */
  removeLinks(links: readonly FabricLink[], reason: string): FabricEvent[] {
    const events: FabricEvent[] = [];
    for (const l of links) {
      const cur = this.bySrc.get(refKey(l.src));
      if (cur && sameRef(cur.dst, l.dst)) events.push(...this.dropLink(cur, reason));
    }
    return this.finish(events);
  }

  /* ---------------------------------------------------------------- hosts */

  /**
   * Learns from a packet-in's frame on (dpid, inPort): ARP sender (MAC + IPv4, IP replaced when it
   * changes) or IPv4 source (MAC, and the IP only while the host has none). Only on edge ports of known
   * switches; group / zero MACs and 0.0.0.0 are ignored.
   */
  learnFromFrame(dpid: bigint, inPort: number, frame: ParsedFrame, nowMs: number): FabricEvent[] {
    if (frame.arp) {
      const ip = frame.arp.spa === '0.0.0.0' ? undefined : frame.arp.spa;
      return this.hostSeen(frame.arp.sha, ip, true, { dpid, portNo: inPort }, nowMs);
    }
    if (frame.ipv4) {
      const src = frame.ipv4.src;
      if (this.seenRecently(frame, dpid, inPort, nowMs)) return [];
      const usable = src !== '0.0.0.0' && src !== '255.255.255.255' && !/^2(2[4-9]|3\d)\./.test(src);
      return this.hostSeen(frame.ethSrc, usable ? src : undefined, false, { dpid, portNo: inPort }, nowMs);
    }
    return [];
  }

  /**
   * True for the common case on the flow-setup path: an IPv4 frame from a known host with an address, at
   * the port it was learnt on, seen there less than a second ago. Nothing to learn from it:
   * {@link learnFromFrame} returns [] without re-recording the host (its LRU position and lastSeenMs are
   * refreshed at most once a second; host ageing counts in seconds).
   */
  seenRecently(frame: ParsedFrame, dpid: bigint, inPort: number, nowMs: number): boolean {
    if (!frame.ipv4 || frame.arp) return false;
    const known = this.hostMap.get(frame.ethSrc);
    return known !== undefined && known.ipv4 !== undefined && known.attachment.dpid === dpid && known.attachment.portNo === inPort
      && nowMs - known.lastSeenMs < HOST_REFRESH_MS && nowMs >= known.lastSeenMs;
  }

  /** True when `mac` could be learnt as a host: unicast, not all-zero, not one of the ignored MACs. */
  learnable(mac: string): boolean {
    const m = mac.toLowerCase();
    return !isGroupMac(m) && m !== '00:00:00:00:00:00' && !this.ignored.has(m);
  }

  /** One host sighting; see {@link learnFromFrame}. `authoritative` lets the IP replace a known one. */
  hostSeen(mac: string, ipv4: string | undefined, authoritative: boolean, at: PortRef, nowMs: number): FabricEvent[] {
    const m = mac.toLowerCase();
    if (!this.sws.has(at.dpid) || at.portNo <= 0 || at.portNo > OFPP.MAX || this.isFabricPort(at)) return [];
    if (!this.learnable(m)) return [];
    const old = this.hostMap.get(m);
    const evicted: FabricEvent[] = [];
    if (!old) {
      const max = this.config.maxHosts ?? 4096;
      while (this.hostMap.size >= max) {
        const lru = this.hostMap.values().next().value as FabricHost;
        this.hostEvictions++;
        evicted.push(...this.forgetHost(lru, 'limit'));
      }
    }
    const ip = old?.ipv4 !== undefined && !authoritative ? old.ipv4 : (ipv4 ?? old?.ipv4);
    const host: FabricHost = { mac: m, attachment: at, lastSeenMs: nowMs, ...(ip !== undefined ? { ipv4: ip } : {}) };
    this.putHost(host, old);
    const events: FabricEvent[] = evicted;
    if (!old) events.push({ type: 'hostAdded', host });
    else if (!sameRef(old.attachment, at)) events.push({ type: 'hostMoved', host, from: old.attachment });
    if (ip !== undefined && ip !== old?.ipv4) events.push({ type: 'hostIpLearned', host });
    return events.length > 0 ? this.finish(events) : [];
  }

  /* ---------------------------------------------------------------- internals */

  private putHost(host: FabricHost, old: FabricHost | undefined): void {
    if (old?.ipv4 !== undefined && old.ipv4 !== host.ipv4) this.ipIndex.delete(old.ipv4);
    if (host.ipv4 !== undefined) {
      const prevMac = this.ipIndex.get(host.ipv4);
      if (prevMac !== undefined && prevMac !== host.mac) this.stripIp(prevMac);
      this.ipIndex.set(host.ipv4, host.mac);
    }
    this.hostMap.delete(host.mac); // re-inserted last: the map stays in least-recently-seen order
    this.hostMap.set(host.mac, host);
  }

  /** Another host claimed this host's IP: it keeps its MAC and attachment, loses the address. */
  private stripIp(mac: string): void {
    const h = this.hostMap.get(mac);
    if (!h) return;
    this.hostMap.set(mac, { mac: h.mac, attachment: h.attachment, lastSeenMs: h.lastSeenMs });
  }

  /** Hosts learnt on a port that turned out to be an inter-switch port were learnt wrongly. */
  private evictHostsAt(ref: PortRef): FabricEvent[] {
    const events: FabricEvent[] = [];
    for (const h of [...this.hostMap.values()]) {
      if (!sameRef(h.attachment, ref)) continue;
      this.hostMap.delete(h.mac);
      if (h.ipv4 !== undefined && this.ipIndex.get(h.ipv4) === h.mac) this.ipIndex.delete(h.ipv4);
      events.push({ type: 'hostRemoved', host: h, reason: 'fabricPort' });
    }
    return events;
  }

  private portUp(ref: PortRef): boolean {
    return this.sws.get(ref.dpid)?.ports.get(ref.portNo)?.up === true;
  }

  /** Capacity rule: config per link (src key, else dst key) → config default → smaller port speed → fallback. */
  private capacity(src: PortRef, dst: PortRef): number {
    const per = this.config.linkCapacityBps ?? {};
    const configured = per[refKey(src)] ?? per[refKey(dst)] ?? this.config.defaultCapacityBps;
    if (configured !== undefined) return configured;
    const speeds = [src, dst]
      .map((r) => this.sws.get(r.dpid)?.ports.get(r.portNo)?.currSpeedBps ?? 0)
      .filter((s) => s > 0);
    return speeds.length > 0 ? Math.min(...speeds) : (this.config.fallbackCapacityBps ?? FALLBACK_CAPACITY_BPS);
  }

  private putLink(l: FabricLink): void {
    this.bySrc.set(refKey(l.src), l);
    this.byDst.set(refKey(l.dst), l);
    this.invalidate();
  }

  private dropLink(l: FabricLink, reason: string): FabricEvent[] {
    if (this.bySrc.get(refKey(l.src)) !== l) return [];
    this.bySrc.delete(refKey(l.src));
    if (this.byDst.get(refKey(l.dst)) === l) this.byDst.delete(refKey(l.dst));
    this.invalidate();
    return [{ type: 'linkDown', link: l, reason }];
  }

  private linksOf(touches: (r: PortRef) => boolean): FabricLink[] {
    return [...this.bySrc.values()].filter((l) => touches(l.src) || touches(l.dst));
  }

  private buildSwitch(dpid: bigint): FabricSwitch {
    const sw = this.sws.get(dpid)!;
    return { dpid, dpidHex: dpidHex(dpid), role: this.roles().get(dpid) ?? 'unknown', ports: new Map(sw.ports) };
  }

  private roles(): Map<bigint, SwitchRole> {
    if (this.cache.roles) return this.cache.roles;
    const hostCount = new Map<bigint, number>();
    for (const h of this.hostMap.values()) hostCount.set(h.attachment.dpid, (hostCount.get(h.attachment.dpid) ?? 0) + 1);
    const inputs = [...this.sws.values()].map((s) => ({
      dpid: s.dpid,
      hosts: hostCount.get(s.dpid) ?? 0,
      edgePorts: [...s.ports.values()].filter((p) => p.up && !this.isFabricPort({ dpid: s.dpid, portNo: p.portNo })).length,
    }));
    this.cache.roles = assignRoles(inputs, this.links());
    return this.cache.roles;
  }

  private invalidate(): void {
    this.cache = { paths: new Map() };
  }

  private finish(events: FabricEvent[]): FabricEvent[] {
    if (events.length === 0) return events;
    this.invalidate();
    events.push({ type: 'topologyChanged' });
    return events;
  }
}
