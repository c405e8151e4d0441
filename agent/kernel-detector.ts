/**
 * Flowlet detection from the kernel's view (pure; agent/nft-rules.ts builds the table): the agent's
 * nftables table keeps one `live` set element per 5-tuple that sent payload within the idle gap, with a
 * byte counter, and logs the packet that created an element to NFLOG. This tracker turns
 *
 * - {@link KernelFlowletTracker.started}: a logged packet = a flowlet's first packet (µs epoch, 5-tuple,
 *   IP bytes), reported at once;
 * - {@link KernelFlowletTracker.crossed}: a logged packet that took a flowlet past `smallFlowletBytes` =
 *   its first `progress`, reported at once (later progress comes with polls);
 * - {@link KernelFlowletTracker.snapshot}: a poll of the set (its elements and their byte counters, and
 *   the time the poll was asked for) = progress, and ends of the flowlets whose element expired
 *
 * into the same start / progress / end events as the per-packet {@link FlowletDetector}, so its work
 * grows with flowlets and polls, not with packets. Semantics kept from the per-packet detector: only
 * payload-carrying packets count (the table's `nopayload` set), `progress` once at `smallFlowletBytes`
 * and then every `progressIntervalMs`, declarations attach to the next flowlet of their 5-tuple.
 *
 * Races, and how they resolve:
 * - an element missing from a poll ends its flowlet only if the flowlet started BEFORE the poll was asked
 *   for (a start logged while the poll ran may not be in it yet);
 * - an element whose counter went DOWN was re-created (the flowlet ended and a new one began between two
 *   polls, its start log not read yet or dropped by the log's rate limit): the old flowlet ends, a new
 *   one starts;
 * - an element no start was logged for (rate limit) is taken as a flowlet when two successive polls show
 *   it, starting at the first of them;
 * - a second start logged for a live 5-tuple within `duplicateUs` is the same flowlet (two CPUs);
 *   later, it means the old one ended unseen between polls.
 * Last-packet times are the poll at which a flowlet's counter last grew (nft's JSON gives expiries in
 * whole seconds only), so an end's `lastPacketEpochUs` is late by at most one poll period.
 */
import type { FiveTuple } from '../protocol/agent.js';
import { DeclaringSource, flowKey, type DetectorEvent, type FlowletSource } from './detector.js';
import type { LiveElement } from './nft-rules.js';

/** A logged flowlet start. */
export interface StartPacket {
  /** µs since the epoch */
  readonly tsUs: number;
  readonly flow: FiveTuple;
  /** IPv4 total length of the packet, bytes */
  readonly ipBytes: number;
}

/** Two start logs of one 5-tuple closer than this are one flowlet, µs. */
const DUPLICATE_US = 2000;

/** The tracker (see the file comment). */
export class KernelFlowletTracker extends DeclaringSource implements FlowletSource {
  /** elements seen in a poll with no flowlet: key → the poll's time */
  private unknown = new Map<string, number>();
  /** starts dropped because `maxFlowlets` were live */
  overflow = 0;

  /** True while a live flowlet has reached `smallFlowletBytes` (its end is worth a fast poll: it frees an allocation). */
  get anyLarge(): boolean {
    for (const f of this.live.values()) if (f.lastProgressUs !== undefined) return true;
    return false;
  }

  /** A logged start packet. */
  started(p: StartPacket): DetectorEvent[] {
    const key = flowKey(p.flow);
    const out: DetectorEvent[] = [];
    const f = this.live.get(key);
    if (f) {
      if (p.tsUs - f.firstUs < DUPLICATE_US) return out;
      out.push(this.end(key, f));
    }
    this.unknown.delete(key);
    this.begin(key, p.flow, p.tsUs, p.ipBytes, 1, out);
    return out;
  }

  /**
   * A logged crossing of the small-flowlet threshold (the table's `young` quota): the flowlet's bytes
   * are at least `smallFlowletBytes` now, so its first `progress` goes out at once instead of at the next
   * poll. A crossing of a 5-tuple with no live flowlet (its start log was dropped by the rate limit)
   * starts one at the crossing.
   */
  crossed(p: StartPacket): DetectorEvent[] {
    const key = flowKey(p.flow);
    const out: DetectorEvent[] = [];
    const f = this.live.get(key);
    if (!f) {
      this.unknown.delete(key);
      this.begin(key, p.flow, p.tsUs, this.opts.smallFlowletBytes, 1, out);
      return out;
    }
    if (f.bytes < this.opts.smallFlowletBytes) f.bytes = this.opts.smallFlowletBytes;
    if (p.tsUs > f.lastUs) f.lastUs = p.tsUs;
    if (f.lastProgressUs === undefined) this.progress(f, p.tsUs, out);
    return out;
  }

  /**
   * A poll of the live set: `elements` as of a time between `askedUs` (when the poll was written) and
   * `nowUs` (when its answer was read), µs epoch.
   */
  snapshot(askedUs: number, nowUs: number, elements: readonly LiveElement[]): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    const seen = new Map<string, LiveElement>();
    for (const e of elements) seen.set(flowKey(e.flow), e);
    for (const [key, f] of this.live) {
      const e = seen.get(key);
      if (!e) {
        if (f.firstUs < askedUs) out.push(this.end(key, f));
        continue;
      }
      if (e.bytes < f.bytes && e.packets < f.packets) {
        out.push(this.end(key, f));
        this.begin(key, e.flow, askedUs, e.bytes, e.packets, out);
        continue;
      }
      if (e.bytes > f.bytes) {
        f.bytes = e.bytes;
        f.packets = Math.max(f.packets, e.packets);
        f.lastUs = askedUs;
      }
      this.progress(f, nowUs, out);
    }
    const unknown = new Map<string, number>();
    for (const [key, e] of seen) {
      if (this.live.has(key)) continue;
      const firstSeen = this.unknown.get(key);
      if (firstSeen === undefined) unknown.set(key, askedUs);
      else this.begin(key, e.flow, firstSeen, e.bytes, e.packets, out);
    }
    this.unknown = unknown;
    this.expireDeclarations(nowUs);
    if (this.pending.length > 0) out.push(...this.attachLate(nowUs));
    return out;
  }

  /** Declarations expire here; ends and progress come with polls. */
  tick(nowUs: number): DetectorEvent[] {
    this.expireDeclarations(nowUs);
    return [];
  }

  private begin(key: string, flow: FiveTuple, atUs: number, bytes: number, packets: number, out: DetectorEvent[]): void {
    if (this.live.size >= this.opts.maxFlowlets) {
      this.overflow++;
      return;
    }
    const f = this.track(key, flow, atUs, bytes, packets);
    out.push(this.startEvent(f));
    this.progress(f, atUs, out);
  }
}
