/**
 * The one table of OpenFlow-basic OXM fields (OpenFlow 1.3.5 §7.2.3.7, Table 12 "Header match fields"
 * and Table 13 "Pipeline match fields"). It drives both encoding and decoding in oxm.ts.
 *
 * `bytes` is the wire width of the value (the TLV length is `bytes`, or `2·bytes` with a mask);
 * `kind` says how the value is represented in {@link OxmBasicField}: `uint` → number (1–4 bytes, big
 * endian), `u64` → bigint, `mac` / `ipv4` / `ipv6` → canonical text; `maskable` is the spec's "Mask" column.
 */
import type { OxmFieldName } from './types.js';

export type OxmValueKind = 'uint' | 'u64' | 'mac' | 'ipv4' | 'ipv6';

export interface OxmFieldSpec {
  readonly name: OxmFieldName;
  /** oxm_field code within class OFPXMC_OPENFLOW_BASIC (0x8000) */
  readonly code: number;
  readonly bytes: number;
  readonly kind: OxmValueKind;
  readonly maskable: boolean;
  /** significant bits for `uint` fields narrower than their bytes (vlan_vid 13, ipv6_flabel 20, …) */
  readonly bits: number;
}

type Row = readonly [OxmFieldName, number, OxmValueKind, boolean, number?];

/** [name, bytes, kind, maskable, bits?] in field-code order 0..39 (the index is the code). */
const ROWS: readonly Row[] = [
  ['in_port', 4, 'uint', false],
  ['in_phy_port', 4, 'uint', false],
  ['metadata', 8, 'u64', true],
  ['eth_dst', 6, 'mac', true],
  ['eth_src', 6, 'mac', true],
  ['eth_type', 2, 'uint', false],
  ['vlan_vid', 2, 'uint', true, 13],
  ['vlan_pcp', 1, 'uint', false, 3],
  ['ip_dscp', 1, 'uint', false, 6],
  ['ip_ecn', 1, 'uint', false, 2],
  ['ip_proto', 1, 'uint', false],
  ['ipv4_src', 4, 'ipv4', true],
  ['ipv4_dst', 4, 'ipv4', true],
  ['tcp_src', 2, 'uint', false],
  ['tcp_dst', 2, 'uint', false],
  ['udp_src', 2, 'uint', false],
  ['udp_dst', 2, 'uint', false],
  ['sctp_src', 2, 'uint', false],
  ['sctp_dst', 2, 'uint', false],
  ['icmpv4_type', 1, 'uint', false],
  ['icmpv4_code', 1, 'uint', false],
  ['arp_op', 2, 'uint', false],
  ['arp_spa', 4, 'ipv4', true],
  ['arp_tpa', 4, 'ipv4', true],
  ['arp_sha', 6, 'mac', true],
  ['arp_tha', 6, 'mac', true],
  ['ipv6_src', 16, 'ipv6', true],
  ['ipv6_dst', 16, 'ipv6', true],
  ['ipv6_flabel', 4, 'uint', true, 20],
  ['icmpv6_type', 1, 'uint', false],
  ['icmpv6_code', 1, 'uint', false],
  ['ipv6_nd_target', 16, 'ipv6', false],
  ['ipv6_nd_sll', 6, 'mac', false],
  ['ipv6_nd_tll', 6, 'mac', false],
  ['mpls_label', 4, 'uint', false, 20],
  ['mpls_tc', 1, 'uint', false, 3],
  ['mpls_bos', 1, 'uint', false, 1],
  ['pbb_isid', 3, 'uint', true, 24],
  ['tunnel_id', 8, 'u64', true],
  ['ipv6_exthdr', 2, 'uint', true, 9],
];

/** All 40 basic fields, indexed by field code. */
export const OXM_FIELDS: readonly OxmFieldSpec[] = ROWS.map(([name, bytes, kind, maskable, bits], code) => ({
  name, code, bytes, kind, maskable, bits: bits ?? bytes * 8,
}));

const BY_NAME: ReadonlyMap<string, OxmFieldSpec> = new Map(OXM_FIELDS.map((f) => [f.name, f]));

/** Spec row of a basic field name, or undefined for a name that is not one. */
export function oxmFieldByName(name: string): OxmFieldSpec | undefined {
  return BY_NAME.get(name);
}

/** Spec row of a basic field code (0..39), or undefined. */
export function oxmFieldByCode(code: number): OxmFieldSpec | undefined {
  return OXM_FIELDS[code];
}
