/**
 * ofp_match and OXM TLVs (OpenFlow 1.3.5 §7.2.3). Basic-class fields are driven by the table in
 * oxm-fields.ts; every other class (NXM_0, NXM_1, experimenter 0xFFFF, unknown) is carried byte-exact
 * as an {@link OxmOtherField}.
 *
 * OXM header (u32): oxm_class (16 bits) | oxm_field (7) | oxm_hasmask (1) | oxm_length (8, payload bytes).
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OfpEncodeError } from './errors.js';
import { OFPMT, OFPXMC } from './constants.js';
import { OXM_FIELDS, type OxmFieldSpec } from './oxm-fields.js';
import type { Match, OxmBasicField, OxmField, OxmId, OxmOtherField, OxmValue } from './types.js';

function oxmHeader(oxmClass: number, fieldCode: number, hasMask: boolean, length: number): number {
  if (!Number.isInteger(oxmClass) || oxmClass < 0 || oxmClass > 0xffff) throw new OfpEncodeError(`OXM class out of range: ${oxmClass}`);
  if (!Number.isInteger(fieldCode) || fieldCode < 0 || fieldCode > 0x7f) throw new OfpEncodeError(`OXM field out of range: ${fieldCode}`);
  if (!Number.isInteger(length) || length < 0 || length > 0xff) throw new OfpEncodeError(`OXM length out of range: ${length}`);
  return ((oxmClass << 16) | (fieldCode << 9) | (hasMask ? 0x100 : 0) | length) >>> 0;
}

/* ------------------------------------------------------------------ values */

/** Value codec of one basic field, built once per table row (no per-call dispatch on kind or width). */
interface ValueCodec {
  /** Writes `v`, or throws OfpEncodeError naming the field and `what` ('value' / 'mask'). */
  write(w: OfWriter, v: OxmValue, what: string): void;
  /** Reads one value; the caller has checked that the bytes are there. */
  read(r: OfReader): OxmValue;
}

function badValue(spec: OxmFieldSpec, v: OxmValue, what: string): never {
  throw new OfpEncodeError(`OXM ${spec.name} ${what}: bad value ${String(v)}`);
}

function uintCodec(spec: OxmFieldSpec): ValueCodec {
  const limit = 2 ** spec.bits;
  const ok = (v: OxmValue): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < limit;
  switch (spec.bytes) {
    case 1:
      return { write: (w, v, what) => void (ok(v) ? w.u8(v) : badValue(spec, v, what)), read: (r) => r.u8() };
    case 2:
      return { write: (w, v, what) => void (ok(v) ? w.u16(v) : badValue(spec, v, what)), read: (r) => r.u16() };
    case 3:
      return {
        write: (w, v, what) => void (ok(v) ? w.u8(v >>> 16).u16(v & 0xffff) : badValue(spec, v, what)),
        read: (r) => r.u8() * 0x10000 + r.u16(),
      };
    default:
      return { write: (w, v, what) => void (ok(v) ? w.u32(v) : badValue(spec, v, what)), read: (r) => r.u32() };
  }
}

function valueCodec(spec: OxmFieldSpec): ValueCodec {
  switch (spec.kind) {
    case 'uint':
      return uintCodec(spec);
    case 'u64':
      return {
        write: (w, v, what) => void (typeof v === 'bigint' ? w.u64(v) : badValue(spec, v, what)),
        read: (r) => r.u64(),
      };
    case 'mac':
      return {
        write: (w, v, what) => void (typeof v === 'string' ? w.mac(v) : badValue(spec, v, what)),
        read: (r) => r.mac(),
      };
    case 'ipv4':
      return {
        write: (w, v, what) => void (typeof v === 'string' ? w.ipv4(v) : badValue(spec, v, what)),
        read: (r) => r.ipv4(),
      };
    case 'ipv6':
      return {
        write: (w, v, what) => void (typeof v === 'string' ? w.ipv6(v) : badValue(spec, v, what)),
        read: (r) => r.ipv6(),
      };
  }
}

/** Everything the codec needs about one basic field, precomputed from its table row. */
interface FieldCodec extends ValueCodec {
  readonly spec: OxmFieldSpec;
  /** OXM header without / with mask (class OPENFLOW_BASIC, length = width / 2·width). */
  readonly header: number;
  readonly maskedHeader: number;
}

function fieldCodec(spec: OxmFieldSpec): FieldCodec {
  const { write, read } = valueCodec(spec);
  return {
    spec, write, read,
    header: oxmHeader(OFPXMC.OPENFLOW_BASIC, spec.code, false, spec.bytes),
    maskedHeader: oxmHeader(OFPXMC.OPENFLOW_BASIC, spec.code, true, 2 * spec.bytes),
  };
}

/** Field codecs indexed by field code (0..39), and by name. Built from the one table in oxm-fields.ts. */
const BY_CODE: readonly FieldCodec[] = OXM_FIELDS.map(fieldCodec);
const BY_NAME: ReadonlyMap<string, FieldCodec> = new Map(BY_CODE.map((c) => [c.spec.name, c]));

/* ------------------------------------------------------------------ one TLV */

/**
 * Writes one OXM TLV. Basic fields: value (and mask, only for fields the spec marks maskable) in the
 * table's form; other classes: header + (experimenter id for class 0xFFFF) + payload.
 * @throws OfpEncodeError on an unknown name, a mask on a non-maskable field, or a value out of range.
 */
export function encodeOxm(w: OfWriter, f: OxmField): void {
  if (f.field === 'other') {
    encodeOtherOxm(w, f);
    return;
  }
  const c = BY_NAME.get(f.field);
  if (c === undefined) throw new OfpEncodeError(`unknown OXM field ${String(f.field)}`);
  encodeBasic(w, c, f);
}

function encodeBasic(w: OfWriter, c: FieldCodec, f: OxmBasicField): void {
  const mask = f.mask;
  if (mask === undefined) {
    w.u32(c.header);
    c.write(w, f.value, 'value');
    return;
  }
  if (!c.spec.maskable) throw new OfpEncodeError(`OXM ${c.spec.name} is not maskable`);
  w.u32(c.maskedHeader);
  c.write(w, f.value, 'value');
  c.write(w, mask, 'mask');
}

function encodeOtherOxm(w: OfWriter, f: OxmOtherField): void {
  if (f.oxmClass === OFPXMC.OPENFLOW_BASIC) throw new OfpEncodeError('OXM of class OPENFLOW_BASIC must use a field name');
  const isExp = f.oxmClass === OFPXMC.EXPERIMENTER;
  if (isExp !== (f.experimenter !== undefined)) {
    throw new OfpEncodeError('OXM experimenter id is required for class 0xFFFF and only there');
  }
  if (!Buffer.isBuffer(f.payload)) throw new OfpEncodeError('OXM payload must be a Buffer');
  w.u32(oxmHeader(f.oxmClass, f.fieldCode, f.hasMask, f.payload.length + (isExp ? 4 : 0)));
  if (isExp) w.u32(f.experimenter!);
  w.bytes(f.payload);
}

/**
 * Reads one OXM TLV.
 * Errors: OFP_ERR_BAD_MATCH_LEN when the TLV runs past the reader's end (or an experimenter TLV is
 * shorter than its id); OFP_ERR_BAD_FIELD for a basic field code > 39 or a length that is not the
 * field's width (×2 with a mask). A mask on a field the spec calls non-maskable is accepted (switches
 * such as Open vSwitch report them), so such a field decodes but will not re-encode.
 */
export function decodeOxm(r: OfReader): OxmField {
  r.need(4, 'OXM header', 'OFP_ERR_BAD_MATCH_LEN');
  const header = r.u32();
  const oxmClass = header >>> 16;
  const length = header & 0xff;
  if (oxmClass !== OFPXMC.OPENFLOW_BASIC) return decodeOtherOxm(r, header, length);
  // The TLV must fit before its field and length are judged (same order as a bounded sub-reader).
  r.need(length, 'nested structure', 'OFP_ERR_BAD_MATCH_LEN');
  const fieldCode = (header >>> 9) & 0x7f;
  const hasMask = (header & 0x100) !== 0;
  const c = BY_CODE[fieldCode];
  if (c === undefined) return badField(r, length, `unknown OXM basic field ${fieldCode}`);
  const spec = c.spec;
  if (length !== (hasMask ? 2 * spec.bytes : spec.bytes)) {
    return badField(r, length, `OXM ${spec.name} with length ${length}${hasMask ? ' (masked)' : ''}`);
  }
  // Exactly `length` bytes are present and the value (and mask) fill them: the reads cannot over-read.
  const value = c.read(r);
  if (!hasMask) return { field: spec.name, value };
  return { field: spec.name, value, mask: c.read(r) };
}

/** OFP_ERR_BAD_FIELD, reported (like a sub-reader would) just past the TLV. */
function badField(r: OfReader, length: number, message: string): never {
  r.pad(length);
  return r.fail('OFP_ERR_BAD_FIELD', message);
}

function decodeOtherOxm(r: OfReader, header: number, length: number): OxmOtherField {
  const body = r.sub(length, 'OFP_ERR_BAD_MATCH_LEN');
  const oxmClass = header >>> 16;
  const fieldCode = (header >>> 9) & 0x7f;
  const hasMask = (header & 0x100) !== 0;
  if (oxmClass !== OFPXMC.EXPERIMENTER) return { field: 'other', oxmClass, fieldCode, hasMask, payload: body.rest() };
  const experimenter = body.u32();
  return { field: 'other', oxmClass, fieldCode, hasMask, experimenter, payload: body.rest() };
}

/* ------------------------------------------------------------------ ofp_match */

/**
 * Writes a whole ofp_match: type OFPMT_OXM (1), length (4 + OXM bytes, excluding padding), the OXMs in
 * order, then zero padding to a multiple of 8.
 * @throws OfpEncodeError on an invalid field or a basic field given twice.
 */
export function encodeMatch(w: OfWriter, match: Match): void {
  const start = w.offset;
  w.u16(OFPMT.OXM);
  const lenAt = w.placeholderU16();
  // Basic fields seen so far, one bit per field code (0..39: two words).
  let seenLo = 0;
  let seenHi = 0;
  // indexed loops on the encode paths: no iterator object per element when the loop is not optimized
  for (let i = 0; i < match.length; i++) {
    const f = match[i]!;
    if (f.field === 'other') {
      encodeOtherOxm(w, f);
      continue;
    }
    const c = BY_NAME.get(f.field);
    if (c === undefined) throw new OfpEncodeError(`unknown OXM field ${String(f.field)}`);
    const code = c.spec.code;
    const bit = 1 << (code & 31);
    const seen = code < 32 ? seenLo : seenHi;
    if ((seen & bit) !== 0) throw new OfpEncodeError(`OXM ${f.field} given twice in a match`);
    if (code < 32) seenLo |= bit;
    else seenHi |= bit;
    encodeBasic(w, c, f);
  }
  w.patchU16(lenAt, w.offset - start);
  w.align8(start);
}

/**
 * Reads a whole ofp_match including its padding.
 * Errors: OFP_ERR_BAD_MATCH_TYPE (type ≠ OFPMT_OXM), OFP_ERR_BAD_MATCH_LEN (length < 4, past the end,
 * OXMs overflowing it), OFP_ERR_BAD_FIELD (see {@link decodeOxm}), OFP_ERR_DUP_FIELD (a basic field
 * twice). Padding bytes are skipped without checking that they are zero.
 */
export function decodeMatch(r: OfReader): Match {
  r.need(4, 'ofp_match header', 'OFP_ERR_BAD_MATCH_LEN');
  const type = r.u16();
  const length = r.u16();
  if (type !== OFPMT.OXM) r.fail('OFP_ERR_BAD_MATCH_TYPE', `ofp_match type ${type}`);
  if (length < 4) r.fail('OFP_ERR_BAD_MATCH_LEN', `ofp_match length ${length}`);
  const outerCode = r.lenCode;
  const outer = r.enter(length - 4, 'OFP_ERR_BAD_MATCH_LEN');
  const fields: OxmField[] = [];
  let seenLo = 0;
  let seenHi = 0;
  const buf = r.buf;
  while (!r.atEnd) {
    // The header's class and field code, peeked (decodeOxm re-reads and checks it; a short header fails there).
    const at = r.offset;
    const basic = r.remaining >= 4 && ((buf[at]! << 8) | buf[at + 1]!) === OFPXMC.OPENFLOW_BASIC;
    const code = basic ? buf[at + 2]! >>> 1 : -1;
    const f = decodeOxm(r);
    if (f.field !== 'other') {
      const bit = 1 << (code & 31);
      const seen = code < 32 ? seenLo : seenHi;
      if ((seen & bit) !== 0) r.fail('OFP_ERR_DUP_FIELD', `OXM ${f.field} twice`);
      if (code < 32) seenLo |= bit;
      else seenHi |= bit;
    }
    fields.push(f);
  }
  r.leave(outer, outerCode);
  // The spec asks for all-zero padding, but real switches send garbage here (the Ericsson capture in
  // test/fixtures has non-zero match padding in a flow-stats reply), so it is skipped unchecked.
  const pad = (8 - (length % 8)) % 8;
  r.need(pad, 'ofp_match padding', 'OFP_ERR_BAD_MATCH_LEN');
  r.pad(pad);
  return fields;
}

/* ------------------------------------------------------------------ OXM ids (table features) */

/**
 * Writes an OXM header alone (4 bytes), plus the experimenter id for class 0xFFFF (8 bytes total).
 * `length` is written as given. @throws OfpEncodeError when `experimenter` is missing / extraneous.
 */
export function encodeOxmId(w: OfWriter, id: OxmId): void {
  const isExp = id.oxmClass === OFPXMC.EXPERIMENTER;
  if (isExp !== (id.experimenter !== undefined)) {
    throw new OfpEncodeError('OXM id experimenter is required for class 0xFFFF and only there');
  }
  w.u32(oxmHeader(id.oxmClass, id.fieldCode, id.hasMask, id.length));
  if (isExp) w.u32(id.experimenter!);
}

/** Reads an OXM id (4 bytes, or 8 for class 0xFFFF). Over-reads fail with the reader's lenCode. */
export function decodeOxmId(r: OfReader): OxmId {
  const header = r.u32();
  const oxmClass = header >>> 16;
  const id = { oxmClass, fieldCode: (header >>> 9) & 0x7f, hasMask: (header & 0x100) !== 0, length: header & 0xff };
  return oxmClass === OFPXMC.EXPERIMENTER ? { ...id, experimenter: r.u32() } : id;
}

/**
 * The in_port of `match` (OXM_OF_IN_PORT, OpenFlow 1.3.5 §7.2.3.7; a packet-in's match always has it,
 * §7.4.1), or undefined when it has none. A decoded match holds each basic field at most once.
 */
export function matchInPort(match: Match): number | undefined {
  // indexed: it runs on every packet-in
  for (let i = 0; i < match.length; i++) {
    const f = match[i]!;
    if (f.field === 'in_port' && typeof f.value === 'number') return f.value;
  }
  return undefined;
}

/** True for a basic OXM (helper for callers narrowing {@link OxmField}). */
export function isBasicOxm(f: OxmField): f is OxmBasicField {
  return f.field !== 'other';
}
