/**
 * Test helpers that build capture bytes from scratch: pcap files (libpcap 2.4, little endian, µs) and
 * Ethernet / Linux-cooked frames carrying IPv4 or IPv6 TCP segments. Checksums are left zero.
 */
import { parseIpv4, parseIpv6 } from '../openflow/codec/buffer.js';

export interface PcapRecord {
  readonly tsUs: number;
  readonly data: Buffer;
  /** defaults to data.length */
  readonly origLen?: number;
}

/** A pcap file: 24-byte global header, then a 16-byte header per record. */
export function buildPcap(records: readonly PcapRecord[], linkType = 1, snapLen = 262144): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(snapLen, 16);
  head.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [head];
  for (const r of records) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(r.tsUs / 1e6), 0);
    h.writeUInt32LE(r.tsUs % 1e6, 4);
    h.writeUInt32LE(r.data.length, 8);
    h.writeUInt32LE(r.origLen ?? r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

export interface TcpSpec {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack?: number;
  /** FIN 1, SYN 2, RST 4, PSH 8, ACK 16; default ACK */
  readonly flags?: number;
  readonly payload?: Buffer;
  /** 802.1Q VLAN ids to tag the Ethernet frame with */
  readonly vlans?: readonly number[];
}

/** TCP header (20 bytes, or 32 with a timestamp-like option block) + payload. */
export function tcpBytes(t: TcpSpec, withOptions = false): Buffer {
  const hlen = withOptions ? 32 : 20;
  const h = Buffer.alloc(hlen);
  h.writeUInt16BE(t.srcPort, 0);
  h.writeUInt16BE(t.dstPort, 2);
  h.writeUInt32BE(t.seq >>> 0, 4);
  h.writeUInt32BE((t.ack ?? 0) >>> 0, 8);
  h[12] = (hlen / 4) << 4;
  h[13] = t.flags ?? 0x10;
  h.writeUInt16BE(65535, 14);
  if (withOptions) h.fill(1, 20, 32); // NOPs
  return Buffer.concat([h, t.payload ?? Buffer.alloc(0)]);
}

/** IPv4 or IPv6 packet (chosen by the address form) around a TCP segment. */
export function ipTcpBytes(t: TcpSpec, withOptions = false): Buffer {
  const seg = tcpBytes(t, withOptions);
  if (t.src.includes(':')) {
    const h = Buffer.alloc(40);
    h[0] = 0x60;
    h.writeUInt16BE(seg.length, 4);
    h[6] = 6;
    h[7] = 64;
    parseIpv6(t.src).copy(h, 8);
    parseIpv6(t.dst).copy(h, 24);
    return Buffer.concat([h, seg]);
  }
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + seg.length, 2);
  h[8] = 64;
  h[9] = 6;
  parseIpv4(t.src).copy(h, 12);
  parseIpv4(t.dst).copy(h, 16);
  return Buffer.concat([h, seg]);
}

/** Ethernet II frame (optionally 802.1Q-tagged) around an IP TCP packet. */
export function ethTcpFrame(t: TcpSpec, withOptions = false): Buffer {
  const ip = ipTcpBytes(t, withOptions);
  const tags = (t.vlans ?? []).map((v) => {
    const tag = Buffer.alloc(4);
    tag.writeUInt16BE(0x8100, 0);
    tag.writeUInt16BE(v & 0x0fff, 2);
    return tag;
  });
  const type = Buffer.alloc(2);
  type.writeUInt16BE(t.src.includes(':') ? 0x86dd : 0x0800, 0);
  const macs = Buffer.from('020000000002020000000001', 'hex');
  return Buffer.concat([macs, ...tags, type, ip]);
}

/** Linux cooked (SLL, link type 113) frame around an IP TCP packet. */
export function sllTcpFrame(t: TcpSpec): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // to us
  h.writeUInt16BE(772, 2); // ARPHRD_LOOPBACK
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(t.src.includes(':') ? 0x86dd : 0x0800, 14);
  return Buffer.concat([h, ipTcpBytes(t)]);
}
