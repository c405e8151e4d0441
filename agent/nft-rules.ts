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
 *     set nopayload   `tcp doff . ip length` pairs of TCP segments without payload (IPv4 without options)
 *     map classes     5-tuple → `goto dscpN`: per-flow overrides (a declared size or deadline, a DSCP the
 *                     controller asked for), installed at a flowlet's start, removed at its end
 *     chain dscpN     `ip dscp set N accept`, one per DSCP in use
 *     chain classify  PIAS demotion by the bytes the FLOW has sent so far in this packet's direction —
 *                     conntrack's per-direction byte counters (`ct original|reply bytes`, which need
 *                     `net.netfilter.nf_conntrack_acct=1`) in interval verdict maps, one range per class
 *     chain ack       the class of segments without payload (see {@link ACK_POLICY})
 *     chain output    hook output, priority mangle: the order above
 *
 * PIAS (Bai et al., NSDI 2015, §3–§4) tags packets at the end host in the kernel by the bytes the flow has
 * sent; doing the same with conntrack makes the class a property of the flow (5-tuple + connection), not
 * of a flowlet: a large flow's later flowlets keep their demoted class.
 *
 * Measured here (nft 1.0.6, kernel 6.x): `nft -i` runs each input line as one transaction (commands joined
 * with `;` are atomic); JSON listings (`-j`) give element counters but `expires` only in whole seconds, so
 * the agent times ends by its own polls; `ip dscp set … map` is rejected, the vmap-to-chain form works.
 */
import type { FiveTuple, Thresholds } from '../protocol/agent.js';

export const NFT_TABLE = 'rivulet';
const T = `ip ${NFT_TABLE}`;
const TUPLE = 'ip saddr . ip daddr . meta l4proto . th sport . th dport';
/** The largest value of a conntrack byte counter (64 bits). */
const U64_MAX = '18446744073709551615';

/**
 * What segments without payload (pure ACKs; SYN, FIN, RST without data) are marked with: the class of
 * the data they acknowledge, i.e. the class the OPPOSITE direction's byte count gives.
 *
 * Why: such a segment adds almost no load (≈ 66 bytes on the wire per two full segments acknowledged,
 * about 2% of the data rate), but its delay is the delay of the data it clocks. A small flow's ACKs
 * ride its own (top) class, so they never wait behind bulk data going the other way (an ACK in the
 * lowest queue would add that queue's delay to every round trip of the small flow); a large flow's ACKs
 * follow it down, so the top queue carries only small flows and their ACKs — not every ACK stream of
 * every bulk transfer. Classing ACKs by their own byte count would instead drift them down the classes
 * as ACK bytes add up (≈ 2% of the data), and leaving them unmarked would put every ACK in the lowest
 * queue.
 */
export const ACK_POLICY = 'class of the acknowledged direction';

export interface NftTableOptions {
  /** idle gap ending a flowlet (the live set's element timeout), ms */
  readonly idleGapMs: number;
  /** NFLOG group of flowlet starts; undefined: no in-kernel detection (the agent captures packets instead) */
  readonly nflogGroup?: number;
  /** elements of the live set at most (live flowlets) */
  readonly maxFlowlets: number;
  /** flowlet starts logged per second at most (the rest are found by the next poll), default 2000 */
  readonly startLogRatePerS?: number;
  /** PIAS classes; undefined: no marking by bytes (overrides still apply) */
  readonly thresholds?: Thresholds;
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
  return dscps.flatMap((d) => [`add chain ${T} dscp${d}`, `flush chain ${T} dscp${d}`, `add rule ${T} dscp${d} ip dscp set ${d} accept`]);
}

/**
 * The byte ranges of the classes as an nft interval vmap body: priority i covers
 * [thresholdsBytes[i−1], thresholdsBytes[i] − 1], the last one up to 2^64 − 1.
 * Thresholds that do not increase (or are < 1) are dropped with their class merged into the previous one.
 */
export function classRanges(t: Thresholds): string {
  const n = t.dscpByPriority.length;
  const k = Math.min(t.thresholdsBytes.length, n - 1);
  const parts: string[] = [];
  let lo = 0;
  for (let i = 0; i < k; i++) {
    const hi = Math.floor(t.thresholdsBytes[i]!);
    if (!(hi > lo)) continue;
    parts.push(`${lo}-${hi - 1} : goto dscp${t.dscpByPriority[i]!}`);
    lo = hi;
  }
  parts.push(`${lo}-${U64_MAX} : goto dscp${t.dscpByPriority[k]!}`);
  return `{ ${parts.join(', ')} }`;
}

/** Rules of the classify and ack chains for `t` (flushed first); no marking rules without thresholds. */
export function classifyLines(t: Thresholds | undefined): string[] {
  const lines = [`flush chain ${T} classify`, `flush chain ${T} ack`];
  if (!t) return [...lines, `add rule ${T} ack accept`];
  const r = classRanges(t);
  return [
    ...dscpChainLines(dscpsOf(t)),
    ...lines,
    `add rule ${T} classify ct direction original ct original bytes vmap ${r}`,
    `add rule ${T} classify ct direction reply ct reply bytes vmap ${r}`,
    `add rule ${T} ack ct direction original ct reply bytes vmap ${r}`,
    `add rule ${T} ack ct direction reply ct original bytes vmap ${r}`,
    `add rule ${T} ack accept`,
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
    `add chain ${T} classify`,
    `add chain ${T} ack`,
    `add chain ${T} output { type filter hook output priority mangle ; policy accept ; }`,
    `add rule ${T} output meta l4proto != { tcp, udp } accept`,
    `add rule ${T} output meta l4proto tcp tcp doff . ip length @nopayload jump ack`,
  ];
  if (o.nflogGroup !== undefined) {
    const rate = o.startLogRatePerS ?? 2000;
    lines.splice(4, 0, `add set ${T} live { typeof ${TUPLE} ; size ${o.maxFlowlets} ; flags dynamic,timeout ; timeout ${gap}ms ; counter ; }`);
    lines.push(
      `add rule ${T} output ${TUPLE} != @live limit rate ${rate}/second burst ${Math.max(5, Math.round(rate / 10))} packets log group ${o.nflogGroup} snaplen 80 queue-threshold 1`,
      `add rule ${T} output update @live { ${TUPLE} }`,
    );
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
