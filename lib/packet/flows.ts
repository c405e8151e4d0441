/**
 * Per-direction flow records of a capture (pure): one record per (protocol, source, source port,
 * destination, destination port), with every packet's timestamp and size kept so that flowlet
 * statistics (`rivulet trace`; PIAS's flowlets) can be computed from it.
 */
import type { ParsedPacket } from './frame.js';

/** A directional 5-tuple. Ports are 0 for protocols without ports. */
export interface FiveTuple {
  readonly proto: number;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
}

/** One direction of one flow. Sizes in bytes, times in microseconds since the epoch. */
export interface FlowRecord {
  readonly key: FiveTuple;
  readonly firstFrame: number;
  readonly firstTsUs: number;
  lastTsUs: number;
  packets: number;
  /** IP bytes (IPv4 total length / IPv6 40 + payload length) */
  bytes: number;
  /** transport payload bytes (TCP/UDP), 0 for other protocols */
  payloadBytes: number;
  /** per packet, in capture order */
  readonly timesUs: number[];
  /** per packet IP bytes, in capture order */
  readonly sizes: number[];
}

/** A stable string for a 5-tuple, e.g. "6 10.0.0.1:5000>10.0.0.2:80". */
export function flowKeyString(k: FiveTuple): string {
  return `${k.proto} ${k.src}:${k.srcPort}>${k.dst}:${k.dstPort}`;
}

/** Groups the IP packets of a capture into directional flows, in order of first packet. */
export function buildFlows(packets: Iterable<ParsedPacket>): FlowRecord[] {
  const byKey = new Map<string, FlowRecord>();
  for (const p of packets) {
    if (!p.ip) continue;
    const l4 = p.tcp ?? p.udp;
    const key: FiveTuple = {
      proto: p.ip.proto,
      src: p.ip.src,
      srcPort: l4?.srcPort ?? 0,
      dst: p.ip.dst,
      dstPort: l4?.dstPort ?? 0,
    };
    const ks = flowKeyString(key);
    let f = byKey.get(ks);
    if (!f) {
      f = { key, firstFrame: p.frame, firstTsUs: p.tsUs, lastTsUs: p.tsUs, packets: 0, bytes: 0, payloadBytes: 0, timesUs: [], sizes: [] };
      byKey.set(ks, f);
    }
    f.lastTsUs = Math.max(f.lastTsUs, p.tsUs);
    f.packets++;
    f.bytes += p.ip.length;
    f.payloadBytes += l4?.payloadLen ?? 0;
    f.timesUs.push(p.tsUs);
    f.sizes.push(p.ip.length);
  }
  return [...byKey.values()];
}
