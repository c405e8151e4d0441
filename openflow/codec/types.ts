/**
 * The OpenFlow 1.3 object model: plain, immutable-by-convention data that the codec encodes and decodes.
 * Names follow the OpenFlow 1.3.5 specification (message types as `OFPT_*`, action types `OFPAT_*`, …;
 * struct fields in camelCase of the spec's names). Units: rates in kbit/s or packets/s as the spec says
 * (meter bands: per OFPMF_KBPS/OFPMF_PKTPS), durations in s + ns, speeds in kbit/s (ofp_port.curr_speed).
 *
 * 64-bit fields (datapath id, cookie, metadata, counters) are `bigint`. Addresses are text:
 * MAC "aa:bb:cc:dd:ee:ff", IPv4 "10.0.0.1", IPv6 RFC 5952 ("fe80::1"). Opaque payloads are Buffers.
 * Every decoded object is in canonical form, so `decode(encode(x))` deep-equals `x` for canonical `x`.
 */

/* ------------------------------------------------------------------ OXM (§7.2.3) */

/** OXM_OF_* basic field names (class OFPXMC_OPENFLOW_BASIC 0x8000), field codes 0..39 in order. */
export type OxmFieldName =
  | 'in_port' | 'in_phy_port' | 'metadata' | 'eth_dst' | 'eth_src' | 'eth_type' | 'vlan_vid' | 'vlan_pcp'
  | 'ip_dscp' | 'ip_ecn' | 'ip_proto' | 'ipv4_src' | 'ipv4_dst' | 'tcp_src' | 'tcp_dst' | 'udp_src' | 'udp_dst'
  | 'sctp_src' | 'sctp_dst' | 'icmpv4_type' | 'icmpv4_code' | 'arp_op' | 'arp_spa' | 'arp_tpa' | 'arp_sha'
  | 'arp_tha' | 'ipv6_src' | 'ipv6_dst' | 'ipv6_flabel' | 'icmpv6_type' | 'icmpv6_code' | 'ipv6_nd_target'
  | 'ipv6_nd_sll' | 'ipv6_nd_tll' | 'mpls_label' | 'mpls_tc' | 'mpls_bos' | 'pbb_isid' | 'tunnel_id' | 'ipv6_exthdr';

/**
 * Value of a basic field: number for integer fields up to 32 bits (vlan_vid includes OFPVID_PRESENT 0x1000),
 * bigint for 64-bit fields (metadata, tunnel_id), string for MAC / IPv4 / IPv6 fields.
 */
export type OxmValue = number | bigint | string;

/** One OpenFlow-basic OXM TLV. `mask` present ⇔ OXM_HASMASK set on the wire. */
export interface OxmBasicField {
  readonly field: OxmFieldName;
  readonly value: OxmValue;
  readonly mask?: OxmValue;
}

/**
 * Any OXM outside the basic class (NXM_0/NXM_1, OFPXMC_EXPERIMENTER 0xFFFF, unknown classes), carried
 * byte-exact: `payload` is the TLV body after the 4-byte header (for the experimenter class, after the
 * 4-byte experimenter id, which is `experimenter`).
 */
export interface OxmOtherField {
  readonly field: 'other';
  readonly oxmClass: number;
  readonly fieldCode: number;
  readonly hasMask: boolean;
  readonly experimenter?: number;
  readonly payload: Buffer;
}

export type OxmField = OxmBasicField | OxmOtherField;

/** ofp_match of type OFPMT_OXM: the OXM TLVs in wire order. */
export type Match = readonly OxmField[];

/** An OXM header alone (table features OFPTFPT_MATCH etc.): class, field, hasmask, length. */
export interface OxmId {
  readonly oxmClass: number;
  readonly fieldCode: number;
  readonly hasMask: boolean;
  readonly length: number;
  readonly experimenter?: number;
}

/* ------------------------------------------------------------------ Actions (§7.2.5) */

export type Action =
  | { readonly type: 'OFPAT_OUTPUT'; readonly port: number; readonly maxLen: number }
  | { readonly type: 'OFPAT_COPY_TTL_OUT' }
  | { readonly type: 'OFPAT_COPY_TTL_IN' }
  | { readonly type: 'OFPAT_SET_MPLS_TTL'; readonly mplsTtl: number }
  | { readonly type: 'OFPAT_DEC_MPLS_TTL' }
  | { readonly type: 'OFPAT_PUSH_VLAN'; readonly ethertype: number }
  | { readonly type: 'OFPAT_POP_VLAN' }
  | { readonly type: 'OFPAT_PUSH_MPLS'; readonly ethertype: number }
  | { readonly type: 'OFPAT_POP_MPLS'; readonly ethertype: number }
  | { readonly type: 'OFPAT_SET_QUEUE'; readonly queueId: number }
  | { readonly type: 'OFPAT_GROUP'; readonly groupId: number }
  | { readonly type: 'OFPAT_SET_NW_TTL'; readonly nwTtl: number }
  | { readonly type: 'OFPAT_DEC_NW_TTL' }
  | { readonly type: 'OFPAT_SET_FIELD'; readonly field: OxmField }
  | { readonly type: 'OFPAT_PUSH_PBB'; readonly ethertype: number }
  | { readonly type: 'OFPAT_POP_PBB' }
  /** `data` is everything after the experimenter id, including any padding, byte-exact. */
  | { readonly type: 'OFPAT_EXPERIMENTER'; readonly experimenter: number; readonly data: Buffer };

/** Table-features action id: the type alone, or for experimenter actions the id and any extra bytes. */
export interface ActionId {
  readonly actionType: number;
  readonly experimenter?: number;
  readonly data?: Buffer;
}

/* ------------------------------------------------------------------ Instructions (§7.2.4) */

export type Instruction =
  | { readonly type: 'OFPIT_GOTO_TABLE'; readonly tableId: number }
  | { readonly type: 'OFPIT_WRITE_METADATA'; readonly metadata: bigint; readonly metadataMask: bigint }
  | { readonly type: 'OFPIT_WRITE_ACTIONS'; readonly actions: readonly Action[] }
  | { readonly type: 'OFPIT_APPLY_ACTIONS'; readonly actions: readonly Action[] }
  | { readonly type: 'OFPIT_CLEAR_ACTIONS' }
  | { readonly type: 'OFPIT_METER'; readonly meterId: number }
  | { readonly type: 'OFPIT_EXPERIMENTER'; readonly experimenter: number; readonly data: Buffer };

/** Table-features instruction id. */
export interface InstructionId {
  readonly instructionType: number;
  readonly experimenter?: number;
  readonly data?: Buffer;
}

/* ------------------------------------------------------------------ Meter bands (§7.3.4.5) */

/** `rate` in kbit/s or packets/s per the meter's flags; `burstSize` in kbit or packets. */
export type MeterBand =
  | { readonly type: 'OFPMBT_DROP'; readonly rate: number; readonly burstSize: number }
  | { readonly type: 'OFPMBT_DSCP_REMARK'; readonly rate: number; readonly burstSize: number; readonly precLevel: number }
  | {
      readonly type: 'OFPMBT_EXPERIMENTER';
      readonly rate: number;
      readonly burstSize: number;
      readonly experimenter: number;
      /** bytes after the experimenter id, byte-exact */
      readonly data: Buffer;
    };

/* ------------------------------------------------------------------ Groups (§7.3.4.2) */

export interface Bucket {
  readonly weight: number;
  readonly watchPort: number;
  readonly watchGroup: number;
  readonly actions: readonly Action[];
}

/* ------------------------------------------------------------------ Ports (§7.2.1) */

/** ofp_port. Speeds in kbit/s; config/state/curr/… are the spec's bitmaps. */
export interface Port {
  readonly portNo: number;
  readonly hwAddr: string;
  readonly name: string;
  readonly config: number;
  readonly state: number;
  readonly curr: number;
  readonly advertised: number;
  readonly supported: number;
  readonly peer: number;
  readonly currSpeed: number;
  readonly maxSpeed: number;
}

/* ------------------------------------------------------------------ Queues (§7.2.2) */

export type QueueProperty =
  /** rate in 1/10 of a percent; > 1000 means disabled */
  | { readonly type: 'OFPQT_MIN_RATE'; readonly rate: number }
  | { readonly type: 'OFPQT_MAX_RATE'; readonly rate: number }
  | { readonly type: 'OFPQT_EXPERIMENTER'; readonly experimenter: number; readonly data: Buffer };

export interface PacketQueue {
  readonly queueId: number;
  readonly port: number;
  readonly properties: readonly QueueProperty[];
}

/* ------------------------------------------------------------------ HELLO elements (§7.5.1) */

export type HelloElement =
  /** bitmaps[i] bit j set ⇔ version (32·i + j) supported */
  | { readonly type: 'OFPHET_VERSIONBITMAP'; readonly bitmaps: readonly number[] }
  | { readonly type: 'unknown'; readonly elementType: number; readonly data: Buffer };

/* ------------------------------------------------------------------ Table features (§7.3.5.5) */

export type TableFeatureProp =
  | { readonly type: 'OFPTFPT_INSTRUCTIONS' | 'OFPTFPT_INSTRUCTIONS_MISS'; readonly instructionIds: readonly InstructionId[] }
  | { readonly type: 'OFPTFPT_NEXT_TABLES' | 'OFPTFPT_NEXT_TABLES_MISS'; readonly tableIds: readonly number[] }
  | {
      readonly type: 'OFPTFPT_WRITE_ACTIONS' | 'OFPTFPT_WRITE_ACTIONS_MISS' | 'OFPTFPT_APPLY_ACTIONS' | 'OFPTFPT_APPLY_ACTIONS_MISS';
      readonly actionIds: readonly ActionId[];
    }
  | {
      readonly type:
        | 'OFPTFPT_MATCH' | 'OFPTFPT_WILDCARDS' | 'OFPTFPT_WRITE_SETFIELD' | 'OFPTFPT_WRITE_SETFIELD_MISS'
        | 'OFPTFPT_APPLY_SETFIELD' | 'OFPTFPT_APPLY_SETFIELD_MISS';
      readonly oxmIds: readonly OxmId[];
    }
  | {
      readonly type: 'OFPTFPT_EXPERIMENTER' | 'OFPTFPT_EXPERIMENTER_MISS';
      readonly experimenter: number;
      readonly expType: number;
      readonly data: Buffer;
    }
  /** a property type this codec does not know, carried byte-exact */
  | { readonly type: 'unknown'; readonly propType: number; readonly data: Buffer };

export interface TableFeatures {
  readonly tableId: number;
  readonly name: string;
  readonly metadataMatch: bigint;
  readonly metadataWrite: bigint;
  readonly config: number;
  readonly maxEntries: number;
  readonly properties: readonly TableFeatureProp[];
}

/* ------------------------------------------------------------------ Multipart (§7.3.5) */

export interface FlowStatsRequest {
  readonly tableId: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly match: Match;
}

export type MultipartRequestBody =
  | { readonly mpType: 'OFPMP_DESC' }
  | ({ readonly mpType: 'OFPMP_FLOW' } & FlowStatsRequest)
  | ({ readonly mpType: 'OFPMP_AGGREGATE' } & FlowStatsRequest)
  | { readonly mpType: 'OFPMP_TABLE' }
  | { readonly mpType: 'OFPMP_PORT_STATS'; readonly portNo: number }
  | { readonly mpType: 'OFPMP_QUEUE'; readonly portNo: number; readonly queueId: number }
  | { readonly mpType: 'OFPMP_GROUP'; readonly groupId: number }
  | { readonly mpType: 'OFPMP_GROUP_DESC' }
  | { readonly mpType: 'OFPMP_GROUP_FEATURES' }
  | { readonly mpType: 'OFPMP_METER'; readonly meterId: number }
  | { readonly mpType: 'OFPMP_METER_CONFIG'; readonly meterId: number }
  | { readonly mpType: 'OFPMP_METER_FEATURES' }
  | { readonly mpType: 'OFPMP_TABLE_FEATURES'; readonly tables: readonly TableFeatures[] }
  | { readonly mpType: 'OFPMP_PORT_DESC' }
  | { readonly mpType: 'OFPMP_EXPERIMENTER'; readonly experimenter: number; readonly expType: number; readonly data: Buffer }
  /** unknown multipart type, carried byte-exact */
  | { readonly mpType: 'unknown'; readonly mpTypeCode: number; readonly data: Buffer };

export interface FlowStats {
  readonly tableId: number;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly priority: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly flags: number;
  readonly cookie: bigint;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}

export interface TableStats {
  readonly tableId: number;
  readonly activeCount: number;
  readonly lookupCount: bigint;
  readonly matchedCount: bigint;
}

export interface PortStats {
  readonly portNo: number;
  readonly rxPackets: bigint;
  readonly txPackets: bigint;
  readonly rxBytes: bigint;
  readonly txBytes: bigint;
  readonly rxDropped: bigint;
  readonly txDropped: bigint;
  readonly rxErrors: bigint;
  readonly txErrors: bigint;
  readonly rxFrameErr: bigint;
  readonly rxOverErr: bigint;
  readonly rxCrcErr: bigint;
  readonly collisions: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
}

export interface QueueStats {
  readonly portNo: number;
  readonly queueId: number;
  readonly txBytes: bigint;
  readonly txPackets: bigint;
  readonly txErrors: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
}

export interface GroupStats {
  readonly groupId: number;
  readonly refCount: number;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly bucketStats: readonly { readonly packetCount: bigint; readonly byteCount: bigint }[];
}

export interface GroupDesc {
  readonly groupType: number;
  readonly groupId: number;
  readonly buckets: readonly Bucket[];
}

export interface MeterStats {
  readonly meterId: number;
  readonly flowCount: number;
  readonly packetInCount: bigint;
  readonly byteInCount: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly bandStats: readonly { readonly packetBandCount: bigint; readonly byteBandCount: bigint }[];
}

export interface MeterConfig {
  readonly flags: number;
  readonly meterId: number;
  readonly bands: readonly MeterBand[];
}

/** Reply bodies. Array-valued bodies are the concatenation of all parts once reassembled. */
export type MultipartReplyBody =
  | {
      readonly mpType: 'OFPMP_DESC';
      readonly mfrDesc: string;
      readonly hwDesc: string;
      readonly swDesc: string;
      readonly serialNum: string;
      readonly dpDesc: string;
    }
  | { readonly mpType: 'OFPMP_FLOW'; readonly flows: readonly FlowStats[] }
  | { readonly mpType: 'OFPMP_AGGREGATE'; readonly packetCount: bigint; readonly byteCount: bigint; readonly flowCount: number }
  | { readonly mpType: 'OFPMP_TABLE'; readonly tables: readonly TableStats[] }
  | { readonly mpType: 'OFPMP_PORT_STATS'; readonly ports: readonly PortStats[] }
  | { readonly mpType: 'OFPMP_QUEUE'; readonly queues: readonly QueueStats[] }
  | { readonly mpType: 'OFPMP_GROUP'; readonly groups: readonly GroupStats[] }
  | { readonly mpType: 'OFPMP_GROUP_DESC'; readonly groups: readonly GroupDesc[] }
  | {
      readonly mpType: 'OFPMP_GROUP_FEATURES';
      readonly types: number;
      readonly capabilities: number;
      /** max groups per type: [all, select, indirect, fast failover] */
      readonly maxGroups: readonly [number, number, number, number];
      /** bitmaps of OFPAT_* supported per type */
      readonly actions: readonly [number, number, number, number];
    }
  | { readonly mpType: 'OFPMP_METER'; readonly meters: readonly MeterStats[] }
  | { readonly mpType: 'OFPMP_METER_CONFIG'; readonly meters: readonly MeterConfig[] }
  | {
      readonly mpType: 'OFPMP_METER_FEATURES';
      readonly maxMeter: number;
      readonly bandTypes: number;
      readonly capabilities: number;
      readonly maxBands: number;
      readonly maxColor: number;
    }
  | { readonly mpType: 'OFPMP_TABLE_FEATURES'; readonly tables: readonly TableFeatures[] }
  | { readonly mpType: 'OFPMP_PORT_DESC'; readonly ports: readonly Port[] }
  | { readonly mpType: 'OFPMP_EXPERIMENTER'; readonly experimenter: number; readonly expType: number; readonly data: Buffer }
  | { readonly mpType: 'unknown'; readonly mpTypeCode: number; readonly data: Buffer };

export type MultipartType = Exclude<MultipartRequestBody['mpType'], 'unknown'>;

/* ------------------------------------------------------------------ Messages (§7.1–7.5) */

/** Fields every message has. `xid` is the transaction id (u32). */
export interface MessageBase {
  readonly xid: number;
}

export type AsyncMasks = readonly [number, number];

export type OfpMessage =
  /** `version` is the header version (HELLO is the one message sent with any version). */
  | (MessageBase & { readonly type: 'OFPT_HELLO'; readonly version: number; readonly elements: readonly HelloElement[] })
  /**
   * errType/code numbers (names via errorNames()). For errType OFPET_EXPERIMENTER (0xffff), `code` is
   * the exp_type and `experimenter` is set. `data` is the offending request's first bytes (or ASCII).
   */
  | (MessageBase & {
      readonly type: 'OFPT_ERROR';
      readonly errType: number;
      readonly code: number;
      readonly experimenter?: number;
      readonly data: Buffer;
    })
  | (MessageBase & { readonly type: 'OFPT_ECHO_REQUEST'; readonly data: Buffer })
  | (MessageBase & { readonly type: 'OFPT_ECHO_REPLY'; readonly data: Buffer })
  | (MessageBase & { readonly type: 'OFPT_EXPERIMENTER'; readonly experimenter: number; readonly expType: number; readonly data: Buffer })
  | (MessageBase & { readonly type: 'OFPT_FEATURES_REQUEST' })
  | (MessageBase & {
      readonly type: 'OFPT_FEATURES_REPLY';
      readonly datapathId: bigint;
      readonly nBuffers: number;
      readonly nTables: number;
      readonly auxiliaryId: number;
      readonly capabilities: number;
      readonly reserved: number;
    })
  | (MessageBase & { readonly type: 'OFPT_GET_CONFIG_REQUEST' })
  | (MessageBase & { readonly type: 'OFPT_GET_CONFIG_REPLY'; readonly flags: number; readonly missSendLen: number })
  | (MessageBase & { readonly type: 'OFPT_SET_CONFIG'; readonly flags: number; readonly missSendLen: number })
  | (MessageBase & {
      readonly type: 'OFPT_PACKET_IN';
      readonly bufferId: number;
      readonly totalLen: number;
      readonly reason: number;
      readonly tableId: number;
      readonly cookie: bigint;
      readonly match: Match;
      readonly data: Buffer;
    })
  | (MessageBase & {
      readonly type: 'OFPT_FLOW_REMOVED';
      readonly cookie: bigint;
      readonly priority: number;
      readonly reason: number;
      readonly tableId: number;
      readonly durationSec: number;
      readonly durationNsec: number;
      readonly idleTimeout: number;
      readonly hardTimeout: number;
      readonly packetCount: bigint;
      readonly byteCount: bigint;
      readonly match: Match;
    })
  | (MessageBase & { readonly type: 'OFPT_PORT_STATUS'; readonly reason: number; readonly desc: Port })
  | (MessageBase & {
      readonly type: 'OFPT_PACKET_OUT';
      readonly bufferId: number;
      readonly inPort: number;
      readonly actions: readonly Action[];
      readonly data: Buffer;
    })
  | (MessageBase & {
      readonly type: 'OFPT_FLOW_MOD';
      readonly cookie: bigint;
      readonly cookieMask: bigint;
      readonly tableId: number;
      readonly command: number;
      readonly idleTimeout: number;
      readonly hardTimeout: number;
      readonly priority: number;
      readonly bufferId: number;
      readonly outPort: number;
      readonly outGroup: number;
      readonly flags: number;
      readonly match: Match;
      readonly instructions: readonly Instruction[];
    })
  | (MessageBase & {
      readonly type: 'OFPT_GROUP_MOD';
      readonly command: number;
      readonly groupType: number;
      readonly groupId: number;
      readonly buckets: readonly Bucket[];
    })
  | (MessageBase & {
      readonly type: 'OFPT_PORT_MOD';
      readonly portNo: number;
      readonly hwAddr: string;
      readonly config: number;
      readonly mask: number;
      readonly advertise: number;
    })
  | (MessageBase & { readonly type: 'OFPT_TABLE_MOD'; readonly tableId: number; readonly config: number })
  | (MessageBase & { readonly type: 'OFPT_MULTIPART_REQUEST'; readonly flags: number; readonly body: MultipartRequestBody })
  | (MessageBase & { readonly type: 'OFPT_MULTIPART_REPLY'; readonly flags: number; readonly body: MultipartReplyBody })
  | (MessageBase & { readonly type: 'OFPT_BARRIER_REQUEST' })
  | (MessageBase & { readonly type: 'OFPT_BARRIER_REPLY' })
  | (MessageBase & { readonly type: 'OFPT_QUEUE_GET_CONFIG_REQUEST'; readonly port: number })
  | (MessageBase & { readonly type: 'OFPT_QUEUE_GET_CONFIG_REPLY'; readonly port: number; readonly queues: readonly PacketQueue[] })
  | (MessageBase & { readonly type: 'OFPT_ROLE_REQUEST'; readonly role: number; readonly generationId: bigint })
  | (MessageBase & { readonly type: 'OFPT_ROLE_REPLY'; readonly role: number; readonly generationId: bigint })
  | (MessageBase & { readonly type: 'OFPT_GET_ASYNC_REQUEST' })
  | (MessageBase & {
      readonly type: 'OFPT_GET_ASYNC_REPLY';
      /** [master/equal mask, slave mask] per the spec's two-element arrays */
      readonly packetInMask: AsyncMasks;
      readonly portStatusMask: AsyncMasks;
      readonly flowRemovedMask: AsyncMasks;
    })
  | (MessageBase & {
      readonly type: 'OFPT_SET_ASYNC';
      readonly packetInMask: AsyncMasks;
      readonly portStatusMask: AsyncMasks;
      readonly flowRemovedMask: AsyncMasks;
    })
  | (MessageBase & {
      readonly type: 'OFPT_METER_MOD';
      readonly command: number;
      readonly flags: number;
      readonly meterId: number;
      readonly bands: readonly MeterBand[];
    })
  /** A well-framed message of a type this codec does not know (the session answers OFPBRC_BAD_TYPE). */
  | (MessageBase & { readonly type: 'unknown'; readonly version: number; readonly typeCode: number; readonly body: Buffer });

export type OfpMessageType = OfpMessage['type'];

/** The message of a given `type`, e.g. `MessageOf<'OFPT_FLOW_MOD'>`. */
export type MessageOf<T extends OfpMessageType> = Extract<OfpMessage, { type: T }>;
