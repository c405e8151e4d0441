/**
 * Total parsers and builders for what packet-ins carry: Ethernet II (up to two 802.1Q / 802.1ad tags),
 * ARP (Ethernet/IPv4, RFC 826), IPv4 (RFC 791) with TCP / UDP / SCTP ports, and LLDP (lldp.ts).
 * Parsers return a {@link PacketResult} and never throw or read past the buffer; builders throw only on
 * programming errors (a bad MAC / IPv4 string).
 *
 * Text forms: MAC "aa:bb:cc:dd:ee:ff" (lowercase), IPv4 dotted quad.
 */
import { formatIpv4At, formatMacAt } from '../lib/addresses.js';
import { parseIpv4, parseMac } from '../openflow/codec/buffer.js';
import { fail, ok, type PacketErrorCode, type PacketResult } from './packet-error.js';
import { LLDP_ETHERTYPE, LLDP_NEAREST_BRIDGE, parseLldpdu, type LldpFrame } from './lldp.js';

export { PacketError, PACKET_ERROR_CODES, type PacketErrorCode, type PacketResult } from './packet-error.js';
export type { LldpFrame } from './lldp.js';

export const ETH_TYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, LLDP: LLDP_ETHERTYPE } as const;
export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, SCTP: 132 } as const;
export const ARP_OP = { REQUEST: 1, REPLY: 2 } as const;
/** Ethernet minimum frame without FCS, octets (builders pad to it). */
export const ETH_MIN_FRAME = 60;

export interface ArpPacket {
  /** 1 request, 2 reply */
  readonly op: number;
  readonly sha: string;
  readonly spa: string;
  readonly tha: string;
  readonly tpa: string;
}

export interface Ipv4Packet {
  readonly src: string;
  readonly dst: string;
  readonly proto: number;
  /** the upper 6 bits of the TOS octet */
  readonly dscp: number;
  readonly ttl: number;
  /** TCP / UDP / SCTP ports, present for the first (or only) fragment */
  readonly srcPort?: number;
  readonly dstPort?: number;
}

export interface ParsedFrame {
  readonly ethDst: string;
  readonly ethSrc: string;
  /** VID of the outermost tag, when tagged */
  readonly vlanVid?: number;
  /** the EtherType after any tags */
  readonly ethertype: number;
  readonly arp?: ArpPacket;
  readonly ipv4?: Ipv4Packet;
  readonly lldp?: LldpFrame;
}

/** 6 bytes at `off` → "aa:bb:…" (caller checks bounds; lib/addresses.ts). */
export function formatMac(b: Buffer, off = 0): string {
  return formatMacAt(b, off);
}

let lastData: Buffer | undefined;
let lastParsed: PacketResult<ParsedFrame> | undefined;

/**
 * {@link parseFrame} of a packet-in's data, parsed once however many apps read it: the apps handle one
 * packet-in after the other, so the last buffer's result is kept (results are immutable).
 */
export function parseFrameOnce(data: Buffer): PacketResult<ParsedFrame> {
  if (data === lastData && lastParsed) return lastParsed;
  lastParsed = parseFrame(data);
  lastData = data;
  return lastParsed;
}

/** 4 bytes at `off` → dotted quad (caller checks bounds; lib/addresses.ts). */
export function formatIpv4(b: Buffer, off = 0): string {
  return formatIpv4At(b, off);
}

/** True for group (multicast / broadcast) MACs: the I/G bit of the first octet. */
export function isGroupMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/**
 * Parses an Ethernet frame. Errors: PKT_TRUNCATED, PKT_MALFORMED (more than two tags), ARP_UNSUPPORTED,
 * IPV4_BAD_HEADER, and the LLDP codes of lldp.ts for EtherType 0x88cc.
 */
export function parseFrame(data: Buffer): PacketResult<ParsedFrame> {
  if (data.length < 14) return fail('PKT_TRUNCATED', `Ethernet header needs 14 octets, have ${data.length}`);
  const ethDst = formatMac(data, 0);
  const ethSrc = formatMac(data, 6);
  let off = 12;
  let ethertype = data.readUInt16BE(off);
  let vlanVid: number | undefined;
  for (let tags = 0; ethertype === ETH_TYPE.VLAN || ethertype === ETH_TYPE.QINQ; tags++) {
    if (tags === 2) return fail('PKT_MALFORMED', 'more than two VLAN tags', off);
    if (data.length < off + 6) return fail('PKT_TRUNCATED', 'VLAN tag cut short', off);
    vlanVid ??= data.readUInt16BE(off + 2) & 0x0fff;
    off += 4;
    ethertype = data.readUInt16BE(off);
  }
  const payload = data.subarray(off + 2);
  const base = { ethDst, ethSrc, ethertype, ...(vlanVid !== undefined ? { vlanVid } : {}) };
  return parsePayload(base, payload, off + 2);
}

function parsePayload(base: ParsedFrame, payload: Buffer, at: number): PacketResult<ParsedFrame> {
  const shift = <T>(r: PacketResult<T>): PacketResult<ParsedFrame> =>
    r.ok ? ok(base) : { ok: false, error: r.error.shifted(at) };
  switch (base.ethertype) {
    case ETH_TYPE.ARP: {
      const r = parseArp(payload);
      return r.ok ? ok({ ...base, arp: r.value }) : shift(r);
    }
    case ETH_TYPE.IPV4: {
      const r = parseIpv4Packet(payload);
      return r.ok ? ok({ ...base, ipv4: r.value }) : shift(r);
    }
    case ETH_TYPE.LLDP: {
      const r = parseLldpdu(payload);
      return r.ok ? ok({ ...base, lldp: r.value }) : shift(r);
    }
    default:
      return ok(base);
  }
}

/** Parses an ARP packet (after the Ethernet header). Only Ethernet/IPv4 ARP with op 1 or 2 is accepted. */
export function parseArp(p: Buffer): PacketResult<ArpPacket> {
  if (p.length < 28) return fail('PKT_TRUNCATED', `ARP needs 28 octets, have ${p.length}`);
  const htype = p.readUInt16BE(0);
  const ptype = p.readUInt16BE(2);
  if (htype !== 1 || ptype !== ETH_TYPE.IPV4 || p[4] !== 6 || p[5] !== 4) {
    return fail('ARP_UNSUPPORTED', `htype ${htype} ptype 0x${ptype.toString(16)} hlen ${p[4]} plen ${p[5]}`);
  }
  const op = p.readUInt16BE(6);
  if (op !== ARP_OP.REQUEST && op !== ARP_OP.REPLY) return fail('ARP_UNSUPPORTED', `opcode ${op}`, 6);
  return ok({ op, sha: formatMac(p, 8), spa: formatIpv4(p, 14), tha: formatMac(p, 18), tpa: formatIpv4(p, 24) });
}

const PORTED = new Set<number>([IP_PROTO.TCP, IP_PROTO.UDP, IP_PROTO.SCTP]);

/** Parses an IPv4 packet (after the Ethernet header), with transport ports for TCP / UDP / SCTP. */
export function parseIpv4Packet(p: Buffer): PacketResult<Ipv4Packet> {
  if (p.length < 20) return fail('PKT_TRUNCATED', `IPv4 header needs 20 octets, have ${p.length}`);
  const version = p[0]! >>> 4;
  const ihl = (p[0]! & 0x0f) * 4;
  const total = p.readUInt16BE(2);
  const bad = (code: PacketErrorCode, d: string, o = 0): PacketResult<Ipv4Packet> => fail(code, d, o);
  if (version !== 4) return bad('IPV4_BAD_HEADER', `version ${version}`);
  if (ihl < 20) return bad('IPV4_BAD_HEADER', `header length ${ihl}`);
  if (total < ihl) return bad('IPV4_BAD_HEADER', `total length ${total} below header length ${ihl}`, 2);
  if (p.length < ihl) return bad('PKT_TRUNCATED', `options: header length ${ihl}, have ${p.length}`);
  const head = {
    src: formatIpv4(p, 12),
    dst: formatIpv4(p, 16),
    proto: p[9]!,
    dscp: p[1]! >>> 2,
    ttl: p[8]!,
  };
  const fragOffset = p.readUInt16BE(6) & 0x1fff;
  if (!PORTED.has(head.proto) || fragOffset !== 0) return ok(head);
  if (p.length < ihl + 4 || total < ihl + 4) return bad('PKT_TRUNCATED', 'transport ports cut short', ihl);
  return ok({ ...head, srcPort: p.readUInt16BE(ihl), dstPort: p.readUInt16BE(ihl + 2) });
}

/** Ethernet header + payload, padded with zeros to 60 octets. @throws OfpEncodeError for a bad MAC */
export function buildEthernet(ethDst: string, ethSrc: string, ethertype: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(14);
  parseMac(ethDst).copy(head, 0);
  parseMac(ethSrc).copy(head, 6);
  head.writeUInt16BE(ethertype, 12);
  const frame = Buffer.concat([head, payload]);
  return frame.length >= ETH_MIN_FRAME ? frame : Buffer.concat([frame, Buffer.alloc(ETH_MIN_FRAME - frame.length)]);
}

/**
 * An ARP request or reply in an Ethernet frame (60 octets).
 * @throws OfpEncodeError for a bad MAC or IPv4 string
 */
export function buildArp(a: {
  op: 1 | 2; ethSrc: string; ethDst: string; sha: string; spa: string; tha: string; tpa: string;
}): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0);
  arp.writeUInt16BE(ETH_TYPE.IPV4, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(a.op, 6);
  parseMac(a.sha).copy(arp, 8);
  parseIpv4(a.spa).copy(arp, 14);
  parseMac(a.tha).copy(arp, 18);
  parseIpv4(a.tpa).copy(arp, 24);
  return buildEthernet(a.ethDst, a.ethSrc, ETH_TYPE.ARP, arp);
}

/** An LLDPDU in an Ethernet frame to the nearest-bridge address. @throws OfpEncodeError for a bad MAC */
export function buildLldpFrame(ethSrc: string, pdu: Buffer): Buffer {
  return buildEthernet(LLDP_NEAREST_BRIDGE, ethSrc, ETH_TYPE.LLDP, pdu);
}
