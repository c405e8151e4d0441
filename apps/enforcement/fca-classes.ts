/**
 * FCA's transfer order enforced by strict-priority queues instead of per-flowlet rates (the
 * `enforcement.fcaEnforce: priority` option). FCA §4.2 serves transfers one after another, smallest
 * remaining volume first; Aalo (Chowdhury & Stoica, SIGCOMM 2015, §4) and D-CLAS enforce such an
 * inter-coflow order with a few priority queues at the end hosts and switches rather than with rates:
 * the network stays work-conserving at packet timescales, and when the served transfer finishes the next
 * class simply flows, with no controller round trip in between.
 *
 * Here: live transfers (a flowlet without a transfer is its own) are ranked by remaining volume, smallest
 * first (as apps/allocator/fca.ts `transfersBySize`); each takes the highest data class below the smaller
 * transfers it shares a link with ({@link fcaClassDscpOf}), and each class is one DSCP (the first DSCP of a QoS queue, highest queue below the top one first; the top
 * queue stays with small flowlets, ACKs and LLDP/ARP; the last class is DSCP 0, best effort). Pure.
 *
 * Traffic the controller has not ranked yet (a new flowlet, one under the small-flowlet threshold, a
 * message on a kept-alive connection between flowlets) rides the TOP queue ({@link fcaUnrankedThresholds}),
 * as a new coflow starts in Aalo's highest queue: left in best effort it would wait behind every ranked
 * transfer (measured: small flows' mean FCT 14× `ecmp`'s, 41 flows timed out).
 */
import type { Thresholds } from '../../protocol/agent.js';
import type { EnforcementSettings } from './types.js';

/**
 * The data classes' DSCPs when fca's order is enforced by priority classes (policy `fca` with
 * `fcaClassDscps` set), else undefined: rates are enforced.
 */
export function fcaClassesOf(settings: Pick<EnforcementSettings, 'policy' | 'fcaClassDscps'>): readonly number[] | undefined {
  return settings.policy === 'fca' ? settings.fcaClassDscps : undefined;
}

/** One allocated flowlet as the ranking sees it. */
export interface FcaClassInput {
  readonly id: string;
  /** the transfer it belongs to; undefined: the flowlet is its own transfer */
  readonly transferId?: string | undefined;
  /** bytes still to send (Infinity: unknown size, ranked after every sized transfer) */
  readonly remainingBytes: number;
  /** the (directed) links its path crosses; undefined: unknown, the flowlet is taken to share every link */
  readonly links?: readonly number[] | undefined;
  /** the DSCP it rides now (pushed earlier); undefined: none yet */
  readonly currentDscp?: number | undefined;
}

/**
 * The DSCP of each flowlet. Transfers are ranked by total remaining bytes, smallest first (ties: the order
 * of first appearance in `flowlets`), and given classes in that order, each the highest class below every
 * smaller transfer it SHARES A LINK with: class(T) = max over T's links l of next(l), then next(l) =
 * class(T) + 1 on each of T's links (clamped at the last class). On every link the classes keep the
 * smallest-remaining-first order, while transfers that meet nowhere (a shuffle one way and one the other
 * way, over the directed links) do not use up each other's classes: with all transfers on one link this
 * is the plain rank, rank i → class min(i, classes − 1) (FCA §4.2 serves transfers in that order per
 * bottleneck; with as few classes as a switch has, the ones spent on transfers that never meet are lost).
 *
 * Classes are STICKY upwards: a transfer already in a class (its flowlets' `currentDscp`, the lowest of
 * them) keeps it while that is at or below its place, and is moved up only out of the last class, and only
 * when a larger transfer shares a link with it (the last class is shared, so only there does the order
 * need the move). Moving a live TCP flow to a higher class sends its next packets ahead of its own packets
 * still queued in the lower one: reordering, which TCP takes for loss (measured in the shuffle: 1,600
 * spurious retransmissions, DSACKs, against 70 under ECMP); and under strict priority a class
 * above an empty one gains nothing (the empty class costs no service). Moves down never reorder.
 * @param classDscps DSCP per data class, highest priority first (at least one)
 * @returns flowlet id → DSCP
 */
export function fcaClassDscpOf(flowlets: Iterable<FcaClassInput>, classDscps: readonly number[]): Map<string, number> {
  if (classDscps.length === 0) throw new RangeError('fcaClassDscpOf: no classes');
  const ANY = -1; // the link of a flowlet whose path is unknown: shared with every transfer
  const last = classDscps.length - 1;
  const classOf = new Map(classDscps.map((d, i) => [d, i] as const));
  const groups = new Map<string, { ids: string[]; remaining: number; order: number; links: Set<number>; current: number | undefined; largerShares: boolean }>();
  for (const f of flowlets) {
    const key = f.transferId !== undefined ? `t:${f.transferId}` : `f:${f.id}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ids: [], remaining: 0, order: groups.size, links: new Set(), current: undefined, largerShares: false }));
    g.ids.push(f.id);
    g.remaining += Math.max(0, f.remainingBytes);
    if (f.links && f.links.length > 0) for (const l of f.links) g.links.add(l);
    else g.links.add(ANY);
    const c = f.currentDscp === undefined ? undefined : classOf.get(f.currentDscp);
    if (c !== undefined) g.current = Math.max(g.current ?? 0, c);
  }
  const ranked = [...groups.values()].sort((a, b) => (a.remaining === b.remaining ? a.order - b.order : a.remaining < b.remaining ? -1 : 1));
  // whether a larger transfer shares a link with each (from the largest down)
  const laterLinks = new Set<number>();
  for (let i = ranked.length - 1; i >= 0; i--) {
    const g = ranked[i]!;
    g.largerShares = laterLinks.has(ANY) || (g.links.has(ANY) ? laterLinks.size > 0 : [...g.links].some((l) => laterLinks.has(l)));
    for (const l of g.links) laterLinks.add(l);
  }
  /** per link: the class the next (larger) transfer on it gets at the earliest */
  const next = new Map<number, number>();
  let nextAny = 0; // the earliest class of a transfer sharing the unknown link (every transfer shares it)
  let nextMax = 0; // max of next over every link (what a transfer on ANY must stay below)
  const out = new Map<string, number>();
  for (const g of ranked) {
    let cls = nextAny;
    if (g.links.has(ANY)) cls = Math.max(cls, nextMax);
    else for (const l of g.links) cls = Math.max(cls, next.get(l) ?? 0);
    cls = Math.min(cls, last);
    // sticky upwards (see above): stay in a lower class than the place, unless it is the shared last one and a larger transfer shares a link
    if (g.current !== undefined && g.current > cls && (g.current < last || !g.largerShares)) cls = g.current;
    const after = Math.min(cls + 1, last);
    if (g.links.has(ANY)) nextAny = Math.max(nextAny, after);
    for (const l of g.links) if (l !== ANY) next.set(l, Math.max(next.get(l) ?? 0, after));
    nextMax = Math.max(nextMax, after);
    const dscp = classDscps[cls]!;
    for (const id of g.ids) out.set(id, dscp);
  }
  return out;
}

/**
 * The data classes' DSCPs from the QoS queues: the first DSCP of queue `queues − 2`, `queues − 3`, …, 1,
 * then 0 (best effort). With the default 4 queues and DSCP map: [26, 10, 0]. Fewer than 3 queues: [0]
 * (no order can be enforced).
 */
export function fcaClassDscps(queues: number, dscpMap: Readonly<Record<string, readonly number[]>>): number[] {
  const out: number[] = [];
  for (let q = queues - 2; q >= 1; q--) {
    const d = dscpMap[String(q)]?.[0];
    if (d !== undefined) out.push(d);
  }
  out.push(0);
  return out;
}

/**
 * Host egress bands (agent `welcome.hostBands`) mirroring the switch queues: band 0 = the DSCPs of the
 * highest queue, …; DSCPs of no queue go to the last band (queue 0).
 */
export function hostBands(queues: number, dscpMap: Readonly<Record<string, readonly number[]>>): number[][] {
  const out: number[][] = [];
  for (let q = queues - 1; q >= 1; q--) out.push([...(dscpMap[String(q)] ?? [])]);
  return out;
}

/**
 * The agents' own classes under fca priority enforcement: every byte they class themselves (no PIAS
 * demotion) in the top queue's first DSCP, so unranked traffic is never below a ranked transfer.
 * undefined: no top DSCP in the map (the agents keep their default classes).
 */
export function fcaUnrankedThresholds(queues: number, dscpMap: Readonly<Record<string, readonly number[]>>): Thresholds | undefined {
  const top = dscpMap[String(queues - 1)]?.[0];
  return top === undefined ? undefined : { thresholdsBytes: [], dscpByPriority: [top] };
}
