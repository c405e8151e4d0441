/**
 * One encode/decode pair per OpenFlow 1.3.5 message type (§7.1–7.5, Appendix A), registered by type
 * in {@link MESSAGE_LAYOUTS}. Each pair handles the body after the 8-byte ofp_header; messages.ts owns
 * the header, the length and the "body fully consumed" check.
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OfpEncodeError, OFPET } from './errors.js';
import { OFPHET } from './constants.js';
import { decodeActions, encodeActions } from './actions.js';
import { decodeBuckets, encodeBuckets } from './group.js';
import { decodeInstructions, encodeInstructions } from './instructions.js';
import { decodeMeterBands, encodeMeterBands } from './meter.js';
import { decodeMatch, encodeMatch } from './oxm.js';
import { decodePort, encodePort } from './port.js';
import { decodePacketQueue, encodePacketQueue } from './queue.js';
import { decodeMultipartReply, decodeMultipartRequest, encodeMultipartReply, encodeMultipartRequest } from './multipart.js';
import type { KnownMessageType } from './names.js';
import type { AsyncMasks, HelloElement, MessageOf } from './types.js';

/** Body codec of one message type. `dec` reads from a reader bounded to the body. */
export interface MessageLayout<K extends KnownMessageType> {
  enc(w: OfWriter, m: MessageOf<K>): void;
  dec(r: OfReader, xid: number, version: number): MessageOf<K>;
}

type Layouts = { readonly [K in KnownMessageType]: MessageLayout<K> };

/* ------------------------------------------------------------------ shared shapes */

function empty<K extends KnownMessageType>(type: K): MessageLayout<K> {
  return { enc: () => undefined, dec: (_r, xid) => ({ type, xid }) as MessageOf<K> };
}

/** ofp_switch_config: flags u16, miss_send_len u16. */
function switchConfig<K extends 'OFPT_GET_CONFIG_REPLY' | 'OFPT_SET_CONFIG'>(type: K): MessageLayout<K> {
  return {
    enc: (w, m: MessageOf<'OFPT_GET_CONFIG_REPLY' | 'OFPT_SET_CONFIG'>) => void w.u16(m.flags).u16(m.missSendLen),
    dec: (r, xid) => ({ type, xid, flags: r.u16(), missSendLen: r.u16() }) as MessageOf<K>,
  };
}

/** Echo request/reply: arbitrary data. */
function echo<K extends 'OFPT_ECHO_REQUEST' | 'OFPT_ECHO_REPLY'>(type: K): MessageLayout<K> {
  return { enc: (w, m: MessageOf<'OFPT_ECHO_REQUEST' | 'OFPT_ECHO_REPLY'>) => void w.bytes(m.data), dec: (r, xid) => ({ type, xid, data: r.rest() }) as MessageOf<K> };
}

/** ofp_role_request: role u32, pad[4], generation_id u64. */
function role<K extends 'OFPT_ROLE_REQUEST' | 'OFPT_ROLE_REPLY'>(type: K): MessageLayout<K> {
  return {
    enc: (w, m: MessageOf<'OFPT_ROLE_REQUEST' | 'OFPT_ROLE_REPLY'>) => void w.u32(m.role).zeros(4).u64(m.generationId),
    dec: (r, xid) => {
      const roleValue = r.u32();
      r.zeroPad(4);
      return { type, xid, role: roleValue, generationId: r.u64() } as MessageOf<K>;
    },
  };
}

/** ofp_async_config: packet_in_mask[2], port_status_mask[2], flow_removed_mask[2], each u32. */
function asyncConfig<K extends 'OFPT_GET_ASYNC_REPLY' | 'OFPT_SET_ASYNC'>(type: K): MessageLayout<K> {
  const pair = (r: OfReader): AsyncMasks => [r.u32(), r.u32()];
  return {
    enc: (w, m: MessageOf<'OFPT_GET_ASYNC_REPLY' | 'OFPT_SET_ASYNC'>) => {
      for (const masks of [m.packetInMask, m.portStatusMask, m.flowRemovedMask]) {
        if (masks.length !== 2) throw new OfpEncodeError('async masks must be [master/equal, slave]');
        w.u32(masks[0]).u32(masks[1]);
      }
    },
    dec: (r, xid) =>
      ({ type, xid, packetInMask: pair(r), portStatusMask: pair(r), flowRemovedMask: pair(r) }) as MessageOf<K>,
  };
}

/* ------------------------------------------------------------------ HELLO (§7.5.1) */

/** Hello elements: {u16 type, u16 length (excluding padding)}, body, zero padding to 8. */
function encodeHelloElements(w: OfWriter, elements: readonly HelloElement[]): void {
  for (const e of elements) {
    const start = w.offset;
    if (e.type === 'OFPHET_VERSIONBITMAP') {
      w.u16(OFPHET.VERSIONBITMAP).u16(4 + 4 * e.bitmaps.length);
      for (const b of e.bitmaps) w.u32(b);
    } else {
      if (e.elementType === OFPHET.VERSIONBITMAP) throw new OfpEncodeError('unknown hello element with type 1');
      w.u16(e.elementType).u16(4 + e.data.length).bytes(e.data);
    }
    w.align8(start);
  }
}

/** Errors: OFP_ERR_HELLO_INCOMPATIBLE for a malformed element; OFP_ERR_BAD_PADDING. */
function decodeHelloElements(r: OfReader): HelloElement[] {
  const out: HelloElement[] = [];
  while (!r.atEnd) {
    r.need(4, 'hello element header', 'OFP_ERR_HELLO_INCOMPATIBLE');
    const elementType = r.u16();
    const length = r.u16();
    if (length < 4) r.fail('OFP_ERR_HELLO_INCOMPATIBLE', `hello element length ${length}`);
    const body = r.sub(length - 4, 'OFP_ERR_HELLO_INCOMPATIBLE');
    if (elementType === OFPHET.VERSIONBITMAP) {
      if (length % 4 !== 0) r.fail('OFP_ERR_HELLO_INCOMPATIBLE', `version bitmap length ${length}`);
      const bitmaps: number[] = [];
      while (!body.atEnd) bitmaps.push(body.u32());
      out.push({ type: 'OFPHET_VERSIONBITMAP', bitmaps });
    } else {
      out.push({ type: 'unknown', elementType, data: body.rest() });
    }
    const pad = (8 - (length % 8)) % 8;
    r.need(pad, 'hello element padding', 'OFP_ERR_HELLO_INCOMPATIBLE');
    r.zeroPad(pad);
  }
  return out;
}

/* ------------------------------------------------------------------ the table */

export const MESSAGE_LAYOUTS: Layouts = {
  OFPT_HELLO: {
    enc: (w, m) => encodeHelloElements(w, m.elements),
    dec: (r, xid, version) => ({ type: 'OFPT_HELLO', xid, version, elements: decodeHelloElements(r) }),
  },
  /** ofp_error_msg: type u16, code u16, data; OFPET_EXPERIMENTER: type, exp_type u16, experimenter u32, data. */
  OFPT_ERROR: {
    enc: (w, m) => {
      const isExp = m.errType === OFPET.EXPERIMENTER;
      if (isExp !== (m.experimenter !== undefined)) {
        throw new OfpEncodeError('error experimenter id is required for OFPET_EXPERIMENTER and only there');
      }
      w.u16(m.errType).u16(m.code);
      if (isExp) w.u32(m.experimenter!);
      w.bytes(m.data);
    },
    dec: (r, xid) => {
      const errType = r.u16();
      const code = r.u16();
      if (errType !== OFPET.EXPERIMENTER) return { type: 'OFPT_ERROR', xid, errType, code, data: r.rest() };
      return { type: 'OFPT_ERROR', xid, errType, code, experimenter: r.u32(), data: r.rest() };
    },
  },
  OFPT_ECHO_REQUEST: echo('OFPT_ECHO_REQUEST'),
  OFPT_ECHO_REPLY: echo('OFPT_ECHO_REPLY'),
  /** ofp_experimenter_header: experimenter u32, exp_type u32, data. */
  OFPT_EXPERIMENTER: {
    enc: (w, m) => void w.u32(m.experimenter).u32(m.expType).bytes(m.data),
    dec: (r, xid) => ({ type: 'OFPT_EXPERIMENTER', xid, experimenter: r.u32(), expType: r.u32(), data: r.rest() }),
  },
  OFPT_FEATURES_REQUEST: empty('OFPT_FEATURES_REQUEST'),
  /** ofp_switch_features: datapath_id u64, n_buffers u32, n_tables u8, auxiliary_id u8, pad[2], capabilities u32, reserved u32. */
  OFPT_FEATURES_REPLY: {
    enc: (w, m) => void w.u64(m.datapathId).u32(m.nBuffers).u8(m.nTables).u8(m.auxiliaryId).zeros(2).u32(m.capabilities).u32(m.reserved),
    dec: (r, xid) => {
      const datapathId = r.u64();
      const nBuffers = r.u32();
      const nTables = r.u8();
      const auxiliaryId = r.u8();
      r.zeroPad(2);
      return { type: 'OFPT_FEATURES_REPLY', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities: r.u32(), reserved: r.u32() };
    },
  },
  OFPT_GET_CONFIG_REQUEST: empty('OFPT_GET_CONFIG_REQUEST'),
  OFPT_GET_CONFIG_REPLY: switchConfig('OFPT_GET_CONFIG_REPLY'),
  OFPT_SET_CONFIG: switchConfig('OFPT_SET_CONFIG'),
  /** ofp_packet_in: buffer_id u32, total_len u16, reason u8, table_id u8, cookie u64, match, pad[2], data. */
  OFPT_PACKET_IN: {
    enc: (w, m) => {
      w.u32(m.bufferId).u16(m.totalLen).u8(m.reason).u8(m.tableId).u64(m.cookie);
      encodeMatch(w, m.match);
      w.zeros(2).bytes(m.data);
    },
    dec: (r, xid) => {
      const bufferId = r.u32();
      const totalLen = r.u16();
      const reason = r.u8();
      const tableId = r.u8();
      const cookie = r.u64();
      const match = decodeMatch(r);
      r.zeroPad(2);
      return { type: 'OFPT_PACKET_IN', xid, bufferId, totalLen, reason, tableId, cookie, match, data: r.rest() };
    },
  },
  /**
   * ofp_flow_removed: cookie u64, priority u16, reason u8, table_id u8, duration_sec u32, duration_nsec u32,
   * idle_timeout u16, hard_timeout u16, packet_count u64, byte_count u64, match.
   */
  OFPT_FLOW_REMOVED: {
    enc: (w, m) => {
      w.u64(m.cookie).u16(m.priority).u8(m.reason).u8(m.tableId).u32(m.durationSec).u32(m.durationNsec);
      w.u16(m.idleTimeout).u16(m.hardTimeout).u64(m.packetCount).u64(m.byteCount);
      encodeMatch(w, m.match);
    },
    dec: (r, xid) => ({
      type: 'OFPT_FLOW_REMOVED', xid,
      cookie: r.u64(), priority: r.u16(), reason: r.u8(), tableId: r.u8(), durationSec: r.u32(), durationNsec: r.u32(),
      idleTimeout: r.u16(), hardTimeout: r.u16(), packetCount: r.u64(), byteCount: r.u64(), match: decodeMatch(r),
    }),
  },
  /** ofp_port_status: reason u8, pad[7], desc ofp_port. */
  OFPT_PORT_STATUS: {
    enc: (w, m) => {
      w.u8(m.reason).zeros(7);
      encodePort(w, m.desc);
    },
    dec: (r, xid) => {
      const reason = r.u8();
      r.zeroPad(7);
      return { type: 'OFPT_PORT_STATUS', xid, reason, desc: decodePort(r) };
    },
  },
  /** ofp_packet_out: buffer_id u32, in_port u32, actions_len u16, pad[6], actions, data. */
  OFPT_PACKET_OUT: {
    enc: (w, m) => {
      w.u32(m.bufferId).u32(m.inPort);
      const lenAt = w.placeholderU16();
      w.zeros(6);
      const start = w.offset;
      encodeActions(w, m.actions);
      w.patchU16(lenAt, w.offset - start);
      w.bytes(m.data);
    },
    dec: (r, xid) => {
      const bufferId = r.u32();
      const inPort = r.u32();
      const actionsLen = r.u16();
      r.zeroPad(6);
      r.need(actionsLen, 'packet-out actions');
      const actions = decodeActions(r.sub(actionsLen, 'OFP_ERR_BAD_ACTION_LEN'));
      return { type: 'OFPT_PACKET_OUT', xid, bufferId, inPort, actions, data: r.rest() };
    },
  },
  /**
   * ofp_flow_mod: cookie u64, cookie_mask u64, table_id u8, command u8, idle_timeout u16, hard_timeout u16,
   * priority u16, buffer_id u32, out_port u32, out_group u32, flags u16, pad[2], match, instructions.
   */
  OFPT_FLOW_MOD: {
    enc: (w, m) => {
      w.u64(m.cookie).u64(m.cookieMask).u8(m.tableId).u8(m.command).u16(m.idleTimeout).u16(m.hardTimeout);
      w.u16(m.priority).u32(m.bufferId).u32(m.outPort).u32(m.outGroup).u16(m.flags).zeros(2);
      encodeMatch(w, m.match);
      encodeInstructions(w, m.instructions);
    },
    dec: (r, xid) => {
      const cookie = r.u64();
      const cookieMask = r.u64();
      const tableId = r.u8();
      const command = r.u8();
      const idleTimeout = r.u16();
      const hardTimeout = r.u16();
      const priority = r.u16();
      const bufferId = r.u32();
      const outPort = r.u32();
      const outGroup = r.u32();
      const flags = r.u16();
      r.zeroPad(2);
      const match = decodeMatch(r);
      return {
        type: 'OFPT_FLOW_MOD', xid, cookie, cookieMask, tableId, command, idleTimeout, hardTimeout, priority,
        bufferId, outPort, outGroup, flags, match, instructions: decodeInstructions(r),
      };
    },
  },
  /** ofp_group_mod: command u16, type u8, pad[1], group_id u32, buckets. */
  OFPT_GROUP_MOD: {
    enc: (w, m) => {
      w.u16(m.command).u8(m.groupType).zeros(1).u32(m.groupId);
      encodeBuckets(w, m.buckets);
    },
    dec: (r, xid) => {
      const command = r.u16();
      const groupType = r.u8();
      r.zeroPad(1);
      const groupId = r.u32();
      return { type: 'OFPT_GROUP_MOD', xid, command, groupType, groupId, buckets: decodeBuckets(r) };
    },
  },
  /** ofp_port_mod: port_no u32, pad[4], hw_addr[6], pad[2], config u32, mask u32, advertise u32, pad[4]. */
  OFPT_PORT_MOD: {
    enc: (w, m) => void w.u32(m.portNo).zeros(4).mac(m.hwAddr).zeros(2).u32(m.config).u32(m.mask).u32(m.advertise).zeros(4),
    dec: (r, xid) => {
      const portNo = r.u32();
      r.zeroPad(4);
      const hwAddr = r.mac();
      r.zeroPad(2);
      const out = { type: 'OFPT_PORT_MOD' as const, xid, portNo, hwAddr, config: r.u32(), mask: r.u32(), advertise: r.u32() };
      r.zeroPad(4);
      return out;
    },
  },
  /** ofp_table_mod: table_id u8, pad[3], config u32. */
  OFPT_TABLE_MOD: {
    enc: (w, m) => void w.u8(m.tableId).zeros(3).u32(m.config),
    dec: (r, xid) => {
      const tableId = r.u8();
      r.zeroPad(3);
      return { type: 'OFPT_TABLE_MOD', xid, tableId, config: r.u32() };
    },
  },
  OFPT_MULTIPART_REQUEST: { enc: encodeMultipartRequest, dec: decodeMultipartRequest },
  OFPT_MULTIPART_REPLY: { enc: encodeMultipartReply, dec: decodeMultipartReply },
  OFPT_BARRIER_REQUEST: empty('OFPT_BARRIER_REQUEST'),
  OFPT_BARRIER_REPLY: empty('OFPT_BARRIER_REPLY'),
  /** ofp_queue_get_config_request: port u32, pad[4]. */
  OFPT_QUEUE_GET_CONFIG_REQUEST: {
    enc: (w, m) => void w.u32(m.port).zeros(4),
    dec: (r, xid) => {
      const port = r.u32();
      r.zeroPad(4);
      return { type: 'OFPT_QUEUE_GET_CONFIG_REQUEST', xid, port };
    },
  },
  /** ofp_queue_get_config_reply: port u32, pad[4], ofp_packet_queue list. */
  OFPT_QUEUE_GET_CONFIG_REPLY: {
    enc: (w, m) => {
      w.u32(m.port).zeros(4);
      for (const q of m.queues) encodePacketQueue(w, q);
    },
    dec: (r, xid) => {
      const port = r.u32();
      r.zeroPad(4);
      const queues = [];
      while (!r.atEnd) queues.push(decodePacketQueue(r));
      return { type: 'OFPT_QUEUE_GET_CONFIG_REPLY', xid, port, queues };
    },
  },
  OFPT_ROLE_REQUEST: role('OFPT_ROLE_REQUEST'),
  OFPT_ROLE_REPLY: role('OFPT_ROLE_REPLY'),
  OFPT_GET_ASYNC_REQUEST: empty('OFPT_GET_ASYNC_REQUEST'),
  OFPT_GET_ASYNC_REPLY: asyncConfig('OFPT_GET_ASYNC_REPLY'),
  OFPT_SET_ASYNC: asyncConfig('OFPT_SET_ASYNC'),
  /** ofp_meter_mod: command u16, flags u16, meter_id u32, bands. */
  OFPT_METER_MOD: {
    enc: (w, m) => {
      w.u16(m.command).u16(m.flags).u32(m.meterId);
      encodeMeterBands(w, m.bands);
    },
    dec: (r, xid) => ({ type: 'OFPT_METER_MOD', xid, command: r.u16(), flags: r.u16(), meterId: r.u32(), bands: decodeMeterBands(r) }),
  },
};
