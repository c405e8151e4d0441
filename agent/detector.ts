/**
 * The agent's flowlet detector (Flowtune's flowlets; PIAS's idle gap; ARCHITECTURE.md "Data path: a flowlet"), pure: outgoing packet headers in, flowlet
 * start / progress / end events (protocol/agent.ts) out. No I/O and no clock of its own: every call
 * carries the time (µs since the epoch, the capture's timestamps and the agent's clock are one clock).
 *
 * - A flowlet of a 5-tuple starts at the first packet that CARRIES PAYLOAD (TCP payload > 0; every UDP
 *   datagram counts). Pure ACKs, SYN/FIN/RST without data never start nor extend a flowlet, so the
 *   receiver's ACK stream is not a flowlet.
 * - It ends once the 5-tuple has been idle longer than `idleGapMs` (Flowtune ends a flowlet when the
 *   socket buffer drains; PIAS uses a 500 µs gap on 10 Gbit/s; 100 ms suits Mininet's 10–100 Mbit/s
 *   links whose TCP stalls are long). The end is noticed by {@link FlowletDetector.tick}, or by the next
 *   packet of the 5-tuple (which then starts a new flowlet).
 * - `progress` is emitted once when the flowlet's bytes reach `smallFlowletBytes` (FCA §4.4: smaller
 *   flowlets are not allocated) and then every `progressIntervalMs` while it lives (from `tick`), so the
 *   controller can measure rates.
 * - A declaration (local API, FCA §5.2: size, deadline, transfer, tenant) attaches to the NEXT flowlet of
 *   the matching 5-tuple: same proto, dst, dport, and the same sport unless the declaration's sport is
 *   0/absent (a wildcard); exact-sport declarations win over wildcards, older over newer. Declarations
 *   expire after `declarationTtlMs`. An exact-sport declaration that arrives while its 5-tuple's flowlet is
 *   live and not covered by an earlier declaration attaches to that flowlet at once (it is re-started with
 *   the declaration): an application need not wait for the agent's answer before it sends.
 * - A declared SIZE covers the whole message, not only its first flowlet (FCA §4.1 ranks transfers by their
 *   remaining volume): when a flowlet with a declared size ends before it sent that many payload bytes
 *   (a TCP stall, a rate limit, a pause longer than the idle gap), the rest of the declaration — the
 *   same transfer, tenant and deadline, `sizeBytes` = what is left — attaches to the next flowlet of the
 *   same 5-tuple, unless a new declaration for it is waiting (a new message on a kept-alive connection).
 *   Carried rests expire like declarations and are bounded by `maxFlowlets`.
 *
 * Bytes are IP total lengths of payload-carrying packets.
 */
import type { FiveTuple, FlowletEnd, FlowletProgress, FlowletStart } from '../protocol/agent.js';

/** One outgoing packet's headers, as the capture saw it. */
export interface OutgoingPacket {
  /** capture timestamp, µs since the epoch */
  readonly tsUs: number;
  readonly flow: FiveTuple;
  /** IPv4 total length, bytes */
  readonly ipBytes: number;
  /** TCP payload length per the IP header, bytes (UDP: the datagram payload; it counts even when 0) */
  readonly payloadBytes: number;
}

export interface DetectorOptions {
  /** idle time that ends a flowlet, ms */
  readonly idleGapMs: number;
  /** report `progress` when a flowlet's bytes reach this (the controller's welcome), bytes */
  readonly smallFlowletBytes: number;
  /** period of `progress` for live flowlets past the small threshold, ms */
  readonly progressIntervalMs: number;
  /** an unused declaration is dropped after this, ms */
  readonly declarationTtlMs: number;
  /** live flowlets tracked at most (hello carries them all); packets of further 5-tuples are ignored */
  readonly maxFlowlets: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  idleGapMs: 100,
  smallFlowletBytes: 50_000,
  progressIntervalMs: 500,
  declarationTtlMs: 60_000,
  maxFlowlets: 50_000,
};

/** What an application declares about its next flow (POST /api/v1/flows). */
export interface FlowDeclaration {
  readonly dst: string;
  readonly dport: number;
  /** IP protocol, 6 (TCP) or 17 (UDP) */
  readonly proto: number;
  /** 0 or absent: any source port */
  readonly sport?: number;
  readonly sizeBytes?: number;
  readonly deadlineMs?: number;
  readonly transferId?: string;
  readonly tenant?: string;
}

/**
 * What the agent needs from a flowlet detector, whichever way packets reach it: {@link FlowletDetector}
 * (every packet header through JavaScript) or agent/kernel-detector.ts (the kernel's live set).
 */
export interface FlowletSource {
  readonly options: DetectorOptions;
  configure(opts: Partial<DetectorOptions>): void;
  /** a declaration; the events of a live flowlet it attached to at once (see DeclaringSource.declare) */
  declare(d: FlowDeclaration, nowUs: number): DetectorEvent[];
  /** declarations not yet attached */
  pendingDeclarations(): readonly FlowDeclaration[];
  /** the rest of `flow`'s declared message waiting for its next flowlet, if any */
  carriedFor(flow: FiveTuple): FlowDeclaration | undefined;
  /** whether `d` (a flowlet's `declared`) is the carried rest of a message an earlier flowlet began */
  isRest(d: FlowDeclaration | undefined): boolean;
  /** periodic work at `nowUs` (µs epoch) */
  tick(nowUs: number): DetectorEvent[];
  flowlets(): LiveFlowlet[];
  byId(id: string): LiveFlowlet | undefined;
  /** whether a flowlet of `flow` lives now (a look-up by its 5-tuple, no view built) */
  hasLive(flow: FiveTuple): boolean;
}

export type DetectorEvent =
  | { readonly type: 'start'; readonly start: FlowletStart }
  | { readonly type: 'progress'; readonly progress: FlowletProgress }
  | { readonly type: 'end'; readonly end: FlowletEnd };

/** A live flowlet (read-only view for the agent and the local API). */
export interface LiveFlowlet {
  readonly id: string;
  readonly flow: FiveTuple;
  readonly firstPacketEpochUs: number;
  readonly lastPacketEpochUs: number;
  /** IP bytes so far */
  readonly bytes: number;
  readonly packets: number;
  readonly declared?: FlowDeclaration;
}

/** A live flowlet's counters, as both flowlet sources keep them (µs epoch times, IP bytes). */
interface FlowletRecord {
  id: string;
  flow: FiveTuple;
  firstUs: number;
  lastUs: number;
  bytes: number;
  packets: number;
  /** µs of the last progress event, undefined until the small threshold is crossed */
  lastProgressUs: number | undefined;
  declared: FlowDeclaration | undefined;
}

interface PendingDeclaration {
  readonly d: FlowDeclaration;
  readonly atUs: number;
}

/** `src:sport>dst:dport/proto`, the map key of a 5-tuple. */
export function flowKey(f: FiveTuple): string {
  return `${f.src}:${f.sport}>${f.dst}:${f.dport}/${f.proto}`;
}

/** True when `p` carries payload (starts or extends a flowlet): TCP with payload, any UDP datagram. */
export function carriesPayload(p: OutgoingPacket): boolean {
  if (p.flow.proto === 17) return true;
  return p.payloadBytes > 0;
}

/** The protocol's FlowletStart of a live flowlet (bytes as of now; declared fields when present). */
export function flowletStart(f: LiveFlowlet): FlowletStart {
  const d = f.declared;
  return {
    id: f.id,
    flow: { ...f.flow },
    firstPacketEpochUs: f.firstPacketEpochUs,
    bytes: f.bytes,
    ...(d?.sizeBytes !== undefined ? { sizeBytes: d.sizeBytes } : {}),
    ...(d?.deadlineMs !== undefined ? { deadlineMs: d.deadlineMs } : {}),
    ...(d?.transferId !== undefined ? { transferId: d.transferId } : {}),
    ...(d?.tenant !== undefined ? { tenant: d.tenant } : {}),
  };
}

/**
 * What both flowlet sources (this packet detector and the kernel tracker, kernel-detector.ts) share: the
 * options, the live flowlets (by 5-tuple and by id) with their start, progress and end events, the
 * declarations waiting for their 5-tuple's next flowlet (dropped after `declarationTtlMs`), and the
 * flowlet id counter. The sources differ only in what tells them a flowlet started, grew or ended.
 */
export abstract class DeclaringSource {
  /** 5-tuple key ({@link flowKey}) → live flowlet */
  protected readonly live = new Map<string, FlowletRecord>();
  /** the same flowlets by id (byId is called per start and per rate) */
  private readonly ids = new Map<string, FlowletRecord>();
  protected opts: DetectorOptions;
  protected pending: PendingDeclaration[] = [];
  /** 5-tuple key → the rest of a declared message whose flowlet ended before the message did */
  protected carried = new Map<string, PendingDeclaration>();
  /** every carried rest made (a flowlet whose `declared` is one continues a message) */
  private readonly rests = new WeakSet<FlowDeclaration>();
  protected nextId = 1;

  constructor(opts: Partial<DetectorOptions> = {}) {
    this.opts = { ...DEFAULT_DETECTOR_OPTIONS, ...opts };
  }

  get options(): DetectorOptions {
    return this.opts;
  }

  /** Changes options (e.g. from the controller's welcome); applies to the next packet / tick. */
  configure(opts: Partial<DetectorOptions>): void {
    this.opts = { ...this.opts, ...opts };
  }

  /** Live flowlets. */
  get size(): number {
    return this.live.size;
  }

  /** Live flowlets, oldest first. */
  flowlets(): LiveFlowlet[] {
    return [...this.live.values()].map(view);
  }

  hasLive(flow: FiveTuple): boolean {
    return this.live.has(flowKey(flow));
  }

  /** A live flowlet by id. */
  byId(id: string): LiveFlowlet | undefined {
    const f = this.ids.get(id);
    return f ? view(f) : undefined;
  }

  /**
   * A new live flowlet of `flow` at `key` ({@link flowKey}) whose first packet was at `atUs` (µs epoch), with
   * `bytes` IP bytes in `packets` packets so far and the declaration that covers it; returns it (its start
   * event is {@link startEvent}). No bound is checked here: the caller checks `maxFlowlets`.
   */
  protected track(key: string, flow: FiveTuple, atUs: number, bytes: number, packets: number): FlowletRecord {
    const f: FlowletRecord = {
      id: `f${this.nextId++}`, flow, firstUs: atUs, lastUs: atUs, bytes, packets,
      lastProgressUs: undefined, declared: this.attachDeclaration(flow),
    };
    this.remember(key, f);
    return f;
  }

  /** `f` becomes the live flowlet at `key` (by 5-tuple and by id). */
  private remember(key: string, f: FlowletRecord): void {
    this.live.set(key, f);
    this.ids.set(f.id, f);
  }

  /** `f`, live at `key`, is live no more; returns its end event (nothing carried: see {@link end}). */
  private forget(key: string, f: FlowletRecord): DetectorEvent {
    this.live.delete(key);
    this.ids.delete(f.id);
    return { type: 'end', end: { id: f.id, lastPacketEpochUs: f.lastUs, bytes: f.bytes } };
  }

  /** The start event of `f`. */
  protected startEvent(f: FlowletRecord): DetectorEvent {
    return { type: 'start', start: flowletStart(view(f)) };
  }

  /**
   * Adds `f`'s progress at `nowUs` to `out` when one is due: the first once its bytes reach
   * `smallFlowletBytes`, then one every `progressIntervalMs`.
   */
  protected progress(f: FlowletRecord, nowUs: number, out: DetectorEvent[]): void {
    if (f.lastProgressUs === undefined) {
      if (f.bytes < this.opts.smallFlowletBytes) return;
    } else if (nowUs - f.lastProgressUs < this.opts.progressIntervalMs * 1000) return;
    f.lastProgressUs = nowUs;
    out.push({ type: 'progress', progress: { id: f.id, bytes: f.bytes, atEpochUs: nowUs } });
  }

  /** Ends the live flowlet `f` at `key`: a declared size not all sent waits for the next flowlet; returns the end event. */
  protected end(key: string, f: FlowletRecord): DetectorEvent {
    const ended = this.forget(key, f);
    this.carryDeclaration(f.flow, f.declared, f.bytes, f.packets, f.lastUs);
    return ended;
  }

  /**
   * A declaration at `nowUs` (µs epoch); returns the events of a live flowlet it attached to at once.
   *
   * A declaration that names its source port also attaches to a LIVE flowlet of its 5-tuple that no
   * declaration covers (none, or a declared size all sent): that flowlet carries the declared message — an
   * application that declares without waiting for the answer sends first, and a kept-alive connection's
   * next message may continue its flowlet within the idle gap. The flowlet ends and a flowlet with the
   * declaration starts in its place with the same counters (see {@link lateDeclaredSize}). The oldest waiting
   * declaration of the 5-tuple attaches first (it is for the earlier message). This is checked here and at
   * every `tick`/poll, so a declaration made while the previous message is still being sent attaches when
   * that message is all sent.
   */
  declare(d: FlowDeclaration, nowUs: number): DetectorEvent[] {
    this.pending.push({ d, atUs: nowUs });
    return d.sport ? this.attachLate(nowUs, tupleKeyOf(d)) : [];
  }

  /**
   * Attaches waiting exact-sport declarations to the live flowlets they now cover (see {@link declare}),
   * only for the 5-tuple `onlyTuple` (a {@link tupleKeyOf}) when given; returns the events.
   */
  protected attachLate(nowUs: number, onlyTuple?: string): DetectorEvent[] {
    let out: DetectorEvent[] | undefined;
    let byTuple: Map<string, [string, LiveRecord]> | undefined;
    const done = new Set<string>();
    for (let i = 0; i < this.pending.length; i++) {
      const d = this.pending[i]!.d;
      if (!d.sport) continue;
      const tuple = tupleKeyOf(d);
      if ((onlyTuple !== undefined && tuple !== onlyTuple) || done.has(tuple)) continue;
      done.add(tuple); // the oldest waiting declaration of a 5-tuple decides for it
      if (!byTuple) {
        byTuple = new Map();
        for (const e of this.live) byTuple.set(tupleKeyOf(e[1].flow), e);
      }
      const hit = byTuple.get(tuple);
      if (!hit || lateDeclaredSize(undefined, hit[1]) === null) continue;
      this.pending.splice(i--, 1);
      const sizeBytes = lateDeclaredSize(d.sizeBytes, hit[1]);
      (out ??= []).push(...this.redeclare(hit[0], { ...d, ...(sizeBytes != null ? { sizeBytes } : {}) }, nowUs));
    }
    return out ?? [];
  }

  /**
   * Ends the live flowlet at `key` and starts one in its place at `nowUs` with the same counters and
   * `declared`: returns the end, the start and, when the counters are past `smallFlowletBytes`, a progress.
   */
  private redeclare(key: string, declared: FlowDeclaration, nowUs: number): DetectorEvent[] {
    const old = this.live.get(key)!;
    // the new flowlet takes the counters over: nothing is carried (not end())
    const out: DetectorEvent[] = [this.forget(key, old)];
    const f: FlowletRecord = { ...old, id: `f${this.nextId++}`, firstUs: old.declared ? nowUs : old.firstUs, lastProgressUs: undefined, declared };
    this.remember(key, f);
    out.push(this.startEvent(f));
    this.progress(f, nowUs, out);
    return out;
  }

  /** Declarations not yet attached. */
  pendingDeclarations(): readonly FlowDeclaration[] {
    return this.pending.map((p) => p.d);
  }

  /** Rests of declared messages waiting for their 5-tuple's next flowlet (see the file comment). */
  carriedDeclarations(): readonly FlowDeclaration[] {
    return [...this.carried.values()].map((p) => p.d);
  }

  carriedFor(flow: FiveTuple): FlowDeclaration | undefined {
    return this.carried.get(flowKey(flow))?.d;
  }

  isRest(d: FlowDeclaration | undefined): boolean {
    return d !== undefined && this.rests.has(d);
  }

  /** Drops the declarations (and carried rests) older than `declarationTtlMs` at `nowUs`. */
  protected expireDeclarations(nowUs: number): void {
    const ttlUs = this.opts.declarationTtlMs * 1000;
    if (this.pending.length > 0) this.pending = this.pending.filter((p) => nowUs - p.atUs <= ttlUs);
    for (const [k, p] of this.carried) if (nowUs - p.atUs > ttlUs) this.carried.delete(k);
  }

  /**
   * The declaration of a new flowlet of `flow`: a waiting declaration (see {@link takeDeclaration}) first,
   * else the carried rest of the 5-tuple's unfinished declared message. Either way the carried rest is used up.
   */
  protected attachDeclaration(flow: FiveTuple): FlowDeclaration | undefined {
    const key = flowKey(flow);
    const rest = this.carried.get(key);
    if (rest) this.carried.delete(key);
    return takeDeclaration(this.pending, flow) ?? rest?.d;
  }

  /**
   * A flowlet of `flow` ended at `nowUs` after `ipBytes` in `packets` payload packets: when it carried a
   * declared size not yet sent, the rest waits for the 5-tuple's next flowlet.
   */
  protected carryDeclaration(flow: FiveTuple, declared: FlowDeclaration | undefined, ipBytes: number, packets: number, nowUs: number): void {
    if (declared?.sizeBytes === undefined) return;
    const left = declaredBytesLeft(declared.sizeBytes, flow.proto, ipBytes, packets);
    if (left <= 0) return;
    const key = flowKey(flow);
    this.carried.delete(key);
    if (this.carried.size >= this.opts.maxFlowlets) this.carried.delete(this.carried.keys().next().value!);
    const rest: FlowDeclaration = { ...declared, sport: flow.sport, sizeBytes: left };
    this.rests.add(rest);
    this.carried.set(key, { d: rest, atUs: nowUs });
  }
}

/** `sport>dst:dport/proto`: a declaration's 5-tuple (it has no source address), or a flow's without it. */
export function tupleKeyOf(t: { readonly sport?: number; readonly dst: string; readonly dport: number; readonly proto: number }): string {
  return `${t.sport ?? 0}>${t.dst}:${t.dport}/${t.proto}`;
}

/** What {@link DeclaringSource.declare} reads of a live flowlet. */
export interface LiveRecord {
  readonly flow: FiveTuple;
  readonly bytes: number;
  readonly packets: number;
  readonly declared: FlowDeclaration | undefined;
}

/** How far the header estimate of {@link declaredBytesLeft} (52 bytes a TCP packet) may err, bytes a packet (no timestamps: 40). */
const HEADER_SLACK_BYTES = 12;

/**
 * The size a late declaration of `sizeBytes` takes on the live flowlet `f` whose counters it inherits, or
 * null when `f` is still covered by an earlier declaration (its declared size not all sent, or no size
 * declared): the declared size in the flowlet's cumulative count, i.e. the payload of the earlier message
 * (when `f` carried one that is all sent) plus `sizeBytes` — so that size − payload sent is the new message's
 * remaining volume, as FCA §4.1 ranks it. Undefined when no size is declared.
 */
export function lateDeclaredSize(sizeBytes: number | undefined, f: LiveRecord): number | undefined | null {
  const before = f.declared;
  if (before !== undefined) {
    if (before.sizeBytes === undefined) return null;
    const left = declaredBytesLeft(before.sizeBytes, f.flow.proto, f.bytes, f.packets);
    if (left > HEADER_SLACK_BYTES * f.packets) return null;
  }
  if (sizeBytes === undefined) return undefined;
  return sizeBytes + (before?.sizeBytes ?? 0);
}

/**
 * Payload bytes of a declared message of `sizeBytes` not yet sent after `ipBytes` in `packets` payload
 * packets: the IP and transport headers (IPv4 20 + TCP 20 + timestamps 12 = 52 bytes; UDP 28) are taken off
 * the IP bytes. May be ≤ 0 (all sent).
 */
export function declaredBytesLeft(sizeBytes: number, proto: number, ipBytes: number, packets: number): number {
  const header = proto === 17 ? 28 : 52;
  return sizeBytes - Math.max(0, ipBytes - header * packets);
}

/** Flowlet detection over one agent's outgoing packets (see the file comment). */
export class FlowletDetector extends DeclaringSource implements FlowletSource {
  /** packets of new 5-tuples ignored because `maxFlowlets` were live */
  overflowPackets = 0;

  /** One outgoing packet: a start (maybe after the end of an idle predecessor) and/or a progress, or nothing. */
  packet(p: OutgoingPacket): DetectorEvent[] {
    if (!carriesPayload(p)) return [];
    const out: DetectorEvent[] = [];
    const key = flowKey(p.flow);
    let f = this.live.get(key);
    if (f && p.tsUs - f.lastUs > this.gapUs()) {
      out.push(this.end(key, f));
      f = undefined;
    }
    if (!f) {
      if (this.live.size >= this.opts.maxFlowlets) {
        this.overflowPackets++;
        return out;
      }
      f = this.track(key, p.flow, p.tsUs, p.ipBytes, 1);
      out.push(this.startEvent(f));
    } else {
      f.lastUs = Math.max(f.lastUs, p.tsUs);
      f.bytes += p.ipBytes;
      f.packets++;
    }
    // the first progress when the threshold is crossed; later ones come with ticks
    if (f.lastProgressUs === undefined) this.progress(f, p.tsUs, out);
    return out;
  }

  /** Periodic work at `nowUs`: ends flowlets idle longer than the gap, emits due progress, expires declarations. */
  tick(nowUs: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    const gapUs = this.gapUs();
    for (const [key, f] of this.live) {
      if (nowUs - f.lastUs > gapUs) out.push(this.end(key, f));
      else if (f.lastProgressUs !== undefined) this.progress(f, nowUs, out);
    }
    this.expireDeclarations(nowUs);
    if (this.pending.length > 0) out.push(...this.attachLate(nowUs));
    return out;
  }

  private gapUs(): number {
    return this.opts.idleGapMs * 1000;
  }
}

/**
 * Removes and returns the declaration for the next flowlet of `flow` from `pending` (in place): same
 * proto, dst and dport; an exact sport wins over a wildcard (0/absent), older over newer.
 */
export function takeDeclaration(pending: { readonly d: FlowDeclaration }[], flow: FiveTuple): FlowDeclaration | undefined {
  const matches = (d: FlowDeclaration): boolean => d.proto === flow.proto && d.dst === flow.dst && d.dport === flow.dport;
  let i = pending.findIndex((p) => matches(p.d) && p.d.sport === flow.sport && flow.sport !== 0);
  if (i < 0) i = pending.findIndex((p) => matches(p.d) && !p.d.sport);
  if (i < 0) return undefined;
  const [taken] = pending.splice(i, 1);
  return taken!.d;
}

function view(f: FlowletRecord): LiveFlowlet {
  return {
    id: f.id,
    flow: f.flow,
    firstPacketEpochUs: f.firstUs,
    lastPacketEpochUs: f.lastUs,
    bytes: f.bytes,
    packets: f.packets,
    ...(f.declared ? { declared: f.declared } : {}),
  };
}
