/**
 * Ethernet frames for the fake fabric: builders for what fake hosts send (ARP, IPv4 TCP/UDP) and a
 * small field extractor that turns a frame into OXM field values (OpenFlow 1.3.5 §7.2.3.7), so the fake
 * switches can match packets against their flow tables.
 *
 * The fake's parsing ({@link packetFields}) is deliberately independent of lib/packet/frame.ts: the fake
 * must not share parsing code with the controller it tests. Building Ethernet and ARP frames is
 * lib/packet/frame.ts's (one builder; what the controller parses is checked by the fake's own parser). Values use the codec's conventions: MAC "aa:bb:cc:dd:ee:ff" (lower case),
 * IPv4 dotted quad, integers as numbers.
 */
import type { OxmFieldName } from '../../openflow/codec/index.js';
import { buildArp, buildEthernet } from '../../lib/packet/frame.js';

export const ETH_TYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, LLDP: 0x88cc, IPV6: 0x86dd } as const;
export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;

/** OXM field values of one packet (only the fields the packet has). */
export type PacketFields = { [K in OxmFieldName]?: number | string };

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6) throw new RangeError(`bad MAC ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function macText(buf: Buffer, offset: number): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(buf[offset + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`bad IPv4 ${ip}`);
  return Buffer.from(parts);
}

export function ipv4Text(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** Ethernet II header + payload, padded to the 60-byte minimum (no FCS): lib/packet/frame.ts's builder. */
export function ethernetFrame(dst: string, src: string, ethertype: number, payload: Buffer): Buffer {
  return buildEthernet(dst, src, ethertype, payload);
}

export interface ArpSpec {
  /** 1 request, 2 reply */
  readonly op: 1 | 2;
  readonly senderMac: string;
  readonly senderIp: string;
  /** 00:00:00:00:00:00 in a request */
  readonly targetMac?: string;
  readonly targetIp: string;
  /** Ethernet destination (default broadcast for a request, targetMac for a reply) */
  readonly ethDst?: string;
}

/** An ARP (RFC 826) frame for IPv4 over Ethernet. */
export function arpFrame(a: ArpSpec): Buffer {
  const tha = a.targetMac ?? '00:00:00:00:00:00';
  const ethDst = a.ethDst ?? (a.op === 1 ? BROADCAST_MAC : (a.targetMac ?? BROADCAST_MAC));
  return buildArp({ op: a.op, ethSrc: a.senderMac, ethDst, sha: a.senderMac, spa: a.senderIp, tha, tpa: a.targetIp });
}

export interface L4Spec {
  readonly srcMac: string;
  readonly dstMac: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** TCP flags (default SYN); ignored for UDP */
  readonly tcpFlags?: number;
  /** DSCP (0..63) of the IPv4 header (default 0) */
  readonly dscp?: number;
  /** payload bytes after the L4 header (default 0) */
  readonly payloadBytes?: number;
}

function ipv4Packet(s: L4Spec, proto: number, l4: Buffer): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[1] = (s.dscp ?? 0) << 2;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = proto;
  ipv4Bytes(s.srcIp).copy(ip, 12);
  ipv4Bytes(s.dstIp).copy(ip, 16);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  return Buffer.concat([ip, l4]);
}

/** An IPv4/TCP frame (by default a SYN: the first packet of a new flow). Checksums are computed. */
export function tcpFrame(s: L4Spec): Buffer {
  const tcp = Buffer.alloc(20 + (s.payloadBytes ?? 0));
  tcp.writeUInt16BE(s.srcPort, 0);
  tcp.writeUInt16BE(s.dstPort, 2);
  tcp.writeUInt32BE(1, 4);
  tcp[12] = 5 << 4;
  tcp[13] = s.tcpFlags ?? TCP_SYN;
  tcp.writeUInt16BE(64240, 14);
  tcp.writeUInt16BE(l4Checksum(s, IP_PROTO.TCP, tcp), 16);
  return ethernetFrame(s.dstMac, s.srcMac, ETH_TYPE.IPV4, ipv4Packet(s, IP_PROTO.TCP, tcp));
}

/** An IPv4/UDP frame. */
export function udpFrame(s: L4Spec): Buffer {
  const udp = Buffer.alloc(8 + (s.payloadBytes ?? 0));
  udp.writeUInt16BE(s.srcPort, 0);
  udp.writeUInt16BE(s.dstPort, 2);
  udp.writeUInt16BE(udp.length, 4);
  udp.writeUInt16BE(l4Checksum(s, IP_PROTO.UDP, udp) || 0xffff, 6);
  return ethernetFrame(s.dstMac, s.srcMac, ETH_TYPE.IPV4, ipv4Packet(s, IP_PROTO.UDP, udp));
}

function internetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const b of parts) {
    for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
    if (b.length % 2) sum += b[b.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function l4Checksum(s: L4Spec, proto: number, l4: Buffer): number {
  const pseudo = Buffer.alloc(12);
  ipv4Bytes(s.srcIp).copy(pseudo, 0);
  ipv4Bytes(s.dstIp).copy(pseudo, 4);
  pseudo[9] = proto;
  pseudo.writeUInt16BE(l4.length, 10);
  return internetChecksum(pseudo, l4);
}

/**
 * The OXM fields of a frame received on `inPort`: in_port, eth_*, vlan_vid (OFPVID_PRESENT | id, or
 * 0 when untagged), ARP fields, IPv4 (ip_dscp, ip_ecn, ip_proto, addresses), TCP/UDP ports, ICMPv4
 * type/code. A truncated header simply leaves its fields out.
 */
export function packetFields(frame: Buffer, inPort: number): PacketFields {
  const f: PacketFields = { in_port: inPort };
  if (frame.length < 14) return f;
  f.eth_dst = macText(frame, 0);
  f.eth_src = macText(frame, 6);
  let off = 12;
  let ethertype = frame.readUInt16BE(off);
  f.vlan_vid = 0;
  if (ethertype === ETH_TYPE.VLAN && frame.length >= 18) {
    const tci = frame.readUInt16BE(14);
    f.vlan_vid = 0x1000 | (tci & 0x0fff);
    f.vlan_pcp = tci >> 13;
    off += 4;
    ethertype = frame.readUInt16BE(off);
  }
  f.eth_type = ethertype;
  const l3 = off + 2;
  if (ethertype === ETH_TYPE.ARP && frame.length >= l3 + 28) {
    f.arp_op = frame.readUInt16BE(l3 + 6);
    f.arp_sha = macText(frame, l3 + 8);
    f.arp_spa = ipv4Text(frame, l3 + 14);
    f.arp_tha = macText(frame, l3 + 18);
    f.arp_tpa = ipv4Text(frame, l3 + 24);
  } else if (ethertype === ETH_TYPE.IPV4 && frame.length >= l3 + 20) {
    ipv4Fields(frame, l3, f);
  }
  return f;
}

function ipv4Fields(frame: Buffer, l3: number, f: PacketFields): void {
  const ihl = (frame[l3]! & 0x0f) * 4;
  f.ip_dscp = frame[l3 + 1]! >> 2;
  f.ip_ecn = frame[l3 + 1]! & 3;
  const proto = frame[l3 + 9]!;
  f.ip_proto = proto;
  f.ipv4_src = ipv4Text(frame, l3 + 12);
  f.ipv4_dst = ipv4Text(frame, l3 + 16);
  const l4 = l3 + ihl;
  if (proto === IP_PROTO.TCP && frame.length >= l4 + 4) {
    f.tcp_src = frame.readUInt16BE(l4);
    f.tcp_dst = frame.readUInt16BE(l4 + 2);
  } else if (proto === IP_PROTO.UDP && frame.length >= l4 + 4) {
    f.udp_src = frame.readUInt16BE(l4);
    f.udp_dst = frame.readUInt16BE(l4 + 2);
  } else if (proto === IP_PROTO.ICMP && frame.length >= l4 + 2) {
    f.icmpv4_type = frame[l4]!;
    f.icmpv4_code = frame[l4 + 1]!;
  }
}

/**
 * "src>dst/proto/sport>dport" of an IPv4 packet's fields (ports 0 when not TCP/UDP), or undefined for a
 * non-IPv4 packet. Also works on a FLOW_MOD's match turned into fields ({@link matchFields}).
 */
export function flowKey(f: PacketFields): string | undefined {
  if (f.ipv4_src === undefined || f.ipv4_dst === undefined) return undefined;
  const sp = f.tcp_src ?? f.udp_src ?? 0;
  const dp = f.tcp_dst ?? f.udp_dst ?? 0;
  return `${f.ipv4_src}>${f.ipv4_dst}/${f.ip_proto ?? 0}/${sp}>${dp}`;
}

/** Whether a frame is an LLDP frame (ethertype 0x88cc, untagged). */
export function isLldp(frame: Buffer): boolean {
  return frame.length >= 14 && frame.readUInt16BE(12) === ETH_TYPE.LLDP;
}
