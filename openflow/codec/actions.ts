/**
 * Action lists (OpenFlow 1.3.5 §7.2.5). Every action starts with ofp_action_header {u16 type, u16 len};
 * `len` includes the header and is a multiple of 8. Fixed-size layouts are one table row each.
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OfpEncodeError } from './errors.js';
import { ACTION_TYPE_CODES, type ActionType } from './names.js';
import { decodeOxm, encodeOxm } from './oxm.js';
import type { Action } from './types.js';

type ActionOf<K extends ActionType> = Extract<Action, { type: K }>;

/** Layout of one action type: total length (undefined = variable) and body codec (after type+len). */
interface ActionLayout<K extends ActionType> {
  readonly len?: number;
  enc(w: OfWriter, a: ActionOf<K>): void;
  /** Reads the body and returns the whole action (type included: no spread, one object shape per type). */
  dec(r: OfReader): ActionOf<K>;
}

/** ofp_action_generic: type, len = 8, pad[4]. */
function headerOnly<K extends ActionType>(type: K): ActionLayout<K> {
  return { len: 8, enc: (w) => void w.zeros(4), dec: (r) => (r.zeroPad(4), { type } as ActionOf<K>) };
}

/** ofp_action_push (push_vlan, push_mpls, pop_mpls, push_pbb): ethertype u16, pad[2]. */
function ethertype<K extends 'OFPAT_PUSH_VLAN' | 'OFPAT_PUSH_MPLS' | 'OFPAT_POP_MPLS' | 'OFPAT_PUSH_PBB'>(type: K): ActionLayout<K> {
  return {
    len: 8,
    enc: (w, a: { readonly ethertype: number }) => void w.u16(a.ethertype).zeros(2),
    dec: (r) => ({ type, ethertype: u16Pad2(r) }) as ActionOf<K>,
  };
}

const LAYOUTS: { readonly [K in ActionType]: ActionLayout<K> } = {
  /** ofp_action_output: port u32, max_len u16, pad[6] */
  OFPAT_OUTPUT: {
    len: 16,
    enc: (w, a) => void w.u32(a.port).u16(a.maxLen).zeros(6),
    dec: (r) => {
      const port = r.u32();
      const maxLen = r.u16();
      r.zeroPad(6);
      return { type: 'OFPAT_OUTPUT', port, maxLen };
    },
  },
  OFPAT_COPY_TTL_OUT: headerOnly('OFPAT_COPY_TTL_OUT'),
  OFPAT_COPY_TTL_IN: headerOnly('OFPAT_COPY_TTL_IN'),
  /** ofp_action_mpls_ttl: mpls_ttl u8, pad[3] */
  OFPAT_SET_MPLS_TTL: { len: 8, enc: (w, a) => void w.u8(a.mplsTtl).zeros(3), dec: (r) => ({ type: 'OFPAT_SET_MPLS_TTL', mplsTtl: u8Pad3(r) }) },
  OFPAT_DEC_MPLS_TTL: headerOnly('OFPAT_DEC_MPLS_TTL'),
  /** ofp_action_push: ethertype u16, pad[2] (also pop_mpls) */
  OFPAT_PUSH_VLAN: ethertype('OFPAT_PUSH_VLAN'),
  OFPAT_POP_VLAN: headerOnly('OFPAT_POP_VLAN'),
  OFPAT_PUSH_MPLS: ethertype('OFPAT_PUSH_MPLS'),
  OFPAT_POP_MPLS: ethertype('OFPAT_POP_MPLS'),
  /** ofp_action_set_queue: queue_id u32 */
  OFPAT_SET_QUEUE: { len: 8, enc: (w, a) => void w.u32(a.queueId), dec: (r) => ({ type: 'OFPAT_SET_QUEUE', queueId: r.u32() }) },
  /** ofp_action_group: group_id u32 */
  OFPAT_GROUP: { len: 8, enc: (w, a) => void w.u32(a.groupId), dec: (r) => ({ type: 'OFPAT_GROUP', groupId: r.u32() }) },
  /** ofp_action_nw_ttl: nw_ttl u8, pad[3] */
  OFPAT_SET_NW_TTL: { len: 8, enc: (w, a) => void w.u8(a.nwTtl).zeros(3), dec: (r) => ({ type: 'OFPAT_SET_NW_TTL', nwTtl: u8Pad3(r) }) },
  OFPAT_DEC_NW_TTL: headerOnly('OFPAT_DEC_NW_TTL'),
  /** ofp_action_set_field: one OXM TLV, then zero padding to a multiple of 8 */
  OFPAT_SET_FIELD: { enc: (w, a) => encodeOxm(w, a.field), dec: decodeSetField },
  OFPAT_PUSH_PBB: ethertype('OFPAT_PUSH_PBB'),
  OFPAT_POP_PBB: headerOnly('OFPAT_POP_PBB'),
  /** ofp_action_experimenter_header: experimenter u32, then experimenter-defined bytes */
  OFPAT_EXPERIMENTER: {
    enc: (w, a) => {
      if (!Buffer.isBuffer(a.data) || a.data.length % 8 !== 0) {
        throw new OfpEncodeError('experimenter action data must be a Buffer of a multiple of 8 bytes');
      }
      w.u32(a.experimenter).bytes(a.data);
    },
    dec: (r) => ({ type: 'OFPAT_EXPERIMENTER', experimenter: r.u32(), data: r.rest() }),
  },
};

function u8Pad3(r: OfReader): number {
  const v = r.u8();
  r.zeroPad(3);
  return v;
}

function u16Pad2(r: OfReader): number {
  const v = r.u16();
  r.zeroPad(2);
  return v;
}

/** Body of set_field: the OXM, then exactly the padding that rounds the action up to 8 bytes. */
function decodeSetField(r: OfReader): ActionOf<'OFPAT_SET_FIELD'> {
  const start = r.offset;
  const field = decodeOxm(r);
  const used = 4 + (r.offset - start);
  const pad = (8 - (used % 8)) % 8;
  if (r.remaining !== pad) r.fail('OFP_ERR_BAD_ACTION_LEN', `set_field with ${r.remaining} bytes after its OXM, expected ${pad}`);
  r.zeroPad(pad);
  return { type: 'OFPAT_SET_FIELD', field };
}

/**
 * Writes one action with its header; the length is patched once the body is written and set_field is
 * zero-padded to 8. @throws OfpEncodeError on an unknown type or values out of range.
 */
export function encodeAction(w: OfWriter, a: Action): void {
  const layout = LAYOUTS[a.type] as ActionLayout<ActionType> | undefined;
  if (!layout) throw new OfpEncodeError(`unknown action type ${String(a.type)}`);
  const start = w.offset;
  w.u16(ACTION_TYPE_CODES[a.type]);
  const lenAt = w.placeholderU16();
  layout.enc(w, a as never);
  w.align8(start);
  w.patchU16(lenAt, w.offset - start);
}

/** Writes an action list (no count or length prefix: the enclosing structure carries the length). */
export function encodeActions(w: OfWriter, actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) encodeAction(w, actions[i]!);
}

/** Layouts by wire type code (dense for 0..255, plus OFPAT_EXPERIMENTER), built from LAYOUTS. */
const BY_CODE = new Map<number, { readonly type: ActionType; readonly layout: ActionLayout<ActionType> }>(
  (Object.keys(LAYOUTS) as ActionType[]).map((type) => [ACTION_TYPE_CODES[type], { type, layout: LAYOUTS[type] as ActionLayout<ActionType> }]),
);
const DENSE = Array.from({ length: 256 }, (_, code) => BY_CODE.get(code));

/**
 * Reads one action. Errors: OFP_ERR_BAD_ACTION_TYPE (unknown type), OFP_ERR_BAD_ACTION_LEN (len < 8,
 * not a multiple of 8, past the end, or not the size of its type), OFP_ERR_BAD_PADDING, and the OXM
 * errors of set_field (see decodeOxm).
 */
export function decodeAction(r: OfReader): Action {
  r.need(4, 'action header', 'OFP_ERR_BAD_ACTION_LEN');
  const typeCode = r.u16();
  const len = r.u16();
  const entry = typeCode < 256 ? DENSE[typeCode] : BY_CODE.get(typeCode);
  if (entry === undefined) return r.fail('OFP_ERR_BAD_ACTION_TYPE', `unknown action type ${typeCode}`);
  const layout = entry.layout;
  if (len < 8 || len % 8 !== 0 || (layout.len !== undefined && len !== layout.len)) {
    r.fail('OFP_ERR_BAD_ACTION_LEN', `${entry.type} with length ${len}`);
  }
  const outerCode = r.lenCode;
  const outer = r.enter(len - 4, 'OFP_ERR_BAD_ACTION_LEN');
  const action = layout.dec(r);
  if (!r.atEnd) r.fail('OFP_ERR_BAD_ACTION_LEN', `${entry.type}: ${r.remaining} bytes left over`);
  r.leave(outer, outerCode);
  return action;
}

/** Reads actions until the (bounded) reader's end. Errors as {@link decodeAction}. */
export function decodeActions(r: OfReader): Action[] {
  const out: Action[] = [];
  while (!r.atEnd) out.push(decodeAction(r));
  return out;
}
