/**
 * The topology app: the thin shell around the pure FabricGraph (graph.ts) and DiscoveryCore
 * (discovery.ts). It turns app events into graph / discovery calls with the injected clock's `now`,
 * sends the probes they return, runs the discovery tasks on a timer of the injected clock, and hands
 * every batch of fabric events to the TopologyView's subscribers (synchronously, in the handler).
 *
 * Ordering guarantee: the app host delivers a packet-in to apps in registration order, synchronously
 * (openflow/app-host.ts `dispatch`), and this app's handlers are synchronous; register it BEFORE the
 * routing app and a host's first packet is learnt (and hostAdded / hostIpLearned delivered) before
 * routing sees that packet.
 *
 * On switchUp the app installs one entry: LLDP → controller above the table-miss (discovery.ts
 * `lldpFlowMod`); the table-miss and forwarding entries belong to the routing app.
 */
import type { App, AppContext, OutMessage } from '../openflow/app-api.js';
import { matchInPort, type Match } from '../openflow/codec/index.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { dpidHex, type Logger } from '../lib/log.js';
import { DiscoveryCore, lldpFlowMod, probePacketOut, type Probe } from './discovery.js';
import { FabricGraph, toFabricPort } from './graph.js';
import { LinkGuard, type LinkGuardConfig } from './link-guard.js';
import { newProbeKey } from './lldp-probe.js';
import { isGroupMac, parseFrameOnce, type ParsedFrame } from '../lib/packet/frame.js';
import type { RejectedLink } from './link-guard.js';
import type { FabricEvent, FabricPort, PortRef, TopologyView } from './types.js';

export interface TopologyAppConfig {
  /** LLDP probe period per port, ms (default 1000) */
  readonly lldpIntervalMs?: number;
  /** missed periods before a link expires (default 3) */
  readonly linkTimeoutPeriods?: number;
  /** the config's default link capacity, bit/s (wins over port speed when set) */
  readonly defaultCapacityBps?: number;
  /** per-link capacity, bit/s, keyed "<dpidHex>:<port>" */
  readonly linkCapacityBps?: Readonly<Record<string, number>>;
  /** HMAC key for the probes (default: 32 random octets per app instance) */
  readonly hmacKey?: Buffer;
  /** link fabrication defence: host ports and the probe-delay check (link-guard.ts; defaults there) */
  readonly guard?: LinkGuardConfig;
  /** hosts tracked at most (default 4096; the least recently seen is forgotten) */
  readonly maxHosts?: number;
  /** a host not seen for this long is forgotten, ms (default 0: never) */
  readonly hostIdleMs?: number;
  /** source MACs never learnt as hosts: the controller's own probes (routing's ARP probe MAC) */
  readonly ignoredMacs?: readonly string[];
}

export interface TopologyAppOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly config?: TopologyAppConfig;
}

export interface TopologyApp {
  readonly app: App;
  readonly view: TopologyView;
  /** Cancels the discovery timer and drops subscribers. */
  stop(): void;
}

type Listener = (events: readonly FabricEvent[]) => void;

/** Creates the topology app; see the module docs. Throws nothing. */
export function createTopologyApp(opts: TopologyAppOptions): TopologyApp {
  return new TopologyShell(opts).api();
}

class TopologyShell {
  private readonly graph: FabricGraph;
  private readonly disco: DiscoveryCore;
  private readonly guard: LinkGuard;
  private readonly listeners = new Set<Listener>();
  private readonly log: Logger;
  private readonly clock: Clock;
  /** the context the app host gives at registration (App.attach): probes go out through it */
  private ctx: AppContext | undefined;
  private timer: TimerHandle | undefined;
  private timerAt: number | undefined;
  private stopped = false;
  private readonly hostIdleMs: number;
  private lastHostSweepMs = 0;
  private lastLimitLogMs = -Infinity;
  /** last time a link or switch came or went, ms */
  private lastChangeMs = 0;

  constructor(opts: TopologyAppOptions) {
    const c = opts.config ?? {};
    this.clock = opts.clock;
    this.log = opts.log;
    this.graph = new FabricGraph({
      ...(c.defaultCapacityBps !== undefined ? { defaultCapacityBps: c.defaultCapacityBps } : {}),
      ...(c.linkCapacityBps !== undefined ? { linkCapacityBps: c.linkCapacityBps } : {}),
      ...(c.maxHosts !== undefined ? { maxHosts: c.maxHosts } : {}),
      ...(c.ignoredMacs !== undefined ? { ignoredMacs: c.ignoredMacs } : {}),
    });
    this.guard = new LinkGuard({ graceMs: c.lldpIntervalMs ?? 1000, ...c.guard });
    this.hostIdleMs = c.hostIdleMs ?? 0;
    this.disco = new DiscoveryCore({
      key: c.hmacKey ?? newProbeKey(),
      ...(c.lldpIntervalMs !== undefined ? { periodMs: c.lldpIntervalMs } : {}),
      ...(c.linkTimeoutPeriods !== undefined ? { timeoutPeriods: c.linkTimeoutPeriods } : {}),
    });
  }

  api(): TopologyApp {
    const app: App = {
      name: 'topology',
      attach: (ctx) => {
        this.ctx = ctx;
      },
      handlers: {
        switchUp: (e) => this.onSwitchUp(e.dpid, e.ports.map(toFabricPort).filter((p) => p !== undefined)),
        switchDown: (e) => this.onSwitchDown(e.dpid),
        portStatus: (e) => this.onPortStatus(e.dpid, e.msg.reason, toFabricPort(e.msg.desc)),
        packetIn: (e) => this.onPacketIn(e.dpid, e.msg.match, e.msg.data),
      },
    };
    return { app, view: this.view(), stop: () => this.stop() };
  }

  private onSwitchUp(dpid: bigint, ports: FabricPort[]): OutMessage[] {
    const now = this.clock.now();
    this.publish(this.graph.addSwitch(dpid, ports), now);
    this.lastChangeMs = now;
    const unlinked = this.unlinkedPorts();
    const up = ports.filter((p) => p.up);
    for (const p of up) this.guard.portUp({ dpid, portNo: p.portNo }, now);
    const probes = this.disco.switchUp(dpid, up, unlinked, now);
    this.log.info({ event: 'topology_switch_up', dpid: dpidHex(dpid), ports: up.length }, 'probing switch ports');
    this.arm();
    return [lldpFlowMod(), ...probes.map(probePacketOut)];
  }

  private onSwitchDown(dpid: bigint): void {
    const now = this.clock.now();
    this.disco.switchDown(dpid);
    this.guard.switchDown(dpid);
    this.publish(this.graph.removeSwitch(dpid), now);
    this.lastChangeMs = now;
    this.arm();
  }

  private onPortStatus(dpid: bigint, reason: number, port: FabricPort | undefined): OutMessage[] {
    if (!port) return [];
    const now = this.clock.now();
    this.publish(this.graph.updatePort(dpid, reason, port), now);
    const stillThere = this.graph.switch(dpid)?.ports.get(port.portNo);
    const up = stillThere?.up === true;
    if (up) this.guard.portUp({ dpid, portNo: port.portNo }, now);
    else this.guard.portDown({ dpid, portNo: port.portNo });
    const probes = this.disco.portChanged(dpid, port.portNo, port.hwAddr, up, now);
    if (up) {
      this.disco.reprobeSoon(this.unlinkedPorts().filter((r) => r.dpid !== dpid || r.portNo !== port.portNo), now);
      this.arm();
    }
    return probes.map(probePacketOut);
  }

  private onPacketIn(dpid: bigint, match: Match, data: Buffer): void {
    const inPort = matchInPort(match);
    if (inPort === undefined) return;
    const parsed = parseFrameOnce(data);
    if (!parsed.ok) {
      this.log.debug({ event: 'topology_bad_frame', dpid: dpidHex(dpid), inPort, code: parsed.error.code }, parsed.error.message);
      return;
    }
    const now = this.clock.now();
    const frame = parsed.value;
    if (frame.lldp) {
      const seen = this.disco.lldpIn(dpid, inPort, frame.lldp, now);
      if (!seen.ok) {
        this.log.debug({ event: 'lldp_dropped', dpid: dpidHex(dpid), inPort, code: seen.error.code }, seen.error.message);
        return;
      }
      const { src, dst, probe } = seen.value;
      const known = this.graph.linkBetween(src, dst) !== undefined;
      const verdict = this.guard.judge(src, dst, now - probe.timestampMs, now, known);
      if (!verdict.ok) return this.rejectLink(verdict.rejected, verdict.first, now);
      this.publish(this.graph.linkSeen(src, dst, now), now);
      return;
    }
    // a known host seen here within the last second: nothing to learn, its port already judged
    if (this.graph.seenRecently(frame, dpid, inPort, now)) return;
    this.checkLinkedPort(dpid, inPort, frame, now);
    const learnt = this.graph.learnFromFrame(dpid, inPort, frame, now);
    for (const e of learnt) if (e.type === 'hostMoved') this.noteHostLeft(e.from, e.host.mac, now);
    this.publish(learnt, now);
    this.noteHostTraffic(dpid, inPort, frame.arp?.sha ?? frame.ethSrc, frame.arp !== undefined || frame.ipv4 !== undefined, now);
  }

  /**
   * First-hop host traffic at a port that has a link (link-guard.ts): the link is a relay between hosts.
   * The port becomes a host port (no probes out of it), its links are removed and listed as refused; the
   * frame is then learnt as any host's.
   */
  private checkLinkedPort(dpid: bigint, portNo: number, frame: ParsedFrame, now: number): void {
    const at = { dpid, portNo };
    const hostFrame = frame.arp !== undefined || frame.ipv4 !== undefined;
    if (!hostFrame || !this.graph.isFabricPort(at)) return;
    const mac = (frame.arp?.sha ?? frame.ethSrc).toLowerCase();
    const evidence = { hostFrame, groupDst: isGroupMac(frame.ethDst), learnableSrc: this.graph.learnable(mac), knownSrc: this.graph.hostByMac(mac) !== undefined };
    if (!this.guard.hostTrafficOnLink(at, mac, evidence, now)) return;
    this.disco.hostPort(dpid, portNo);
    const touches = (r: PortRef): boolean => r.dpid === dpid && r.portNo === portNo;
    const links = this.graph.links().filter((l) => touches(l.src) || touches(l.dst));
    // recorded as refused sightings: an end is now a host port
    for (const l of links) this.guard.judge(l.src, l.dst, 0, now, true);
    const texts = links.map((l) => `${dpidHex(l.src.dpid)}:${l.src.portNo} -> ${dpidHex(l.dst.dpid)}:${l.dst.portNo}`);
    this.log.warn({ event: 'link_fabricated', dpid: dpidHex(dpid), port: portNo, mac, links: texts },
      `first-hop host traffic from ${mac} on ${dpidHex(dpid)}:${portNo}, a port with a link: the link is a relay between hosts; removed, the port is a host port`);
    this.publish(this.graph.removeLinks(links, 'rejected:hostPort'), now);
  }

  private noteHostLeft(from: PortRef, mac: string, now: number): void {
    if (!this.guard.hostLeft(from, mac)) return;
    this.disco.hostPort(from.dpid, from.portNo, false, now);
    this.arm();
    this.log.info({ event: 'host_port_cleared', dpid: dpidHex(from.dpid), port: from.portNo, mac }, 'the hosts seen on this port were all learnt elsewhere since: probing it again');
  }

  /** A host learnt on a port makes it a host port (link-guard.ts): no probes out of it, no links into it. */
  private noteHostTraffic(dpid: bigint, portNo: number, mac: string, hostFrame: boolean, now: number): void {
    if (!hostFrame) return;
    const at = this.graph.hostByMac(mac)?.attachment; // learnt here just now (not on a fabric port)
    if (!at || at.dpid !== dpid || at.portNo !== portNo) return;
    if (!this.guard.hostTraffic(at, mac.toLowerCase(), now)) return;
    this.disco.hostPort(dpid, portNo);
    this.log.info({ event: 'host_port', dpid: dpidHex(dpid), port: portNo, mac }, 'port carries host traffic: no LLDP probes out of it, no links into it until it goes down and up');
  }

  /** An LLDP sighting the guard refused: log it (once per link and reason), drop the link if it exists. */
  private rejectLink(r: RejectedLink, first: boolean, now: number): void {
    const text = `${dpidHex(r.src.dpid)}:${r.src.portNo} -> ${dpidHex(r.dst.dpid)}:${r.dst.portNo}`;
    if (first) {
      const detail = r.reason === 'hostPort'
        ? `${dpidHex(r.hostPort!.dpid)}:${r.hostPort!.portNo} is a host port`
        : `probe delay ${r.delayMs} ms vs fabric median ${r.fabricMedianDelayMs} ms`;
      this.log.warn({ event: 'link_rejected', link: text, reason: r.reason, delayMs: r.delayMs, fabricMedianDelayMs: r.fabricMedianDelayMs }, `link refused (${r.reason}): ${text}: ${detail}`);
    }
    const existing = this.graph.linkBetween(r.src, r.dst);
    if (existing) this.publish(this.graph.removeLinks([existing], `rejected:${r.reason}`), now);
  }

  /** Runs the due discovery tasks, sends their probes, expires links, re-arms. */
  private tick(): void {
    this.timer = undefined;
    this.timerAt = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    const { probes, expired } = this.disco.tick(now, this.graph.links());
    this.send(probes);
    if (expired.length > 0) this.publish(this.graph.removeLinks(expired, 'timeout'), now);
    if (this.hostIdleMs > 0 && now - this.lastHostSweepMs >= 1000) {
      this.lastHostSweepMs = now;
      this.publish(this.graph.expireHosts(now - this.hostIdleMs), now);
    }
    this.arm();
  }

  private send(probes: readonly Probe[]): void {
    for (const p of probes) {
      const sw = this.ctx?.switch(p.dpid);
      if (!sw?.alive) continue;
      try {
        sw.send(probePacketOut(p));
      } catch (err) {
        this.log.debug({ event: 'lldp_send_failed', dpid: dpidHex(p.dpid), port: p.portNo, err }, 'probe not sent');
      }
    }
  }

  /** (Re)arms the one timer for the discovery core's next wake-up; none when no switch is connected. */
  private arm(): void {
    if (this.stopped) return;
    const at = this.disco.nextWakeMs();
    if (at === this.timerAt) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === undefined) return;
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, at - this.clock.now()));
  }

  private unlinkedPorts(): PortRef[] {
    const out: PortRef[] = [];
    for (const s of this.graph.switches()) {
      for (const p of s.ports.values()) {
        const ref = { dpid: s.dpid, portNo: p.portNo };
        if (p.up && !this.graph.isFabricPort(ref)) out.push(ref);
      }
    }
    return out;
  }

  private publish(events: readonly FabricEvent[], now: number): void {
    if (events.length === 0) return;
    if (events.some((e) => e.type === 'linkUp' || e.type === 'linkDown')) this.lastChangeMs = now;
    for (const e of events) if (e.type === 'linkDown') this.guard.linkGone(e.link.src, e.link.dst, now);
    for (const e of events) this.logEvent(e);
    for (const l of [...this.listeners]) {
      try {
        l(events);
      } catch (err) {
        this.log.error({ event: 'topology_listener_failed', err }, 'a topology subscriber threw');
      }
    }
  }

  private logEvent(e: FabricEvent): void {
    if (e.type === 'linkUp' || e.type === 'linkDown') {
      const l = e.link;
      const text = `${dpidHex(l.src.dpid)}:${l.src.portNo} -> ${dpidHex(l.dst.dpid)}:${l.dst.portNo}`;
      this.log.info({ event: e.type === 'linkUp' ? 'link_up' : 'link_down', link: text, ...(e.type === 'linkDown' ? { reason: e.reason } : {}) }, text);
    } else if (e.type === 'hostRemoved' && e.reason === 'limit') {
      const now = this.clock.now();
      if (now - this.lastLimitLogMs >= 10_000) {
        this.lastLimitLogMs = now;
        this.log.warn({ event: 'host_limit', evictedTotal: this.graph.hostEvictions, hosts: this.graph.hosts().length }, 'host table full: forgetting the least recently seen hosts (logged once per 10 s)');
      }
    } else if (e.type === 'hostAdded' || e.type === 'hostMoved') {
      this.log.info({ event: e.type === 'hostAdded' ? 'host_added' : 'host_moved', mac: e.host.mac, dpid: dpidHex(e.host.attachment.dpid), port: e.host.attachment.portNo }, e.type);
    }
  }

  private ready(): boolean {
    if (this.graph.switches().length === 0 || !this.disco.allProbed()) return false;
    return this.clock.now() - this.lastChangeMs >= 2 * this.disco.periodMs;
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private view(): TopologyView {
    const g = this.graph;
    return {
      switches: () => g.switches(),
      switch: (d) => g.switch(d),
      links: () => g.links(),
      hosts: () => g.hosts(),
      hostByMac: (m) => g.hostByMac(m),
      hostByIpv4: (ip) => g.hostByIpv4(ip),
      isFabricPort: (r) => g.isFabricPort(r),
      rejectedLinks: () => this.guard.rejected(),
      hostPorts: () => this.guard.hostPorts(),
      paths: (s, d) => g.paths(s, d),
      floodPorts: (d, p) => g.floodPorts(d, p),
      ready: () => this.ready(),
      subscribe: (l) => {
        this.listeners.add(l);
        return () => this.listeners.delete(l);
      },
    };
  }
}
