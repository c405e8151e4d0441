/**
 * The live web view's model: pure projections of the controller's state into the snapshot the page at
 * `GET /` draws (the fabric graph with link loads, flowlets, allocator, agents, tenants, health), and
 * {@link UiFeed}, which turns successive snapshots into the messages pushed over the page's WebSocket:
 * a full snapshot for a new page, then only the sections that changed (`delta`), at most once per push
 * interval (the route, ui.ts, owns the timer and the sockets).
 *
 * No I/O and no clock: callers pass `nowMs` (controller clock) and `wallMs` (epoch ms).
 * Rates and capacities are bit/s (SI), times are epoch ms unless named otherwise.
 * Link ids are the allocator's (apps/enforcement): `<dpid hex16>:<port>` for the link leaving that port,
 * `host:<ipv4>` for a host's uplink.
 */
import { parseDpid } from '../../lib/dpid.js';
import type { AgentView, AllocatorView, FlowletView } from '../../apps/enforcement/types.js';
import type { MeterInfo, MeterSupport } from '../../apps/enforcement/meter-enforcer.js';
import type { RouteJson, SwitchJson, LinkJson, HostJson } from './schemas.js';
import type { QosPortJsonT } from './qos.js';

/** Wire protocol version of the page's WebSocket messages (the page checks it). */
export const UI_PROTOCOL_VERSION = 1;

export interface UiPort {
  readonly portNo: number;
  readonly name: string;
  readonly up: boolean;
  readonly speedBps: number;
  readonly kind: 'fabric' | 'edge';
}

export interface UiSwitch {
  readonly dpid: string;
  /** a short display name: the bridge name of the port names (Mininet `s1-eth2` → `s1`), else `leaf 3` / `spine 1` by dpid */
  readonly name: string;
  readonly role: 'leaf' | 'spine' | 'unknown';
  readonly connected: boolean;
  readonly ports: readonly UiPort[];
}

export interface UiLoad {
  /** the allocator's rates summed over the flowlets crossing it, bit/s (null: no allocator) */
  readonly allocatedBps: number | null;
  /** the agents' (else the meters') measured rates summed over the flowlets crossing it, bit/s */
  readonly measuredBps: number | null;
}

export interface UiLink extends UiLoad {
  /** `<src dpid>:<src port>` — the allocator's link id, unique per directed link */
  readonly id: string;
  readonly src: { readonly dpid: string; readonly port: number };
  readonly dst: { readonly dpid: string; readonly port: number };
  readonly capacityBps: number;
}

export interface UiHost {
  readonly mac: string;
  readonly ipv4: string | null;
  readonly dpid: string;
  readonly port: number;
  /** the host link's capacity, bit/s, as the allocator takes it (0: unknown) */
  readonly capacityBps: number;
  /** host → leaf (link id `host:<ip>`) */
  readonly up: UiLoad;
  /** leaf → host (link id `<leaf>:<port>`) */
  readonly down: UiLoad;
}

/** One flowlet, compact (the page's table and the link panel). */
export interface UiFlowlet {
  /** `<agentId>/<id>` */
  readonly key: string;
  readonly agentId: string;
  readonly src: string;
  readonly dst: string;
  readonly proto: number;
  readonly sport: number;
  readonly dport: number;
  readonly tenant: string | null;
  readonly weight: number;
  readonly state: FlowletView['state'];
  /** link ids of its path (empty: no path yet) */
  readonly links: readonly string[];
  /** dpids of its hops in order */
  readonly hops: readonly string[];
  readonly bytes: number;
  readonly allocatedBps: number | null;
  readonly measuredBps: number | null;
  /** first packet → enforced (the agent's, else the meter's), µs */
  readonly reactionUs: number | null;
}

export interface UiTenant {
  readonly name: string;
  readonly weight: number;
  /** active flowlets of the tenant */
  readonly flowlets: number;
  readonly allocatedBps: number;
  readonly measuredBps: number;
  /** weight ÷ the summed weights of the tenants with flowlets (0 when it has none) */
  readonly weightShare: number;
  /** measured (else allocated) throughput ÷ every tenant's, 0–1 */
  readonly throughputShare: number;
}

export interface UiAgent {
  readonly id: string;
  readonly hostname: string;
  readonly interface: string;
  readonly ipv4: readonly string[];
  readonly connected: boolean;
  /** epoch ms of its last message */
  readonly lastSeenEpochMs: number;
  readonly flowlets: number;
}

/** One point of the allocator chart (taken once a second). */
export interface UiAllocatorSample {
  /** epoch s */
  readonly t: number;
  readonly runsPerS: number;
  readonly updatesPerS: number;
  readonly lastRunUs: number | null;
  readonly reactionP50Us: number | null;
  readonly reactionP99Us: number | null;
  readonly flowlets: number;
}

export interface UiAllocator extends AllocatorView {
  /** the latest chart point */
  readonly sample: UiAllocatorSample | null;
}

export interface UiHealth {
  readonly ready: boolean;
  readonly startedEpochMs: number;
  readonly version: string;
  readonly switches: number;
  readonly links: number;
  readonly hosts: number;
  readonly routes: number;
  readonly agents: number;
  readonly flowlets: number;
  /** packet-ins dropped by the control plane's rate limits (null: not counted by this build) */
  readonly droppedPacketIns: number | null;
}

/** Everything the page draws; each key is a section that {@link UiFeed} sends when it changed. */
export interface UiSnapshot {
  readonly health: UiHealth;
  readonly switches: readonly UiSwitch[];
  readonly links: readonly UiLink[];
  readonly hosts: readonly UiHost[];
  readonly flowlets: { readonly total: number; readonly rows: readonly UiFlowlet[] };
  readonly allocator: UiAllocator | null;
  readonly agents: readonly UiAgent[];
  readonly tenants: readonly UiTenant[];
}

export type UiSection = keyof UiSnapshot;
export const UI_SECTIONS: readonly UiSection[] = ['health', 'switches', 'links', 'hosts', 'flowlets', 'allocator', 'agents', 'tenants'];

/** The plain data a snapshot is made of (the REST projections of views.ts plus the enforcement views). */
export interface UiInput {
  readonly switches: readonly SwitchJson[];
  readonly links: readonly LinkJson[];
  readonly hosts: readonly HostJson[];
  readonly routes: number;
  readonly ready: boolean;
  readonly startedEpochMs: number;
  readonly version: string;
  /** absent: no live allocation (loads and flowlets are null / empty) */
  readonly enforcement?: {
    readonly flowlets: readonly FlowletView[];
    readonly allocator: AllocatorView;
    readonly agents: readonly AgentView[];
    /** allocated load per link id, bit/s */
    readonly linkLoads: ReadonlyMap<string, number>;
  };
  /** configured tenants (others appear as flowlets declare them) */
  readonly tenants: readonly { readonly name: string; readonly weight: number }[];
  readonly droppedPacketIns?: number | null;
  /** controller clock now, ms (the clock of AgentView.lastSeenMs) */
  readonly nowMs: number;
  /** epoch ms now */
  readonly wallMs: number;
  /** at most this many flowlet rows (the rest are counted in `total`) */
  readonly maxFlowlets: number;
  /**
   * Host-link capacities as the allocator takes them (config topology.links by `<leaf dpid>:<port>`, else
   * topology.defaultCapacityBps, else the leaf port's speed).
   */
  readonly capacity?: { readonly links: Readonly<Record<string, number>>; readonly defaultBps?: number };
}

const OFPP_LOCAL = 0xfffffffe;

/** A switch's display name: the common prefix of its port names before `-` (Mininet, OVS), else by role. */
export function switchName(sw: Pick<SwitchJson, 'dpid' | 'role' | 'ports'>): string {
  const prefixes = new Set(sw.ports.map((p) => p.name.split('-')[0] ?? '').filter((n) => n.length > 0));
  const local = sw.ports.find((p) => p.portNo === OFPP_LOCAL);
  if (local && local.name) return local.name;
  if (prefixes.size === 1) return [...prefixes][0]!;
  const n = parseDpid(sw.dpid);
  return `${sw.role === 'unknown' ? 'switch' : sw.role} ${n.toString(16)}`;
}

/** Link id of the port `dpid:port` (apps/enforcement/links.ts's portLinkId, on hex strings). */
export function uiPortLinkId(dpidHex: string, port: number): string {
  return `${dpidHex}:${port}`;
}

export function uiHostLinkId(ipv4: string): string {
  return `host:${ipv4}`;
}

/** Measured rate of a flowlet: the agent's, else its meter's (per flowlet only), else null. */
export function flowletMeasuredBps(f: FlowletView): number | null {
  return f.measuredBps ?? f.meterMeasuredBps ?? null;
}

/** Sums the flowlets' measured rates per link id. */
export function measuredLinkLoads(flowlets: readonly FlowletView[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of flowlets) {
    const m = flowletMeasuredBps(f);
    if (m === null || !f.path) continue;
    for (const id of f.path.links) out.set(id, (out.get(id) ?? 0) + m);
  }
  return out;
}

export function uiFlowlet(f: FlowletView): UiFlowlet {
  return {
    key: `${f.agentId}/${f.id}`,
    agentId: f.agentId,
    src: f.flow.src,
    dst: f.flow.dst,
    proto: f.flow.proto,
    sport: f.flow.sport,
    dport: f.flow.dport,
    tenant: f.tenant,
    weight: f.weight,
    state: f.state,
    links: f.path ? [...f.path.links] : [],
    hops: f.path ? f.path.hops.map((h) => h.dpid) : [],
    bytes: f.bytes,
    allocatedBps: f.allocatedBps,
    measuredBps: flowletMeasuredBps(f),
    reactionUs: f.reactionUs.agent ?? f.reactionUs.meter,
  };
}

/**
 * Per tenant: flowlets, allocated and measured throughput, weight share among the tenants with
 * flowlets (BwE / SCC: weighted sharing between tenants) and the throughput share they actually got.
 * Flowlets without a tenant count as `(default)` with their own weight.
 */
export function tenantsView(flowlets: readonly FlowletView[], configured: readonly { readonly name: string; readonly weight: number }[]): UiTenant[] {
  const acc = new Map<string, { weight: number; flowlets: number; allocatedBps: number; measuredBps: number }>();
  for (const t of configured) acc.set(t.name, { weight: t.weight, flowlets: 0, allocatedBps: 0, measuredBps: 0 });
  for (const f of flowlets) {
    const name = f.tenant ?? '(default)';
    let a = acc.get(name);
    if (!a) acc.set(name, (a = { weight: f.weight, flowlets: 0, allocatedBps: 0, measuredBps: 0 }));
    a.flowlets++;
    a.allocatedBps += f.allocatedBps ?? 0;
    a.measuredBps += flowletMeasuredBps(f) ?? 0;
  }
  const active = [...acc.values()].filter((a) => a.flowlets > 0);
  const weightSum = active.reduce((s, a) => s + a.weight, 0);
  const measuredSum = active.reduce((s, a) => s + a.measuredBps, 0);
  const allocatedSum = active.reduce((s, a) => s + a.allocatedBps, 0);
  const useMeasured = measuredSum > 0;
  return [...acc.entries()]
    .map(([name, a]) => ({
      name,
      weight: a.weight,
      flowlets: a.flowlets,
      allocatedBps: a.allocatedBps,
      measuredBps: a.measuredBps,
      weightShare: a.flowlets > 0 && weightSum > 0 ? a.weight / weightSum : 0,
      throughputShare: useMeasured ? a.measuredBps / measuredSum : allocatedSum > 0 ? a.allocatedBps / allocatedSum : 0,
    }))
    .sort((x, y) => x.name.localeCompare(y.name));
}

/** The snapshot (pure; `sample` is the allocator chart's latest point, kept by {@link UiFeed}). */
export function buildUiSnapshot(input: UiInput, sample: UiAllocatorSample | null = null): UiSnapshot {
  const enf = input.enforcement;
  const measured = enf ? measuredLinkLoads(enf.flowlets) : undefined;
  const load = (id: string): UiLoad => ({
    allocatedBps: enf ? enf.linkLoads.get(id) ?? 0 : null,
    measuredBps: measured ? measured.get(id) ?? 0 : null,
  });
  const switches: UiSwitch[] = input.switches.map((s) => ({
    dpid: s.dpid,
    name: switchName(s),
    role: s.role,
    connected: s.connected,
    ports: s.ports.map((p) => ({ portNo: p.portNo, name: p.name, up: p.up, speedBps: p.currSpeedBps, kind: p.kind })),
  }));
  const portSpeed = new Map<string, number>();
  for (const s of input.switches) for (const p of s.ports) portSpeed.set(uiPortLinkId(s.dpid, p.portNo), p.currSpeedBps);
  const links: UiLink[] = input.links.map((l) => {
    const id = uiPortLinkId(l.src.dpid, l.src.port);
    return { id, src: l.src, dst: l.dst, capacityBps: l.capacityBps, ...load(id) };
  });
  const hosts: UiHost[] = input.hosts.map((h) => {
    const downId = uiPortLinkId(h.attachment.dpid, h.attachment.port);
    return {
      mac: h.mac,
      ipv4: h.ipv4,
      dpid: h.attachment.dpid,
      port: h.attachment.port,
      capacityBps: input.capacity?.links[downId] ?? input.capacity?.defaultBps ?? portSpeed.get(downId) ?? 0,
      up: h.ipv4 ? load(uiHostLinkId(h.ipv4)) : { allocatedBps: enf ? 0 : null, measuredBps: enf ? 0 : null },
      down: load(downId),
    };
  });
  const all = enf ? enf.flowlets : [];
  const rows = all.length > input.maxFlowlets ? all.slice(0, input.maxFlowlets) : all;
  const agents: UiAgent[] = enf
    ? enf.agents.map((a) => ({
      id: a.id, hostname: a.hostname, interface: a.interface, ipv4: [...a.ipv4], connected: a.connected,
      lastSeenEpochMs: Math.round(input.wallMs - Math.max(0, input.nowMs - a.lastSeenMs)), flowlets: a.flowlets,
    }))
    : [];
  return {
    health: {
      ready: input.ready,
      startedEpochMs: input.startedEpochMs,
      version: input.version,
      switches: switches.filter((s) => s.connected).length,
      links: links.length,
      hosts: hosts.length,
      routes: input.routes,
      agents: agents.filter((a) => a.connected).length,
      flowlets: all.length,
      droppedPacketIns: input.droppedPacketIns ?? null,
    },
    switches,
    links,
    hosts,
    flowlets: { total: all.length, rows: rows.map(uiFlowlet) },
    allocator: enf ? { ...enf.allocator, sample } : null,
    agents,
    tenants: enf ? tenantsView(enf.flowlets, input.tenants) : [],
  };
}

/** The details of one switch the page shows when it is clicked (answered on request, not pushed). */
export interface UiSwitchDetail {
  readonly dpid: string;
  readonly switch: SwitchJson | null;
  /** QoS of each of its ports: queues with counters, ECN threshold, what applied and why not */
  readonly qos: readonly QosPortJsonT[];
  readonly ecnProbe: { readonly supported: boolean; readonly detail: string } | null;
  readonly meterSupport: MeterSupport | null;
  readonly meters: readonly MeterInfo[];
  /** pinned routes crossing it (at most `maxRoutes`), and how many there are */
  readonly routes: readonly RouteJson[];
  readonly routesTotal: number;
}

export function switchDetail(
  dpid: string,
  src: {
    readonly switch: SwitchJson | undefined;
    readonly qosPorts: readonly QosPortJsonT[];
    readonly ecnProbe: { readonly supported: boolean; readonly detail: string } | null;
    readonly meters: readonly MeterInfo[];
    readonly meterSupport: readonly MeterSupport[];
    readonly routes: readonly RouteJson[];
  },
  maxRoutes = 200,
): UiSwitchDetail {
  const routes = src.routes.filter((r) => r.path.some((h) => h.dpid === dpid));
  return {
    dpid,
    switch: src.switch ?? null,
    qos: src.qosPorts.filter((p) => p.dpid === dpid),
    ecnProbe: src.ecnProbe,
    meterSupport: src.meterSupport.find((m) => m.dpid === dpid) ?? null,
    meters: src.meters.filter((m) => m.dpid === dpid),
    routes: routes.slice(0, maxRoutes),
    routesTotal: routes.length,
  };
}

/** A message to the page. `snapshot` replaces everything; `delta` replaces the sections it carries. */
export type UiMessage =
  | { readonly type: 'snapshot'; readonly v: number; readonly seq: number; readonly atEpochMs: number; readonly sections: UiSnapshot; readonly history: readonly UiAllocatorSample[] }
  | { readonly type: 'delta'; readonly v: number; readonly seq: number; readonly atEpochMs: number; readonly sections: Partial<UiSnapshot> }
  | { readonly type: 'detail'; readonly v: number; readonly reqId: number; readonly detail: UiSwitchDetail | null; readonly error?: string };

/** What a page may send: ask for a switch's details. */
export interface UiRequest {
  readonly type: 'detail';
  readonly reqId: number;
  readonly dpid: string;
}

/** Parses a page's message; null when it is not a valid request (the route ignores it). */
export function parseUiRequest(text: string): UiRequest | null {
  if (text.length > 1024) return null;
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const o = m as Record<string, unknown>;
  if (o['type'] !== 'detail' || typeof o['reqId'] !== 'number' || !Number.isSafeInteger(o['reqId'])) return null;
  if (typeof o['dpid'] !== 'string' || !/^[0-9a-f]{16}$/.test(o['dpid'])) return null;
  return { type: 'detail', reqId: o['reqId'], dpid: o['dpid'] };
}

export interface UiFeedOptions {
  /** allocator chart points kept (one a second; default 300 = 5 minutes) */
  readonly historyPoints?: number;
  /** send a delta at least this often even when nothing changed, ms (default 5000: the page's liveness) */
  readonly keepAliveMs?: number;
}

/**
 * Turns successive snapshots into page messages. Each section is serialized once per update and
 * compared with the last sent: a delta carries only the sections that changed. Also keeps the
 * allocator chart's history (one point a second, rates from the differences of the counters).
 */
export class UiFeed {
  private seq = 0;
  private lastSections = new Map<UiSection, string>();
  private lastSentAtMs = -Infinity;
  private readonly history: UiAllocatorSample[] = [];
  private readonly historyPoints: number;
  private readonly keepAliveMs: number;
  private lastCounters: { atMs: number; runs: number; updates: number } | undefined;
  private current: UiSnapshot | undefined;

  constructor(opts: UiFeedOptions = {}) {
    this.historyPoints = opts.historyPoints ?? 300;
    this.keepAliveMs = opts.keepAliveMs ?? 5000;
  }

  /** Chart points kept, oldest first. */
  historySamples(): readonly UiAllocatorSample[] {
    return this.history;
  }

  /** The last snapshot given to {@link update}. */
  snapshot(): UiSnapshot | undefined {
    return this.current;
  }

  /** Adds a chart point when a second has passed since the last; returns the latest point. */
  private sample(input: UiInput): UiAllocatorSample | null {
    const a = input.enforcement?.allocator;
    if (!a) return null;
    const last = this.history[this.history.length - 1] ?? null;
    const updates = a.updatesSent.agents + a.updatesSent.meters;
    const prev = this.lastCounters;
    if (prev && input.wallMs - prev.atMs < 1000) return last;
    this.lastCounters = { atMs: input.wallMs, runs: a.runs, updates };
    if (!prev) return last;
    const dtS = (input.wallMs - prev.atMs) / 1000;
    const point: UiAllocatorSample = {
      t: Math.round(input.wallMs / 100) / 10,
      runsPerS: Math.max(0, (a.runs - prev.runs) / dtS),
      updatesPerS: Math.max(0, (updates - prev.updates) / dtS),
      lastRunUs: a.lastRunDurationUs,
      reactionP50Us: a.reaction.agent.p50Us ?? a.reaction.meter.p50Us,
      reactionP99Us: a.reaction.agent.p99Us ?? a.reaction.meter.p99Us,
      flowlets: a.activeFlowlets,
    };
    this.history.push(point);
    if (this.history.length > this.historyPoints) this.history.splice(0, this.history.length - this.historyPoints);
    return point;
  }

  /**
   * Takes a new state. Returns the delta to broadcast to the pages already connected (null: nothing
   * changed and no keep-alive is due).
   */
  update(input: UiInput): string | null {
    const snap = buildUiSnapshot(input, this.sample(input));
    this.current = snap;
    const changed: Partial<Record<UiSection, string>> = {};
    let any = false;
    for (const k of UI_SECTIONS) {
      const json = JSON.stringify(snap[k]);
      if (this.lastSections.get(k) !== json) {
        changed[k] = json;
        this.lastSections.set(k, json);
        any = true;
      }
    }
    if (!any && input.wallMs - this.lastSentAtMs < this.keepAliveMs) return null;
    this.lastSentAtMs = input.wallMs;
    this.seq++;
    const body = Object.entries(changed).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',');
    return `{"type":"delta","v":${UI_PROTOCOL_VERSION},"seq":${this.seq},"atEpochMs":${Math.round(input.wallMs)},"sections":{${body}}}`;
  }

  /** The full snapshot for a page that just connected (after at least one {@link update}). */
  full(wallMs: number): string | null {
    if (!this.current) return null;
    const body = UI_SECTIONS.map((k) => `${JSON.stringify(k)}:${this.lastSections.get(k) ?? JSON.stringify(this.current![k])}`).join(',');
    return `{"type":"snapshot","v":${UI_PROTOCOL_VERSION},"seq":${this.seq},"atEpochMs":${Math.round(wallMs)},"sections":{${body}},"history":${JSON.stringify(this.history)}}`;
  }
}
