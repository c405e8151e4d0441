/**
 * Pure projections of the controller's and the topology's state into the REST API's JSON shapes
 * (schemas.ts). No I/O: the caller passes the time (`nowMs` on the injected clock, `wallMs` for ISO
 * timestamps).
 */
import type { SwitchHandle } from '../../openflow/app-api.js';
import type { Port } from '../../openflow/codec/index.js';
import { dpidHex } from '../../lib/log.js';
import type { FabricHost, FabricLink, FabricPort, PortRef, SwitchRole, TopologyView } from '../../topology/types.js';
import type { RouteInfo } from '../../apps/routing/types.js';
import type {
  HostJson,
  LinkJson,
  PortJson,
  RouteJson,
  RyuHostJson,
  RyuLinkJson,
  RyuPortJson,
  RyuSwitchJson,
  SwitchJson,
} from './schemas.js';

/** What the API reads of a connected switch (a {@link SwitchHandle} satisfies it). */
export type SwitchInfo = Pick<SwitchHandle, 'dpid' | 'dpidHex' | 'peer' | 'features' | 'ports'>;

export interface ViewContext {
  readonly topology: TopologyView;
  /** connected switches by dpid (the controller's map) */
  readonly connected: ReadonlyMap<bigint, SwitchInfo>;
  /** now on the injected clock, ms (the clock of lastSeenMs / createdMs) */
  readonly nowMs: number;
  /** now as wall-clock ms since the epoch (for ISO timestamps) */
  readonly wallMs: number;
  /** allocated load of the link leaving `src`, bit/s (absent: loads are not known, shown as null) */
  readonly linkLoadBps?: (src: PortRef) => number;
}

/** Highest physical port number (OpenFlow 1.3.5 §7.2.1 OFPP_MAX); above are reserved ports. */
const OFPP_MAX = 0xffffff00;
const OFPPC_PORT_DOWN = 1;
const OFPPS_LINK_DOWN = 1;

/** OFPC_* capability bits (OpenFlow 1.3.5 §7.3.1, enum ofp_capabilities). */
const CAPABILITIES: readonly (readonly [number, string])[] = [
  [1 << 0, 'FLOW_STATS'],
  [1 << 1, 'TABLE_STATS'],
  [1 << 2, 'PORT_STATS'],
  [1 << 3, 'GROUP_STATS'],
  [1 << 5, 'IP_REASM'],
  [1 << 6, 'QUEUE_STATS'],
  [1 << 8, 'PORT_BLOCKED'],
];

export function capabilityNames(mask: number): string[] {
  return CAPABILITIES.filter(([bit]) => (mask & bit) !== 0).map(([, name]) => name);
}

function refJson(r: PortRef): { dpid: string; port: number } {
  return { dpid: dpidHex(r.dpid), port: r.portNo };
}

function refKey(dpid: bigint, portNo: number): string {
  return `${dpid}:${portNo}`;
}

function when(ctx: ViewContext, t: number): { iso: string; ageMs: number } {
  const ageMs = Math.max(0, ctx.nowMs - t);
  return { iso: new Date(ctx.wallMs - ageMs).toISOString(), ageMs };
}

/** The fabric port facts, from the topology when it knows the switch, else from the session's PORT_DESC. */
function fabricPorts(ctx: ViewContext, dpid: bigint): FabricPort[] {
  const known = ctx.topology.switch(dpid);
  if (known) return [...known.ports.values()];
  const sw = ctx.connected.get(dpid);
  if (!sw) return [];
  return [...sw.ports.values()].map((p) => ({
    portNo: p.portNo,
    name: p.name,
    hwAddr: p.hwAddr,
    up: (p.config & OFPPC_PORT_DOWN) === 0 && (p.state & OFPPS_LINK_DOWN) === 0,
    currSpeedBps: p.currSpeed * 1000,
  }));
}

function portJson(ctx: ViewContext, dpid: bigint, p: FabricPort, raw: Port | undefined, neighbors: ReadonlyMap<string, PortRef>): PortJson {
  const neighbor = neighbors.get(refKey(dpid, p.portNo));
  const fabric = neighbor !== undefined || ctx.topology.isFabricPort({ dpid, portNo: p.portNo });
  return {
    portNo: p.portNo,
    name: p.name,
    hwAddr: p.hwAddr,
    up: p.up,
    currSpeedBps: p.currSpeedBps,
    maxSpeedBps: raw ? raw.maxSpeed * 1000 : null,
    kind: fabric ? 'fabric' : 'edge',
    neighbor: neighbor ? refJson(neighbor) : null,
  };
}

/** Port → the port at the other end of the link leaving it. */
function neighborMap(links: readonly FabricLink[]): Map<string, PortRef> {
  const m = new Map<string, PortRef>();
  for (const l of links) m.set(refKey(l.src.dpid, l.src.portNo), l.dst);
  return m;
}

/** Every switch connected or known to the topology, by dpid. */
export function knownDpids(ctx: ViewContext): bigint[] {
  const all = new Set<bigint>([...ctx.connected.keys(), ...ctx.topology.switches().map((s) => s.dpid)]);
  return [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One switch, or undefined when it is neither connected nor known to the topology. */
export function switchJson(ctx: ViewContext, dpid: bigint, neighbors = neighborMap(ctx.topology.links())): SwitchJson | undefined {
  const sw = ctx.connected.get(dpid);
  const known = ctx.topology.switch(dpid);
  if (!sw && !known) return undefined;
  const role: SwitchRole = known?.role ?? 'unknown';
  const ports = fabricPorts(ctx, dpid)
    .filter((p) => p.portNo <= OFPP_MAX)
    .sort((a, b) => a.portNo - b.portNo)
    .map((p) => portJson(ctx, dpid, p, sw?.ports.get(p.portNo), neighbors));
  const f = sw?.features;
  return {
    dpid: dpidHex(dpid),
    role,
    connected: sw !== undefined,
    peer: sw?.peer ?? null,
    features: f
      ? { nTables: f.nTables, nBuffers: f.nBuffers, auxiliaryId: f.auxiliaryId, capabilities: capabilityNames(f.capabilities), capabilitiesMask: f.capabilities }
      : null,
    ports,
  };
}

export function switchesJson(ctx: ViewContext): SwitchJson[] {
  const neighbors = neighborMap(ctx.topology.links());
  return knownDpids(ctx).map((d) => switchJson(ctx, d, neighbors)!);
}

export function linkJson(ctx: ViewContext, l: FabricLink): LinkJson {
  const seen = when(ctx, l.lastSeenMs);
  return { src: refJson(l.src), dst: refJson(l.dst), capacityBps: l.capacityBps, loadBps: ctx.linkLoadBps ? ctx.linkLoadBps(l.src) : null, lastSeen: seen.iso, ageMs: seen.ageMs };
}

function byRef(a: PortRef, b: PortRef): number {
  return a.dpid < b.dpid ? -1 : a.dpid > b.dpid ? 1 : a.portNo - b.portNo;
}

/** The link guard's refusals and host ports (absent when the topology has no guard). */
export function linkGuardJson(ctx: ViewContext): { rejected?: unknown[]; hostPorts?: unknown[] } {
  const t = ctx.topology;
  if (!t.rejectedLinks || !t.hostPorts) return {};
  return {
    rejected: t.rejectedLinks().map((r) => {
      const seen = when(ctx, r.lastSeenMs);
      return {
        src: refJson(r.src), dst: refJson(r.dst), reason: r.reason,
        ...(r.hostPort ? { hostPort: refJson(r.hostPort) } : {}),
        ...(r.delayMs !== undefined ? { delayMs: r.delayMs, fabricMedianDelayMs: r.fabricMedianDelayMs } : {}),
        count: r.count, lastSeen: seen.iso, ageMs: seen.ageMs,
      };
    }),
    hostPorts: [...t.hostPorts()].sort(byRef).map(refJson),
  };
}

export function linksJson(ctx: ViewContext): LinkJson[] {
  return [...ctx.topology.links()].sort((a, b) => byRef(a.src, b.src) || byRef(a.dst, b.dst)).map((l) => linkJson(ctx, l));
}

export function hostJson(ctx: ViewContext, h: FabricHost): HostJson {
  const seen = when(ctx, h.lastSeenMs);
  return { mac: h.mac, ipv4: h.ipv4 ?? null, attachment: refJson(h.attachment), lastSeen: seen.iso, ageMs: seen.ageMs };
}

export function hostsJson(ctx: ViewContext): HostJson[] {
  return [...ctx.topology.hosts()].sort((a, b) => byRef(a.attachment, b.attachment) || a.mac.localeCompare(b.mac)).map((h) => hostJson(ctx, h));
}

export function routeJson(ctx: ViewContext, r: RouteInfo): RouteJson {
  const created = when(ctx, r.createdMs);
  const k = r.flowKey;
  return {
    flowKey: {
      ipv4Src: k.ipv4Src,
      ipv4Dst: k.ipv4Dst,
      ipProto: k.ipProto,
      ...(k.srcPort === undefined ? {} : { srcPort: k.srcPort }),
      ...(k.dstPort === undefined ? {} : { dstPort: k.dstPort }),
    },
    srcHost: r.srcHost,
    dstHost: r.dstHost,
    path: r.path.map((h) => ({ dpid: h.dpid, inPort: h.inPort, outPort: h.outPort })),
    spine: r.spine ?? null,
    choice: { index: r.choice.index, of: r.choice.of },
    cookie: r.cookie,
    installed: r.installed,
    created: created.iso,
    ageMs: created.ageMs,
    repinned: r.repinned,
  };
}

/* ------------------------------------------------------------------ Ryu-compatible shapes */

function ryuPort(ctx: ViewContext, ref: PortRef): RyuPortJson {
  const p = fabricPorts(ctx, ref.dpid).find((x) => x.portNo === ref.portNo);
  return { dpid: dpidHex(ref.dpid), port_no: ref.portNo.toString(16).padStart(8, '0'), hw_addr: p?.hwAddr ?? '00:00:00:00:00:00', name: p?.name ?? '' };
}

export function ryuSwitchesJson(ctx: ViewContext, only?: bigint): RyuSwitchJson[] {
  return knownDpids(ctx)
    .filter((d) => only === undefined || d === only)
    .map((d) => ({
      dpid: dpidHex(d),
      ports: fabricPorts(ctx, d)
        .filter((p) => p.portNo <= OFPP_MAX)
        .sort((a, b) => a.portNo - b.portNo)
        .map((p) => ryuPort(ctx, { dpid: d, portNo: p.portNo })),
    }));
}

export function ryuLinksJson(ctx: ViewContext, only?: bigint): RyuLinkJson[] {
  return [...ctx.topology.links()]
    .filter((l) => only === undefined || l.src.dpid === only)
    .sort((a, b) => byRef(a.src, b.src))
    .map((l) => ({ src: ryuPort(ctx, l.src), dst: ryuPort(ctx, l.dst) }));
}

export function ryuHostsJson(ctx: ViewContext, only?: bigint): RyuHostJson[] {
  return [...ctx.topology.hosts()]
    .filter((h) => only === undefined || h.attachment.dpid === only)
    .sort((a, b) => byRef(a.attachment, b.attachment))
    .map((h) => ({ mac: h.mac, ipv4: h.ipv4 ? [h.ipv4] : [], ipv6: [], port: ryuPort(ctx, h.attachment) }));
}
