/**
 * The QoS plan of one switch port (Karuna's switch side: strict priority by DSCP): strict-priority
 * queues selected by DSCP, shaped at the port's capacity, with a DCTCP-style ECN threshold. Pure: built
 * from the config and the port's facts; the shells (ovsdb, tc) apply it.
 *
 * Queues: 0 … n−1, queue 0 best effort (every DSCP not in the map), the highest queue served first.
 * On linux-htb, queue q is HTB class 1:(q+1) with prio (n−1−q) (lower prio value served first) and a small
 * guaranteed min-rate (`minQueueShare` of capacity, default 1%, ≥ 12 kbit/s), ceil = capacity: strict
 * priority among backlogged classes above their guarantees, work-conserving when the higher classes are idle.
 */
import { ecnThresholdPackets } from './ecn-threshold.js';
import { dpidPortKey } from '../../lib/dpid.js';
import type { PortQosRows } from './ovsdb-txn.js';

/** What the plan reads of the `qos` config section. */
export interface QosPlanConfig {
  readonly queues: number;
  readonly dscpMap: Readonly<Record<string, readonly number[]>>;
  /** fixed per-class buffer, packets; absent: derived from bufferDelayMs */
  readonly bufferPackets?: number | undefined;
  readonly bufferDelayMs: number;
  readonly bufferMinPackets: number;
  /** share of the capacity guaranteed to every queue (default {@link MIN_QUEUE_SHARE}) */
  readonly minQueueShare?: number | undefined;
  readonly ecn: {
    readonly enabled: boolean;
    readonly bySpeed: Readonly<Record<string, number>>;
    readonly minPackets: number;
    readonly ports: Readonly<Record<string, number>>;
    readonly packetBytes: number;
  };
}

export interface QueuePlan {
  readonly id: number;
  /** HTB prio on linux-htb: lower is served first */
  readonly priority: number;
  readonly minRateBps: number;
  readonly maxRateBps: number;
  /** DSCP values steered here (queue 0: the rest, listed empty) */
  readonly dscp: readonly number[];
}

export interface EcnPlan {
  readonly enabled: boolean;
  readonly thresholdPackets: number;
  readonly thresholdBytes: number;
  /** where the threshold came from: a per-port key, or the speed rule */
  readonly source: 'port' | 'speed';
}

export interface PortPlan {
  readonly dpid: bigint;
  readonly portNo: number;
  /** OVS port / Linux interface name */
  readonly portName: string;
  /** shaping rate = link capacity, bit/s */
  readonly capacityBps: number;
  readonly queues: readonly QueuePlan[];
  /** DSCP → queue, only the DSCPs of the map (all others go to queue 0) */
  readonly dscpToQueue: ReadonlyMap<number, number>;
  readonly ecn: EcnPlan;
  /** the drop-tail buffer under each queue, and where it came from */
  readonly buffer: BufferPlan;
}

export interface BufferPlan {
  readonly packets: number;
  readonly bytes: number;
  /** queueing delay a full buffer adds at the port's capacity, ms */
  readonly delayMs: number;
  readonly source: 'config' | 'delay';
}

/**
 * The per-class buffer of a port: `bufferPackets` when configured, else `bufferDelayMs` of queueing at
 * the capacity — B = C·d / (8·packetBytes) (a fixed delay budget rather than a fixed packet count, which
 * at 20 Mbit/s is 600 ms for 1000 packets) — never under `bufferMinPackets` nor the ECN threshold.
 */
export function bufferOf(cfg: Pick<QosPlanConfig, 'bufferPackets' | 'bufferDelayMs' | 'bufferMinPackets' | 'ecn'>, capacityBps: number, ecnPackets: number): BufferPlan {
  const pb = cfg.ecn.packetBytes;
  const packets = cfg.bufferPackets ?? Math.max(cfg.bufferMinPackets, ecnPackets, Math.ceil((capacityBps * cfg.bufferDelayMs) / 1000 / 8 / pb));
  return { packets, bytes: packets * pb, delayMs: capacityBps > 0 ? (packets * pb * 8 * 1000) / capacityBps : 0, source: cfg.bufferPackets !== undefined ? 'config' : 'delay' };
}

/** Smallest min-rate a queue gets, bit/s (one 1500-byte packet per second). */
export const MIN_QUEUE_RATE_BPS = 12_000;
/** Default share of the capacity guaranteed to every queue (`qos.minQueueShare`; the rest is served by strict priority). */
export const MIN_QUEUE_SHARE = 0.01;

/** `<16 hex digits>:<port>`, the key form of config maps. */
export function portKey(dpid: bigint, portNo: number): string {
  return dpidPortKey(dpid, portNo);
}

/** The plan of one port. @param capacityBps the port's shaping rate (> 0) */
export function planPort(cfg: QosPlanConfig, dpid: bigint, portNo: number, portName: string, capacityBps: number): PortPlan {
  const n = cfg.queues;
  const minRate = Math.max(MIN_QUEUE_RATE_BPS, Math.round(capacityBps * (cfg.minQueueShare ?? MIN_QUEUE_SHARE)));
  const dscpToQueue = new Map<number, number>();
  for (const [q, list] of Object.entries(cfg.dscpMap)) for (const d of list) dscpToQueue.set(d, Number(q));
  const queues: QueuePlan[] = [];
  for (let id = 0; id < n; id++) {
    const dscp = [...dscpToQueue].filter(([, q]) => q === id).map(([d]) => d).sort((a, b) => a - b);
    queues.push({ id, priority: n - 1 - id, minRateBps: Math.min(minRate, capacityBps), maxRateBps: capacityBps, dscp });
  }
  const key = portKey(dpid, portNo);
  const perPort = cfg.ecn.ports[key];
  const bySpeed = ecnThresholdPackets(capacityBps, cfg.ecn.bySpeed, cfg.ecn.minPackets);
  const packets = perPort ?? (cfg.bufferPackets !== undefined ? Math.min(cfg.bufferPackets, bySpeed) : bySpeed);
  return {
    dpid,
    portNo,
    portName,
    capacityBps,
    queues,
    dscpToQueue,
    ecn: { enabled: cfg.ecn.enabled, thresholdPackets: packets, thresholdBytes: packets * cfg.ecn.packetBytes, source: perPort === undefined ? 'speed' : 'port' },
    buffer: bufferOf(cfg, capacityBps, packets),
  };
}

/** The OVSDB rows of a plan (QoS linux-htb, max-rate = capacity; one Queue row per queue). */
export function ovsRows(p: PortPlan): PortQosRows {
  return {
    portName: p.portName,
    type: 'linux-htb',
    maxRateBps: p.capacityBps,
    queues: p.queues.map((q) => ({ id: q.id, minRateBps: q.minRateBps, maxRateBps: q.maxRateBps, priority: q.priority })),
  };
}

/** The queue a packet of this DSCP goes to (0 when unmapped). */
export function queueOfDscp(p: Pick<PortPlan, 'dscpToQueue'>, dscp: number): number {
  return p.dscpToQueue.get(dscp) ?? 0;
}

/** The DSCP → queue rule of a map (queue → DSCPs), for routing's set_queue: unmapped DSCPs → queue 0. */
export function dscpQueueRule(dscpMap: Readonly<Record<string, readonly number[]>>): (dscp: number) => number {
  const m = new Map<number, number>();
  for (const [q, list] of Object.entries(dscpMap)) for (const d of list) m.set(d, Number(q));
  return (dscp) => m.get(dscp) ?? 0;
}
