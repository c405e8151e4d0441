/**
 * Packet-in protection (pure; time passed in): every PACKET_IN is classified from its frame's EtherType
 * — LLDP, ARP, IPv4 (a new flow, or a packet of one being set up), other — and admitted only while the
 * token buckets of its class on its ingress port AND on its switch have a token. What is not admitted is
 * dropped before any app sees it and counted per switch, port and class.
 *
 * The buckets are per class, so a flood of new IPv4 flows spends the IPv4 budget only: LLDP (discovery)
 * and ARP keep theirs. The per-port bucket is smaller than the per-switch one, so a host that floods
 * spends its own port's budget and the other ports of its switch keep theirs (a host that floods loses
 * its own new-flow packet-ins, not everyone's). Rates are packets per second, a bucket holds one second
 * of tokens (`burstS` seconds) so a short burst passes whole.
 *
 * The admitted packet-ins are dispatched by priority (see {@link PacketInQueue}): LLDP and ARP at once,
 * IPv4 and other through a bounded queue drained in batches, so discovery, echo replies and the REST API
 * run between two batches of new-flow work.
 */

export const PACKET_IN_CLASSES = ['lldp', 'arp', 'ipv4', 'other'] as const;
export type PacketInClass = (typeof PACKET_IN_CLASSES)[number];

/** Budgets in packets per second; 0 = class not limited. */
export interface PacketInBudget {
  readonly lldp: number;
  readonly arp: number;
  readonly ipv4: number;
  readonly other: number;
}

export interface PacketInGateConfig {
  /** per ingress port and class */
  readonly perPortPps: PacketInBudget;
  /** per switch and class (all its ports together) */
  readonly perSwitchPps: PacketInBudget;
  /** bucket depth in seconds of the rate (default 1) */
  readonly burstS?: number;
}

/** Default budgets: generous for discovery and ARP, new flows bounded per host port and per switch. */
export const DEFAULT_PACKET_IN_GATE: PacketInGateConfig = {
  perPortPps: { lldp: 1000, arp: 500, ipv4: 500, other: 200 },
  perSwitchPps: { lldp: 10_000, arp: 2000, ipv4: 2000, other: 1000 },
  burstS: 1,
};

/** Admitted / dropped counts of one class. */
export interface ClassCounts {
  admitted: number;
  dropped: number;
}

export type CountsByClass = Record<PacketInClass, ClassCounts>;

/** Counters of one switch: totals and per port. */
export interface SwitchPacketIns {
  readonly dpid: bigint;
  readonly total: CountsByClass;
  readonly ports: ReadonlyMap<number, CountsByClass>;
}

const ETH_LLDP = 0x88cc;
const ETH_ARP = 0x0806;
const ETH_IPV4 = 0x0800;

/** The class of a frame from its EtherType (one 802.1Q/802.1ad tag skipped). */
export function classifyFrame(data: Buffer): PacketInClass {
  if (data.length < 14) return 'other';
  let et = data.readUInt16BE(12);
  if ((et === 0x8100 || et === 0x88a8) && data.length >= 18) et = data.readUInt16BE(16);
  if (et === ETH_LLDP) return 'lldp';
  if (et === ETH_ARP) return 'arp';
  if (et === ETH_IPV4) return 'ipv4';
  return 'other';
}

const classIndex: Record<PacketInClass, number> = { lldp: 0, arp: 1, ipv4: 2, other: 3 };

function zeroCounts(): CountsByClass {
  return { lldp: { admitted: 0, dropped: 0 }, arp: { admitted: 0, dropped: 0 }, ipv4: { admitted: 0, dropped: 0 }, other: { admitted: 0, dropped: 0 } };
}

/** A token bucket per class: tokens[i], refilled from lastMs. */
class Buckets {
  readonly tokens: Float64Array;
  lastMs: number;
  constructor(private readonly rates: readonly number[], private readonly burstS: number, nowMs: number) {
    this.tokens = Float64Array.from(rates, (r) => r * burstS);
    this.lastMs = nowMs;
  }
  refill(nowMs: number): void {
    const dt = (nowMs - this.lastMs) / 1000;
    if (dt <= 0) return;
    this.lastMs = nowMs;
    for (let i = 0; i < this.rates.length; i++) {
      const r = this.rates[i]!;
      if (r > 0) this.tokens[i] = Math.min(r * this.burstS, this.tokens[i]! + r * dt);
    }
  }
  has(i: number): boolean {
    return this.rates[i] === 0 || this.tokens[i]! >= 1;
  }
  take(i: number): void {
    if (this.rates[i]! > 0) this.tokens[i]! -= 1;
  }
}

interface SwitchState {
  readonly buckets: Buckets;
  readonly ports: Map<number, { buckets: Buckets; counts: CountsByClass }>;
  readonly total: CountsByClass;
}

/** Per-switch, per-port, per-class token buckets and counters. */
export class PacketInGate {
  private readonly sws = new Map<bigint, SwitchState>();
  private readonly portRates: number[];
  private readonly switchRates: number[];
  private readonly burstS: number;
  /** dropped packet-ins per class since start (all switches, also the forgotten ones) */
  readonly droppedTotal: Record<PacketInClass, number> = { lldp: 0, arp: 0, ipv4: 0, other: 0 };
  readonly admittedTotal: Record<PacketInClass, number> = { lldp: 0, arp: 0, ipv4: 0, other: 0 };

  constructor(config: PacketInGateConfig = DEFAULT_PACKET_IN_GATE) {
    const rates = (b: PacketInBudget): number[] => PACKET_IN_CLASSES.map((c) => b[c]);
    this.portRates = rates(config.perPortPps);
    this.switchRates = rates(config.perSwitchPps);
    this.burstS = config.burstS ?? 1;
  }

  /**
   * Whether a packet-in of class `cls` from (dpid, inPort) may go on; counts it either way. `charge`
   * false: admitted and counted without spending a token (a new flow's packet-in on a later hop of its
   * path: the flow was charged once, at its ingress).
   */
  admit(dpid: bigint, inPort: number, cls: PacketInClass, nowMs: number, charge = true): boolean {
    let sw = this.sws.get(dpid);
    if (!sw) {
      sw = { buckets: new Buckets(this.switchRates, this.burstS, nowMs), ports: new Map(), total: zeroCounts() };
      this.sws.set(dpid, sw);
    }
    let port = sw.ports.get(inPort);
    if (!port) {
      port = { buckets: new Buckets(this.portRates, this.burstS, nowMs), counts: zeroCounts() };
      sw.ports.set(inPort, port);
    }
    const i = classIndex[cls];
    port.buckets.refill(nowMs);
    sw.buckets.refill(nowMs);
    const ok = !charge || (port.buckets.has(i) && sw.buckets.has(i));
    if (ok) {
      if (charge) {
        port.buckets.take(i);
        sw.buckets.take(i);
      }
      port.counts[cls].admitted++;
      sw.total[cls].admitted++;
      this.admittedTotal[cls]++;
    } else {
      port.counts[cls].dropped++;
      sw.total[cls].dropped++;
      this.droppedTotal[cls]++;
    }
    return ok;
  }

  /** The switch left: its buckets and counters go (the totals keep its counts). */
  forget(dpid: bigint): void {
    this.sws.delete(dpid);
  }

  /** Counters per connected switch and port. */
  switches(): SwitchPacketIns[] {
    return [...this.sws].map(([dpid, s]) => ({
      dpid, total: s.total, ports: new Map([...s.ports].map(([p, x]) => [p, x.counts])),
    }));
  }
}

/**
 * Priority dispatch of admitted packet-ins: `urgent` classes (LLDP, ARP) run at once; the others wait in
 * a FIFO of at most `maxQueued` entries (beyond: dropped and counted) drained `batch` at a time, one
 * batch per event-loop turn (setImmediate), so timers, socket reads (LLDP, echo) and the REST API get a
 * turn between two batches.
 */
export class PacketInQueue<T> {
  private items: T[] = [];
  private head = 0;
  private scheduled = false;
  /** entries dropped because the queue was full */
  overflowed = 0;

  constructor(
    private readonly run: (item: T) => void,
    private readonly maxQueued = 4096,
    private readonly batch = 256,
    private readonly schedule: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Queues `item`; false when the queue is full (the item is dropped). */
  push(item: T): boolean {
    if (this.length >= this.maxQueued) {
      this.overflowed++;
      return false;
    }
    this.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.drain);
    }
    return true;
  }

  /** Drops everything queued. */
  clear(): void {
    this.items = [];
    this.head = 0;
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const end = Math.min(this.items.length, this.head + this.batch);
    while (this.head < end) {
      const item = this.items[this.head]!;
      this.items[this.head++] = undefined as unknown as T;
      this.run(item);
    }
    if (this.head >= this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.length > 0 && !this.scheduled) {
      this.scheduled = true;
      this.schedule(this.drain);
    }
  };
}
