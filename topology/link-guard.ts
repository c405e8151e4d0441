/**
 * Link fabrication defence, pure (no I/O, no clock: `nowMs` passed in). Signed probes stop forged and
 * tampered LLDP; they cannot stop two hosts that relay a genuine probe from one host-facing port to
 * another. Two checks close that gap (TopoGuard, Hong et al., NDSS 2015 §5; TopoGuard+, Skowyra et al.,
 * DSN 2018 §V "Link Latency Inspector"):
 *
 * - **Host ports.** A port that has carried host traffic (a host was learnt there) is a host port: no
 *   probes are sent out of it, and an LLDP that names it as either end creates no link — until the port
 *   goes down and comes up again (a re-cabled port starts clean). Host traffic seen within `graceMs` of a
 *   port coming up does not mark it: while discovery has not yet probed a fresh port, frames flooded
 *   across a not-yet-known inter-switch link could otherwise mark a real fabric port; and a port whose
 *   hosts were all since learnt elsewhere is a host port no more ({@link LinkGuard.hostLeft}).
 * - **First-hop traffic on a link.** Host ports alone leave a gap: the first probes go out of every port
 *   before any host has spoken, so two hosts that relay from the start get a link made of their own ports,
 *   and a port with a link learns no host (graph.ts), so it would never become a host port. TopoGuard
 *   (§5.1) calls a switch port that receives first-hop host traffic an anomaly; here, a frame a host sends
 *   to a group address (an ARP request, a DHCP discover) from a MAC learnt at no port, arriving at a port
 *   that has a link, makes that port a host port and its links go ({@link isFirstHopOnLink}). A genuine
 *   fabric port never sees one: Rivulet floods by packet-outs on edge ports only, so a group-addressed
 *   frame never crosses an inter-switch link, and a flood that crossed a link discovery had not seen yet
 *   comes from a host already learnt (the topology app learns before routing floods) or from the
 *   controller's own probe MAC (not learnable). Unicast frames are never evidence: entries of an earlier
 *   controller run forward a host's unicast traffic onto fabric ports before the new run has learnt it.
 *   The grace period applies as to any host traffic.
 * - **Probe delay.** The delay of every accepted probe (controller → switch → link → switch →
 *   controller, from the probe's signed timestamp) is recorded per directed link; a link whose smallest
 *   delay over its last `delayWindow` probes is above `delayFactor` × the median of the other links'
 *   (and above `delayFloorMs`) is flagged and not used: a relay through hosts adds their processing and
 *   their own path. A link is never judged by delay while fewer than `minPeers` other links are known,
 *   and a link already in the graph is not judged by delay at all (TopoGuard+ inspects a link's latency
 *   when it is discovered): under load a probe can wait behind data in a port's queues, and a fabric
 *   link must not be dropped for the queueing of the traffic it carries. For the same reason a link that
 *   left the graph while both its ports stayed up (its probes were lost, so it expired) keeps its delay
 *   samples for `delayMemoryMs`: when it comes back on the same ports it is judged by its earlier
 *   probes too, not by the one probe that got through a loaded queue. A port that goes down forgets its
 *   links' samples at once (a re-cabled port is a new link).
 *
 * Rejected and flagged links are kept (bounded, newest first) for the REST API and the logs.
 */
import { dpidPortKey, parseDpid } from '../lib/dpid.js';
import type { PortRef } from './types.js';

export interface LinkGuardConfig {
  /** host traffic within this long of a port coming up does not make it a host port, ms (default 1000) */
  readonly graceMs?: number;
  /** flag a link whose minimum probe delay exceeds this multiple of the fabric's median (default 10) */
  readonly delayFactor?: number;
  /** never flag a link whose minimum probe delay is at or below this, ms (default 100: a busy controller delays every probe by tens of ms) */
  readonly delayFloorMs?: number;
  /** probes per link the minimum is taken over (default 5) */
  readonly delayWindow?: number;
  /** other links with delay samples needed before a link is judged by delay (default 2) */
  readonly minPeers?: number;
  /** a link that left the graph with its ports up keeps its delay samples this long, ms (default 60,000) */
  readonly delayMemoryMs?: number;
  /** rejected/flagged links remembered for the API (default 256) */
  readonly maxRecords?: number;
}

export type LinkVerdictReason = 'hostPort' | 'delay';

/** What the shell knows of a non-LLDP frame that arrived at a port with a link. */
export interface LinkedPortFrame {
  /** an ARP or IPv4 frame (host traffic) */
  readonly hostFrame: boolean;
  /** its Ethernet destination is a group (broadcast / multicast) address */
  readonly groupDst: boolean;
  /** its source MAC could be a host's: unicast, not zero, not the controller's own (graph.ts `learnable`) */
  readonly learnableSrc: boolean;
  /** its source MAC is a host already learnt at some port */
  readonly knownSrc: boolean;
}

/**
 * True when a frame at a port with a link is first-hop host traffic, which a genuine inter-switch port
 * never carries (see the module docs): host traffic to a group address from a learnable MAC learnt nowhere.
 */
export function isFirstHopOnLink(f: LinkedPortFrame): boolean {
  return f.hostFrame && f.groupDst && f.learnableSrc && !f.knownSrc;
}

/** Why an LLDP sighting did not make (or keep) a link. */
export interface RejectedLink {
  readonly src: PortRef;
  readonly dst: PortRef;
  readonly reason: LinkVerdictReason;
  /** for 'hostPort': which end is a host port */
  readonly hostPort?: PortRef;
  /** for 'delay': this link's minimum delay and the fabric median it was compared with, ms */
  readonly delayMs?: number;
  readonly fabricMedianDelayMs?: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** sightings rejected so far */
  readonly count: number;
}

export type LinkVerdict = { readonly ok: true } | { readonly ok: false; readonly rejected: RejectedLink; readonly first: boolean };

const key = (r: PortRef): string => dpidPortKey(r.dpid, r.portNo);
const linkKey = (src: PortRef, dst: PortRef): string => `${key(src)}>${key(dst)}`;

interface PortState {
  upSinceMs: number;
  host: boolean;
  /** MACs whose traffic made it a host port */
  macs: Set<string>;
}

export class LinkGuard {
  private readonly graceMs: number;
  private readonly delayFactor: number;
  private readonly delayFloorMs: number;
  private readonly delayWindow: number;
  private readonly minPeers: number;
  private readonly delayMemoryMs: number;
  private readonly maxRecords: number;
  private readonly ports = new Map<string, PortState>();
  private readonly delays = new Map<string, number[]>();
  /** links that left the graph (their samples kept, not a peer's): when they went, ms */
  private readonly goneAtMs = new Map<string, number>();
  private readonly records = new Map<string, RejectedLink>();

  constructor(cfg: LinkGuardConfig = {}) {
    this.graceMs = cfg.graceMs ?? 1000;
    this.delayFactor = cfg.delayFactor ?? 10;
    this.delayFloorMs = cfg.delayFloorMs ?? 100;
    this.delayWindow = Math.max(1, cfg.delayWindow ?? 5);
    this.minPeers = cfg.minPeers ?? 2;
    this.delayMemoryMs = cfg.delayMemoryMs ?? 60_000;
    this.maxRecords = cfg.maxRecords ?? 256;
  }

  /** A port is up (switch connected, or PORT_STATUS up). A port already known up keeps its state. */
  portUp(ref: PortRef, nowMs: number): void {
    if (!this.ports.has(key(ref))) this.ports.set(key(ref), { upSinceMs: nowMs, host: false, macs: new Set() });
  }

  /** A port went down or was deleted: it forgets being a host port, and its links their delays. */
  portDown(ref: PortRef): void {
    const k = key(ref);
    this.ports.delete(k);
    for (const lk of [...this.delays.keys()]) if (lk.startsWith(`${k}>`) || lk.endsWith(`>${k}`)) this.forget(lk);
    for (const [lk, r] of [...this.records]) if (key(r.src) === k || key(r.dst) === k) this.records.delete(lk);
  }

  /** A switch disconnected: all its ports are down. */
  switchDown(dpid: bigint): void {
    const prefix = `${dpid.toString(16)}:`;
    for (const k of [...this.ports.keys()]) {
      if (!k.startsWith(prefix)) continue;
      const portNo = Number(k.slice(prefix.length));
      this.portDown({ dpid, portNo });
    }
  }

  /**
   * Host traffic (a host learnt) on `ref`. Returns true when this made it a host port (it was not one,
   * and the port has been up longer than the grace period).
   */
  hostTraffic(ref: PortRef, mac: string, nowMs: number): boolean {
    const st = this.ports.get(key(ref));
    if (!st || nowMs - st.upSinceMs < this.graceMs) return false;
    st.macs.add(mac);
    if (st.host) return false;
    st.host = true;
    return true;
  }

  /**
   * A non-LLDP frame from `mac` arrived at `ref`, a port with a link. Returns true when it is first-hop
   * host traffic ({@link isFirstHopOnLink}) and made `ref` a host port (outside the grace period): the
   * link there is fabricated; the caller removes the port's links and learns the host.
   */
  hostTrafficOnLink(ref: PortRef, mac: string, frame: LinkedPortFrame, nowMs: number): boolean {
    return isFirstHopOnLink(frame) && this.hostTraffic(ref, mac, nowMs);
  }

  /**
   * The host `mac` was since learnt at another port: it was never really behind `ref` (e.g. a frame
   * forwarded by entries of an earlier controller run arrived on an inter-switch port whose link was not
   * known yet). When no host that marked the port is left there, it is a host port no more; returns true
   * then (probe it again). A relaying host gains nothing: the port its MAC shows up at becomes a host port.
   */
  hostLeft(ref: PortRef, mac: string): boolean {
    const st = this.ports.get(key(ref));
    if (!st?.host || !st.macs.delete(mac) || st.macs.size > 0) return false;
    st.host = false;
    return true;
  }

  isHostPort(ref: PortRef): boolean {
    return this.ports.get(key(ref))?.host === true;
  }

  /** Host ports, for the API. */
  hostPorts(): PortRef[] {
    const out: PortRef[] = [];
    for (const [k, st] of this.ports) {
      if (!st.host) continue;
      const i = k.indexOf(':');
      out.push({ dpid: parseDpid(k.slice(0, i)), portNo: Number(k.slice(i + 1)) });
    }
    return out;
  }

  /**
   * Judges an LLDP sighting src → dst whose probe took `delayMs`. `known` is true when the graph already
   * has this link (a refresh). Not ok: the link must not be created, and an existing one must be removed.
   * `first` is true the first time this link is rejected for this reason (log it then).
   */
  judge(src: PortRef, dst: PortRef, delayMs: number, nowMs: number, known = false): LinkVerdict {
    const hostEnd = this.isHostPort(dst) ? dst : this.isHostPort(src) ? src : undefined;
    if (hostEnd) return this.reject(src, dst, nowMs, { reason: 'hostPort', hostPort: hostEnd });
    const lk = linkKey(src, dst);
    const goneAt = this.goneAtMs.get(lk);
    if (goneAt !== undefined) {
      // back: its samples count again if it went recently
      this.goneAtMs.delete(lk);
      if (nowMs - goneAt > this.delayMemoryMs) this.delays.delete(lk);
    }
    const samples = this.delays.get(lk) ?? [];
    samples.push(Math.max(0, delayMs));
    if (samples.length > this.delayWindow) samples.shift();
    this.delays.set(lk, samples);
    const mine = Math.min(...samples);
    const peers: number[] = [];
    for (const [other, s] of this.delays) if (other !== lk && s.length > 0 && !this.goneAtMs.has(other)) peers.push(Math.min(...s));
    if (!known && peers.length >= this.minPeers && mine > this.delayFloorMs) {
      const median = medianOf(peers);
      if (mine > this.delayFactor * median) {
        return this.reject(src, dst, nowMs, { reason: 'delay', delayMs: round3(mine), fabricMedianDelayMs: round3(median) });
      }
    }
    if (this.records.get(lk)?.reason === 'delay') this.records.delete(lk);
    return { ok: true };
  }

  /**
   * A link left the graph at `nowMs` (expired, port down…): its delay samples are kept for
   * `delayMemoryMs` (see the module docs; a port down drops them through {@link LinkGuard.portDown}), and
   * samples of links gone longer than that are dropped.
   */
  linkGone(src: PortRef, dst: PortRef, nowMs: number): void {
    for (const [lk, at] of [...this.goneAtMs]) if (nowMs - at > this.delayMemoryMs) this.forget(lk);
    const lk = linkKey(src, dst);
    if (this.delays.has(lk)) this.goneAtMs.set(lk, nowMs);
  }

  /** Rejected or flagged links, most recent first. */
  rejected(): RejectedLink[] {
    return [...this.records.values()].sort((a, b) => b.lastSeenMs - a.lastSeenMs);
  }

  private reject(src: PortRef, dst: PortRef, nowMs: number, why: Pick<RejectedLink, 'reason' | 'hostPort' | 'delayMs' | 'fabricMedianDelayMs'>): LinkVerdict {
    const lk = linkKey(src, dst);
    const prev = this.records.get(lk);
    const first = prev?.reason !== why.reason;
    const rec: RejectedLink = {
      src, dst, ...why,
      firstSeenMs: first ? nowMs : prev!.firstSeenMs,
      lastSeenMs: nowMs,
      count: first ? 1 : prev!.count + 1,
    };
    this.records.delete(lk);
    this.records.set(lk, rec);
    if (this.records.size > this.maxRecords) this.records.delete(this.records.keys().next().value!);
    if (why.reason === 'hostPort') this.forget(lk);
    return { ok: false, rejected: rec, first };
  }

  /** Link `lk`'s delay samples go, and with them its gone mark. */
  private forget(lk: string): void {
    this.delays.delete(lk);
    this.goneAtMs.delete(lk);
  }
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
