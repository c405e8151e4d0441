/**
 * A hand-built TopologyView for unit tests of the apps (no discovery, no switches): a leaf-spine fabric
 * of any shape, with mutations that raise the same FabricEvents the topology app would (link down,
 * switch removed, host moved / added).
 *
 * Numbering and wiring (`FakeLeafSpine.leafSpine`): the test fabric's one leaf-spine model, leaf-spine.ts
 * (leaf i = dpid i, spine j = dpid 0x100 + j, leaf port j → spine j, hosts after the uplinks, host h of
 * leaf i: MAC 02:00:00:00:ii:hh, IPv4 10.0.i.h); ports are leaf-spine.ts's, at 1 Gbit/s.
 *
 * paths() and floodPorts() are the topology's own: a {@link FabricGraph} fed the fake's switches and
 * current links (all equal-cost shortest paths; one BFS spanning tree from the smallest dpid, plus every
 * edge port), rebuilt when they change. Paths are made of the fake's own link objects.
 */
import type {
  FabricEvent,
  FabricHost,
  FabricLink,
  FabricPath,
  FabricPort,
  FabricSwitch,
  PortRef,
  SwitchRole,
  TopologyView,
} from '../topology/types.js';
import { FabricGraph } from '../topology/graph.js';
import { dpidHex, dpidPortKey } from '../lib/dpid.js';
import { hostIp, hostMac, leafSpine as leafSpineSpec, port as leafSpinePort, type FabricSpec, type LeafSpineShape } from './leaf-spine.js';

export { hostIp, hostMac, leafDpid, spineDpid, type LeafSpineShape } from './leaf-spine.js';

/** Port `portNo` of `dpid` as leaf-spine.ts builds it: up, 1 Gbit/s. */
function defaultPort(dpid: bigint, portNo: number): FabricPort {
  return leafSpinePort(dpid, portNo, 1e9);
}

/** A cable's capacity (both directions) and when each direction (a → b, b → a) was last seen. */
export interface CableOptions {
  readonly capacityBps?: number;
  readonly lastSeenMs?: readonly [number, number];
}

const linkKey = (l: FabricLink): string => `${dpidPortKey(l.src.dpid, l.src.portNo)}>${dpidPortKey(l.dst.dpid, l.dst.portNo)}`;

export class FakeLeafSpine implements TopologyView {
  private readonly sws = new Map<bigint, FabricSwitch>();
  /** the directed links (tests may edit it to fail links without events) */
  linkList: FabricLink[] = [];
  private readonly hostMap = new Map<string, FabricHost>();
  private readonly listeners = new Set<(events: readonly FabricEvent[]) => void>();
  /** every batch emitted, in order (tests inspect it) */
  readonly emitted: (readonly FabricEvent[])[] = [];
  /** bumped by every change of switches or ports (links are compared one by one: tests edit linkList) */
  private switchesVersion = 0;
  private built: { readonly graph: FabricGraph; readonly switchesVersion: number; readonly links: readonly FabricLink[] } | undefined;

  constructor(readonly shape?: LeafSpineShape) {}

  /** A spines × leaves × hostsPerLeaf fabric, fully discovered. */
  static leafSpine(shape: LeafSpineShape): FakeLeafSpine {
    const t = new FakeLeafSpine(shape);
    const spec = t.addFabric(shape);
    spec.hostPorts.forEach((attachment, k) => {
      const [i, h] = [Math.floor(k / shape.hostsPerLeaf) + 1, (k % shape.hostsPerLeaf) + 1];
      t.hostMap.set(hostMac(i, h), { mac: hostMac(i, h), ipv4: hostIp(i, h), attachment, lastSeenMs: 0 });
    });
    return t;
  }

  /**
   * Adds the switches and cables of the leaf-spine model (leaf-spine.ts) of `shape`, leaves first, cables
   * leaf by leaf (no events, no hosts); `port` builds each port, `cable` sets the cables' capacity and ages.
   * @returns the model, for its host ports
   */
  protected addFabric(shape: LeafSpineShape, port: (dpid: bigint, portNo: number) => FabricPort = defaultPort, cable: CableOptions = {}): FabricSpec {
    const { spines, leaves, hostsPerLeaf } = shape;
    const spec = leafSpineSpec(spines, leaves, hostsPerLeaf);
    for (const d of spec.leaves) this.addSwitch(d, 'leaf', spines + hostsPerLeaf, port);
    for (const d of spec.spines) this.addSwitch(d, 'spine', leaves, port);
    for (const leaf of spec.leaves) for (const w of spec.wires.filter((x) => x.a.dpid === leaf)) this.addCable(w.a, w.b, cable);
    return spec;
  }

  /** Adds a switch with ports 1..nPorts, all up (no event); `port` builds each port (default 1 Gbit/s). */
  addSwitch(dpid: bigint, role: SwitchRole, nPorts: number, port: (dpid: bigint, portNo: number) => FabricPort = defaultPort): void {
    const ports = new Map<number, FabricPort>();
    for (let p = 1; p <= nPorts; p++) ports.set(p, port(dpid, p));
    this.sws.set(dpid, { dpid, dpidHex: dpidHex(dpid), role, ports });
    this.switchesVersion++;
  }

  /** Adds both directions of a cable (no event): 1 Gbit/s, last seen at 0 ms, unless told. */
  addCable(a: PortRef, b: PortRef, opts: CableOptions = {}): void {
    const capacityBps = opts.capacityBps ?? 1e9;
    const [ab, ba] = opts.lastSeenMs ?? [0, 0];
    this.linkList.push({ src: a, dst: b, capacityBps, lastSeenMs: ab }, { src: b, dst: a, capacityBps, lastSeenMs: ba });
  }

  /* ---------------------------------------------------------------- mutations that emit events */

  /** Takes the cable between two switches down (both directions, ports down): linkDown × 2, topologyChanged. */
  failCable(a: bigint, b: bigint): FabricLink[] {
    const gone = this.linkList.filter((l) => (l.src.dpid === a && l.dst.dpid === b) || (l.src.dpid === b && l.dst.dpid === a));
    this.linkList = this.linkList.filter((l) => !gone.includes(l));
    for (const l of gone) this.setPortUp(l.src, false);
    this.emit([...gone.map((link) => ({ type: 'linkDown' as const, link, reason: 'portDown' })), { type: 'topologyChanged' }]);
    return gone;
  }

  /** Restores a cable: linkUp × 2, topologyChanged. */
  restoreCable(a: PortRef, b: PortRef): void {
    this.addCable(a, b);
    this.setPortUp(a, true);
    this.setPortUp(b, true);
    const added = this.linkList.slice(-2);
    this.emit([...added.map((link) => ({ type: 'linkUp' as const, link })), { type: 'topologyChanged' }]);
  }

  /** Removes a switch, its links and its hosts: linkDown for each link, switchRemoved, topologyChanged. */
  removeSwitch(dpid: bigint): void {
    const gone = this.linkList.filter((l) => l.src.dpid === dpid || l.dst.dpid === dpid);
    this.linkList = this.linkList.filter((l) => !gone.includes(l));
    this.sws.delete(dpid);
    this.switchesVersion++;
    for (const [mac, h] of this.hostMap) if (h.attachment.dpid === dpid) this.hostMap.delete(mac);
    this.emit([
      ...gone.map((link) => ({ type: 'linkDown' as const, link, reason: 'switchDown' })),
      { type: 'switchRemoved', dpid },
      { type: 'topologyChanged' },
    ]);
  }

  /** Moves a host to another edge port: hostMoved, topologyChanged. */
  moveHost(mac: string, to: PortRef): void {
    const h = this.hostMap.get(mac);
    if (!h) throw new Error(`no host ${mac}`);
    const moved: FabricHost = { ...h, attachment: to };
    this.hostMap.set(mac, moved);
    this.emit([{ type: 'hostMoved', host: moved, from: h.attachment }, { type: 'topologyChanged' }]);
  }

  /** Adds (or replaces) a host: hostAdded, topologyChanged. */
  addHost(host: FabricHost): void {
    this.hostMap.set(host.mac, host);
    this.emit([{ type: 'hostAdded', host }, { type: 'topologyChanged' }]);
  }

  /** Forgets a host without an event (a host never seen). */
  forgetHost(mac: string): void {
    this.hostMap.delete(mac);
  }

  emit(events: readonly FabricEvent[]): void {
    this.emitted.push(events);
    for (const l of [...this.listeners]) l(events);
  }

  /* ---------------------------------------------------------------- TopologyView */

  switches(): readonly FabricSwitch[] {
    return [...this.sws.values()];
  }

  switch(dpid: bigint): FabricSwitch | undefined {
    return this.sws.get(dpid);
  }

  links(): readonly FabricLink[] {
    return [...this.linkList];
  }

  hosts(): readonly FabricHost[] {
    return [...this.hostMap.values()];
  }

  hostByMac(mac: string): FabricHost | undefined {
    return this.hostMap.get(mac);
  }

  hostByIpv4(ip: string): FabricHost | undefined {
    for (const h of this.hostMap.values()) if (h.ipv4 === ip) return h;
    return undefined;
  }

  isFabricPort(ref: PortRef): boolean {
    return this.linkList.some((l) => l.src.dpid === ref.dpid && l.src.portNo === ref.portNo);
  }

  /** All equal-cost shortest paths, by the topology's own graph (FabricGraph.paths). */
  paths(src: bigint, dst: bigint): readonly FabricPath[] {
    if (!this.sws.has(src) || !this.sws.has(dst)) return [];
    const own = new Map(this.linkList.map((l) => [linkKey(l), l]));
    return this.graph().paths(src, dst).map((p) => p.map((l) => own.get(linkKey(l)) ?? l));
  }

  /** Flood-tree ports plus the edge ports that are up, minus `inPort` (FabricGraph.floodPorts). */
  floodPorts(dpid: bigint, inPort: number): readonly number[] {
    return this.graph().floodPorts(dpid, inPort);
  }

  ready(): boolean {
    return true;
  }

  subscribe(listener: (events: readonly FabricEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Listeners currently subscribed (leak checks). */
  get subscribers(): number {
    return this.listeners.size;
  }

  /* ---------------------------------------------------------------- internals */

  private setPortUp(ref: PortRef, up: boolean): void {
    const sw = this.sws.get(ref.dpid);
    const port = sw?.ports.get(ref.portNo);
    if (!sw || !port) return;
    const ports = new Map(sw.ports);
    ports.set(ref.portNo, { ...port, up });
    this.sws.set(ref.dpid, { ...sw, ports });
    this.switchesVersion++;
  }

  /** The topology's graph of the current switches and links (rebuilt when either changed). */
  private graph(): FabricGraph {
    const b = this.built;
    if (b && b.switchesVersion === this.switchesVersion && b.links.length === this.linkList.length && b.links.every((l, i) => l === this.linkList[i])) {
      return b.graph;
    }
    const graph = new FabricGraph();
    for (const sw of this.sws.values()) graph.addSwitch(sw.dpid, [...sw.ports.values()]);
    for (const l of this.linkList) graph.linkSeen(l.src, l.dst, l.lastSeenMs);
    this.built = { graph, switchesVersion: this.switchesVersion, links: [...this.linkList] };
    return graph;
  }
}
