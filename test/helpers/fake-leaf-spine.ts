/**
 * A hand-built TopologyView for unit tests of the apps (no discovery, no switches): a leaf-spine fabric
 * of any shape, with mutations that raise the same FabricEvents the topology app would (link down,
 * switch removed, host moved / added).
 *
 * Numbering (`FakeLeafSpine.leafSpine`): leaf i (1-based) has dpid i, spine j has dpid 0x100 + j.
 * Leaf ports 1..spines go to spine 1..spines; ports spines+1 .. spines+hostsPerLeaf hold the hosts.
 * Spine port i goes to leaf i. Host h of leaf i: MAC 02:00:00:00:ii:hh, IPv4 10.0.i.h.
 *
 * paths(): breadth-first search for all shortest paths over the current links, ordered by neighbour
 * port. floodPorts(): one spanning tree, breadth-first from the smallest dpid, plus every edge port.
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
} from '../../topology/types.js';

export interface LeafSpineShape {
  readonly spines: number;
  readonly leaves: number;
  readonly hostsPerLeaf: number;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

export class FakeLeafSpine implements TopologyView {
  private readonly sws = new Map<bigint, FabricSwitch>();
  private linkList: FabricLink[] = [];
  private readonly hostMap = new Map<string, FabricHost>();
  private readonly listeners = new Set<(events: readonly FabricEvent[]) => void>();
  /** every batch emitted, in order (tests inspect it) */
  readonly emitted: (readonly FabricEvent[])[] = [];

  constructor(readonly shape?: LeafSpineShape) {}

  /** A spines × leaves × hostsPerLeaf fabric, fully discovered. */
  static leafSpine(shape: LeafSpineShape): FakeLeafSpine {
    const t = new FakeLeafSpine(shape);
    const { spines, leaves, hostsPerLeaf } = shape;
    for (let i = 1; i <= leaves; i++) t.addSwitch(leafDpid(i), 'leaf', spines + hostsPerLeaf);
    for (let j = 1; j <= spines; j++) t.addSwitch(spineDpid(j), 'spine', leaves);
    for (let i = 1; i <= leaves; i++) {
      for (let j = 1; j <= spines; j++) t.addCable({ dpid: leafDpid(i), portNo: j }, { dpid: spineDpid(j), portNo: i });
      for (let h = 1; h <= hostsPerLeaf; h++) {
        t.hostMap.set(hostMac(i, h), { mac: hostMac(i, h), ipv4: hostIp(i, h), attachment: { dpid: leafDpid(i), portNo: spines + h }, lastSeenMs: 0 });
      }
    }
    return t;
  }

  /** Adds a switch with ports 1..nPorts, all up (no event). */
  addSwitch(dpid: bigint, role: SwitchRole, nPorts: number): void {
    const ports = new Map<number, FabricPort>();
    for (let p = 1; p <= nPorts; p++) ports.set(p, { portNo: p, name: `s${dpid}-eth${p}`, hwAddr: `0a:00:00:00:${hex2(Number(dpid) & 0xff)}:${hex2(p)}`, up: true, currSpeedBps: 1e9 });
    this.sws.set(dpid, { dpid, dpidHex: dpid.toString(16).padStart(16, '0'), role, ports });
  }

  /** Adds both directions of a cable (no event). */
  addCable(a: PortRef, b: PortRef): void {
    this.linkList.push({ src: a, dst: b, capacityBps: 1e9, lastSeenMs: 0 }, { src: b, dst: a, capacityBps: 1e9, lastSeenMs: 0 });
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

  paths(src: bigint, dst: bigint): readonly FabricPath[] {
    if (!this.sws.has(src) || !this.sws.has(dst)) return [];
    if (src === dst) return [[]];
    const dist = new Map<bigint, number>([[src, 0]]);
    const queue = [src];
    while (queue.length > 0) {
      const u = queue.shift()!;
      for (const l of this.out(u)) {
        if (!dist.has(l.dst.dpid)) {
          dist.set(l.dst.dpid, dist.get(u)! + 1);
          queue.push(l.dst.dpid);
        }
      }
    }
    if (!dist.has(dst)) return [];
    const result: FabricLink[][] = [];
    const walk = (u: bigint, acc: FabricLink[]): void => {
      if (u === dst) return void result.push([...acc]);
      for (const l of this.out(u)) {
        if (dist.get(l.dst.dpid) === dist.get(u)! + 1 && dist.get(l.dst.dpid)! <= dist.get(dst)!) walk(l.dst.dpid, [...acc, l]);
      }
    };
    walk(src, []);
    return result;
  }

  floodPorts(dpid: bigint, inPort: number): readonly number[] {
    const sw = this.sws.get(dpid);
    if (!sw) return [];
    const tree = this.treePorts();
    const ports: number[] = [];
    for (const [p, port] of sw.ports) {
      if (p === inPort || !port.up) continue;
      const ref = { dpid, portNo: p };
      if (!this.isFabricPort(ref) || tree.has(key(ref))) ports.push(p);
    }
    return ports;
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
  }

  private out(u: bigint): FabricLink[] {
    return this.linkList.filter((l) => l.src.dpid === u).sort((a, b) => a.src.portNo - b.src.portNo);
  }

  /** Fabric ports on the BFS spanning tree rooted at the smallest dpid (both ends of each tree link). */
  private treePorts(): Set<string> {
    const ports = new Set<string>();
    const dpids = [...this.sws.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const seen = new Set<bigint>();
    for (const root of dpids) {
      if (seen.has(root)) continue;
      seen.add(root);
      const queue = [root];
      while (queue.length > 0) {
        const u = queue.shift()!;
        for (const l of this.out(u)) {
          if (seen.has(l.dst.dpid)) continue;
          seen.add(l.dst.dpid);
          ports.add(key(l.src)).add(key(l.dst));
          queue.push(l.dst.dpid);
        }
      }
    }
    return ports;
  }
}

function key(r: PortRef): string {
  return `${r.dpid}/${r.portNo}`;
}

export function leafDpid(i: number): bigint {
  return BigInt(i);
}

export function spineDpid(j: number): bigint {
  return BigInt(0x100 + j);
}

export function hostMac(leaf: number, h: number): string {
  return `02:00:00:00:${hex2(leaf)}:${hex2(h)}`;
}

export function hostIp(leaf: number, h: number): string {
  return `10.0.${leaf}.${h}`;
}
