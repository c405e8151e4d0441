/**
 * Golden vectors for every non-multipart OpenFlow 1.3.5 message: bytes written by hand from the spec's
 * Appendix A layouts (one comment per field), the object they mean, and both directions checked.
 */
import { expect } from 'chai';
import { decodeMessage, encodeMessage } from '../../../openflow/codec/messages.js';
import type { OfpMessage } from '../../../openflow/codec/types.js';
import { hex } from './hex.js';

interface Vector {
  readonly name: string;
  readonly bytes: Buffer;
  readonly msg: OfpMessage;
}

const ETH_ARP_HEADER = hex('ffffffffffff 000000000001 0806'); // 14-byte Ethernet header: broadcast, src ...:01, ARP

const VECTORS: Vector[] = [
  {
    name: 'HELLO with a two-word version bitmap and an unknown element',
    bytes: hex(`
      04 00 0020 00000001   // header: version 4, OFPT_HELLO, length 32, xid 1
      0001 000c             // element OFPHET_VERSIONBITMAP, length 12 (excluding padding)
      00000012 00000001     // bitmaps[0] = versions 1 and 4, bitmaps[1] = version 32
      00000000              // padding to 8
      0063 0007             // element type 99 (unknown), length 7
      abcdef                // its data
      00                    // padding to 8
    `),
    msg: {
      type: 'OFPT_HELLO', xid: 1, version: 4,
      elements: [
        { type: 'OFPHET_VERSIONBITMAP', bitmaps: [0x12, 0x01] },
        { type: 'unknown', elementType: 0x63, data: hex('abcdef') },
      ],
    },
  },
  {
    name: 'HELLO of OpenFlow 1.0 (any version decodes), no elements',
    bytes: hex('01 00 0008 0000000a   // header: version 1, OFPT_HELLO, length 8, xid 10'),
    msg: { type: 'OFPT_HELLO', xid: 10, version: 1, elements: [] },
  },
  {
    name: 'ERROR BAD_MATCH/BAD_FIELD with the offending bytes',
    bytes: hex(`
      04 01 0014 0000002a   // header: OFPT_ERROR, length 20, xid 42
      0004                  // type OFPET_BAD_MATCH
      0006                  // code OFPBMC_BAD_FIELD
      040e00480000002a      // data: first bytes of the failed request
    `),
    msg: { type: 'OFPT_ERROR', xid: 42, errType: 4, code: 6, data: hex('040e00480000002a') },
  },
  {
    name: 'ERROR experimenter form',
    bytes: hex(`
      04 01 0012 00000002   // header: OFPT_ERROR, length 18, xid 2
      ffff                  // type OFPET_EXPERIMENTER
      0102                  // exp_type
      00002320              // experimenter id
      dead                  // data
    `),
    msg: { type: 'OFPT_ERROR', xid: 2, errType: 0xffff, code: 0x0102, experimenter: 0x2320, data: hex('dead') },
  },
  {
    name: 'ECHO_REQUEST',
    bytes: hex(`
      04 02 000c 00000003   // header: OFPT_ECHO_REQUEST, length 12, xid 3
      cafebabe              // data
    `),
    msg: { type: 'OFPT_ECHO_REQUEST', xid: 3, data: hex('cafebabe') },
  },
  {
    name: 'ECHO_REPLY without data',
    bytes: hex('04 03 0008 00000003   // header: OFPT_ECHO_REPLY, length 8, xid 3'),
    msg: { type: 'OFPT_ECHO_REPLY', xid: 3, data: Buffer.alloc(0) },
  },
  {
    name: 'EXPERIMENTER',
    bytes: hex(`
      04 04 0014 00000004   // header: OFPT_EXPERIMENTER, length 20, xid 4
      00002320              // experimenter id
      0000000a              // exp_type
      01020304              // experimenter-defined data
    `),
    msg: { type: 'OFPT_EXPERIMENTER', xid: 4, experimenter: 0x2320, expType: 10, data: hex('01020304') },
  },
  {
    name: 'FEATURES_REQUEST',
    bytes: hex('04 05 0008 00000005   // header: OFPT_FEATURES_REQUEST, length 8, xid 5'),
    msg: { type: 'OFPT_FEATURES_REQUEST', xid: 5 },
  },
  {
    name: 'FEATURES_REPLY',
    bytes: hex(`
      04 06 0020 00000005   // header: OFPT_FEATURES_REPLY, length 32, xid 5
      00000a0b0c0d0e0f      // datapath_id
      00000100              // n_buffers 256
      fe                    // n_tables 254
      00                    // auxiliary_id 0
      0000                  // pad[2]
      0000004f              // capabilities FLOW|TABLE|PORT|GROUP|QUEUE stats
      00000000              // reserved
    `),
    msg: {
      type: 'OFPT_FEATURES_REPLY', xid: 5, datapathId: 0x0a0b0c0d0e0fn, nBuffers: 256, nTables: 254, auxiliaryId: 0,
      capabilities: 0x4f, reserved: 0,
    },
  },
  {
    name: 'GET_CONFIG_REQUEST',
    bytes: hex('04 07 0008 00000006   // header: OFPT_GET_CONFIG_REQUEST, length 8, xid 6'),
    msg: { type: 'OFPT_GET_CONFIG_REQUEST', xid: 6 },
  },
  {
    name: 'GET_CONFIG_REPLY',
    bytes: hex(`
      04 08 000c 00000006   // header: OFPT_GET_CONFIG_REPLY, length 12, xid 6
      0000                  // flags OFPC_FRAG_NORMAL
      0080                  // miss_send_len 128
    `),
    msg: { type: 'OFPT_GET_CONFIG_REPLY', xid: 6, flags: 0, missSendLen: 128 },
  },
  {
    name: 'SET_CONFIG',
    bytes: hex(`
      04 09 000c 00000007   // header: OFPT_SET_CONFIG, length 12, xid 7
      0000                  // flags OFPC_FRAG_NORMAL
      ffff                  // miss_send_len OFPCML_NO_BUFFER
    `),
    msg: { type: 'OFPT_SET_CONFIG', xid: 7, flags: 0, missSendLen: 0xffff },
  },
  {
    name: 'PACKET_IN',
    bytes: hex(`
      04 0a 0038 00000000   // header: OFPT_PACKET_IN, length 56, xid 0
      ffffffff              // buffer_id OFP_NO_BUFFER
      000e                  // total_len 14
      00                    // reason OFPR_NO_MATCH
      00                    // table_id 0
      0123456789abcdef      // cookie
      0001 000c             // match: OFPMT_OXM, length 12
      80000004 00000001     //   OXM in_port = 1
      00000000              //   match padding to 8
      0000                  // pad[2]
      ffffffffffff 000000000001 0806   // data: the Ethernet header
    `),
    msg: {
      type: 'OFPT_PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: 14, reason: 0, tableId: 0, cookie: 0x0123456789abcdefn,
      match: [{ field: 'in_port', value: 1 }], data: ETH_ARP_HEADER,
    },
  },
  {
    name: 'FLOW_REMOVED',
    bytes: hex(`
      04 0b 0048 00000008   // header: OFPT_FLOW_REMOVED, length 72, xid 8
      00000000000000ff      // cookie
      8000                  // priority
      00                    // reason OFPRR_IDLE_TIMEOUT
      00                    // table_id
      0000000a              // duration_sec 10
      1dcd6500              // duration_nsec 500000000
      001e                  // idle_timeout 30
      0000                  // hard_timeout 0
      0000000000000005      // packet_count
      00000000000001f4      // byte_count 500
      0001 0012             // match: OFPMT_OXM, length 18
      80000a02 0800         //   OXM eth_type = 0x0800
      80001804 0a000002     //   OXM ipv4_dst = 10.0.0.2
      000000000000          //   match padding to 24
    `),
    msg: {
      type: 'OFPT_FLOW_REMOVED', xid: 8, cookie: 0xffn, priority: 0x8000, reason: 0, tableId: 0, durationSec: 10,
      durationNsec: 500000000, idleTimeout: 30, hardTimeout: 0, packetCount: 5n, byteCount: 500n,
      match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.2' }],
    },
  },
  {
    name: 'PORT_STATUS',
    bytes: hex(`
      04 0c 0050 00000000   // header: OFPT_PORT_STATUS, length 80, xid 0
      02                    // reason OFPPR_MODIFY
      00000000000000        // pad[7]
      00000001              // port_no 1
      00000000              // pad[4]
      0a1b2c3d4e5f          // hw_addr
      0000                  // pad[2]
      73312d65746831 000000000000000000   // name "s1-eth1", NUL-padded to 16
      00000000              // config
      00000004              // state OFPPS_LIVE
      00002820              // curr 1GB_FD | COPPER | AUTONEG
      00000000              // advertised
      00000000              // supported
      00000000              // peer
      000f4240              // curr_speed 1000000 kbit/s
      00000000              // max_speed
    `),
    msg: {
      type: 'OFPT_PORT_STATUS', xid: 0, reason: 2,
      desc: {
        portNo: 1, hwAddr: '0a:1b:2c:3d:4e:5f', name: 's1-eth1', config: 0, state: 4, curr: 0x2820, advertised: 0, supported: 0,
        peer: 0, currSpeed: 1000000, maxSpeed: 0,
      },
    },
  },
  {
    name: 'PACKET_OUT',
    bytes: hex(`
      04 0d 0036 00000009   // header: OFPT_PACKET_OUT, length 54, xid 9
      ffffffff              // buffer_id OFP_NO_BUFFER
      fffffffd              // in_port OFPP_CONTROLLER
      0010                  // actions_len 16
      000000000000          // pad[6]
      0000 0010 fffffffb 0000 000000000000   // action OUTPUT, len 16, port OFPP_FLOOD, max_len 0, pad[6]
      ffffffffffff 000000000001 0806          // data
    `),
    msg: {
      type: 'OFPT_PACKET_OUT', xid: 9, bufferId: 0xffffffff, inPort: 0xfffffffd,
      actions: [{ type: 'OFPAT_OUTPUT', port: 0xfffffffb, maxLen: 0 }], data: ETH_ARP_HEADER,
    },
  },
  {
    name: 'FLOW_MOD (masked IPv4, TCP ports, VLAN, DSCP, metadata; meter, apply-actions, write-metadata, goto)',
    bytes: hex(`
      04 0e 00e8 0000000b   // header: OFPT_FLOW_MOD, length 232, xid 11
      000000000000abcd      // cookie
      0000000000000000      // cookie_mask
      00                    // table_id 0
      00                    // command OFPFC_ADD
      003c                  // idle_timeout 60
      012c                  // hard_timeout 300
      03e8                  // priority 1000
      ffffffff              // buffer_id OFP_NO_BUFFER
      ffffffff              // out_port OFPP_ANY
      ffffffff              // out_group OFPG_ANY
      0001                  // flags OFPFF_SEND_FLOW_REM
      0000                  // pad[2]
      0001 0056             // match: OFPMT_OXM, length 86
      80000004 00000001                         // in_port = 1
      80000510 00000000000000ff 00000000000000ff // metadata = 0xff / 0xff (field 2, hasmask, len 16)
      80000c02 100a                             // vlan_vid = OFPVID_PRESENT | 10
      80000a02 0800                             // eth_type = IPv4
      80001001 2e                               // ip_dscp = 46
      80001401 06                               // ip_proto = TCP
      80001708 0a000000 ffffff00                // ipv4_src = 10.0.0.0 / 255.255.255.0
      80001804 0a000102                         // ipv4_dst = 10.0.1.2
      80001a02 3039                             // tcp_src = 12345
      80001c02 0050                             // tcp_dst = 80
      0000                                      // match padding to 88
      0006 0008 00000005    // OFPIT_METER, len 8, meter_id 5
      0004 0038 00000000    // OFPIT_APPLY_ACTIONS, len 56, pad[4]
      0019 0010 80000606 000000000002 0000      //   SET_FIELD eth_dst = 00:00:00:00:00:02, padded to 16
      0015 0008 00000001                        //   SET_QUEUE queue_id 1
      0016 0008 00000007                        //   GROUP group_id 7
      0000 0010 00000002 0000 000000000000      //   OUTPUT port 2, max_len 0
      0002 0018 00000000 0000000000000001 00000000000000ff   // OFPIT_WRITE_METADATA, len 24, pad, metadata 1, mask 0xff
      0001 0008 01 000000   // OFPIT_GOTO_TABLE, len 8, table 1, pad[3]
    `),
    msg: {
      type: 'OFPT_FLOW_MOD', xid: 11, cookie: 0xabcdn, cookieMask: 0n, tableId: 0, command: 0, idleTimeout: 60,
      hardTimeout: 300, priority: 1000, bufferId: 0xffffffff, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 1,
      match: [
        { field: 'in_port', value: 1 },
        { field: 'metadata', value: 0xffn, mask: 0xffn },
        { field: 'vlan_vid', value: 0x100a },
        { field: 'eth_type', value: 0x0800 },
        { field: 'ip_dscp', value: 46 },
        { field: 'ip_proto', value: 6 },
        { field: 'ipv4_src', value: '10.0.0.0', mask: '255.255.255.0' },
        { field: 'ipv4_dst', value: '10.0.1.2' },
        { field: 'tcp_src', value: 12345 },
        { field: 'tcp_dst', value: 80 },
      ],
      instructions: [
        { type: 'OFPIT_METER', meterId: 5 },
        {
          type: 'OFPIT_APPLY_ACTIONS',
          actions: [
            { type: 'OFPAT_SET_FIELD', field: { field: 'eth_dst', value: '00:00:00:00:00:02' } },
            { type: 'OFPAT_SET_QUEUE', queueId: 1 },
            { type: 'OFPAT_GROUP', groupId: 7 },
            { type: 'OFPAT_OUTPUT', port: 2, maxLen: 0 },
          ],
        },
        { type: 'OFPIT_WRITE_METADATA', metadata: 1n, metadataMask: 0xffn },
        { type: 'OFPIT_GOTO_TABLE', tableId: 1 },
      ],
    },
  },
  {
    name: 'GROUP_MOD (select group, two buckets)',
    bytes: hex(`
      04 0f 0058 0000000c   // header: OFPT_GROUP_MOD, length 88, xid 12
      0000                  // command OFPGC_ADD
      01                    // type OFPGT_SELECT
      00                    // pad
      00000007              // group_id 7
      0020 0032 ffffffff ffffffff 00000000   // bucket len 32, weight 50, watch_port ANY, watch_group ANY, pad[4]
      0000 0010 00000001 0000 000000000000   //   OUTPUT port 1
      0028 0032 ffffffff ffffffff 00000000   // bucket len 40, weight 50, watch ANY/ANY, pad[4]
      0011 0008 8100 0000                    //   PUSH_VLAN ethertype 0x8100, pad[2]
      0000 0010 00000002 0000 000000000000   //   OUTPUT port 2
    `),
    msg: {
      type: 'OFPT_GROUP_MOD', xid: 12, command: 0, groupType: 1, groupId: 7,
      buckets: [
        { weight: 50, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: [{ type: 'OFPAT_OUTPUT', port: 1, maxLen: 0 }] },
        {
          weight: 50, watchPort: 0xffffffff, watchGroup: 0xffffffff,
          actions: [{ type: 'OFPAT_PUSH_VLAN', ethertype: 0x8100 }, { type: 'OFPAT_OUTPUT', port: 2, maxLen: 0 }],
        },
      ],
    },
  },
  {
    name: 'PORT_MOD',
    bytes: hex(`
      04 10 0028 0000000d   // header: OFPT_PORT_MOD, length 40, xid 13
      00000003              // port_no 3
      00000000              // pad[4]
      0a1b2c3d4e5f          // hw_addr
      0000                  // pad[2]
      00000001              // config OFPPC_PORT_DOWN
      00000001              // mask OFPPC_PORT_DOWN
      00000000              // advertise (0 = unchanged)
      00000000              // pad[4]
    `),
    msg: { type: 'OFPT_PORT_MOD', xid: 13, portNo: 3, hwAddr: '0a:1b:2c:3d:4e:5f', config: 1, mask: 1, advertise: 0 },
  },
  {
    name: 'TABLE_MOD',
    bytes: hex(`
      04 11 0010 0000000e   // header: OFPT_TABLE_MOD, length 16, xid 14
      ff                    // table_id OFPTT_ALL
      000000                // pad[3]
      00000003              // config OFPTC_DEPRECATED_MASK
    `),
    msg: { type: 'OFPT_TABLE_MOD', xid: 14, tableId: 0xff, config: 3 },
  },
  {
    name: 'BARRIER_REQUEST',
    bytes: hex('04 14 0008 0000000f   // header: OFPT_BARRIER_REQUEST, length 8, xid 15'),
    msg: { type: 'OFPT_BARRIER_REQUEST', xid: 15 },
  },
  {
    name: 'BARRIER_REPLY',
    bytes: hex('04 15 0008 0000000f   // header: OFPT_BARRIER_REPLY, length 8, xid 15'),
    msg: { type: 'OFPT_BARRIER_REPLY', xid: 15 },
  },
  {
    name: 'QUEUE_GET_CONFIG_REQUEST',
    bytes: hex(`
      04 16 0010 00000010   // header: OFPT_QUEUE_GET_CONFIG_REQUEST, length 16, xid 16
      00000001              // port 1
      00000000              // pad[4]
    `),
    msg: { type: 'OFPT_QUEUE_GET_CONFIG_REQUEST', xid: 16, port: 1 },
  },
  {
    name: 'QUEUE_GET_CONFIG_REPLY (min/max rate and experimenter properties)',
    bytes: hex(`
      04 17 0068 00000010   // header: OFPT_QUEUE_GET_CONFIG_REPLY, length 104, xid 16
      00000001              // port 1
      00000000              // pad[4]
      00000000 00000001 0030 000000000000     // queue_id 0, port 1, len 48, pad[6]
      0001 0010 00000000 0064 000000000000    //   OFPQT_MIN_RATE, len 16, pad[4], rate 10.0 %, pad[6]
      0002 0010 00000000 03e8 000000000000    //   OFPQT_MAX_RATE, len 16, pad[4], rate 100.0 %, pad[6]
      00000001 00000001 0028 000000000000     // queue_id 1, port 1, len 40, pad[6]
      ffff 0018 00000000                      //   OFPQT_EXPERIMENTER, len 24, pad[4]
      00002320 00000000                       //   experimenter id, pad[4]
      0102030405060708                        //   experimenter data
    `),
    msg: {
      type: 'OFPT_QUEUE_GET_CONFIG_REPLY', xid: 16, port: 1,
      queues: [
        { queueId: 0, port: 1, properties: [{ type: 'OFPQT_MIN_RATE', rate: 100 }, { type: 'OFPQT_MAX_RATE', rate: 1000 }] },
        { queueId: 1, port: 1, properties: [{ type: 'OFPQT_EXPERIMENTER', experimenter: 0x2320, data: hex('0102030405060708') }] },
      ],
    },
  },
  {
    name: 'ROLE_REQUEST',
    bytes: hex(`
      04 18 0018 00000011   // header: OFPT_ROLE_REQUEST, length 24, xid 17
      00000002              // role OFPCR_ROLE_MASTER
      00000000              // pad[4]
      0000000000000003      // generation_id 3
    `),
    msg: { type: 'OFPT_ROLE_REQUEST', xid: 17, role: 2, generationId: 3n },
  },
  {
    name: 'ROLE_REPLY',
    bytes: hex(`
      04 19 0018 00000011   // header: OFPT_ROLE_REPLY, length 24, xid 17
      00000003              // role OFPCR_ROLE_SLAVE
      00000000              // pad[4]
      ffffffffffffffff      // generation_id 2^64-1
    `),
    msg: { type: 'OFPT_ROLE_REPLY', xid: 17, role: 3, generationId: 0xffffffffffffffffn },
  },
  {
    name: 'GET_ASYNC_REQUEST',
    bytes: hex('04 1a 0008 00000012   // header: OFPT_GET_ASYNC_REQUEST, length 8, xid 18'),
    msg: { type: 'OFPT_GET_ASYNC_REQUEST', xid: 18 },
  },
  {
    name: 'GET_ASYNC_REPLY',
    bytes: hex(`
      04 1b 0020 00000012   // header: OFPT_GET_ASYNC_REPLY, length 32, xid 18
      00000003 00000000     // packet_in_mask: master/equal NO_MATCH|ACTION, slave none
      00000007 00000007     // port_status_mask: ADD|DELETE|MODIFY for both
      0000000f 00000000     // flow_removed_mask: all four reasons for master/equal, none for slave
    `),
    msg: { type: 'OFPT_GET_ASYNC_REPLY', xid: 18, packetInMask: [3, 0], portStatusMask: [7, 7], flowRemovedMask: [15, 0] },
  },
  {
    name: 'SET_ASYNC',
    bytes: hex(`
      04 1c 0020 00000013   // header: OFPT_SET_ASYNC, length 32, xid 19
      00000001 00000000     // packet_in_mask
      00000007 00000000     // port_status_mask
      00000000 00000000     // flow_removed_mask
    `),
    msg: { type: 'OFPT_SET_ASYNC', xid: 19, packetInMask: [1, 0], portStatusMask: [7, 0], flowRemovedMask: [0, 0] },
  },
  {
    name: 'METER_MOD (drop, dscp_remark and experimenter bands)',
    bytes: hex(`
      04 1d 0048 00000014   // header: OFPT_METER_MOD, length 72, xid 20
      0000                  // command OFPMC_ADD
      000d                  // flags KBPS | BURST | STATS
      00000005              // meter_id 5
      0001 0010 00004e20 000003e8 00000000        // DROP, len 16, rate 20000 kbit/s, burst 1000 kbit, pad[4]
      0002 0010 00007530 000007d0 01 000000       // DSCP_REMARK, len 16, rate 30000, burst 2000, prec_level 1, pad[3]
      ffff 0018 00000000 00000000 00002320        // EXPERIMENTER, len 24, rate 0, burst 0, experimenter id
      a1a2a3a4a5a6a7a8                            //   experimenter data
    `),
    msg: {
      type: 'OFPT_METER_MOD', xid: 20, command: 0, flags: 0xd, meterId: 5,
      bands: [
        { type: 'OFPMBT_DROP', rate: 20000, burstSize: 1000 },
        { type: 'OFPMBT_DSCP_REMARK', rate: 30000, burstSize: 2000, precLevel: 1 },
        { type: 'OFPMBT_EXPERIMENTER', rate: 0, burstSize: 0, experimenter: 0x2320, data: hex('a1a2a3a4a5a6a7a8') },
      ],
    },
  },
  {
    name: 'unknown message type 30 (carried byte-exact)',
    bytes: hex(`
      04 1e 000a 00000015   // header: type 30 (not in OF1.3), length 10, xid 21
      abcd                  // body
    `),
    msg: { type: 'unknown', xid: 21, version: 4, typeCode: 30, body: hex('abcd') },
  },
];

function firstDiff(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

describe('codec golden vectors (hand-written from the OpenFlow 1.3.5 spec)', () => {
  for (const v of VECTORS) {
    describe(v.name, () => {
      it('vector is self-consistent (header length = bytes)', () => {
        expect(v.bytes.readUInt16BE(2)).to.equal(v.bytes.length);
      });
      it('encodes to the bytes', () => {
        const got = encodeMessage(v.msg);
        const at = firstDiff(got, v.bytes);
        expect(at, `first differing byte at ${at}: got ${got.toString('hex')}`).to.equal(-1);
      });
      it('decodes to the object', () => {
        const res = decodeMessage(v.bytes);
        if (!res.ok) throw res.error;
        expect(res.value).to.deep.equal(v.msg);
      });
    });
  }

  it('covers every non-multipart message type', () => {
    const covered = new Set(VECTORS.map((v) => v.msg.type));
    const all = [
      'OFPT_HELLO', 'OFPT_ERROR', 'OFPT_ECHO_REQUEST', 'OFPT_ECHO_REPLY', 'OFPT_EXPERIMENTER', 'OFPT_FEATURES_REQUEST',
      'OFPT_FEATURES_REPLY', 'OFPT_GET_CONFIG_REQUEST', 'OFPT_GET_CONFIG_REPLY', 'OFPT_SET_CONFIG', 'OFPT_PACKET_IN',
      'OFPT_FLOW_REMOVED', 'OFPT_PORT_STATUS', 'OFPT_PACKET_OUT', 'OFPT_FLOW_MOD', 'OFPT_GROUP_MOD', 'OFPT_PORT_MOD',
      'OFPT_TABLE_MOD', 'OFPT_BARRIER_REQUEST', 'OFPT_BARRIER_REPLY', 'OFPT_QUEUE_GET_CONFIG_REQUEST',
      'OFPT_QUEUE_GET_CONFIG_REPLY', 'OFPT_ROLE_REQUEST', 'OFPT_ROLE_REPLY', 'OFPT_GET_ASYNC_REQUEST', 'OFPT_GET_ASYNC_REPLY',
      'OFPT_SET_ASYNC', 'OFPT_METER_MOD',
    ];
    expect(all.filter((t) => !covered.has(t as OfpMessage['type']))).to.deep.equal([]);
  });
});

describe('codec struct sizes match the spec (OFP_ASSERT sizes of Appendix A)', () => {
  const empty = { match: [] as const };
  const sizes: [OfpMessage, number][] = [
    [{ type: 'OFPT_FEATURES_REPLY', xid: 0, datapathId: 0n, nBuffers: 0, nTables: 0, auxiliaryId: 0, capabilities: 0, reserved: 0 }, 32],
    [{ type: 'OFPT_SET_CONFIG', xid: 0, flags: 0, missSendLen: 0 }, 12],
    [{ type: 'OFPT_FLOW_MOD', xid: 0, cookie: 0n, cookieMask: 0n, tableId: 0, command: 0, idleTimeout: 0, hardTimeout: 0,
      priority: 0, bufferId: 0, outPort: 0, outGroup: 0, flags: 0, ...empty, instructions: [] }, 56],
    [{ type: 'OFPT_FLOW_REMOVED', xid: 0, cookie: 0n, priority: 0, reason: 0, tableId: 0, durationSec: 0, durationNsec: 0,
      idleTimeout: 0, hardTimeout: 0, packetCount: 0n, byteCount: 0n, ...empty }, 56],
    // ofp_packet_in is asserted as 32 with a 4-byte OXM area; an empty match adds its 4 padding bytes, + 2 pad
    [{ type: 'OFPT_PACKET_IN', xid: 0, bufferId: 0, totalLen: 0, reason: 0, tableId: 0, cookie: 0n, ...empty, data: Buffer.alloc(0) }, 34],
    [{ type: 'OFPT_PACKET_OUT', xid: 0, bufferId: 0, inPort: 0, actions: [], data: Buffer.alloc(0) }, 24],
    [{ type: 'OFPT_GROUP_MOD', xid: 0, command: 0, groupType: 0, groupId: 0, buckets: [] }, 16],
    [{ type: 'OFPT_PORT_MOD', xid: 0, portNo: 0, hwAddr: '00:00:00:00:00:00', config: 0, mask: 0, advertise: 0 }, 40],
    [{ type: 'OFPT_TABLE_MOD', xid: 0, tableId: 0, config: 0 }, 16],
    [{ type: 'OFPT_QUEUE_GET_CONFIG_REQUEST', xid: 0, port: 0 }, 16],
    [{ type: 'OFPT_QUEUE_GET_CONFIG_REPLY', xid: 0, port: 0, queues: [] }, 16],
    [{ type: 'OFPT_ROLE_REQUEST', xid: 0, role: 0, generationId: 0n }, 24],
    [{ type: 'OFPT_SET_ASYNC', xid: 0, packetInMask: [0, 0], portStatusMask: [0, 0], flowRemovedMask: [0, 0] }, 32],
    [{ type: 'OFPT_METER_MOD', xid: 0, command: 0, flags: 0, meterId: 0, bands: [] }, 16],
    [{ type: 'OFPT_ERROR', xid: 0, errType: 0xffff, code: 0, experimenter: 0, data: Buffer.alloc(0) }, 16],
    [{ type: 'OFPT_EXPERIMENTER', xid: 0, experimenter: 0, expType: 0, data: Buffer.alloc(0) }, 16],
    [{ type: 'OFPT_PORT_STATUS', xid: 0, reason: 0, desc: {
      portNo: 0, hwAddr: '00:00:00:00:00:00', name: '', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0,
      currSpeed: 0, maxSpeed: 0,
    } }, 80],
  ];
  for (const [m, size] of sizes) {
    it(`${m.type} minimum is ${size} bytes`, () => expect(encodeMessage(m).length).to.equal(size));
  }
});
