/**
 * LLDP (IEEE 802.1AB-2016) LLDPDU parser and builder, pure and total.
 *
 * Wire format (§8.4–§8.6): a sequence of TLVs, each a 16-bit header (7-bit type, 9-bit length) and
 * `length` octets of value. Chassis ID (1), Port ID (2) and TTL (3) come first, in that order; End of
 * LLDPDU (0, length 0) closes the PDU. Optional TLVs (4–8, 127, reserved 9–126) may follow in any order.
 *
 * Parser rules ({@link parseLldpdu}); every failure is a {@link PacketError}, nothing is thrown:
 * - the LLDPDU may be at most 1500 octets (LLDP_OVERSIZE) — one untagged frame at the standard MTU;
 * - a TLV whose value runs past the buffer → LLDP_TLV_OVERRUN; a lone trailing octet → PKT_TRUNCATED;
 * - End must have length 0; TTL exactly 2; Chassis/Port ID 2–256; System Capabilities 4; Management
 *   Address 9–167 with consistent inner lengths; organizationally-specific ≥ 4 and, for the IEEE 802.1
 *   (00-80-C2) and 802.3 (00-12-0F) subtypes whose size is fixed by the standard, exactly that size
 *   → LLDP_BAD_TLV;
 * - if a Chassis ID is present it must be the first TLV, followed by Port ID and TTL (LLDP_MISSING_TLV),
 *   and none of the three may appear anywhere else (LLDP_BAD_ORDER). A PDU made only of optional TLVs
 *   (a fragment such as the 802.1 link-aggregation test frames) parses with chassis/port/ttl absent;
 *   discovery ignores it.
 * - parsing stops at End; bytes after it (Ethernet padding, trailers) are ignored; a PDU without End
 *   is accepted when its last TLV ends exactly at the end of the buffer.
 * Every step advances by ≥ 2 octets, so the walk ends in at most 750 steps: it cannot loop.
 *
 * Rivulet's probes (chassis `dpid:<16 hex>`, port number, signature) are built and verified in
 * topology/lldp-probe.ts.
 */
import { fail, ok, type PacketResult } from './errors.js';

/** EtherType of LLDP. */
export const LLDP_ETHERTYPE = 0x88cc;
/** Nearest-bridge group address (802.1AB §7.1): not forwarded by 802.1D bridges. */
export const LLDP_NEAREST_BRIDGE = '01:80:c2:00:00:0e';
/** Largest LLDPDU accepted, octets. */
export const LLDP_MAX_OCTETS = 1500;

/** TLV type codes (802.1AB-2016 Table 8-1). */
export const LLDP_TLV = {
  END: 0, CHASSIS_ID: 1, PORT_ID: 2, TTL: 3, PORT_DESCRIPTION: 4, SYSTEM_NAME: 5, SYSTEM_DESCRIPTION: 6,
  SYSTEM_CAPABILITIES: 7, MANAGEMENT_ADDRESS: 8, ORGANIZATIONALLY_SPECIFIC: 127,
} as const;

/** Chassis ID / Port ID subtype "locally assigned" (Tables 8-2, 8-3). */
export const LLDP_SUBTYPE_LOCAL = 7;

/** One TLV; `value` is a view into the parsed buffer (not a copy). */
export interface LldpTlv {
  readonly type: number;
  readonly value: Buffer;
}

/** Chassis ID or Port ID: the subtype octet and the identifier after it. */
export interface LldpId {
  readonly subtype: number;
  readonly id: Buffer;
}

/** A parsed LLDPDU. The mandatory TLVs are absent only for a PDU that has none of them (a fragment). */
export interface LldpFrame {
  readonly chassisId?: LldpId;
  readonly portId?: LldpId;
  /** time to live, seconds */
  readonly ttl?: number;
  /** every TLV before End, in wire order (mandatory ones included) */
  readonly tlvs: readonly LldpTlv[];
  /** whether an End of LLDPDU TLV closed the PDU */
  readonly hasEnd: boolean;
}

/** An organizationally-specific TLV's parts (§8.6, Figure 8-12). */
export interface LldpOrgTlv {
  /** the OUI or CID as "xx-xx-xx" lowercase */
  readonly oui: string;
  readonly subtype: number;
  readonly info: Buffer;
}

/** Exact TLV lengths of organizationally-specific TLVs whose size the standards fix (OUI → subtype → length). */
const ORG_FIXED_LENGTH: ReadonlyMap<string, ReadonlyMap<number, number>> = new Map([
  // IEEE 802.1 (802.1Q-2018 Annex D): Port VLAN ID, Port and Protocol VLAN ID, Link Aggregation, PFC
  ['00-80-c2', new Map([[1, 6], [2, 7], [7, 9], [0x0b, 6]])],
  // IEEE 802.3 (802.3-2018 Clause 79): MAC/PHY config/status, Link Aggregation (deprecated), Max Frame Size
  ['00-12-0f', new Map([[1, 9], [3, 9], [4, 6]])],
]);

/** Parses an LLDPDU (the Ethernet payload after the 0x88cc EtherType). Never throws. */
export function parseLldpdu(pdu: Buffer): PacketResult<LldpFrame> {
  if (pdu.length > LLDP_MAX_OCTETS) return fail('LLDP_OVERSIZE', `${pdu.length} octets`, LLDP_MAX_OCTETS);
  const tlvs: LldpTlv[] = [];
  let off = 0;
  let hasEnd = false;
  while (off < pdu.length) {
    if (pdu.length - off < 2) return fail('PKT_TRUNCATED', 'TLV header cut short', off);
    const header = pdu.readUInt16BE(off);
    const type = header >>> 9;
    const len = header & 0x1ff;
    if (off + 2 + len > pdu.length) {
      return fail('LLDP_TLV_OVERRUN', `type ${type} length ${len} with ${pdu.length - off - 2} octets left`, off);
    }
    const value = pdu.subarray(off + 2, off + 2 + len);
    const bad = checkTlv(type, value);
    if (bad) return fail('LLDP_BAD_TLV', `type ${type} length ${len}: ${bad}`, off);
    off += 2 + len;
    if (type === LLDP_TLV.END) {
      hasEnd = true;
      break;
    }
    tlvs.push({ type, value });
  }
  return assemble(tlvs, hasEnd);
}

/** Checks the mandatory-TLV prefix and lifts chassis / port / TTL out of the TLV list. */
function assemble(tlvs: readonly LldpTlv[], hasEnd: boolean): PacketResult<LldpFrame> {
  const isMandatory = (t: LldpTlv | undefined): boolean => t !== undefined && t.type >= 1 && t.type <= 3;
  const first = tlvs[0];
  if (first === undefined || first.type !== LLDP_TLV.CHASSIS_ID) {
    const stray = tlvs.findIndex(isMandatory);
    if (stray >= 0) return fail('LLDP_BAD_ORDER', `type ${tlvs[stray]!.type} is TLV #${stray + 1}, chassis ID is not first`);
    return ok({ tlvs, hasEnd });
  }
  if (tlvs[1]?.type !== LLDP_TLV.PORT_ID) return fail('LLDP_MISSING_TLV', 'port ID does not follow chassis ID');
  if (tlvs[2]?.type !== LLDP_TLV.TTL) return fail('LLDP_MISSING_TLV', 'TTL does not follow port ID');
  const stray = tlvs.findIndex((t, i) => i > 2 && isMandatory(t));
  if (stray >= 0) return fail('LLDP_BAD_ORDER', `type ${tlvs[stray]!.type} repeated as TLV #${stray + 1}`);
  const chassis = tlvs[0]!.value;
  const port = tlvs[1]!.value;
  return ok({
    chassisId: { subtype: chassis[0]!, id: chassis.subarray(1) },
    portId: { subtype: port[0]!, id: port.subarray(1) },
    ttl: tlvs[2]!.value.readUInt16BE(0),
    tlvs,
    hasEnd,
  });
}

/** Returns why a TLV value is impossible for its type, or undefined when it is acceptable. */
function checkTlv(type: number, v: Buffer): string | undefined {
  switch (type) {
    case LLDP_TLV.END:
      return v.length === 0 ? undefined : 'End of LLDPDU must be empty';
    case LLDP_TLV.CHASSIS_ID:
    case LLDP_TLV.PORT_ID:
      return v.length >= 2 && v.length <= 256 ? undefined : 'identifier must be 1–255 octets after the subtype';
    case LLDP_TLV.TTL:
      return v.length === 2 ? undefined : 'TTL must be 2 octets';
    case LLDP_TLV.SYSTEM_CAPABILITIES:
      return v.length === 4 ? undefined : 'system capabilities must be 4 octets';
    case LLDP_TLV.MANAGEMENT_ADDRESS:
      return checkManagementAddress(v);
    case LLDP_TLV.ORGANIZATIONALLY_SPECIFIC:
      return checkOrgSpecific(v);
    default:
      return undefined; // descriptions, names and reserved types: any length, skipped
  }
}

/** §8.5.9: addr-string-length (2–32, counting the subtype), address, if-subtype, if-number(4), OID-length, OID. */
function checkManagementAddress(v: Buffer): string | undefined {
  if (v.length < 9 || v.length > 167) return 'management address TLV must be 9–167 octets';
  const addrLen = v[0]!;
  if (addrLen < 2 || addrLen > 32) return `address string length ${addrLen} outside 2–32`;
  const oidLenAt = 1 + addrLen + 1 + 4;
  if (oidLenAt >= v.length) return 'address string runs past the TLV';
  const oidLen = v[oidLenAt]!;
  if (oidLenAt + 1 + oidLen !== v.length) return `OID length ${oidLen} does not match the TLV length`;
  return undefined;
}

/** §8.6: OUI (3) + subtype (1) + info; fixed-size IEEE subtypes checked against {@link ORG_FIXED_LENGTH}. */
function checkOrgSpecific(v: Buffer): string | undefined {
  if (v.length < 4) return 'organizationally-specific TLV needs an OUI and a subtype';
  const org = splitOrgTlv(v);
  const want = ORG_FIXED_LENGTH.get(org.oui)?.get(org.subtype);
  if (want !== undefined && v.length !== want) return `${org.oui} subtype ${org.subtype} must be ${want} octets`;
  if (org.oui === '00-80-c2' && org.subtype === 0x0c && (v.length - 5) % 3 !== 0) {
    return 'application priority table must be whole 3-octet entries';
  }
  return undefined;
}

/** Splits an organizationally-specific TLV value (≥ 4 octets) into OUI, subtype and information. */
export function splitOrgTlv(value: Buffer): LldpOrgTlv {
  const oui = [...value.subarray(0, 3)].map((b) => b.toString(16).padStart(2, '0')).join('-');
  return { oui, subtype: value[3] ?? 0, info: value.subarray(4) };
}

/** The organizationally-specific TLVs of a parsed frame. */
export function orgTlvs(frame: LldpFrame): LldpOrgTlv[] {
  return frame.tlvs.filter((t) => t.type === LLDP_TLV.ORGANIZATIONALLY_SPECIFIC).map((t) => splitOrgTlv(t.value));
}

/**
 * Encodes one TLV.
 * @throws RangeError when `type` is outside 0–127 or the value is longer than 511 octets (programming error)
 */
export function encodeTlv(type: number, value: Buffer): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 127) throw new RangeError(`LLDP TLV type ${type} outside 0–127`);
  if (value.length > 511) throw new RangeError(`LLDP TLV value of ${value.length} octets exceeds 511`);
  const out = Buffer.alloc(2 + value.length);
  out.writeUInt16BE((type << 9) | value.length, 0);
  value.copy(out, 2);
  return out;
}

/** What {@link buildLldpdu} needs: the three mandatory TLVs and optional TLVs to place before End. */
export interface LldpduSpec {
  readonly chassisId: LldpId;
  readonly portId: LldpId;
  /** seconds, 0–65535 */
  readonly ttl: number;
  readonly optional?: readonly LldpTlv[];
}

/**
 * Builds an LLDPDU: Chassis ID, Port ID, TTL, the optional TLVs, End.
 * @throws RangeError for an identifier outside 1–255 octets, a TTL outside 0–65535 or an oversize PDU
 */
export function buildLldpdu(spec: LldpduSpec): Buffer {
  const id = (x: LldpId): Buffer => {
    if (x.id.length < 1 || x.id.length > 255) throw new RangeError(`LLDP identifier of ${x.id.length} octets`);
    return Buffer.concat([Buffer.from([x.subtype & 0xff]), x.id]);
  };
  if (!Number.isInteger(spec.ttl) || spec.ttl < 0 || spec.ttl > 0xffff) throw new RangeError(`LLDP TTL ${spec.ttl}`);
  const ttl = Buffer.alloc(2);
  ttl.writeUInt16BE(spec.ttl, 0);
  const parts = [
    encodeTlv(LLDP_TLV.CHASSIS_ID, id(spec.chassisId)),
    encodeTlv(LLDP_TLV.PORT_ID, id(spec.portId)),
    encodeTlv(LLDP_TLV.TTL, ttl),
    ...(spec.optional ?? []).map((t) => encodeTlv(t.type, t.value)),
    encodeTlv(LLDP_TLV.END, Buffer.alloc(0)),
  ];
  const pdu = Buffer.concat(parts);
  if (pdu.length > LLDP_MAX_OCTETS) throw new RangeError(`LLDPDU of ${pdu.length} octets exceeds ${LLDP_MAX_OCTETS}`);
  return pdu;
}
