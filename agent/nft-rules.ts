/**
 * The agent's nftables table, as pure text: flowlet detection and priority marking done in the kernel,
 * so that the agent's cost does not grow with packets (nothing here runs per packet in JavaScript).
 *
 *   table ip rivulet
 *     set live        dynamic set of 5-tuples with a per-element counter and an idle timeout = the
 *                     flowlet gap: a payload-carrying packet whose 5-tuple is not in the set STARTS a
 *                     flowlet (logged to NFLOG group `nflogGroup`, read by tcpdump: one packet per
 *                     flowlet, not per packet); every payload-carrying packet refreshes its element; an
 *                     element that expires is a flowlet that ENDED; its counter is the flowlet's bytes
 *                     (the agent polls the set: agent/kernel-detector.ts)
 *     set young       per 5-tuple a byte QUOTA of `smallFlowletBytes`, timeout = the flowlet gap: the
 *                     packet that takes a flowlet past the small-flowlet threshold is CROSSED, logged to
 *                     the same group with the prefix {@link CROSSED_PREFIX} (once per flowlet: its 5-tuple
 *                     goes into `big`, whose elements every later packet refreshes), so the agent learns
 *                     of the crossing when it happens, not at its next poll
 *     chain young     the crossing rule (rewritten when the controller's threshold changes)
 *     set sentI       (I = 0…6) dynamic sets of 5-tuples whose elements carry a byte QUOTA and an idle
 *                     timeout = the message gap: the bytes the current MESSAGE of the 5-tuple has sent
 *     set nopayload   `tcp doff . ip length` pairs of TCP segments without payload (IPv4 without options)
 *     map classes     5-tuple → `goto dscpN`: per-flow overrides (a declared size or deadline, a DSCP the
 *                     controller asked for), installed at a flowlet's start, removed at its end
 *     chain dscpN     `ip dscp set N counter accept`, one per DSCP in use (the counter: bytes per class)
 *     chain classify  PIAS demotion by the bytes the message has sent, threshold by threshold from the
 *                     largest: `update @sentI { 5-tuple quota over T_I bytes } goto dscp…`
 *     chain ack       segments without payload: the top class (see {@link ACK_POLICY})
 *     chain output    hook output, priority mangle: the order above; loopback packets are skipped (the
 *                     local API's own connections are not flowlets of the host's link)
 *
 * PIAS (Bai et al., NSDI 2015, §3–§4) tags packets at the end host in the kernel by the bytes the flow has
 * sent, and counts a persistent connection's bytes afresh once it has been idle (a message on a kept-alive
 * connection is a new flow). The quota sets do exactly that: a 5-tuple's quotas count every payload byte
 * it sends and expire only after `messageGapMs` without one, so a large flow's later flowlets (gaps
 * shorter than the message gap, e.g. one retransmission timeout) keep their demoted class, while the next
 * request on an idle kept-alive connection starts again in the top class. (Counting with conntrack's
 * per-connection bytes instead demotes every later message of a kept-alive connection for good.)
 *
 * Measured here (nft 1.0.6, kernel 6.x): `nft -i` runs each input line as one transaction (commands joined
 * with `;` are atomic); JSON listings (`-j`) give element counters but `expires` only in whole seconds, so
 * the agent times ends by its own polls; `ip dscp set … map` is rejected, the vmap-to-chain form works;
 * `update @set { key quota over N bytes }` keeps one quota per element, matches once the element's bytes
 * including the packet exceed N, and starts from zero after the element timed out.
 */
import type { FiveTuple, Thresholds } from '../protocol/agent.js';

export const NFT_TABLE = 'rivulet';
const T = `ip ${NFT_TABLE}`;
const TUPLE = 'ip saddr . ip daddr . meta l4proto . th sport . th dport';
/** Quota sets: one per demotion threshold (Thresholds allows at most 7). */
export const MAX_THRESHOLDS = 7;
/** Default idle time after which a 5-tuple's next bytes start a new message (top class again), ms. */
export const DEFAULT_MESSAGE_GAP_MS = 250;

/**
 * What segments without payload (pure ACKs; SYN, FIN, RST without data) are marked with: the top class.
 *
 * Why: such a segment adds almost no load (≈ 66 bytes on the wire per two full segments acknowledged,
 * about 2% of the data rate), but its delay is the delay of the data it clocks: an ACK that waits behind
 * bulk data in a lower queue adds that queue's delay to every round trip of the flow it acknowledges,
 * small flows first. The acknowledged direction's message bytes are counted on the other host, so this
 * host cannot class an ACK by them; the top class bounds the cost at ≈ 2% of the bulk load in the top
 * queue and never delays a clock.
 */
export const ACK_POLICY = 'top class';

export interface NftTableOptions {
  /** idle gap ending a flowlet (the live set's element timeout), ms */
  readonly idleGapMs: number;
  /** NFLOG group of flowlet starts; undefined: no in-kernel detection (the agent captures packets instead) */
  readonly nflogGroup?: number;
  /** elements of the live set at most (live flowlets) */
  readonly maxFlowlets: number;
  /** flowlet starts logged per second at most (the rest are found by the next poll), default 2000; crossings alike */
  readonly startLogRatePerS?: number;
  /** with `nflogGroup`: log each flowlet's crossing of this many bytes ({@link crossingLines}); undefined: none */
  readonly smallFlowletBytes?: number;
  /** PIAS classes; undefined: no marking by bytes (overrides still apply) */
  readonly thresholds?: Thresholds;
  /** idle time after which a 5-tuple's bytes count afresh (a new message), ms (default {@link DEFAULT_MESSAGE_GAP_MS}) */
  readonly messageGapMs?: number;
}

/** Segments without payload: (doff, ip length) with IPv4 header 20 bytes and TCP header 4·doff bytes. */
export function noPayloadElements(): string {
  const e: string[] = [];
  for (let doff = 5; doff <= 15; doff++) e.push(`${doff} . ${20 + doff * 4}`);
  return e.join(', ');
}

/** The DSCPs a table with these thresholds uses (ascending, unique). */
function dscpsOf(t: Thresholds | undefined, extra: readonly number[] = []): number[] {
  return [...new Set([...(t?.dscpByPriority ?? []), ...extra])].sort((a, b) => a - b);
}

/** Lines creating `dscpN` chains (idempotent: each chain is flushed and given its one rule). */
export function dscpChainLines(dscps: readonly number[]): string[] {
  return dscps.flatMap((d) => [`add chain ${T} dscp${d}`, `flush chain ${T} dscp${d}`, `add rule ${T} dscp${d} ip dscp set ${d} counter accept`]);
}

/** One demotion step: a packet whose message has sent more than `overBytes` bytes (this packet included) goes to `dscp`. */
export interface ClassStep {
  readonly overBytes: number;
  readonly dscp: number;
}

/**
 * The top class and the demotion steps of `t`, ascending: a packet leaves priority i once its message's
 * bytes, this packet included, exceed thresholdsBytes[i] (`quota over thresholdsBytes[i] bytes`: the first
 * T bytes of a message ride priority 0, PIAS's demotion at T; a packet that straddles T stays above). Thresholds that do not increase (or are < 1) are dropped and their class
 * left empty, as PIAS's model does for a threshold equal to the previous one; at most {@link MAX_THRESHOLDS}.
 */
export function classSteps(t: Thresholds): { readonly topDscp: number; readonly steps: ClassStep[] } {
  const n = t.dscpByPriority.length;
  const k = Math.min(t.thresholdsBytes.length, n - 1, MAX_THRESHOLDS);
  const kept: number[] = [];
  let lo = 0;
  for (let i = 0; i < k; i++) {
    const hi = Math.floor(t.thresholdsBytes[i]!);
    if (!(hi > lo)) continue;
    kept.push(i);
    lo = hi;
  }
  // the bytes below kept threshold i are class i; from it on, the class of the next kept threshold (or the last)
  const steps = kept.map((i, j) => ({ overBytes: Math.floor(t.thresholdsBytes[i]!), dscp: t.dscpByPriority[kept[j + 1] ?? k]! }));
  return { topDscp: t.dscpByPriority[kept[0] ?? k]!, steps };
}

/** The quota set of demotion step `i`. */
function sentSet(i: number): string {
  return `sent${i}`;
}

/** Lines creating the quota sets (idempotent: the same definition for the agent's lifetime). */
export function sentSetLines(o: { readonly maxFlowlets: number; readonly messageGapMs?: number }): string[] {
  const gap = Math.max(1, Math.round(o.messageGapMs ?? DEFAULT_MESSAGE_GAP_MS));
  return Array.from({ length: MAX_THRESHOLDS }, (_, i) =>
    `add set ${T} ${sentSet(i)} { typeof ${TUPLE} ; size ${o.maxFlowlets} ; flags dynamic,timeout ; timeout ${gap}ms ; }`);
}

/**
 * Rules of the classify and ack chains for `t` (chains flushed, quota sets emptied first, so new thresholds
 * count every message afresh). Classify tests the steps from the largest threshold down: every quota a
 * packet passes counts its bytes, the first one over decides the class; below every threshold: the top
 * class. No marking rules without thresholds.
 */
export function classifyLines(t: Thresholds | undefined): string[] {
  const lines = [`flush chain ${T} classify`, `flush chain ${T} ack`, ...Array.from({ length: MAX_THRESHOLDS }, (_, i) => `flush set ${T} ${sentSet(i)}`)];
  if (!t) return [...lines, `add rule ${T} ack accept`];
  const { topDscp: top, steps } = classSteps(t);
  return [
    ...dscpChainLines(dscpsOf(t)),
    ...lines,
    ...steps.map((st, i) => `add rule ${T} classify update @${sentSet(i)} { ${TUPLE} quota over ${st.overBytes} bytes } goto dscp${st.dscp}`).reverse(),
    `add rule ${T} classify goto dscp${top}`,
    `add rule ${T} ack goto dscp${top}`,
  ];
}

/** The NFLOG prefix of a flowlet's crossing of the small-flowlet threshold (a start has none). */
export const CROSSED_PREFIX = 'rivulet-big';

/**
 * Lines (re)writing the crossing rule for `smallFlowletBytes` (IPv4 bytes, the live set's counter's
 * unit): the young chain flushed and its quota set emptied (flowlets under way count afresh: their
 * crossing is then found by the agent's polls), one rule logging the packet that takes a flowlet's bytes
 * past the threshold. Needs a table made with `nflogGroup`.
 */
export function crossingLines(o: { readonly smallFlowletBytes: number; readonly nflogGroup: number; readonly startLogRatePerS?: number }): string[] {
  const rate = o.startLogRatePerS ?? 2000;
  const over = Math.max(0, Math.floor(o.smallFlowletBytes) - 1);
  return [
    `flush chain ${T} young`,
    `flush set ${T} young`,
    // quota over N matches once the element's bytes, this packet included, exceed N: bytes ≥ threshold
    `add rule ${T} young update @young { ${TUPLE} quota over ${over} bytes } update @big { ${TUPLE} } ` +
      `limit rate ${rate}/second burst ${Math.max(5, Math.round(rate / 10))} packets log prefix "${CROSSED_PREFIX}" group ${o.nflogGroup} snaplen 80 queue-threshold 1`,
  ];
}

/** Creates the table afresh (an old table of ours is deleted first, in the same transaction). */
export function tableLines(o: NftTableOptions): string[] {
  const gap = Math.max(1, Math.round(o.idleGapMs));
  const lines = [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T}`,
    `add set ${T} nopayload { typeof tcp doff . ip length ; elements = { ${noPayloadElements()} } ; }`,
    `add map ${T} classes { typeof ${TUPLE} : verdict ; size ${o.maxFlowlets} ; }`,
    ...sentSetLines(o),
    `add chain ${T} classify`,
    `add chain ${T} ack`,
    `add chain ${T} output { type filter hook output priority mangle ; policy accept ; }`,
    // loopback (an application declaring its flows to the local API, the agent's own sockets) is neither
    // shaped nor reported: each such connection would be a flowlet start woken up for and rejected upstream
    `add rule ${T} output oifname "lo" accept`,
    `add rule ${T} output meta l4proto != { tcp, udp } accept`,
    `add rule ${T} output meta l4proto tcp tcp doff . ip length @nopayload jump ack`,
  ];
  if (o.nflogGroup !== undefined) {
    const rate = o.startLogRatePerS ?? 2000;
    lines.splice(4, 0,
      `add set ${T} live { typeof ${TUPLE} ; size ${o.maxFlowlets} ; flags dynamic,timeout ; timeout ${gap}ms ; counter ; }`,
      `add set ${T} young { typeof ${TUPLE} ; size ${o.maxFlowlets} ; flags dynamic,timeout ; timeout ${gap}ms ; }`,
      `add set ${T} big { typeof ${TUPLE} ; size ${o.maxFlowlets} ; flags dynamic,timeout ; timeout ${gap}ms ; }`,
      `add chain ${T} young`);
    lines.push(
      `add rule ${T} output ${TUPLE} != @live limit rate ${rate}/second burst ${Math.max(5, Math.round(rate / 10))} packets log group ${o.nflogGroup} snaplen 80 queue-threshold 1`,
      `add rule ${T} output update @live { ${TUPLE} }`,
      `add rule ${T} output ${TUPLE} @big update @big { ${TUPLE} }`,
      `add rule ${T} output ${TUPLE} != @big jump young`,
    );
    if (o.smallFlowletBytes !== undefined) {
      lines.push(...crossingLines({ smallFlowletBytes: o.smallFlowletBytes, nflogGroup: o.nflogGroup, ...(o.startLogRatePerS !== undefined ? { startLogRatePerS: o.startLogRatePerS } : {}) }));
    }
  }
  lines.push(`add rule ${T} output ${TUPLE} vmap @classes`, `add rule ${T} output jump classify`);
  return [...lines, ...classifyLines(o.thresholds)];
}

/** Deletes the agent's table (never fails: the table is added first if missing). */
export function teardownLines(): string[] {
  return [`add table ${T}`, `delete table ${T}`];
}

/** The element key of a 5-tuple, e.g. `10.0.0.1 . 10.0.0.2 . 6 . 5001 . 80`. */
export function elementKey(f: FiveTuple): string {
  return `${f.src} . ${f.dst} . ${f.proto} . ${f.sport} . ${f.dport}`;
}

export function addOverrideLine(f: FiveTuple, dscp: number): string {
  return `add element ${T} classes { ${elementKey(f)} : goto dscp${dscp} }`;
}

export function deleteOverrideLine(f: FiveTuple): string {
  return `delete element ${T} classes { ${elementKey(f)} }`;
}

/** The poll of the live set. */
export const LIST_LIVE = `list set ${T} live`;

/** One element of the live set as polled: a 5-tuple and the bytes / packets its flowlet has sent. */
export interface LiveElement {
  readonly flow: FiveTuple;
  readonly bytes: number;
  readonly packets: number;
}

const PROTO: Readonly<Record<string, number>> = { tcp: 6, udp: 17 };

/**
 * Elements of `nft -j list set ip rivulet live` output (one JSON document). Elements it cannot read
 * (another protocol, a service name instead of a port) are skipped.
 * @throws SyntaxError when the text is not JSON
 */
export function parseLiveSet(json: string): LiveElement[] {
  const doc = JSON.parse(json) as { nftables?: unknown[] };
  const out: LiveElement[] = [];
  for (const item of doc.nftables ?? []) {
    const set = (item as { set?: { elem?: unknown[] } }).set;
    for (const raw of set?.elem ?? []) {
      const el = (raw as { elem?: { val?: { concat?: unknown[] }; counter?: { packets?: number; bytes?: number } } }).elem;
      const c = el?.val?.concat;
      if (!c || c.length !== 5) continue;
      const [src, dst, p, sport, dport] = c;
      const proto = typeof p === 'number' ? p : PROTO[String(p)];
      if (typeof src !== 'string' || typeof dst !== 'string' || proto === undefined || typeof sport !== 'number' || typeof dport !== 'number') continue;
      out.push({ flow: { src, dst, proto, sport, dport }, bytes: el?.counter?.bytes ?? 0, packets: el?.counter?.packets ?? 0 });
    }
  }
  return out;
}
