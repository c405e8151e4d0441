/**
 * OpenFlow 1.3.5 numeric constants (spec Appendix A, openflow.h), as `as const` objects keyed by the
 * spec name without its prefix: `OFPT.FLOW_MOD === 14`, `OFPP.CONTROLLER === 0xfffffffd`.
 * Error types live in errors.ts (`OFPET`); error code names in names.ts.
 */

/** Wire protocol version of OpenFlow 1.3 (ofp_header.version). */
export const OFP_VERSION = 4;
/** IANA port for OpenFlow. */
export const OFP_TCP_PORT = 6653;
export const OFP_HEADER_LEN = 8;
export const OFP_MAX_PORT_NAME_LEN = 16;
export const OFP_MAX_TABLE_NAME_LEN = 32;
export const OFP_DEFAULT_MISS_SEND_LEN = 128;
/** buffer_id meaning "no buffered packet" (packet-in/out, flow-mod). */
export const OFP_NO_BUFFER = 0xffffffff;

/** enum ofp_type (A.1): message type codes. */
export const OFPT = {
  HELLO: 0, ERROR: 1, ECHO_REQUEST: 2, ECHO_REPLY: 3, EXPERIMENTER: 4,
  FEATURES_REQUEST: 5, FEATURES_REPLY: 6, GET_CONFIG_REQUEST: 7, GET_CONFIG_REPLY: 8, SET_CONFIG: 9,
  PACKET_IN: 10, FLOW_REMOVED: 11, PORT_STATUS: 12,
  PACKET_OUT: 13, FLOW_MOD: 14, GROUP_MOD: 15, PORT_MOD: 16, TABLE_MOD: 17,
  MULTIPART_REQUEST: 18, MULTIPART_REPLY: 19, BARRIER_REQUEST: 20, BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22, QUEUE_GET_CONFIG_REPLY: 23, ROLE_REQUEST: 24, ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26, GET_ASYNC_REPLY: 27, SET_ASYNC: 28, METER_MOD: 29,
} as const;

/** enum ofp_port_no (A.2.1): reserved port numbers; physical ports are 1..OFPP.MAX. */
export const OFPP = {
  MAX: 0xffffff00, IN_PORT: 0xfffffff8, TABLE: 0xfffffff9, NORMAL: 0xfffffffa, FLOOD: 0xfffffffb,
  ALL: 0xfffffffc, CONTROLLER: 0xfffffffd, LOCAL: 0xfffffffe, ANY: 0xffffffff,
} as const;

/** enum ofp_port_config (A.2.1) bits. */
export const OFPPC = { PORT_DOWN: 1 << 0, NO_RECV: 1 << 2, NO_FWD: 1 << 5, NO_PACKET_IN: 1 << 6 } as const;
/** enum ofp_port_state (A.2.1) bits. */
export const OFPPS = { LINK_DOWN: 1 << 0, BLOCKED: 1 << 1, LIVE: 1 << 2 } as const;
/** enum ofp_port_features (A.2.1) bits (curr/advertised/supported/peer). */
export const OFPPF = {
  '10MB_HD': 1 << 0, '10MB_FD': 1 << 1, '100MB_HD': 1 << 2, '100MB_FD': 1 << 3, '1GB_HD': 1 << 4,
  '1GB_FD': 1 << 5, '10GB_FD': 1 << 6, '40GB_FD': 1 << 7, '100GB_FD': 1 << 8, '1TB_FD': 1 << 9,
  OTHER: 1 << 10, COPPER: 1 << 11, FIBER: 1 << 12, AUTONEG: 1 << 13, PAUSE: 1 << 14, PAUSE_ASYM: 1 << 15,
} as const;

/** enum ofp_queue_properties (A.2.2) and the "all queues" id. */
export const OFPQT = { MIN_RATE: 1, MAX_RATE: 2, EXPERIMENTER: 0xffff } as const;
export const OFPQ_ALL = 0xffffffff;

/** enum ofp_match_type (A.2.3.1). */
export const OFPMT = { STANDARD: 0, OXM: 1 } as const;
/** enum ofp_oxm_class (A.2.3.2). */
export const OFPXMC = { NXM_0: 0x0000, NXM_1: 0x0001, OPENFLOW_BASIC: 0x8000, EXPERIMENTER: 0xffff } as const;
/** enum ofp_vlan_id (A.2.3.7): bit set in OXM vlan_vid when a VLAN tag is present. */
export const OFPVID_PRESENT = 0x1000;
export const OFPVID_NONE = 0x0000;
/** enum ofp_ipv6exthdr_flags (A.2.3.7). */
export const OFPIEH = {
  NONEXT: 1 << 0, ESP: 1 << 1, AUTH: 1 << 2, DEST: 1 << 3, FRAG: 1 << 4, ROUTER: 1 << 5, HOP: 1 << 6,
  UNREP: 1 << 7, UNSEQ: 1 << 8,
} as const;

/** enum ofp_instruction_type (A.2.4). */
export const OFPIT = {
  GOTO_TABLE: 1, WRITE_METADATA: 2, WRITE_ACTIONS: 3, APPLY_ACTIONS: 4, CLEAR_ACTIONS: 5, METER: 6,
  EXPERIMENTER: 0xffff,
} as const;

/** enum ofp_action_type (A.2.5). */
export const OFPAT = {
  OUTPUT: 0, COPY_TTL_OUT: 11, COPY_TTL_IN: 12, SET_MPLS_TTL: 15, DEC_MPLS_TTL: 16, PUSH_VLAN: 17,
  POP_VLAN: 18, PUSH_MPLS: 19, POP_MPLS: 20, SET_QUEUE: 21, GROUP: 22, SET_NW_TTL: 23, DEC_NW_TTL: 24,
  SET_FIELD: 25, PUSH_PBB: 26, POP_PBB: 27, EXPERIMENTER: 0xffff,
} as const;
/** enum ofp_controller_max_len (A.2.5): output max_len values. */
export const OFPCML_MAX = 0xffe5;
export const OFPCML_NO_BUFFER = 0xffff;

/** enum ofp_capabilities (A.3.1): features-reply capability bits. */
export const OFPC = {
  FLOW_STATS: 1 << 0, TABLE_STATS: 1 << 1, PORT_STATS: 1 << 2, GROUP_STATS: 1 << 3, IP_REASM: 1 << 5,
  QUEUE_STATS: 1 << 6, PORT_BLOCKED: 1 << 8,
} as const;
/** enum ofp_config_flags (A.3.2): switch-config fragment handling. */
export const OFPC_FRAG = { NORMAL: 0, DROP: 1, REASM: 2, MASK: 3 } as const;

/** enum ofp_table (A.3.3) and table config. */
export const OFPTT_MAX = 0xfe;
export const OFPTT_ALL = 0xff;
export const OFPTC_DEPRECATED_MASK = 3;

/** enum ofp_flow_mod_command (A.3.4.1). */
export const OFPFC = { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 } as const;
/** enum ofp_flow_mod_flags (A.3.4.1). */
export const OFPFF = {
  SEND_FLOW_REM: 1 << 0, CHECK_OVERLAP: 1 << 1, RESET_COUNTS: 1 << 2, NO_PKT_COUNTS: 1 << 3, NO_BYT_COUNTS: 1 << 4,
} as const;

/** enum ofp_group (A.3.4.2): reserved group ids. */
export const OFPG = { MAX: 0xffffff00, ALL: 0xfffffffc, ANY: 0xffffffff } as const;
/** enum ofp_group_mod_command (A.3.4.2). */
export const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
/** enum ofp_group_type (A.3.4.2). */
export const OFPGT = { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 } as const;
/** enum ofp_group_capabilities (A.3.5.12). */
export const OFPGFC = { SELECT_WEIGHT: 1 << 0, SELECT_LIVENESS: 1 << 1, CHAINING: 1 << 2, CHAINING_CHECKS: 1 << 3 } as const;

/** enum ofp_meter (A.3.4.4): reserved meter ids; flow meters are 1..OFPM.MAX. */
export const OFPM = { MAX: 0xffff0000, SLOWPATH: 0xfffffffd, CONTROLLER: 0xfffffffe, ALL: 0xffffffff } as const;
/** enum ofp_meter_mod_command (A.3.4.4). */
export const OFPMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
/** enum ofp_meter_flags (A.3.4.4). */
export const OFPMF = { KBPS: 1 << 0, PKTPS: 1 << 1, BURST: 1 << 2, STATS: 1 << 3 } as const;
/** enum ofp_meter_band_type (A.3.4.4). */
export const OFPMBT = { DROP: 1, DSCP_REMARK: 2, EXPERIMENTER: 0xffff } as const;

/** enum ofp_multipart_request_flags / reply flags (A.3.5). */
export const OFPMPF_REQ_MORE = 1;
export const OFPMPF_REPLY_MORE = 1;

/** enum ofp_controller_role (A.3.9). */
export const OFPCR = { ROLE_NOCHANGE: 0, ROLE_EQUAL: 1, ROLE_MASTER: 2, ROLE_SLAVE: 3 } as const;

/** enum ofp_packet_in_reason (A.4.1). */
export const OFPR = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2 } as const;
/** enum ofp_flow_removed_reason (A.4.2). */
export const OFPRR = { IDLE_TIMEOUT: 0, HARD_TIMEOUT: 1, DELETE: 2, GROUP_DELETE: 3 } as const;
/** enum ofp_port_reason (A.4.3). */
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

/** enum ofp_hello_elem_type (A.5.1). */
export const OFPHET = { VERSIONBITMAP: 1 } as const;
