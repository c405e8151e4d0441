/**
 * Golden vectors for OFPT_MULTIPART_REQUEST / OFPT_MULTIPART_REPLY bodies (OpenFlow 1.3.5 §7.3.5).
 * Every vector was written by hand from the spec's struct layouts, one comment per field; each is checked
 * both ways: encodeMessage(object) must equal the bytes, decodeMessage(bytes) must deep-equal the object.
 */
import { expect } from 'chai';
import { decodeMessage, encodeMessage } from '../../../openflow/codec/messages.js';
import type { OfpMessage } from '../../../openflow/codec/types.js';

/** Hex with `#` comments and any whitespace. */
function hex(s: string): Buffer {
  const clean = s.split('\n').map((l) => l.replace(/#.*$/, '')).join('').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`bad hex vector: ${clean}`);
  return Buffer.from(clean, 'hex');
}

/** A NUL-padded ASCII field of n bytes, as hex. */
function ascii(s: string, n: number): string {
  return Buffer.from(s, 'latin1').toString('hex') + '00'.repeat(n - s.length);
}

interface Vector {
  readonly name: string;
  readonly msg: OfpMessage;
  readonly bytes: Buffer;
}

const req = (xid: number, flags: number, body: unknown): OfpMessage =>
  ({ type: 'OFPT_MULTIPART_REQUEST', xid, flags, body }) as OfpMessage;
const rep = (xid: number, flags: number, body: unknown): OfpMessage =>
  ({ type: 'OFPT_MULTIPART_REPLY', xid, flags, body }) as OfpMessage;

const ANY = 0xffffffff;

const REQUESTS: Vector[] = [
  {
    name: 'DESC request',
    msg: req(0x11, 0, { mpType: 'OFPMP_DESC' }),
    bytes: hex(`
      04 12 0010 00000011   # ofp_header: version 4, OFPT_MULTIPART_REQUEST (18), length 16, xid 0x11
      0000 0000 00000000    # type OFPMP_DESC (0), flags 0, pad[4]
    `),
  },
  {
    name: 'FLOW request',
    msg: req(0x12, 0, {
      mpType: 'OFPMP_FLOW', tableId: 0xff, outPort: ANY, outGroup: ANY, cookie: 0x0123456789abcdefn,
      cookieMask: 0xffffffffffffffffn, match: [{ field: 'in_port', value: 1 }],
    }),
    bytes: hex(`
      04 12 0040 00000012   # header, length 64
      0001 0000 00000000    # OFPMP_FLOW, flags 0, pad
      ff 000000             # table_id OFPTT_ALL, pad[3]
      ffffffff              # out_port OFPP_ANY
      ffffffff              # out_group OFPG_ANY
      00000000              # pad[4]
      0123456789abcdef      # cookie
      ffffffffffffffff      # cookie_mask
      0001 000c             # ofp_match type OFPMT_OXM, length 12
      80000004 00000001     # OXM_OF_IN_PORT = 1
      00000000              # match padding to 16
    `),
  },
  {
    name: 'AGGREGATE request',
    msg: req(0x13, 0, {
      mpType: 'OFPMP_AGGREGATE', tableId: 0, outPort: 2, outGroup: ANY, cookie: 0n, cookieMask: 0n, match: [],
    }),
    bytes: hex(`
      04 12 0038 00000013   # header, length 56
      0002 0000 00000000    # OFPMP_AGGREGATE
      00 000000             # table_id 0, pad[3]
      00000002              # out_port 2
      ffffffff              # out_group OFPG_ANY
      00000000              # pad[4]
      0000000000000000      # cookie
      0000000000000000      # cookie_mask
      0001 0004 00000000    # empty match: OXM type, length 4, 4 bytes padding
    `),
  },
  { name: 'TABLE request', msg: req(0x14, 0, { mpType: 'OFPMP_TABLE' }), bytes: hex('04 12 0010 00000014  0003 0000 00000000') },
  {
    name: 'PORT_STATS request',
    msg: req(0x15, 0, { mpType: 'OFPMP_PORT_STATS', portNo: ANY }),
    bytes: hex(`
      04 12 0018 00000015   # header, length 24
      0004 0000 00000000    # OFPMP_PORT_STATS
      ffffffff 00000000     # port_no OFPP_ANY, pad[4]
    `),
  },
  {
    name: 'QUEUE request',
    msg: req(0x16, 0, { mpType: 'OFPMP_QUEUE', portNo: 1, queueId: ANY }),
    bytes: hex(`
      04 12 0018 00000016   # header, length 24
      0005 0000 00000000    # OFPMP_QUEUE
      00000001              # port_no 1
      ffffffff              # queue_id OFPQ_ALL
    `),
  },
  {
    name: 'GROUP request',
    msg: req(0x17, 0, { mpType: 'OFPMP_GROUP', groupId: 0xfffffffc }),
    bytes: hex(`
      04 12 0018 00000017   # header, length 24
      0006 0000 00000000    # OFPMP_GROUP
      fffffffc 00000000     # group_id OFPG_ALL, pad[4]
    `),
  },
  { name: 'GROUP_DESC request', msg: req(0x18, 0, { mpType: 'OFPMP_GROUP_DESC' }), bytes: hex('04 12 0010 00000018  0007 0000 00000000') },
  {
    name: 'GROUP_FEATURES request',
    msg: req(0x19, 0, { mpType: 'OFPMP_GROUP_FEATURES' }),
    bytes: hex('04 12 0010 00000019  0008 0000 00000000'),
  },
  {
    name: 'METER request',
    msg: req(0x1a, 0, { mpType: 'OFPMP_METER', meterId: 0xffffffff }),
    bytes: hex(`
      04 12 0018 0000001a   # header, length 24
      0009 0000 00000000    # OFPMP_METER
      ffffffff 00000000     # meter_id OFPM_ALL, pad[4]
    `),
  },
  {
    name: 'METER_CONFIG request',
    msg: req(0x1b, 0, { mpType: 'OFPMP_METER_CONFIG', meterId: 1 }),
    bytes: hex(`
      04 12 0018 0000001b   # header, length 24
      000a 0000 00000000    # OFPMP_METER_CONFIG
      00000001 00000000     # meter_id 1, pad[4]
    `),
  },
  {
    name: 'METER_FEATURES request',
    msg: req(0x1c, 0, { mpType: 'OFPMP_METER_FEATURES' }),
    bytes: hex('04 12 0010 0000001c  000b 0000 00000000'),
  },
  {
    name: 'TABLE_FEATURES request (empty: read the current features)',
    msg: req(0x1d, 0, { mpType: 'OFPMP_TABLE_FEATURES', tables: [] }),
    bytes: hex('04 12 0010 0000001d  000c 0000 00000000'),
  },
  {
    name: 'TABLE_FEATURES request (one table, REQ_MORE)',
    msg: req(0x1e, 1, {
      mpType: 'OFPMP_TABLE_FEATURES',
      tables: [{
        tableId: 0, name: 'main', metadataMatch: 0xffffffffffffffffn, metadataWrite: 0n, config: 0, maxEntries: 65536,
        properties: [],
      }],
    }),
    bytes: hex(`
      04 12 0050 0000001e   # header, length 80
      000c 0001 00000000    # OFPMP_TABLE_FEATURES, flags OFPMPF_REQ_MORE
      0040 00 0000000000    # ofp_table_features length 64, table_id 0, pad[5]
      ${ascii('main', 32)}  # name[32]
      ffffffffffffffff      # metadata_match
      0000000000000000      # metadata_write
      00000000              # config
      00010000              # max_entries 65536
    `),
  },
  { name: 'PORT_DESC request', msg: req(0x1f, 0, { mpType: 'OFPMP_PORT_DESC' }), bytes: hex('04 12 0010 0000001f  000d 0000 00000000') },
  {
    name: 'EXPERIMENTER request',
    msg: req(0x20, 0, { mpType: 'OFPMP_EXPERIMENTER', experimenter: 0x2320, expType: 7, data: Buffer.from('abcd') }),
    bytes: hex(`
      04 12 001c 00000020   # header, length 28
      ffff 0000 00000000    # OFPMP_EXPERIMENTER (0xffff)
      00002320              # experimenter (Nicira)
      00000007              # exp_type 7
      61626364              # data "abcd"
    `),
  },
  {
    name: 'unknown request type (byte-exact)',
    msg: req(0x21, 0, { mpType: 'unknown', mpTypeCode: 0x42, data: Buffer.from([1, 2, 3, 4]) }),
    bytes: hex(`
      04 12 0014 00000021   # header, length 20
      0042 0000 00000000    # type 0x42 (not in OF1.3), flags, pad
      01020304              # body kept as is
    `),
  },
];

const REPLIES_SIMPLE: Vector[] = [
  {
    name: 'DESC reply',
    msg: rep(0x31, 0, {
      mpType: 'OFPMP_DESC', mfrDesc: 'Rivulet Labs', hwDesc: 'Open vSwitch', swDesc: '3.1.0', serialNum: 'SN-0001',
      dpDesc: 'leaf1',
    }),
    bytes: hex(`
      04 13 0430 00000031              # OFPT_MULTIPART_REPLY (19), length 1072
      0000 0000 00000000               # OFPMP_DESC
      ${ascii('Rivulet Labs', 256)}    # mfr_desc[256]
      ${ascii('Open vSwitch', 256)}    # hw_desc[256]
      ${ascii('3.1.0', 256)}           # sw_desc[256]
      ${ascii('SN-0001', 32)}          # serial_num[32]
      ${ascii('leaf1', 256)}           # dp_desc[256]
    `),
  },
  {
    name: 'FLOW reply (two entries)',
    msg: rep(0x32, 0, {
      mpType: 'OFPMP_FLOW',
      flows: [
        {
          tableId: 1, durationSec: 10, durationNsec: 1000000, priority: 0x8000, idleTimeout: 60, hardTimeout: 0,
          flags: 1, cookie: 0xabn, packetCount: 100n, byteCount: 6000n, match: [{ field: 'in_port', value: 1 }],
          instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port: 2, maxLen: 0xffff }] }],
        },
        {
          tableId: 0, durationSec: 0, durationNsec: 0, priority: 0, idleTimeout: 0, hardTimeout: 0, flags: 0,
          cookie: 0n, packetCount: 0n, byteCount: 0n, match: [], instructions: [{ type: 'OFPIT_GOTO_TABLE', tableId: 1 }],
        },
      ],
    }),
    bytes: hex(`
      04 13 00a8 00000032       # header, length 168
      0001 0000 00000000        # OFPMP_FLOW
      0058 01 00                # ofp_flow_stats length 88, table_id 1, pad
      0000000a 000f4240         # duration 10 s + 1000000 ns
      8000 003c 0000 0001       # priority 0x8000, idle 60, hard 0, flags OFPFF_SEND_FLOW_REM
      00000000                  # pad[4]
      00000000000000ab          # cookie
      0000000000000064          # packet_count 100
      0000000000001770          # byte_count 6000
      0001 000c 80000004 00000001 00000000   # match in_port=1, padded to 16
      0004 0018 00000000                     # OFPIT_APPLY_ACTIONS, len 24, pad
      0000 0010 00000002 ffff 000000000000   # OFPAT_OUTPUT len 16, port 2, max_len NO_BUFFER, pad[6]
      0040 00 00                # ofp_flow_stats length 64, table_id 0, pad
      00000000 00000000         # duration 0
      0000 0000 0000 0000       # priority 0, idle 0, hard 0, flags 0
      00000000                  # pad[4]
      0000000000000000          # cookie
      0000000000000000          # packet_count
      0000000000000000          # byte_count
      0001 0004 00000000        # empty match
      0001 0008 01 000000       # OFPIT_GOTO_TABLE len 8, table 1, pad[3]
    `),
  },
  {
    name: 'AGGREGATE reply',
    msg: rep(0x33, 0, { mpType: 'OFPMP_AGGREGATE', packetCount: 1000n, byteCount: 100000n, flowCount: 5 }),
    bytes: hex(`
      04 13 0028 00000033       # header, length 40
      0002 0000 00000000        # OFPMP_AGGREGATE
      00000000000003e8          # packet_count 1000
      00000000000186a0          # byte_count 100000
      00000005 00000000         # flow_count 5, pad[4]
    `),
  },
  {
    name: 'TABLE reply (REPLY_MORE)',
    msg: rep(0x34, 1, {
      mpType: 'OFPMP_TABLE',
      tables: [
        { tableId: 0, activeCount: 3, lookupCount: 10n, matchedCount: 7n },
        { tableId: 1, activeCount: 0, lookupCount: 0n, matchedCount: 0n },
      ],
    }),
    bytes: hex(`
      04 13 0040 00000034       # header, length 64
      0003 0001 00000000        # OFPMP_TABLE, flags OFPMPF_REPLY_MORE
      00 000000 00000003        # table_id 0, pad[3], active_count 3
      000000000000000a          # lookup_count 10
      0000000000000007          # matched_count 7
      01 000000 00000000        # table_id 1, active_count 0
      0000000000000000 0000000000000000
    `),
  },
  {
    name: 'PORT_STATS reply',
    msg: rep(0x35, 0, {
      mpType: 'OFPMP_PORT_STATS',
      ports: [{
        portNo: 1, rxPackets: 1n, txPackets: 2n, rxBytes: 3n, txBytes: 4n, rxDropped: 5n, txDropped: 6n, rxErrors: 7n,
        txErrors: 8n, rxFrameErr: 9n, rxOverErr: 10n, rxCrcErr: 11n, collisions: 12n, durationSec: 60, durationNsec: 100,
      }],
    }),
    bytes: hex(`
      04 13 0080 00000035       # header, length 128
      0004 0000 00000000        # OFPMP_PORT_STATS
      00000001 00000000         # port_no 1, pad[4]
      0000000000000001          # rx_packets
      0000000000000002          # tx_packets
      0000000000000003          # rx_bytes
      0000000000000004          # tx_bytes
      0000000000000005          # rx_dropped
      0000000000000006          # tx_dropped
      0000000000000007          # rx_errors
      0000000000000008          # tx_errors
      0000000000000009          # rx_frame_err
      000000000000000a          # rx_over_err
      000000000000000b          # rx_crc_err
      000000000000000c          # collisions
      0000003c 00000064         # duration 60 s + 100 ns
    `),
  },
  {
    name: 'QUEUE reply',
    msg: rep(0x36, 0, {
      mpType: 'OFPMP_QUEUE',
      queues: [{ portNo: 2, queueId: 1, txBytes: 1500n, txPackets: 1n, txErrors: 0n, durationSec: 5, durationNsec: 0 }],
    }),
    bytes: hex(`
      04 13 0038 00000036       # header, length 56
      0005 0000 00000000        # OFPMP_QUEUE
      00000002 00000001         # port_no 2, queue_id 1
      00000000000005dc          # tx_bytes 1500
      0000000000000001          # tx_packets 1
      0000000000000000          # tx_errors 0
      00000005 00000000         # duration 5 s + 0 ns
    `),
  },
  {
    name: 'GROUP reply',
    msg: rep(0x37, 0, {
      mpType: 'OFPMP_GROUP',
      groups: [{
        groupId: 5, refCount: 2, packetCount: 10n, byteCount: 3000n, durationSec: 7, durationNsec: 9,
        bucketStats: [{ packetCount: 4n, byteCount: 1200n }, { packetCount: 6n, byteCount: 1800n }],
      }],
    }),
    bytes: hex(`
      04 13 0058 00000037       # header, length 88
      0006 0000 00000000        # OFPMP_GROUP
      0048 0000                 # ofp_group_stats length 72, pad[2]
      00000005                  # group_id 5
      00000002                  # ref_count 2
      00000000                  # pad[4]
      000000000000000a          # packet_count 10
      0000000000000bb8          # byte_count 3000
      00000007 00000009         # duration 7 s + 9 ns
      0000000000000004 00000000000004b0   # bucket 0: 4 packets, 1200 bytes
      0000000000000006 0000000000000708   # bucket 1: 6 packets, 1800 bytes
    `),
  },
  {
    name: 'GROUP_DESC reply',
    msg: rep(0x38, 0, {
      mpType: 'OFPMP_GROUP_DESC',
      groups: [{
        groupType: 1, groupId: 5,
        buckets: [{ weight: 10, watchPort: ANY, watchGroup: ANY, actions: [{ type: 'OFPAT_OUTPUT', port: 3, maxLen: 0 }] }],
      }],
    }),
    bytes: hex(`
      04 13 0038 00000038       # header, length 56
      0007 0000 00000000        # OFPMP_GROUP_DESC
      0028 01 00 00000005       # ofp_group_desc length 40, type OFPGT_SELECT, pad, group_id 5
      0020 000a                 # ofp_bucket len 32, weight 10
      ffffffff ffffffff         # watch_port ANY, watch_group ANY
      00000000                  # pad[4]
      0000 0010 00000003 0000 000000000000   # OFPAT_OUTPUT port 3, max_len 0, pad[6]
    `),
  },
  {
    name: 'GROUP_FEATURES reply',
    msg: rep(0x39, 0, {
      mpType: 'OFPMP_GROUP_FEATURES', types: 0xf, capabilities: 3, maxGroups: [256, 128, 64, 32], actions: [1, 1, 1, 1],
    }),
    bytes: hex(`
      04 13 0038 00000039       # header, length 56
      0008 0000 00000000        # OFPMP_GROUP_FEATURES
      0000000f                  # types: ALL | SELECT | INDIRECT | FF
      00000003                  # capabilities: SELECT_WEIGHT | SELECT_LIVENESS
      00000100 00000080 00000040 00000020   # max_groups[4]
      00000001 00000001 00000001 00000001   # actions[4]: OFPAT_OUTPUT only
    `),
  },
];

const REPLIES_METER_ETC: Vector[] = [
  {
    name: 'METER reply',
    msg: rep(0x3a, 0, {
      mpType: 'OFPMP_METER',
      meters: [{
        meterId: 1, flowCount: 2, packetInCount: 100n, byteInCount: 50000n, durationSec: 10, durationNsec: 0,
        bandStats: [{ packetBandCount: 3n, byteBandCount: 3000n }],
      }],
    }),
    bytes: hex(`
      04 13 0048 0000003a       # header, length 72
      0009 0000 00000000        # OFPMP_METER
      00000001 0038 000000000000   # meter_id 1, len 56, pad[6]
      00000002                  # flow_count 2
      0000000000000064          # packet_in_count 100
      000000000000c350          # byte_in_count 50000
      0000000a 00000000         # duration 10 s + 0 ns
      0000000000000003 0000000000000bb8   # band 0: 3 packets, 3000 bytes
    `),
  },
  {
    name: 'METER_CONFIG reply',
    msg: rep(0x3b, 0, {
      mpType: 'OFPMP_METER_CONFIG',
      meters: [{ flags: 0xd, meterId: 1, bands: [{ type: 'OFPMBT_DROP', rate: 20000, burstSize: 2000 }] }],
    }),
    bytes: hex(`
      04 13 0028 0000003b       # header, length 40
      000a 0000 00000000        # OFPMP_METER_CONFIG
      0018 000d 00000001        # ofp_meter_config length 24, flags KBPS|BURST|STATS, meter_id 1
      0001 0010                 # OFPMBT_DROP, len 16
      00004e20 000007d0         # rate 20000 kbit/s, burst_size 2000
      00000000                  # pad[4]
    `),
  },
  {
    name: 'METER_FEATURES reply',
    msg: rep(0x3c, 0, {
      mpType: 'OFPMP_METER_FEATURES', maxMeter: 262144, bandTypes: 2, capabilities: 0xf, maxBands: 8, maxColor: 0,
    }),
    bytes: hex(`
      04 13 0020 0000003c       # header, length 32
      000b 0000 00000000        # OFPMP_METER_FEATURES
      00040000                  # max_meter 262144
      00000002                  # band_types: 1 << OFPMBT_DROP
      0000000f                  # capabilities KBPS|PKTPS|BURST|STATS
      08 00 0000                # max_bands 8, max_color 0, pad[2]
    `),
  },
  {
    name: 'TABLE_FEATURES reply (every property type)',
    msg: rep(0x3d, 0, {
      mpType: 'OFPMP_TABLE_FEATURES',
      tables: [{
        tableId: 0, name: 'classifier', metadataMatch: 0xffffffffffffffffn, metadataWrite: 0xffffffffffffffffn,
        config: 3, maxEntries: 1000000,
        properties: [
          {
            type: 'OFPTFPT_INSTRUCTIONS',
            instructionIds: [{ instructionType: 1 }, { instructionType: 4 }, { instructionType: 0xffff, experimenter: 0x2320 }],
          },
          { type: 'OFPTFPT_INSTRUCTIONS_MISS', instructionIds: [{ instructionType: 1 }] },
          { type: 'OFPTFPT_NEXT_TABLES', tableIds: [1, 2, 3] },
          { type: 'OFPTFPT_NEXT_TABLES_MISS', tableIds: [] },
          { type: 'OFPTFPT_WRITE_ACTIONS', actionIds: [{ actionType: 0 }] },
          { type: 'OFPTFPT_WRITE_ACTIONS_MISS', actionIds: [{ actionType: 0 }, { actionType: 22 }] },
          { type: 'OFPTFPT_APPLY_ACTIONS', actionIds: [{ actionType: 25 }, { actionType: 0xffff, experimenter: 0x2320 }] },
          { type: 'OFPTFPT_APPLY_ACTIONS_MISS', actionIds: [] },
          {
            type: 'OFPTFPT_MATCH',
            oxmIds: [
              { oxmClass: 0x8000, fieldCode: 0, hasMask: false, length: 4 },
              { oxmClass: 0x8000, fieldCode: 3, hasMask: true, length: 12 },
            ],
          },
          { type: 'OFPTFPT_WILDCARDS', oxmIds: [{ oxmClass: 0x8000, fieldCode: 0, hasMask: false, length: 4 }] },
          { type: 'OFPTFPT_WRITE_SETFIELD', oxmIds: [{ oxmClass: 0x8000, fieldCode: 6, hasMask: false, length: 2 }] },
          {
            type: 'OFPTFPT_WRITE_SETFIELD_MISS',
            oxmIds: [{ oxmClass: 0xffff, fieldCode: 1, hasMask: false, length: 8, experimenter: 0x4f4e4600 }],
          },
          { type: 'OFPTFPT_APPLY_SETFIELD', oxmIds: [{ oxmClass: 0x8000, fieldCode: 8, hasMask: false, length: 1 }] },
          { type: 'OFPTFPT_APPLY_SETFIELD_MISS', oxmIds: [] },
          { type: 'OFPTFPT_EXPERIMENTER', experimenter: 0x2320, expType: 1, data: Buffer.from([0xaa, 0xbb, 0xcc]) },
          { type: 'OFPTFPT_EXPERIMENTER_MISS', experimenter: 0x2320, expType: 2, data: Buffer.alloc(0) },
          { type: 'unknown', propType: 9, data: Buffer.from([1, 2]) },
        ],
      }],
    }),
    bytes: hex(`
      04 13 0118 0000003d       # header, length 280
      000c 0000 00000000        # OFPMP_TABLE_FEATURES
      0108 00 0000000000        # ofp_table_features length 264, table_id 0, pad[5]
      ${ascii('classifier', 32)}   # name[32]
      ffffffffffffffff          # metadata_match
      ffffffffffffffff          # metadata_write
      00000003                  # config OFPTC_DEPRECATED_MASK
      000f4240                  # max_entries 1000000
      0000 0014                 # OFPTFPT_INSTRUCTIONS, length 20
      0001 0004                 #   id OFPIT_GOTO_TABLE, len 4
      0004 0004                 #   id OFPIT_APPLY_ACTIONS
      ffff 0008 00002320        #   id OFPIT_EXPERIMENTER, len 8, experimenter 0x2320
      00000000                  #   padding to 24
      0001 0008 0001 0004       # OFPTFPT_INSTRUCTIONS_MISS, length 8: GOTO_TABLE
      0002 0007 010203 00       # OFPTFPT_NEXT_TABLES, length 7: tables 1 2 3, pad 1
      0003 0004 00000000        # OFPTFPT_NEXT_TABLES_MISS, length 4, pad 4
      0004 0008 0000 0004       # OFPTFPT_WRITE_ACTIONS, length 8: OFPAT_OUTPUT
      0005 000c 0000 0004 0016 0004 00000000   # WRITE_ACTIONS_MISS, length 12: OUTPUT, GROUP (22), pad 4
      0006 0010 0019 0004 ffff 0008 00002320   # APPLY_ACTIONS, length 16: SET_FIELD (25), EXPERIMENTER 0x2320
      0007 0004 00000000        # OFPTFPT_APPLY_ACTIONS_MISS, length 4, pad 4
      0008 000c                 # OFPTFPT_MATCH, length 12
      80000004                  #   OXM id in_port (class 0x8000, field 0, len 4)
      8000070c                  #   OXM id eth_dst with mask (field 3, hasmask, len 12)
      00000000                  #   padding
      000a 0008 80000004        # OFPTFPT_WILDCARDS, length 8: in_port
      000c 0008 80000c02        # OFPTFPT_WRITE_SETFIELD, length 8: vlan_vid (field 6, len 2)
      000d 000c                 # OFPTFPT_WRITE_SETFIELD_MISS, length 12
      ffff0208 4f4e4600         #   experimenter OXM id: class 0xffff, field 1, len 8, experimenter 0x4f4e4600
      00000000                  #   padding
      000e 0008 80001001        # OFPTFPT_APPLY_SETFIELD, length 8: ip_dscp (field 8, len 1)
      000f 0004 00000000        # OFPTFPT_APPLY_SETFIELD_MISS, length 4, pad 4
      fffe 000f 00002320 00000001 aabbcc 00    # OFPTFPT_EXPERIMENTER, length 15, exp_type 1, data, pad 1
      ffff 000c 00002320 00000002 00000000     # OFPTFPT_EXPERIMENTER_MISS, length 12, exp_type 2, pad 4
      0009 0006 0102 0000       # unknown property type 9, length 6, data 01 02, pad 2
    `),
  },
  {
    name: 'PORT_DESC reply',
    msg: rep(0x3e, 0, {
      mpType: 'OFPMP_PORT_DESC',
      ports: [{
        portNo: 1, hwAddr: '0a:0b:0c:0d:0e:0f', name: 's1-eth1', config: 0, state: 4, curr: 0x2820, advertised: 0,
        supported: 0, peer: 0, currSpeed: 1000000, maxSpeed: 1000000,
      }],
    }),
    bytes: hex(`
      04 13 0050 0000003e       # header, length 80
      000d 0000 00000000        # OFPMP_PORT_DESC
      00000001 00000000         # port_no 1, pad[4]
      0a0b0c0d0e0f 0000         # hw_addr, pad[2]
      ${ascii('s1-eth1', 16)}   # name[16]
      00000000                  # config
      00000004                  # state OFPPS_LIVE
      00002820                  # curr: 1GB_FD | COPPER | AUTONEG
      00000000 00000000 00000000   # advertised, supported, peer
      000f4240 000f4240         # curr_speed, max_speed 1000000 kbit/s
    `),
  },
  {
    name: 'EXPERIMENTER reply',
    msg: rep(0x3f, 0, { mpType: 'OFPMP_EXPERIMENTER', experimenter: 0x2320, expType: 7, data: Buffer.from('abcd') }),
    bytes: hex(`
      04 13 001c 0000003f       # header, length 28
      ffff 0000 00000000        # OFPMP_EXPERIMENTER
      00002320 00000007         # experimenter, exp_type
      61626364                  # data
    `),
  },
  {
    name: 'unknown reply type (byte-exact)',
    msg: rep(0x40, 0, { mpType: 'unknown', mpTypeCode: 0xf0, data: Buffer.from([0xde, 0xad, 0xbe, 0xef]) }),
    bytes: hex('04 13 0014 00000040  00f0 0000 00000000  deadbeef'),
  },
];

function firstDiff(a: Buffer, b: Buffer): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('codec/multipart golden vectors (OpenFlow 1.3.5 §7.3.5)', () => {
  for (const v of [...REQUESTS, ...REPLIES_SIMPLE, ...REPLIES_METER_ETC]) {
    describe(v.name, () => {
      it('vector is self-consistent (header length = bytes)', () => {
        expect(v.bytes.readUInt16BE(2)).to.equal(v.bytes.length);
      });
      it('encodes to the bytes', () => {
        const out = encodeMessage(v.msg);
        const at = firstDiff(out, v.bytes);
        expect(at, `first differing byte at ${at}: got ${out.toString('hex')}`).to.equal(-1);
      });
      it('decodes to the object', () => {
        const res = decodeMessage(v.bytes);
        if (!res.ok) throw res.error;
        expect(res.value).to.deep.equal(v.msg);
      });
    });
  }
});

/** Malformed bodies: hand-made, each with the error code it must produce. */
const MALFORMED: { name: string; bytes: Buffer; code: string }[] = [
  { name: 'multipart header cut short', bytes: hex('04 13 000c 00000001  0000 0000'), code: 'OFP_ERR_BAD_LEN' },
  { name: 'DESC request with a body', bytes: hex('04 12 0014 00000001  0000 0000 00000000  00000000'), code: 'OFP_ERR_BAD_LEN' },
  { name: 'PORT_STATS request body of 4 bytes', bytes: hex('04 12 0014 00000001  0004 0000 00000000  00000001'), code: 'OFP_ERR_BAD_LEN' },
  { name: 'DESC reply cut short', bytes: hex('04 13 0018 00000001  0000 0000 00000000  41424344 00000000'), code: 'OFP_ERR_BAD_LEN' },
  {
    name: 'flow stats entry of length 0 (must not spin)',
    bytes: hex('04 13 0018 00000001  0001 0000 00000000  0000 0000 00000000'),
    code: 'OFP_ERR_BAD_LEN',
  },
  {
    name: 'group stats length not 40 + 16·n',
    bytes: hex(`04 13 0040 00000001  0006 0000 00000000  0030 0000 ${'00'.repeat(44)}`),
    code: 'OFP_ERR_BAD_LEN',
  },
  {
    name: 'meter stats length past the end',
    bytes: hex(`04 13 0038 00000001  0009 0000 00000000  00000001 0048 ${'00'.repeat(34)}`),
    code: 'OFP_ERR_BAD_LEN',
  },
  {
    name: 'port stats entry truncated',
    bytes: hex(`04 13 0020 00000001  0004 0000 00000000  ${'00'.repeat(16)}`),
    code: 'OFP_ERR_BAD_LEN',
  },
  {
    name: 'table features length below 64',
    bytes: hex(`04 13 0020 00000001  000c 0000 00000000  0010 ${'00'.repeat(14)}`),
    code: 'OFP_ERR_BAD_TABLE_FEATURE',
  },
  {
    name: 'table feature property of length 0 (must not spin)',
    bytes: hex(`04 13 0058 00000001  000c 0000 00000000  0048 00 0000000000 ${'00'.repeat(56)} 0000 0000 00000000`),
    code: 'OFP_ERR_BAD_TABLE_FEATURE',
  },
  {
    name: 'table feature property longer than its table',
    bytes: hex(`04 13 0058 00000001  000c 0000 00000000  0048 00 0000000000 ${'00'.repeat(56)} 0002 0010 01020304`),
    code: 'OFP_ERR_BAD_TABLE_FEATURE',
  },
  {
    name: 'instruction id of length 2',
    bytes: hex(`04 13 0058 00000001  000c 0000 00000000  0048 00 0000000000 ${'00'.repeat(56)} 0000 0008 0001 0002`),
    code: 'OFP_ERR_BAD_TABLE_FEATURE',
  },
  {
    name: 'experimenter request without its 8-byte header',
    bytes: hex('04 12 0014 00000001  ffff 0000 00000000  00002320'),
    code: 'OFP_ERR_BAD_LEN',
  },
];

describe('codec/multipart malformed bodies', () => {
  for (const m of MALFORMED) {
    it(`${m.name} → ${m.code}`, () => {
      expect(m.bytes.readUInt16BE(2)).to.equal(m.bytes.length);
      const res = decodeMessage(m.bytes);
      expect(res.ok).to.equal(false);
      if (!res.ok) expect(res.error.code).to.equal(m.code);
    });
  }
});
