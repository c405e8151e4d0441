/**
 * Pure link / network / transport parsing of one captured frame: Ethernet (with 802.1Q/802.1ad tags),
 * Linux cooked capture (SLL, SLL2), BSD loopback and raw IP; IPv4 and IPv6 (extension headers skipped);
 * TCP and UDP. Every read is bounds-checked against the captured bytes; failures are returned as a
 * {@link CaptureError}, never thrown. Frames that are not IP (LLDP, ARP, …) parse successfully with
 * `ip` absent.
 */
import { formatIpv6 } from '../addresses.js';
import { CaptureError, type CaptureErrorCode, type CaptureResult } from './errors.js';

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

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);
const MAX_VLAN_TAGS = 8;
const MAX_IPV6_EXT_HEADERS = 16;

/** Thrown only inside this module and turned into a result by {@link parsePacket}. */
class Fail {
  constructor(readonly code: CaptureErrorCode, readonly message: string, readonly offset: number) {}
}

function need(buf: Buffer, at: number, n: number, what: string): void {
  if (at + n > buf.length) throw new Fail('PKT_TRUNCATED', `${what} needs ${n} bytes at ${at}, ${buf.length} captured`, at);
}

/**
 * Parses one record of a capture whose link type is `linkType`.
 * @returns the parsed packet, or PKT_UNSUPPORTED_LINK / PKT_TRUNCATED / PKT_MALFORMED
 */
export function parsePacket(linkType: number, raw: RawPacket): CaptureResult<ParsedPacket> {
  try {
    return { ok: true, value: parseLink(linkType, raw) };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: new CaptureError(e.code, e.message, raw.frame, e.offset) };
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, error: new CaptureError('PKT_MALFORMED', `unexpected: ${msg}`, raw.frame, 0) };
  }
}

function parseLink(linkType: number, raw: RawPacket): ParsedPacket {
  const b = raw.data;
  const base = { frame: raw.frame, tsUs: raw.tsUs, wireLen: raw.origLen };
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      need(b, 0, 14, 'Ethernet header');
      let at = 12;
      let ethType = b.readUInt16BE(at);
      const vlans: number[] = [];
      while (VLAN_TPIDS.has(ethType)) {
        if (vlans.length >= MAX_VLAN_TAGS) throw new Fail('PKT_MALFORMED', `more than ${MAX_VLAN_TAGS} VLAN tags`, at);
        need(b, at + 2, 4, '802.1Q tag');
        vlans.push(b.readUInt16BE(at + 2) & 0x0fff);
        at += 4;
        ethType = b.readUInt16BE(at);
      }
      return { ...base, vlans, ethType, ...parseNetwork(b, at + 2, ethType) };
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
      const ethType = family === 2 ? ETH_IPV4 : [10, 24, 28, 30].includes(family) ? ETH_IPV6 : 0;
      return { ...base, vlans: [], ethType, ...parseNetwork(b, 4, ethType) };
    }
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6: {
      need(b, 0, 1, 'IP header');
      const ethType = b[0]! >> 4 === 6 ? ETH_IPV6 : ETH_IPV4;
      return { ...base, vlans: [], ethType, ...parseNetwork(b, 0, ethType) };
    }
    default:
      throw new Fail('PKT_UNSUPPORTED_LINK', `link-layer type ${linkType}`, 0);
  }
}

type NetworkPart = Pick<ParsedPacket, 'ip' | 'tcp' | 'udp'>;

function parseNetwork(b: Buffer, at: number, ethType: number): NetworkPart {
  if (ethType === ETH_IPV4) return parseIpv4(b, at);
  if (ethType === ETH_IPV6) return parseIpv6(b, at);
  return {};
}

function parseIpv4(b: Buffer, at: number): NetworkPart {
  need(b, at, 20, 'IPv4 header');
  const version = b[at]! >> 4;
  if (version !== 4) throw new Fail('PKT_MALFORMED', `IPv4 header with version ${version}`, at);
  const ihl = (b[at]! & 0x0f) * 4;
  if (ihl < 20) throw new Fail('PKT_MALFORMED', `IPv4 header length ${ihl} < 20`, at);
  need(b, at, ihl, 'IPv4 header with options');
  let totalLen = b.readUInt16BE(at + 2);
  // total length 0 appears on segmentation-offloaded packets captured locally: take what was captured
  if (totalLen === 0) totalLen = b.length - at;
  if (totalLen < ihl) throw new Fail('PKT_MALFORMED', `IPv4 total length ${totalLen} < header length ${ihl}`, at + 2);
  const fragField = b.readUInt16BE(at + 6);
  const fragment = (fragField & 0x2000) !== 0 || (fragField & 0x1fff) !== 0;
  const ip: IpHeader = {
    version: 4,
    src: `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`,
    dst: `${b[at + 16]}.${b[at + 17]}.${b[at + 18]}.${b[at + 19]}`,
    proto: b[at + 9]!,
    length: totalLen,
    ttl: b[at + 8]!,
    dscp: b[at + 1]! >> 2,
    fragment,
  };
  if (fragment) return { ip };
  return { ip, ...parseTransport(b, at + ihl, at + totalLen, ip.proto) };
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
