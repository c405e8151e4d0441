/**
 * OFPT_MULTIPART_REQUEST / OFPT_MULTIPART_REPLY bodies (OpenFlow 1.3.5 §7.3.5).
 *
 * The four entry points read/write everything after the 8-byte ofp_header:
 *   u16 type (OFPMP_*), u16 flags (OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE), pad[4], then the body.
 * The caller (messages.ts) writes the header and patches its length; decoders receive a reader bounded to
 * the frame, so the body is "everything up to the reader's end".
 *
 * Errors: a truncated or over-long body, or an inner length that disagrees with the bytes present, fails
 * with OfpDecodeError OFP_ERR_BAD_LEN; malformed table features with OFP_ERR_BAD_TABLE_FEATURE; nested
 * structures (match, instructions, buckets, bands, ports) with their own decoders' codes. Unknown multipart
 * types decode to `{ mpType: 'unknown', mpTypeCode, data }` and re-encode byte-exact.
 *
 * Reassembly of OFPMPF_REPLY_MORE sequences and splitting are re-exported from multipart-reassembly.ts.
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OfpEncodeError } from './errors.js';
import type { MessageOf, MultipartReplyBody, MultipartRequestBody, MultipartType } from './types.js';
import {
  MP_SIZES, REPLY_ARRAYS, decodeFlowStatsRequest, decodeList, encodeFlowStatsRequest, encodeList, tableFeaturesCodec,
  type ArrayReplyType, type ElementCodec,
} from './multipart-structs.js';

export {
  MultipartReassembler, mergeMultipartReplies, splitMultipartReply, type ReassemblerLimits,
} from './multipart-reassembly.js';
export { MP_SIZES } from './multipart-structs.js';

/** OFPMP_* multipart type codes (enum ofp_multipart_type), keyed by the `mpType` names of types.ts. */
export const MP_TYPE_CODES: { readonly [K in MultipartType]: number } = {
  OFPMP_DESC: 0,
  OFPMP_FLOW: 1,
  OFPMP_AGGREGATE: 2,
  OFPMP_TABLE: 3,
  OFPMP_PORT_STATS: 4,
  OFPMP_QUEUE: 5,
  OFPMP_GROUP: 6,
  OFPMP_GROUP_DESC: 7,
  OFPMP_GROUP_FEATURES: 8,
  OFPMP_METER: 9,
  OFPMP_METER_CONFIG: 10,
  OFPMP_METER_FEATURES: 11,
  OFPMP_TABLE_FEATURES: 12,
  OFPMP_PORT_DESC: 13,
  OFPMP_EXPERIMENTER: 0xffff,
};

const MP_NAMES = new Map<number, MultipartType>((Object.entries(MP_TYPE_CODES) as [MultipartType, number][]).map(([n, c]) => [c, n]));

export { OFPMPF_REPLY_MORE, OFPMPF_REQ_MORE } from './constants.js';

/** The OFPMP_* name of a wire code, or undefined when unknown. */
export function multipartTypeName(code: number): MultipartType | undefined {
  return MP_NAMES.get(code);
}

function typeCode(body: MultipartRequestBody | MultipartReplyBody): number {
  if (body.mpType !== 'unknown') return MP_TYPE_CODES[body.mpType];
  if (MP_NAMES.has(body.mpTypeCode)) {
    throw new OfpEncodeError(`'unknown' multipart body uses the known type code ${body.mpTypeCode}`);
  }
  return body.mpTypeCode;
}

function readHeader(r: OfReader): { code: number; flags: number } {
  if (r.remaining < MP_SIZES.multipartHeader) {
    r.fail('OFP_ERR_BAD_LEN', `multipart header needs ${MP_SIZES.multipartHeader} bytes, ${r.remaining} left`);
  }
  const code = r.u16();
  const flags = r.u16();
  r.pad(4);
  return { code, flags };
}

/** Fails with OFP_ERR_BAD_LEN unless `r` is exhausted (a fixed-size body followed by extra bytes). */
function expectEnd(r: OfReader, what: string): void {
  if (!r.atEnd) r.fail('OFP_ERR_BAD_LEN', `${r.remaining} unexpected bytes after ${what}`);
}

/** A fixed-size body: exactly `n` bytes must remain. */
function fixedBody(r: OfReader, n: number, what: string): OfReader {
  if (r.remaining !== n) r.fail('OFP_ERR_BAD_LEN', `${what} body must be ${n} bytes, got ${r.remaining}`);
  return r.sub(n);
}

/* ------------------------------------------------------------ requests */

/**
 * Writes type, flags, pad and the request body of `msg` (OpenFlow 1.3.5 §7.3.5).
 * @throws OfpEncodeError on out-of-range fields or an 'unknown' body carrying a known type code.
 */
export function encodeMultipartRequest(w: OfWriter, msg: MessageOf<'OFPT_MULTIPART_REQUEST'>): void {
  const b = msg.body;
  w.u16(typeCode(b)).u16(msg.flags).zeros(4);
  switch (b.mpType) {
    case 'OFPMP_DESC': case 'OFPMP_TABLE': case 'OFPMP_GROUP_DESC': case 'OFPMP_GROUP_FEATURES':
    case 'OFPMP_METER_FEATURES': case 'OFPMP_PORT_DESC':
      return;
    case 'OFPMP_FLOW': case 'OFPMP_AGGREGATE':
      return encodeFlowStatsRequest(w, b);
    case 'OFPMP_PORT_STATS':
      w.u32(b.portNo).zeros(4);
      return;
    case 'OFPMP_QUEUE':
      w.u32(b.portNo).u32(b.queueId);
      return;
    case 'OFPMP_GROUP':
      w.u32(b.groupId).zeros(4);
      return;
    case 'OFPMP_METER': case 'OFPMP_METER_CONFIG':
      w.u32(b.meterId).zeros(4);
      return;
    case 'OFPMP_TABLE_FEATURES':
      return encodeList(w, b.tables, tableFeaturesCodec);
    case 'OFPMP_EXPERIMENTER':
      w.u32(b.experimenter).u32(b.expType).bytes(b.data);
      return;
    case 'unknown':
      w.bytes(b.data);
      return;
  }
}

function decodeRequestBody(r: OfReader, code: number): MultipartRequestBody {
  const mpType = MP_NAMES.get(code);
  switch (mpType) {
    case undefined:
      return { mpType: 'unknown', mpTypeCode: code, data: r.rest() };
    case 'OFPMP_DESC': case 'OFPMP_TABLE': case 'OFPMP_GROUP_DESC': case 'OFPMP_GROUP_FEATURES':
    case 'OFPMP_METER_FEATURES': case 'OFPMP_PORT_DESC':
      expectEnd(r, `${mpType} request (body must be empty)`);
      return { mpType };
    case 'OFPMP_FLOW': case 'OFPMP_AGGREGATE': {
      const q = decodeFlowStatsRequest(r);
      expectEnd(r, `${mpType} request`);
      return { mpType, ...q };
    }
    case 'OFPMP_PORT_STATS': {
      const e = fixedBody(r, MP_SIZES.portStatsRequest, mpType);
      const portNo = e.u32();
      e.pad(4);
      return { mpType, portNo };
    }
    case 'OFPMP_QUEUE': {
      const e = fixedBody(r, MP_SIZES.queueStatsRequest, mpType);
      return { mpType, portNo: e.u32(), queueId: e.u32() };
    }
    case 'OFPMP_GROUP': {
      const e = fixedBody(r, MP_SIZES.groupStatsRequest, mpType);
      const groupId = e.u32();
      e.pad(4);
      return { mpType, groupId };
    }
    case 'OFPMP_METER': case 'OFPMP_METER_CONFIG': {
      const e = fixedBody(r, MP_SIZES.meterRequest, mpType);
      const meterId = e.u32();
      e.pad(4);
      return { mpType, meterId };
    }
    case 'OFPMP_TABLE_FEATURES':
      return { mpType, tables: decodeList(r, tableFeaturesCodec) };
    case 'OFPMP_EXPERIMENTER':
      return { mpType, ...decodeExperimenterBody(r) };
  }
}

/**
 * Decodes an OFPT_MULTIPART_REQUEST from `r`, positioned just after the ofp_header and bounded to the
 * frame. @throws OfpDecodeError (see the module doc for codes)
 */
export function decodeMultipartRequest(r: OfReader, xid: number): MessageOf<'OFPT_MULTIPART_REQUEST'> {
  const { code, flags } = readHeader(r);
  return { type: 'OFPT_MULTIPART_REQUEST', xid, flags, body: decodeRequestBody(r, code) };
}

/* ------------------------------------------------------------ replies */

function decodeExperimenterBody(r: OfReader): { experimenter: number; expType: number; data: Buffer } {
  if (r.remaining < MP_SIZES.experimenterHeader) {
    r.fail('OFP_ERR_BAD_LEN', `experimenter multipart body needs 8 bytes, ${r.remaining} left`);
  }
  return { experimenter: r.u32(), expType: r.u32(), data: r.rest() };
}

const DESC_FIELDS = [
  ['mfrDesc', 256], ['hwDesc', 256], ['swDesc', 256], ['serialNum', 32], ['dpDesc', 256],
] as const;

/**
 * Writes type, flags, pad and the reply body of `msg` (OpenFlow 1.3.5 §7.3.5). Array bodies are written
 * whole: use {@link splitMultipartReply} first for bodies that do not fit one 64 KiB message.
 * @throws OfpEncodeError on out-of-range fields, over-long description strings, or an 'unknown' body
 *   carrying a known type code.
 */
export function encodeMultipartReply(w: OfWriter, msg: MessageOf<'OFPT_MULTIPART_REPLY'>): void {
  const b = msg.body;
  w.u16(typeCode(b)).u16(msg.flags).zeros(4);
  switch (b.mpType) {
    case 'OFPMP_DESC':
      for (const [k, n] of DESC_FIELDS) w.string(b[k], n);
      return;
    case 'OFPMP_AGGREGATE':
      w.u64(b.packetCount).u64(b.byteCount).u32(b.flowCount).zeros(4);
      return;
    case 'OFPMP_GROUP_FEATURES':
      w.u32(b.types).u32(b.capabilities);
      for (const v of b.maxGroups) w.u32(v);
      for (const v of b.actions) w.u32(v);
      return;
    case 'OFPMP_METER_FEATURES':
      w.u32(b.maxMeter).u32(b.bandTypes).u32(b.capabilities).u8(b.maxBands).u8(b.maxColor).zeros(2);
      return;
    case 'OFPMP_EXPERIMENTER':
      w.u32(b.experimenter).u32(b.expType).bytes(b.data);
      return;
    case 'unknown':
      w.bytes(b.data);
      return;
    default: {
      const d = REPLY_ARRAYS[b.mpType];
      const items = (b as unknown as Record<string, readonly unknown[]>)[d.field]!;
      encodeList(w, items, d.codec as ElementCodec<unknown>);
    }
  }
}

function decodeFixedReply(r: OfReader, mpType: MultipartType): MultipartReplyBody {
  switch (mpType) {
    case 'OFPMP_DESC': {
      const e = fixedBody(r, MP_SIZES.desc, mpType);
      const s = (n: number): string => e.string(n);
      return { mpType, mfrDesc: s(256), hwDesc: s(256), swDesc: s(256), serialNum: s(32), dpDesc: s(256) };
    }
    case 'OFPMP_AGGREGATE': {
      const e = fixedBody(r, MP_SIZES.aggregateReply, mpType);
      const packetCount = e.u64();
      const byteCount = e.u64();
      const flowCount = e.u32();
      e.pad(4);
      return { mpType, packetCount, byteCount, flowCount };
    }
    case 'OFPMP_GROUP_FEATURES': {
      const e = fixedBody(r, MP_SIZES.groupFeatures, mpType);
      const types = e.u32();
      const capabilities = e.u32();
      const four = (): [number, number, number, number] => [e.u32(), e.u32(), e.u32(), e.u32()];
      const maxGroups = four();
      return { mpType, types, capabilities, maxGroups, actions: four() };
    }
    case 'OFPMP_METER_FEATURES': {
      const e = fixedBody(r, MP_SIZES.meterFeatures, mpType);
      const body = {
        mpType, maxMeter: e.u32(), bandTypes: e.u32(), capabilities: e.u32(), maxBands: e.u8(), maxColor: e.u8(),
      } as const;
      e.pad(2);
      return body;
    }
    case 'OFPMP_EXPERIMENTER':
      return { mpType, ...decodeExperimenterBody(r) };
    default:
      return r.fail('OFP_ERR_BAD_MULTIPART', `${mpType} is not a single-structure reply`);
  }
}

/**
 * Decodes an OFPT_MULTIPART_REPLY from `r`, positioned just after the ofp_header and bounded to the frame.
 * Array bodies hold this part's elements only; see {@link MultipartReassembler} for REPLY_MORE sequences.
 * @throws OfpDecodeError (see the module doc for codes)
 */
export function decodeMultipartReply(r: OfReader, xid: number): MessageOf<'OFPT_MULTIPART_REPLY'> {
  const { code, flags } = readHeader(r);
  const mpType = MP_NAMES.get(code);
  let body: MultipartReplyBody;
  if (mpType === undefined) {
    body = { mpType: 'unknown', mpTypeCode: code, data: r.rest() };
  } else if (Object.hasOwn(REPLY_ARRAYS, mpType)) {
    const d = REPLY_ARRAYS[mpType as ArrayReplyType];
    body = { mpType, [d.field]: decodeList(r, d.codec as ElementCodec<unknown>) } as unknown as MultipartReplyBody;
  } else {
    body = decodeFixedReply(r, mpType);
  }
  return { type: 'OFPT_MULTIPART_REPLY', xid, flags, body };
}
