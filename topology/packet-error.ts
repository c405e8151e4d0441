/**
 * Typed failures of the topology packet parsers (packet.ts, lldp.ts). Each carries a stable `code`
 * that callers and tests branch on; parsers return them in a {@link PacketResult}, never throw them.
 */

/** Stable codes and their meaning. */
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

/** Result of every topology parser: never throws. */
export type PacketResult<T> = { ok: true; value: T } | { ok: false; error: PacketError };

/** Shorthand for a failed result. */
export function fail<T>(code: PacketErrorCode, detail: string, offset = 0): PacketResult<T> {
  return { ok: false, error: new PacketError(code, detail, offset) };
}

/** Shorthand for a successful result. */
export function ok<T>(value: T): PacketResult<T> {
  return { ok: true, value };
}
