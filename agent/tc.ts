/**
 * Pure text of the agent's rate limits (Flowtune and BwE enforce allocations at the sender): one
 * HTB on the host interface, one class per limited flowlet and a u32 filter steering its 5-tuple there.
 * A flowlet's class guarantees its allocated rate and may borrow the host link's unused capacity up to a
 * ceiling the controller computes (rate = ceil: a hard limit); classes that may borrow do so last (HTB
 * `prio` {@link FLOWLET_CLASS_PRIO}), after the unlimited traffic's classes.
 * The lines are for one persistent `tc -force -batch -` (tc-batch.ts).
 *
 *   qdisc replace dev IF root handle 1: htb default ffff
 *   class replace dev IF parent 1: classid 1:1 htb rate <link>bit ceil <link>bit       (the link)
 *   class replace dev IF parent 1:1 classid 1:ffff htb rate <link>bit ceil <link>bit   (unlimited traffic)
 *   class add dev IF parent 1:1 classid 1:<n> htb rate <r>bit ceil <r>bit              (one limited flowlet)
 *   class add dev IF parent 1:1 classid 1:<n> htb rate <r>bit ceil <c>bit prio 7       (one that may borrow, c > r)
 *   filter add dev IF parent 1: protocol ip prio 10 handle 800::<n> u32 match ip src S/32 match ip dst D/32
 *     match ip protocol P 0xff match ip sport SP 0xffff match ip dport DP 0xffff flowid 1:<n>
 *
 * A limit's number n (hex in the ids) is both the class minor and the u32 node id, from 2..0xfff (1:1 is
 * the root class; u32 node ids are 12 bits), recycled lowest-first after a flowlet's limit is removed.
 * Every class has an explicit `quantum` of one MTU frame, so classes under their rate share the link
 * packet by packet (HTB's rate/r2q quantum would favour the fast default class and warns above 200 kB),
 * a `burst` of 1 ms at its rate and a `cburst` of 1 ms at its ceiling (at least 1600 bytes each). A limit
 * and its ceiling are clamped to the link rate, the ceiling to at least the rate.
 *
 * Measured here (iproute2 6.1): `qdisc replace` over an existing `htb 1:` fails ("Change operation not
 * supported"), so a stale root of a previous run is deleted first ({@link rootLines} `deleteStale`); the
 * `ip sport/dport` matches of u32 sit at fixed offset 20 (IPv4 without options).
 */
import type { FiveTuple } from '../protocol/agent.js';

/** tc filter priority ("pref") of the flowlet filters. */
export const FLOWLET_FILTER_PRIO = 10;
/** Lowest / highest limit number (class minor and u32 node id). */
export const MIN_LIMIT_NUMBER = 2;
export const MAX_LIMIT_NUMBER = 0xfff;
/**
 * HTB `prio` of the flowlet classes: the largest (7), so when a flowlet borrows above its rate (ceil >
 * rate) the classes of unlimited traffic — the top band's small flows — borrow first.
 */
export const FLOWLET_CLASS_PRIO = 7;
/** Class of unlimited traffic (HTB `default`). */
export const DEFAULT_CLASS = '1:ffff';
/** Quantum of every class, bytes (one Ethernet frame). */
export const CLASS_QUANTUM_BYTES = 1514;

const hex = (n: number): string => n.toString(16);

/** `<bps>bit`, integer bit/s, at least 8. */
export function rateArg(bps: number): string {
  return `${Math.max(8, Math.round(bps))}bit`;
}

/** HTB burst of a class: 1 ms at `bps`, at least 1600 bytes. */
export function burstBytes(bps: number): number {
  return Math.max(1600, Math.ceil(bps / 8 / 1000));
}

function htbParams(bps: number): string {
  const b = burstBytes(bps);
  return `htb rate ${rateArg(bps)} ceil ${rateArg(bps)} burst ${b} cburst ${b} quantum ${CLASS_QUANTUM_BYTES}`;
}

/**
 * A limit's class: guaranteed `bps`; with `ceilBps` above it, borrowing up to `ceilBps` at prio
 * {@link FLOWLET_CLASS_PRIO} (HTB serves the lowest prio first at each level, so a borrowing flowlet also
 * yields to unlimited traffic within its rate); else a hard limit with HTB's default prio.
 */
function flowletParams(bps: number, ceilBps: number): string {
  if (ceilBps <= bps || rateArg(ceilBps) === rateArg(bps)) return htbParams(bps);
  return `htb rate ${rateArg(bps)} ceil ${rateArg(ceilBps)} burst ${burstBytes(bps)} cburst ${burstBytes(ceilBps)} ` +
    `quantum ${CLASS_QUANTUM_BYTES} prio ${FLOWLET_CLASS_PRIO}`;
}

/** The root HTB, the link class 1:1 and the default class 1:ffff; `deleteStale` first deletes an existing root. */
export function rootLines(dev: string, linkRateBps: number, opts: { readonly deleteStale?: boolean } = {}): string[] {
  return [
    ...(opts.deleteStale ? [`qdisc del dev ${dev} root`] : []),
    `qdisc replace dev ${dev} root handle 1: htb default ffff`,
    `class replace dev ${dev} parent 1: classid 1:1 ${htbParams(linkRateBps)}`,
    `class replace dev ${dev} parent 1:1 classid ${DEFAULT_CLASS} ${htbParams(linkRateBps)}`,
  ];
}

/** tc filter priority ("pref") of the DSCP band filters (after the flowlet filters). */
export const BAND_FILTER_PRIO = 20;

/** Class of host band b (b = 0…6): 1:ff0b. */
export function bandClass(b: number): string {
  return `1:ff0${b}`;
}

/**
 * Guaranteed share of the link of every host band, and of the default class under bands: what a band
 * starved by the ones above still sends (at most 1 ÷ (bands + 1), so the guarantees fit in the link). In a
 * shuffle every transfer of one direction leaves through the same senders, so the host band is where a
 * lower class waits; a TCP flow that gets no packet out for a retransmission timeout (≥ 200 ms) collapses to
 * one segment even though its packets wait in the host queue (Linux enters loss recovery and only defers the
 * retransmission), and restarts from slow start when its turn comes. 15% of 20 Mbit/s is 250 full segments
 * a second, the share the shuffle gives every switch queue (`qos.minQueueShare`); measured there (README
 * "Experiments → Measured", shuffle): `fca` ÷ `ecmp` mean TCT 0.96× pooled over ten runs with 15% here and at
 * the switches, against 1.15× over six with 5% here and 1% at the switches (1% here was worse still).
 */
export const BAND_MIN_SHARE = 0.15;

/**
 * A filter that never matches (IP protocol 255, reserved) at the flowlet filters' priority, node 800::1 (limit
 * numbers start at {@link MIN_LIMIT_NUMBER}), written before the band filters. u32 numbers the hash table of
 * each new priority 800:, 801:, … in order of creation, and the flowlet filters name their nodes 800::n:
 * measured here, with the band filters (pref 20) installed first every flowlet filter failed ("cls_u32: Handle
 * specified hash table address mismatch") and the flowlet ran unlimited. `replace`: harmless when it exists.
 */
export function flowletTableLine(dev: string): string {
  return `filter replace dev ${dev} parent 1: protocol ip prio ${FLOWLET_FILTER_PRIO} handle 800::1 u32 match ip protocol 255 0xff flowid ${DEFAULT_CLASS}`;
}

/**
 * Strict priority by DSCP for unlimited traffic (this kernel has no `sch_prio`; HTB's own `prio` does it,
 * as the switches' linux-htb queues do): one class per entry of `bands` under the link class, each with
 * {@link BAND_MIN_SHARE} of the link guaranteed (at most 1 ÷ (bands + 1)), the link as ceil and HTB `prio` b (lower borrows first), a u32 `ip dsfield` filter
 * per DSCP (pref {@link BAND_FILTER_PRIO}, after the flowlet filters), and the default class 1:ffff
 * (every other DSCP) changed to the same guaranteed rate and the lowest prio. Re-installing first deletes the
 * band filters (harmless under `tc -force` when there are none); the flowlet filters' table comes before them
 * ({@link flowletTableLine}).
 * @param bands DSCPs per band, highest priority first (at most 7 bands)
 */
export function bandLines(dev: string, linkRateBps: number, bands: readonly (readonly number[])[]): string[] {
  const n = Math.min(bands.length, 7);
  const min = Math.max(8000, Math.round(linkRateBps * Math.min(BAND_MIN_SHARE, 1 / (n + 1))));
  const b = burstBytes(linkRateBps);
  const params = (prio: number): string =>
    `htb rate ${rateArg(min)} ceil ${rateArg(linkRateBps)} burst ${b} cburst ${b} quantum ${CLASS_QUANTUM_BYTES} prio ${prio}`;
  const lines = [`filter del dev ${dev} parent 1: protocol ip prio ${BAND_FILTER_PRIO}`, flowletTableLine(dev)];
  for (let i = 0; i < n; i++) {
    lines.push(`class replace dev ${dev} parent 1:1 classid ${bandClass(i)} ${params(i)}`);
    for (const d of bands[i]!) {
      lines.push(`filter add dev ${dev} parent 1: protocol ip prio ${BAND_FILTER_PRIO} u32 match ip dsfield 0x${((d & 63) << 2).toString(16)} 0xfc flowid ${bandClass(i)}`);
    }
  }
  lines.push(`class change dev ${dev} classid ${DEFAULT_CLASS} ${params(n)}`);
  return lines;
}

/** Removes everything the agent put on `dev` (the root qdisc and with it every class and filter). */
export function teardownLines(dev: string): string[] {
  return [`qdisc del dev ${dev} root`];
}

/** `class add|change` of limit n at `bps`, borrowing up to `ceilBps` (default `bps`: no borrowing). */
export function classLine(verb: 'add' | 'change', dev: string, n: number, bps: number, ceilBps = bps): string {
  return `class ${verb} dev ${dev} parent 1:1 classid 1:${hex(n)} ${flowletParams(bps, ceilBps)}`;
}

/** The u32 filter steering `flow` to class 1:n, with the explicit handle 800::n. */
export function filterAddLine(dev: string, n: number, flow: FiveTuple): string {
  return (
    `filter add dev ${dev} parent 1: protocol ip prio ${FLOWLET_FILTER_PRIO} handle 800::${hex(n)} u32 ` +
    `match ip src ${flow.src}/32 match ip dst ${flow.dst}/32 match ip protocol ${flow.proto} 0xff ` +
    `match ip sport ${flow.sport} 0xffff match ip dport ${flow.dport} 0xffff flowid 1:${hex(n)}`
  );
}

/** Deletes the filter of limit n by its handle. */
export function filterDelLine(dev: string, n: number): string {
  return `filter del dev ${dev} parent 1: protocol ip prio ${FLOWLET_FILTER_PRIO} handle 800::${hex(n)} u32`;
}

/** Deletes the class of limit n. */
export function classDelLine(dev: string, n: number): string {
  return `class del dev ${dev} classid 1:${hex(n)}`;
}

/** Limit numbers in use, handed out lowest-free-first in MIN_LIMIT_NUMBER..MAX_LIMIT_NUMBER. */
export class LimitNumbers {
  private readonly used = new Set<number>();

  constructor(
    private readonly min = MIN_LIMIT_NUMBER,
    private readonly max = MAX_LIMIT_NUMBER,
  ) {}

  get inUse(): number {
    return this.used.size;
  }

  /** The lowest free number, now in use; undefined when all are taken. */
  take(): number | undefined {
    if (this.used.size > this.max - this.min) return undefined;
    for (let n = this.min; n <= this.max; n++) {
      if (!this.used.has(n)) {
        this.used.add(n);
        return n;
      }
    }
    return undefined;
  }

  /** Returns n to the pool (a no-op for a free number). */
  release(n: number): void {
    this.used.delete(n);
  }
}

/** One flowlet's limit as installed. */
export interface TcLimit {
  readonly id: string;
  /** class minor and u32 node id */
  readonly n: number;
  readonly flow: FiveTuple;
  /** after clamping to the link rate, bit/s */
  readonly rateBps: number;
  /** what it may borrow up to: in [rateBps, link rate], bit/s (= rateBps: a hard limit) */
  readonly ceilBps: number;
}

/** What a set did. `exhausted`: no limit number free (nothing written, the flowlet stays unlimited). */
export type TcSetResult =
  | { readonly ok: true; readonly lines: readonly string[]; readonly limit: TcLimit; readonly changed: boolean }
  | { readonly ok: false; readonly reason: 'exhausted' };

/**
 * The agent's limits on one interface, and the tc lines that change them. Holds no I/O: the caller
 * writes the returned lines (in order) to tc.
 */
export class TcPlanner {
  private readonly limits = new Map<string, TcLimit>();
  private readonly numbers: LimitNumbers;

  constructor(
    readonly dev: string,
    readonly linkRateBps: number,
    numbers: LimitNumbers = new LimitNumbers(),
  ) {
    this.numbers = numbers;
  }

  /**
   * Limits `id` (5-tuple `flow`) to `rateBps` bit/s, borrowing the link's unused capacity up to `ceilBps`
   * (default: none): a new class + filter, or a `class change`; nothing when unchanged.
   */
  set(id: string, flow: FiveTuple, rateBps: number, ceilBps = rateBps): TcSetResult {
    const rate = Math.max(8, Math.round(Math.min(rateBps, this.linkRateBps)));
    const ceil = Math.max(rate, Math.round(Math.min(ceilBps, this.linkRateBps)));
    const old = this.limits.get(id);
    if (old) {
      if (old.rateBps === rate && old.ceilBps === ceil) return { ok: true, lines: [], limit: old, changed: false };
      const limit = { ...old, rateBps: rate, ceilBps: ceil };
      this.limits.set(id, limit);
      return { ok: true, lines: [classLine('change', this.dev, old.n, rate, ceil)], limit, changed: true };
    }
    const n = this.numbers.take();
    if (n === undefined) return { ok: false, reason: 'exhausted' };
    const limit: TcLimit = { id, n, flow, rateBps: rate, ceilBps: ceil };
    this.limits.set(id, limit);
    return { ok: true, lines: [classLine('add', this.dev, n, rate, ceil), filterAddLine(this.dev, n, flow)], limit, changed: true };
  }

  /** Removes the limit of `id` (filter first, then its class); [] when it has none. */
  clear(id: string): string[] {
    const old = this.limits.get(id);
    if (!old) return [];
    this.limits.delete(id);
    this.numbers.release(old.n);
    return [filterDelLine(this.dev, old.n), classDelLine(this.dev, old.n)];
  }

  /** Removes every limit. */
  clearAll(): string[] {
    return [...this.limits.keys()].flatMap((id) => this.clear(id));
  }

  /** The limit of `id`, if any. */
  limitOf(id: string): TcLimit | undefined {
    return this.limits.get(id);
  }

  /** Every installed limit. */
  all(): TcLimit[] {
    return [...this.limits.values()];
  }
}
