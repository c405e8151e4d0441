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
import { oxmFieldByCode, oxmFieldByName, type OxmFieldSpec } from './oxm-fields.js';
import type { Match, OxmBasicField, OxmField, OxmId, OxmOtherField, OxmValue } from './types.js';

function oxmHeader(oxmClass: number, fieldCode: number, hasMask: boolean, length: number): number {
  if (!Number.isInteger(oxmClass) || oxmClass < 0 || oxmClass > 0xffff) throw new OfpEncodeError(`OXM class out of range: ${oxmClass}`);
  if (!Number.isInteger(fieldCode) || fieldCode < 0 || fieldCode > 0x7f) throw new OfpEncodeError(`OXM field out of range: ${fieldCode}`);
  if (!Number.isInteger(length) || length < 0 || length > 0xff) throw new OfpEncodeError(`OXM length out of range: ${length}`);
  return ((oxmClass << 16) | (fieldCode << 9) | (hasMask ? 0x100 : 0) | length) >>> 0;
}

/* ------------------------------------------------------------------ values */

function writeValue(w: OfWriter, spec: OxmFieldSpec, v: OxmValue, what: string): void {
  const bad = (): never => {
    throw new OfpEncodeError(`OXM ${spec.name} ${what}: bad value ${String(v)}`);
  };
  switch (spec.kind) {
    case 'uint': {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= 2 ** spec.bits) bad();
      const n = v as number;
      if (spec.bytes === 3) w.u8(n >>> 16).u16(n & 0xffff);
      else if (spec.bytes === 1) w.u8(n);
      else if (spec.bytes === 2) w.u16(n);
      else w.u32(n);
      return;
    }
    case 'u64':
      if (typeof v !== 'bigint') bad();
      w.u64(v as bigint);
      return;
    case 'mac':
      if (typeof v !== 'string') bad();
      w.mac(v as string);
      return;
    case 'ipv4':
      if (typeof v !== 'string') bad();
      w.ipv4(v as string);
      return;
    case 'ipv6':
      if (typeof v !== 'string') bad();
      w.ipv6(v as string);
      return;
  }
}

function readValue(r: OfReader, spec: OxmFieldSpec): OxmValue {
  switch (spec.kind) {
    case 'uint':
      if (spec.bytes === 1) return r.u8();
      if (spec.bytes === 2) return r.u16();
      if (spec.bytes === 3) return r.u8() * 0x10000 + r.u16();
      return r.u32();
    case 'u64':
      return r.u64();
    case 'mac':
      return r.mac();
    case 'ipv4':
      return r.ipv4();
    case 'ipv6':
      return r.ipv6();
  }
}

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
  const spec = oxmFieldByName(f.field);
  if (!spec) throw new OfpEncodeError(`unknown OXM field ${String(f.field)}`);
  const hasMask = f.mask !== undefined;
  if (hasMask && !spec.maskable) throw new OfpEncodeError(`OXM ${spec.name} is not maskable`);
  w.u32(oxmHeader(OFPXMC.OPENFLOW_BASIC, spec.code, hasMask, hasMask ? 2 * spec.bytes : spec.bytes));
  writeValue(w, spec, f.value, 'value');
  if (hasMask) writeValue(w, spec, f.mask!, 'mask');
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
  const fieldCode = (header >>> 9) & 0x7f;
  const hasMask = (header & 0x100) !== 0;
  const length = header & 0xff;
  const body = r.sub(length, 'OFP_ERR_BAD_MATCH_LEN');
  if (oxmClass !== OFPXMC.OPENFLOW_BASIC) {
    if (oxmClass !== OFPXMC.EXPERIMENTER) return { field: 'other', oxmClass, fieldCode, hasMask, payload: body.rest() };
    const experimenter = body.u32();
    return { field: 'other', oxmClass, fieldCode, hasMask, experimenter, payload: body.rest() };
  }
  const spec = oxmFieldByCode(fieldCode);
  if (!spec) r.fail('OFP_ERR_BAD_FIELD', `unknown OXM basic field ${fieldCode}`);
  if (length !== (hasMask ? 2 * spec.bytes : spec.bytes)) {
    r.fail('OFP_ERR_BAD_FIELD', `OXM ${spec.name} with length ${length}${hasMask ? ' (masked)' : ''}`);
  }
  const value = readValue(body, spec);
  if (!hasMask) return { field: spec.name, value };
  return { field: spec.name, value, mask: readValue(body, spec) };
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
  const seen = new Set<string>();
  for (const f of match) {
    if (f.field !== 'other') {
      if (seen.has(f.field)) throw new OfpEncodeError(`OXM ${f.field} given twice in a match`);
      seen.add(f.field);
    }
    encodeOxm(w, f);
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
  const body = r.sub(length - 4, 'OFP_ERR_BAD_MATCH_LEN');
  const fields: OxmField[] = [];
  const seen = new Set<string>();
  while (!body.atEnd) {
    const f = decodeOxm(body);
    if (f.field !== 'other') {
      if (seen.has(f.field)) body.fail('OFP_ERR_DUP_FIELD', `OXM ${f.field} twice`);
      seen.add(f.field);
    }
    fields.push(f);
  }
  // The spec asks for all-zero padding, but real switches send garbage here (the Ericsson capture in
  // test/fixtures has non-zero match padding in a flow-stats reply), so it is skipped unchecked.
  r.need((8 - (length % 8)) % 8, 'ofp_match padding', 'OFP_ERR_BAD_MATCH_LEN');
  r.pad((8 - (length % 8)) % 8);
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

/** True for a basic OXM (helper for callers narrowing {@link OxmField}). */
export function isBasicOxm(f: OxmField): f is OxmBasicField {
  return f.field !== 'other';
}
