/**
 * ofp_table_features and its properties (OpenFlow 1.3.5 §7.3.5.5).
 *
 * Wire layout of one ofp_table_features (64 fixed bytes):
 *   u16 length (whole structure, properties and their padding included), u8 table_id, pad[5],
 *   char name[32] (NUL-padded), u64 metadata_match, u64 metadata_write, u32 config, u32 max_entries,
 *   then properties.
 * Each property: u16 type, u16 length (header + body, *excluding* padding), body, then zero padding to
 * the next multiple of 8 ((length + 7) / 8 * 8 − length bytes).
 *
 * Property bodies: instruction ids (OFPTFPT_INSTRUCTIONS[_MISS]) and action ids (…_ACTIONS[_MISS]) are
 * packed ofp_instruction_id / ofp_action_id (u16 type, u16 len ≥ 4; for the experimenter type 0xffff a u32
 * experimenter id follows), next-table ids are u8 each, OXM ids are 4-byte OXM headers (8 with an
 * experimenter id), experimenter properties carry u32 experimenter, u32 exp_type, data. Unknown property
 * types are kept byte-exact (`data` = body without padding).
 *
 * Errors: every malformed length inside a table-features structure fails with
 * OfpDecodeError OFP_ERR_BAD_TABLE_FEATURE (OXM ids may fail with the OXM decoder's own codes).
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OfpEncodeError } from './errors.js';
import type { ActionId, InstructionId, OxmId, TableFeatureProp, TableFeatures } from './types.js';
import { decodeOxmId, encodeOxmId } from './oxm.js';

const BAD = 'OFP_ERR_BAD_TABLE_FEATURE' as const;

/** Fixed part of ofp_table_features, in bytes. */
export const TABLE_FEATURES_FIXED_LEN = 64;
/** OFP_MAX_TABLE_NAME_LEN */
export const TABLE_NAME_LEN = 32;
/** The experimenter type shared by instructions and actions (OFPIT_EXPERIMENTER, OFPAT_EXPERIMENTER). */
const EXPERIMENTER_ID_TYPE = 0xffff;

/** OFPTFPT_* property type codes (enum ofp_table_feature_prop_type). */
export const TFP_TYPE_CODES = {
  OFPTFPT_INSTRUCTIONS: 0,
  OFPTFPT_INSTRUCTIONS_MISS: 1,
  OFPTFPT_NEXT_TABLES: 2,
  OFPTFPT_NEXT_TABLES_MISS: 3,
  OFPTFPT_WRITE_ACTIONS: 4,
  OFPTFPT_WRITE_ACTIONS_MISS: 5,
  OFPTFPT_APPLY_ACTIONS: 6,
  OFPTFPT_APPLY_ACTIONS_MISS: 7,
  OFPTFPT_MATCH: 8,
  OFPTFPT_WILDCARDS: 10,
  OFPTFPT_WRITE_SETFIELD: 12,
  OFPTFPT_WRITE_SETFIELD_MISS: 13,
  OFPTFPT_APPLY_SETFIELD: 14,
  OFPTFPT_APPLY_SETFIELD_MISS: 15,
  OFPTFPT_EXPERIMENTER: 0xfffe,
  OFPTFPT_EXPERIMENTER_MISS: 0xffff,
} as const;

type KnownPropType = keyof typeof TFP_TYPE_CODES;
type PropKind = 'instructions' | 'nextTables' | 'actions' | 'oxms' | 'experimenter';

const PROP_NAMES = new Map<number, KnownPropType>(
  (Object.entries(TFP_TYPE_CODES) as [KnownPropType, number][]).map(([name, code]) => [code, name]),
);

function kindOf(t: KnownPropType): PropKind {
  if (t.startsWith('OFPTFPT_INSTRUCTIONS')) return 'instructions';
  if (t.startsWith('OFPTFPT_NEXT_TABLES')) return 'nextTables';
  if (t.endsWith('_ACTIONS') || t.endsWith('_ACTIONS_MISS')) return 'actions';
  if (t.startsWith('OFPTFPT_EXPERIMENTER')) return 'experimenter';
  return 'oxms';
}

/* ------------------------------------------------------------ instruction / action ids */

/**
 * One ofp_instruction_id or ofp_action_id: u16 type, u16 len (≥ 4). For type 0xffff with len ≥ 8 the u32
 * experimenter id follows; any further bytes are `data` (present only when non-empty).
 */
function decodeId(r: OfReader): { type: number; experimenter?: number; data?: Buffer } {
  if (r.remaining < 4) r.fail(BAD, `id needs 4 bytes, ${r.remaining} left`);
  const type = r.u16();
  const len = r.u16();
  if (len < 4 || len - 4 > r.remaining) r.fail(BAD, `id length ${len} invalid (${r.remaining + 4} bytes left)`);
  let left = len - 4;
  let experimenter: number | undefined;
  if (type === EXPERIMENTER_ID_TYPE && left >= 4) {
    experimenter = r.u32();
    left -= 4;
  }
  const data = left > 0 ? r.bytes(left) : undefined;
  return {
    type,
    ...(experimenter !== undefined ? { experimenter } : {}),
    ...(data !== undefined ? { data } : {}),
  };
}

function encodeId(w: OfWriter, type: number, experimenter: number | undefined, data: Buffer | undefined): void {
  if (experimenter !== undefined && type !== EXPERIMENTER_ID_TYPE) {
    throw new OfpEncodeError(`id of type ${type} cannot carry an experimenter id`);
  }
  const len = 4 + (experimenter !== undefined ? 4 : 0) + (data?.length ?? 0);
  w.u16(type).u16(len);
  if (experimenter !== undefined) w.u32(experimenter);
  if (data) w.bytes(data);
}

function decodeInstructionId(r: OfReader): InstructionId {
  const { type, ...rest } = decodeId(r);
  return { instructionType: type, ...rest };
}

function decodeActionId(r: OfReader): ActionId {
  const { type, ...rest } = decodeId(r);
  return { actionType: type, ...rest };
}

function decodeAll<T>(r: OfReader, one: (r: OfReader) => T): T[] {
  const out: T[] = [];
  while (!r.atEnd) out.push(one(r));
  return out;
}

/* ------------------------------------------------------------ properties */

function decodePropBody(p: OfReader, propType: number): TableFeatureProp {
  const type = PROP_NAMES.get(propType);
  if (type === undefined) return { type: 'unknown', propType, data: p.rest() };
  switch (kindOf(type)) {
    case 'instructions':
      return { type: type as 'OFPTFPT_INSTRUCTIONS', instructionIds: decodeAll(p, decodeInstructionId) };
    case 'nextTables':
      return { type: type as 'OFPTFPT_NEXT_TABLES', tableIds: [...p.rest()] };
    case 'actions':
      return { type: type as 'OFPTFPT_WRITE_ACTIONS', actionIds: decodeAll(p, decodeActionId) };
    case 'oxms':
      return { type: type as 'OFPTFPT_MATCH', oxmIds: decodeAll(p, (q): OxmId => decodeOxmId(q)) };
    case 'experimenter': {
      if (p.remaining < 8) p.fail(BAD, `experimenter property body of ${p.remaining} bytes, needs 8`);
      return { type: type as 'OFPTFPT_EXPERIMENTER', experimenter: p.u32(), expType: p.u32(), data: p.rest() };
    }
  }
}

/**
 * Decodes one property and its padding from `r`.
 * @throws OfpDecodeError OFP_ERR_BAD_TABLE_FEATURE on a length < 4, a length or padding past the end.
 */
export function decodeTableFeatureProp(r: OfReader): TableFeatureProp {
  if (r.remaining < 4) r.fail(BAD, `property header needs 4 bytes, ${r.remaining} left`);
  const propType = r.peekU16(0);
  const len = r.peekU16(2);
  const padded = (len + 7) & ~7;
  if (len < 4) r.fail(BAD, `property length ${len} below 4`);
  if (padded > r.remaining) r.fail(BAD, `property length ${len} (${padded} padded) exceeds the ${r.remaining} bytes left`);
  const p = r.sub(len, BAD);
  p.pad(4);
  r.pad(padded - len);
  return decodePropBody(p, propType);
}

function encodePropBody(w: OfWriter, prop: TableFeatureProp): void {
  if (prop.type === 'unknown') {
    w.bytes(prop.data);
    return;
  }
  switch (kindOf(prop.type)) {
    case 'instructions':
      for (const id of (prop as { instructionIds: readonly InstructionId[] }).instructionIds) {
        encodeId(w, id.instructionType, id.experimenter, id.data);
      }
      return;
    case 'nextTables':
      for (const t of (prop as { tableIds: readonly number[] }).tableIds) w.u8(t);
      return;
    case 'actions':
      for (const id of (prop as { actionIds: readonly ActionId[] }).actionIds) encodeId(w, id.actionType, id.experimenter, id.data);
      return;
    case 'oxms':
      for (const id of (prop as { oxmIds: readonly OxmId[] }).oxmIds) encodeOxmId(w, id);
      return;
    case 'experimenter': {
      const e = prop as { experimenter: number; expType: number; data: Buffer };
      w.u32(e.experimenter).u32(e.expType).bytes(e.data);
      return;
    }
  }
}

/** Encodes one property: header, body, then zero padding to a multiple of 8 (not counted in its length). */
export function encodeTableFeatureProp(w: OfWriter, prop: TableFeatureProp): void {
  const start = w.offset;
  const code = prop.type === 'unknown' ? prop.propType : TFP_TYPE_CODES[prop.type];
  if (code === undefined) throw new OfpEncodeError(`unknown table-feature property ${String(prop.type)}`);
  w.u16(code);
  const lenAt = w.placeholderU16();
  encodePropBody(w, prop);
  w.patchU16(lenAt, w.offset - start);
  w.align8(start);
}

/* ------------------------------------------------------------ ofp_table_features */

/**
 * Encodes one ofp_table_features (64 fixed bytes + padded properties); the length is patched in.
 * @throws OfpEncodeError if the name is 32 bytes or longer, or a field is out of range.
 */
export function encodeTableFeatures(w: OfWriter, t: TableFeatures): void {
  const start = w.offset;
  const lenAt = w.placeholderU16();
  w.u8(t.tableId).zeros(5).string(t.name, TABLE_NAME_LEN);
  w.u64(t.metadataMatch).u64(t.metadataWrite).u32(t.config).u32(t.maxEntries);
  for (const p of t.properties) encodeTableFeatureProp(w, p);
  w.patchU16(lenAt, w.offset - start);
}

/**
 * Decodes one ofp_table_features, consuming exactly its `length` bytes.
 * @throws OfpDecodeError OFP_ERR_BAD_TABLE_FEATURE when length < 64, past the end, or a property is malformed.
 */
export function decodeTableFeatures(r: OfReader): TableFeatures {
  if (r.remaining < 2) r.fail(BAD, `ofp_table_features: ${r.remaining} bytes left, too short for its length`);
  const len = r.peekU16(0);
  if (len < TABLE_FEATURES_FIXED_LEN) r.fail(BAD, `ofp_table_features length ${len} below ${TABLE_FEATURES_FIXED_LEN}`);
  if (len > r.remaining) r.fail(BAD, `ofp_table_features length ${len} exceeds the ${r.remaining} bytes left`);
  const e = r.sub(len, BAD);
  e.u16();
  const tableId = e.u8();
  e.pad(5);
  const name = e.string(TABLE_NAME_LEN);
  const metadataMatch = e.u64();
  const metadataWrite = e.u64();
  const config = e.u32();
  const maxEntries = e.u32();
  const properties: TableFeatureProp[] = [];
  while (!e.atEnd) properties.push(decodeTableFeatureProp(e));
  return { tableId, name, metadataMatch, metadataWrite, config, maxEntries, properties };
}
