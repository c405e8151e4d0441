/**
 * Typed errors of the packet parsers. Like the codec's {@link OfpDecodeError}, each carries a stable
 * string `code` that callers and tests branch on; parsing functions return them instead of throwing.
 * - {@link CaptureError}: captures (pcap file, link/IP/TCP parsing of a record, TCP reassembly); it names
 *   the record.
 * - {@link PacketError}: frames the controller receives in packet-ins (Ethernet, ARP, IPv4, LLDP and
 *   Rivulet's signed LLDP probes, topology/lldp-probe.ts).
 */

/** Stable codes of capture failures. */
export const CAPTURE_ERROR_CODES = {
  /** The file could not be opened or read (missing, permission, I/O error). */
  PCAP_IO: 'file could not be read',
  /** Not a libpcap 2.4 file (pcapng, nanosecond or unknown magic number, bad version). */
  PCAP_BAD_MAGIC: 'not a libpcap file',
  /** The 24-byte global header is incomplete or inconsistent. */
  PCAP_BAD_HEADER: 'bad pcap global header',
  /** A record header is impossible (captured length beyond the limit or above the original length). */
  PCAP_BAD_RECORD: 'bad pcap record header',
  /** The file ends inside a record. */
  PCAP_TRUNCATED: 'pcap file ends inside a record',
  /** The link-layer type is not one this reader parses. */
  PKT_UNSUPPORTED_LINK: 'unsupported link-layer type',
  /** A header extends past the captured bytes. */
  PKT_TRUNCATED: 'packet truncated',
  /** A header field is impossible (IP version, header length, TCP data offset, …). */
  PKT_MALFORMED: 'malformed packet',
} as const;

export type CaptureErrorCode = keyof typeof CAPTURE_ERROR_CODES;

/**
 * A capture-layer failure. `frame` is the 1-based pcap record number (0 when the failure is about the
 * file as a whole) and `offset` the byte offset into that record (or into the file for file errors).
 */
export class CaptureError extends Error {
  readonly code: CaptureErrorCode;
  readonly frame: number;
  readonly offset: number;

  constructor(code: CaptureErrorCode, message: string, frame = 0, offset = 0) {
    super(`${code}: ${message}${frame > 0 ? ` (frame ${frame}, byte ${offset})` : ''}`);
    this.name = 'CaptureError';
    this.code = code;
    this.frame = frame;
    this.offset = offset;
  }
}

/** Result type of the capture parsers: never throws. */
export type CaptureResult<T> = { ok: true; value: T } | { ok: false; error: CaptureError };

/** Stable codes of packet-in frame failures and their meaning. */
export const PACKET_ERROR_CODES = {
  /** A header or field extends past the end of the captured bytes. */
  PKT_TRUNCATED: 'packet truncated',
  /** The Ethernet frame is impossible (too many VLAN tags, …). */
  PKT_MALFORMED: 'malformed frame',
  /** ARP that is not Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4) or with an unknown opcode. */
  ARP_UNSUPPORTED: 'unsupported ARP packet',
  /** IPv4 header impossible: version ≠ 4, IHL < 5, total length below the header length. */
  IPV4_BAD_HEADER: 'bad IPv4 header',
  /** An LLDPDU longer than 1500 octets (IEEE 802.1AB-2016 §8.1: one frame, standard MTU). */
  LLDP_OVERSIZE: 'LLDPDU longer than 1500 octets',
  /** A TLV's length runs past the end of the LLDPDU. */
  LLDP_TLV_OVERRUN: 'LLDP TLV runs past the end of the frame',
  /** A TLV whose length or content is impossible for its type (End with a length, TTL ≠ 2 octets, …). */
  LLDP_BAD_TLV: 'bad LLDP TLV',
  /** Chassis ID present without Port ID and TTL right after it (802.1AB §8.2: mandatory TLVs first). */
  LLDP_MISSING_TLV: 'mandatory LLDP TLV missing',
  /** A mandatory TLV out of place or repeated. */
  LLDP_BAD_ORDER: 'LLDP TLVs out of order',
  /** An LLDP frame that is not a Rivulet probe (chassis / port id in another format). */
  LLDP_NOT_RIVULET: 'not a Rivulet LLDP probe',
  /** A Rivulet-format probe without the signature TLV (forged or from an old controller). */
  LLDP_UNSIGNED: 'LLDP probe is not signed',
  /** The signature does not verify under this controller's key. */
  LLDP_BAD_SIGNATURE: 'LLDP probe signature does not verify',
  /** The signed timestamp is older than the freshness window (or in the future). */
  LLDP_STALE: 'LLDP probe is stale',
} as const;

export type PacketErrorCode = keyof typeof PACKET_ERROR_CODES;

/** A parse / validation failure; `offset` is the byte offset into the parsed buffer where it was found. */
export class PacketError extends Error {
  readonly code: PacketErrorCode;
  readonly offset: number;
  readonly detail: string;

  constructor(code: PacketErrorCode, detail: string, offset = 0) {
    super(`${code}: ${PACKET_ERROR_CODES[code]}: ${detail} (byte ${offset})`);
    this.name = 'PacketError';
    this.code = code;
    this.detail = detail;
    this.offset = offset;
  }

  /** The same error with its offset moved by `by` octets (an inner parser's error seen from the frame). */
  shifted(by: number): PacketError {
    return new PacketError(this.code, this.detail, this.offset + by);
  }
}

/** Result of the packet-in parsers (frame.ts, lldp.ts, topology/lldp-probe.ts): never throws. */
export type PacketResult<T> = { ok: true; value: T } | { ok: false; error: PacketError };

/** Shorthand for a failed result. */
export function fail<T>(code: PacketErrorCode, detail: string, offset = 0): PacketResult<T> {
  return { ok: false, error: new PacketError(code, detail, offset) };
}

/** Shorthand for a successful result. */
export function ok<T>(value: T): PacketResult<T> {
  return { ok: true, value };
}
