/**
 * Rivulet's one Ethernet frame parser and builder, pure and total. One bounds-checked walk of the
 * Ethernet header, its VLAN tags and the IPv4 header serves two views:
 * - packet-ins ({@link parseFrame}): Ethernet II with up to two 802.1Q / 802.1ad tags (the ones a switch
 *   parses), ARP (Ethernet/IPv4, RFC 826), IPv4 (RFC 791, options skipped) with the TCP /
 *   UDP / SCTP ports of the first (or only) fragment, and LLDP (lldp.ts); failures are a {@link PacketError}.
 * - captures ({@link parsePacket}): one pcap record by link type: Ethernet (up to eight tags, 0x9100
 *   included), Linux cooked capture (SLL, SLL2), BSD loopback and raw IP; IPv4 and IPv6 (extension headers
 *   skipped); TCP headers with the captured payload and UDP lengths (fragments carry no transport part).
 *   Failures are a {@link CaptureError} naming the record; an impossible IPv4 header is PKT_MALFORMED in
 *   its coarser code set. Frames that are not IP (LLDP, ARP, …) parse with `ip` absent.
 * Every read is checked against the captured bytes: a header cut short is PKT_TRUNCATED, nothing is thrown
 * and nothing is read past the buffer. The builders (Ethernet, ARP, LLDP frames) throw only on programming
 * errors (RangeError for a bad MAC / IPv4 string).
 *
 * Text forms: MAC "aa:bb:cc:dd:ee:ff" (lowercase), IPv4 dotted quad, IPv6 RFC 5952 (lib/addresses.ts).
 */
import { formatIpv4At, formatIpv6, formatMacAt, ipv4Into, macInto } from '../addresses.js';
import {
  CAPTURE_ERROR_CODES, CaptureError, fail, ok, PACKET_ERROR_CODES,
  type CaptureErrorCode, type CaptureResult, type PacketErrorCode, type PacketResult,
} from './errors.js';
import { LLDP_ETHERTYPE, LLDP_NEAREST_BRIDGE, parseLldpdu, type LldpFrame } from './lldp.js';

/** LINKTYPE_* values (tcpdump.org/linktypes.html) this module parses. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** One pcap record as read from the file. `tsUs` is microseconds since the epoch. */
export interface RawPacket {
  /** 1-based record number, as Wireshark numbers frames */
  readonly frame: number;
  readonly tsUs: number;
  /** length on the wire (may exceed data.length when the capture was cut at the snap length) */
  readonly origLen: number;
  readonly data: Buffer;
}

/** TCP header fields plus the captured payload. */
export interface TcpSegment {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** the 9 flag bits: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80, NS 0x100 */
  readonly flags: number;
  readonly window: number;
  /** captured payload bytes (a view into the record, not a copy) */
  readonly payload: Buffer;
  /** payload length per the IP header; > payload.length when the capture was truncated */
  readonly payloadLen: number;
}

export interface UdpDatagram {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payloadLen: number;
}

export interface IpHeader {
  readonly version: 4 | 6;
  readonly src: string;
  readonly dst: string;
  /** transport protocol number (after IPv6 extension headers) */
  readonly proto: number;
  /** IP length on the wire: IPv4 total length, IPv6 40 + payload length */
  readonly length: number;
  readonly ttl: number;
  /** the DSCP (upper 6 bits of the TOS / traffic class) */
  readonly dscp: number;
  /** a fragment (no transport header parsed) */
  readonly fragment: boolean;
}

/** A frame parsed down to the transport layer. */
export interface ParsedPacket {
  readonly frame: number;
  readonly tsUs: number;
  readonly wireLen: number;
  /** VLAN ids, outermost first */
  readonly vlans: readonly number[];
  /** the innermost EtherType (or the protocol that the link header names) */
  readonly ethType: number;
  readonly ip?: IpHeader;
  readonly tcp?: TcpSegment;
  readonly udp?: UdpDatagram;
}

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export const ETH_TYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, IPV6: 0x86dd, LLDP: LLDP_ETHERTYPE } as const;
export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, SCTP: 132 } as const;
export const ARP_OP = { REQUEST: 1, REPLY: 2 } as const;
/** Ethernet minimum frame without FCS, octets (builders pad to it). */
export const ETH_MIN_FRAME = 60;

const MAX_IPV6_EXT_HEADERS = 16;

/** Which tags the Ethernet walk steps over, and how many at most (more is PKT_MALFORMED). */
interface TagRules {
  readonly tpids: ReadonlySet<number>;
  readonly maxTags: number;
}

/** Packet-ins: 802.1Q and 802.1ad, the tags a switch parses and matches, two at most. */
const SWITCH_TAGS: TagRules = { tpids: new Set([ETH_TYPE.VLAN, ETH_TYPE.QINQ]), maxTags: 2 };
/** Captures: also the pre-standard 0x9100 TPID, up to eight tags. */
const CAPTURE_TAGS: TagRules = { tpids: new Set([ETH_TYPE.VLAN, ETH_TYPE.QINQ, 0x9100]), maxTags: 8 };

type FailCode = PacketErrorCode | CaptureErrorCode;

/** Thrown only inside this module and turned into a result by the entry points. */
class Fail {
  constructor(readonly code: FailCode, readonly message: string, readonly offset: number) {}
}

function need(buf: Buffer, at: number, n: number, what: string): void {
  if (at + n > buf.length) throw new Fail('PKT_TRUNCATED', `${what} needs ${n} bytes at ${at}, ${buf.length} captured`, at);
}

/** `e` as a message, for a failure that is not a {@link Fail} (a bug, reported rather than thrown). */
function unexpected(e: unknown): string {
  return `unexpected: ${e instanceof Error ? e.message : String(e)}`;
}

/* ---------------------------------------------------------------- the shared walk */

/** The Ethernet header and its tags: VLAN ids outermost first, the inner EtherType, where its payload starts. */
function ethernet(b: Buffer, rules: TagRules): { vlans: number[]; ethType: number; at: number } {
  need(b, 0, 14, 'Ethernet header');
  let at = 12;
  let ethType = b.readUInt16BE(at);
  const vlans: number[] = [];
  while (rules.tpids.has(ethType)) {
    if (vlans.length >= rules.maxTags) throw new Fail('PKT_MALFORMED', `more than ${rules.maxTags} VLAN tags`, at);
    need(b, at + 2, 4, '802.1Q tag');
    vlans.push(b.readUInt16BE(at + 2) & 0x0fff);
    at += 4;
    ethType = b.readUInt16BE(at);
  }
  return { vlans, ethType, at: at + 2 };
}

/** The fixed part of an IPv4 header at `at`, options included in `ihl` (RFC 791 §3.1). */
interface Ipv4Head extends Omit<Ipv4Packet, 'srcPort' | 'dstPort'> {
  /** header length with options, octets */
  readonly ihl: number;
  /** the total length field as sent (0 on segmentation-offloaded packets captured locally) */
  readonly totalLen: number;
  /** more fragments follow */
  readonly moreFragments: boolean;
  /** fragment offset, in 8-octet units */
  readonly fragOffset: number;
}

function ipv4Head(b: Buffer, at: number): Ipv4Head {
  need(b, at, 20, 'IPv4 header');
  const version = b[at]! >> 4;
  if (version !== 4) throw new Fail('IPV4_BAD_HEADER', `IPv4 header with version ${version}`, at);
  const ihl = (b[at]! & 0x0f) * 4;
  if (ihl < 20) throw new Fail('IPV4_BAD_HEADER', `IPv4 header length ${ihl} < 20`, at);
  need(b, at, ihl, 'IPv4 header with options');
  const frag = b.readUInt16BE(at + 6);
  return {
    src: formatIpv4At(b, at + 12),
    dst: formatIpv4At(b, at + 16),
    proto: b[at + 9]!,
    dscp: b[at + 1]! >> 2,
    ttl: b[at + 8]!,
    ihl,
    totalLen: b.readUInt16BE(at + 2),
    moreFragments: (frag & 0x2000) !== 0,
    fragOffset: frag & 0x1fff,
  };
}

/* ---------------------------------------------------------------- captures */

/** A capture's code for a walk failure: its code set is coarser (an impossible IPv4 header is PKT_MALFORMED). */
function captureCode(code: FailCode): CaptureErrorCode {
  return code in CAPTURE_ERROR_CODES ? (code as CaptureErrorCode) : 'PKT_MALFORMED';
}

/**
 * Parses one record of a capture whose link type is `linkType`.
 * @returns the parsed packet, or PKT_UNSUPPORTED_LINK / PKT_TRUNCATED / PKT_MALFORMED
 */
export function parsePacket(linkType: number, raw: RawPacket): CaptureResult<ParsedPacket> {
  try {
    return { ok: true, value: parseLink(linkType, raw) };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: new CaptureError(captureCode(e.code), e.message, raw.frame, e.offset) };
    return { ok: false, error: new CaptureError('PKT_MALFORMED', unexpected(e), raw.frame, 0) };
  }
}

function parseLink(linkType: number, raw: RawPacket): ParsedPacket {
  const b = raw.data;
  const base = { frame: raw.frame, tsUs: raw.tsUs, wireLen: raw.origLen };
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      const { vlans, ethType, at } = ethernet(b, CAPTURE_TAGS);
      return { ...base, vlans, ethType, ...parseNetwork(b, at, ethType) };
    }
    case LINKTYPE.LINUX_SLL: {
      need(b, 0, 16, 'Linux cooked header');
      const ethType = b.readUInt16BE(14);
      return { ...base, vlans: [], ethType, ...parseNetwork(b, 16, ethType) };
    }
    case LINKTYPE.LINUX_SLL2: {
      need(b, 0, 20, 'Linux cooked v2 header');
      const ethType = b.readUInt16BE(0);
      return { ...base, vlans: [], ethType, ...parseNetwork(b, 20, ethType) };
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      need(b, 0, 4, 'loopback header');
      const family = linkType === LINKTYPE.LOOP || b.readUInt16LE(0) === 0 ? b.readUInt32BE(0) : b.readUInt32LE(0);
      const ethType = family === 2 ? ETH_TYPE.IPV4 : [10, 24, 28, 30].includes(family) ? ETH_TYPE.IPV6 : 0;
      return { ...base, vlans: [], ethType, ...parseNetwork(b, 4, ethType) };
    }
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6: {
      need(b, 0, 1, 'IP header');
      const ethType = b[0]! >> 4 === 6 ? ETH_TYPE.IPV6 : ETH_TYPE.IPV4;
      return { ...base, vlans: [], ethType, ...parseNetwork(b, 0, ethType) };
    }
    default:
      throw new Fail('PKT_UNSUPPORTED_LINK', `link-layer type ${linkType}`, 0);
  }
}

type NetworkPart = Pick<ParsedPacket, 'ip' | 'tcp' | 'udp'>;

function parseNetwork(b: Buffer, at: number, ethType: number): NetworkPart {
  if (ethType === ETH_TYPE.IPV4) return parseIpv4(b, at);
  if (ethType === ETH_TYPE.IPV6) return parseIpv6(b, at);
  return {};
}

function parseIpv4(b: Buffer, at: number): NetworkPart {
  const h = ipv4Head(b, at);
  // total length 0 appears on segmentation-offloaded packets captured locally: take what was captured
  const totalLen = h.totalLen === 0 ? b.length - at : h.totalLen;
  if (totalLen < h.ihl) throw new Fail('PKT_MALFORMED', `IPv4 total length ${totalLen} < header length ${h.ihl}`, at + 2);
  const fragment = h.moreFragments || h.fragOffset !== 0;
  const ip: IpHeader = { version: 4, src: h.src, dst: h.dst, proto: h.proto, length: totalLen, ttl: h.ttl, dscp: h.dscp, fragment };
  if (fragment) return { ip };
  return { ip, ...parseTransport(b, at + h.ihl, at + totalLen, ip.proto) };
}

function parseIpv6(b: Buffer, at: number): NetworkPart {
  need(b, at, 40, 'IPv6 header');
  const version = b[at]! >> 4;
  if (version !== 6) throw new Fail('PKT_MALFORMED', `IPv6 header with version ${version}`, at);
  let payloadLen = b.readUInt16BE(at + 4);
  if (payloadLen === 0) payloadLen = Math.max(0, b.length - at - 40); // jumbogram or offloaded
  const end = at + 40 + payloadLen;
  let next = b[at + 6]!;
  let pos = at + 40;
  let fragment = false;
  for (let n = 0; ; n++) {
    if (n > MAX_IPV6_EXT_HEADERS) throw new Fail('PKT_MALFORMED', 'too many IPv6 extension headers', pos);
    if (next === 0 || next === 43 || next === 60 || next === 51 || next === 44) {
      need(b, pos, 8, 'IPv6 extension header');
      const len = next === 44 ? 8 : next === 51 ? (b[pos + 1]! + 2) * 4 : (b[pos + 1]! + 1) * 8;
      if (next === 44) fragment = (b.readUInt16BE(pos + 2) & 0xfff9) !== 0;
      if (pos + len > end) throw new Fail('PKT_MALFORMED', 'IPv6 extension header beyond payload length', pos);
      next = b[pos]!;
      pos += len;
      continue;
    }
    break;
  }
  const ip: IpHeader = {
    version: 6,
    src: formatIpv6(b.subarray(at + 8, at + 24)),
    dst: formatIpv6(b.subarray(at + 24, at + 40)),
    proto: next,
    length: 40 + payloadLen,
    ttl: b[at + 7]!,
    dscp: (b.readUInt16BE(at) >> 6) & 0x3f,
    fragment,
  };
  if (fragment) return { ip };
  return { ip, ...parseTransport(b, pos, end, next) };
}

/** `end` is where the transport segment ends per the IP header (may be past the captured bytes). */
function parseTransport(b: Buffer, at: number, end: number, proto: number): Pick<ParsedPacket, 'tcp' | 'udp'> {
  if (proto === 6) {
    need(b, at, 20, 'TCP header');
    const dataOffset = (b[at + 12]! >> 4) * 4;
    if (dataOffset < 20) throw new Fail('PKT_MALFORMED', `TCP data offset ${dataOffset} < 20`, at + 12);
    if (at + dataOffset > end) throw new Fail('PKT_MALFORMED', `TCP header length ${dataOffset} beyond the IP payload`, at + 12);
    need(b, at, dataOffset, 'TCP header with options');
    const capturedEnd = Math.min(end, b.length);
    return {
      tcp: {
        srcPort: b.readUInt16BE(at),
        dstPort: b.readUInt16BE(at + 2),
        seq: b.readUInt32BE(at + 4),
        ack: b.readUInt32BE(at + 8),
        flags: b.readUInt16BE(at + 12) & 0x01ff,
        window: b.readUInt16BE(at + 14),
        payload: b.subarray(at + dataOffset, capturedEnd),
        payloadLen: end - at - dataOffset,
      },
    };
  }
  if (proto === 17) {
    need(b, at, 8, 'UDP header');
    const len = b.readUInt16BE(at + 4);
    return { udp: { srcPort: b.readUInt16BE(at), dstPort: b.readUInt16BE(at + 2), payloadLen: Math.max(0, Math.min(len, end - at) - 8) } };
  }
  return {};
}

/* ---------------------------------------------------------------- packet-ins */

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

/** A packet-in's code for a walk failure (the capture-only link-type code cannot arise here). */
function packetCode(code: FailCode): PacketErrorCode {
  return code in PACKET_ERROR_CODES ? (code as PacketErrorCode) : 'PKT_MALFORMED';
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

/** True for group (multicast / broadcast) MACs: the I/G bit of the first octet. */
export function isGroupMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/**
 * Parses an Ethernet frame a switch sent in a packet-in. Errors (offsets into `data`): PKT_TRUNCATED,
 * PKT_MALFORMED (more than two tags), ARP_UNSUPPORTED, IPV4_BAD_HEADER, and the LLDP codes of lldp.ts
 * for EtherType 0x88cc.
 */
export function parseFrame(data: Buffer): PacketResult<ParsedFrame> {
  try {
    return ok(frameOf(data));
  } catch (e) {
    if (e instanceof Fail) return fail(packetCode(e.code), e.message, e.offset);
    return fail('PKT_MALFORMED', unexpected(e));
  }
}

/**
 * The frame's fields. Each result is one object literal (no spreads of a shared base): a packet-in's frame
 * costs one allocation besides its address texts, and frames of one kind share one shape. Keys that do
 * not apply (vlanVid untagged, arp/ipv4/lldp of another EtherType) are absent, not undefined.
 */
function frameOf(data: Buffer): ParsedFrame {
  const { vlans, ethType: ethertype, at } = ethernet(data, SWITCH_TAGS);
  const ethDst = formatMacAt(data, 0);
  const ethSrc = formatMacAt(data, 6);
  if (vlans.length > 0) {
    const vlanVid = vlans[0]!;
    switch (ethertype) {
      case ETH_TYPE.ARP:
        return { ethDst, ethSrc, ethertype, vlanVid, arp: arpAt(data, at) };
      case ETH_TYPE.IPV4:
        return { ethDst, ethSrc, ethertype, vlanVid, ipv4: ipv4Ports(data, at) };
      case ETH_TYPE.LLDP:
        return { ethDst, ethSrc, ethertype, vlanVid, lldp: lldpAt(data, at) };
      default:
        return { ethDst, ethSrc, ethertype, vlanVid };
    }
  }
  switch (ethertype) {
    case ETH_TYPE.ARP:
      return { ethDst, ethSrc, ethertype, arp: arpAt(data, at) };
    case ETH_TYPE.IPV4:
      return { ethDst, ethSrc, ethertype, ipv4: ipv4Ports(data, at) };
    case ETH_TYPE.LLDP:
      return { ethDst, ethSrc, ethertype, lldp: lldpAt(data, at) };
    default:
      return { ethDst, ethSrc, ethertype };
  }
}

/** The LLDPDU at `at` (lldp.ts); its error offsets are made frame offsets. */
function lldpAt(data: Buffer, at: number): LldpFrame {
  const r = parseLldpdu(data.subarray(at));
  if (!r.ok) throw new Fail(r.error.code, r.error.detail, r.error.offset + at);
  return r.value;
}

/** ARP at `at`: only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4) with op 1 or 2. */
function arpAt(b: Buffer, at: number): ArpPacket {
  need(b, at, 28, 'ARP');
  const htype = b.readUInt16BE(at);
  const ptype = b.readUInt16BE(at + 2);
  if (htype !== 1 || ptype !== ETH_TYPE.IPV4 || b[at + 4] !== 6 || b[at + 5] !== 4) {
    throw new Fail('ARP_UNSUPPORTED', `htype ${htype} ptype 0x${ptype.toString(16)} hlen ${b[at + 4]} plen ${b[at + 5]}`, at);
  }
  const op = b.readUInt16BE(at + 6);
  if (op !== ARP_OP.REQUEST && op !== ARP_OP.REPLY) throw new Fail('ARP_UNSUPPORTED', `opcode ${op}`, at + 6);
  return { op, sha: formatMacAt(b, at + 8), spa: formatIpv4At(b, at + 14), tha: formatMacAt(b, at + 18), tpa: formatIpv4At(b, at + 24) };
}

const PORTED = new Set<number>([IP_PROTO.TCP, IP_PROTO.UDP, IP_PROTO.SCTP]);

/** IPv4 at `at` with the transport ports a flow is keyed on (TCP / UDP / SCTP, not of non-first fragments). */
function ipv4Ports(b: Buffer, at: number): Ipv4Packet {
  const h = ipv4Head(b, at);
  if (h.totalLen < h.ihl) throw new Fail('IPV4_BAD_HEADER', `total length ${h.totalLen} below header length ${h.ihl}`, at + 2);
  if (!PORTED.has(h.proto) || h.fragOffset !== 0) return { src: h.src, dst: h.dst, proto: h.proto, dscp: h.dscp, ttl: h.ttl };
  const l4 = at + h.ihl;
  if (b.length < l4 + 4 || h.totalLen < h.ihl + 4) throw new Fail('PKT_TRUNCATED', 'transport ports cut short', l4);
  // one literal, not a spread of the portless head: the flow-setup path parses one of these per packet-in
  return { src: h.src, dst: h.dst, proto: h.proto, dscp: h.dscp, ttl: h.ttl, srcPort: b.readUInt16BE(l4), dstPort: b.readUInt16BE(l4 + 2) };
}

/* ---------------------------------------------------------------- builders */

/** MAC text into out[at..at+6). @throws RangeError for a bad MAC */
function putMac(mac: string, out: Buffer, at: number): void {
  if (!macInto(mac, out, at)) throw new RangeError(`bad MAC address: ${String(mac)}`);
}

/** Dotted quad into out[at..at+4). @throws RangeError for a bad IPv4 address */
function putIpv4(ip: string, out: Buffer, at: number): void {
  if (!ipv4Into(ip, out, at)) throw new RangeError(`bad IPv4 address: ${String(ip)}`);
}

/** Ethernet header + payload, padded with zeros to 60 octets. @throws RangeError for a bad MAC */
export function buildEthernet(ethDst: string, ethSrc: string, ethertype: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(14);
  putMac(ethDst, head, 0);
  putMac(ethSrc, head, 6);
  head.writeUInt16BE(ethertype, 12);
  const frame = Buffer.concat([head, payload]);
  return frame.length >= ETH_MIN_FRAME ? frame : Buffer.concat([frame, Buffer.alloc(ETH_MIN_FRAME - frame.length)]);
}

/**
 * An ARP request or reply (RFC 826, Ethernet/IPv4) in an Ethernet frame (60 octets).
 * @throws RangeError for a bad MAC or IPv4 string
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
  putMac(a.sha, arp, 8);
  putIpv4(a.spa, arp, 14);
  putMac(a.tha, arp, 18);
  putIpv4(a.tpa, arp, 24);
  return buildEthernet(a.ethDst, a.ethSrc, ETH_TYPE.ARP, arp);
}

/** An LLDPDU in an Ethernet frame to the nearest-bridge address. @throws RangeError for a bad MAC */
export function buildLldpFrame(ethSrc: string, pdu: Buffer): Buffer {
  return buildEthernet(LLDP_NEAREST_BRIDGE, ethSrc, ETH_TYPE.LLDP, pdu);
}
