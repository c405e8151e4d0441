/**
 * Names ↔ codes of OpenFlow 1.3.5: error types and codes (§7.4.4 / A.4.4), message types, action types,
 * instruction types and meter band types, built from the numeric enums in constants.ts.
 */
import { OFPET } from './errors.js';
import { OFPAT, OFPIT, OFPMBT, OFPT } from './constants.js';
import type { Action, Instruction, MeterBand, OfpMessageType } from './types.js';

type Prefixed<P extends string, T extends Record<string, number>> = { readonly [K in keyof T & string as `${P}${K}`]: T[K] };

function prefixed<P extends string, T extends Record<string, number>>(prefix: P, obj: T): Prefixed<P, T> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [prefix + k, v])) as Prefixed<P, T>;
}

/** Code → name lookup: a dense array for the small codes (every enum here is 0..n plus 0xffff), a Map for the rest. */
interface Reverse<N extends string> {
  readonly dense: readonly (N | undefined)[];
  readonly sparse: ReadonlyMap<number, N>;
}

const DENSE_LIMIT = 256;

function reverse<N extends string>(map: Readonly<Record<N, number>>): Reverse<N> {
  const entries = Object.entries(map) as [N, number][];
  const dense = new Array<N | undefined>(DENSE_LIMIT).fill(undefined);
  const sparse = new Map<number, N>();
  for (const [k, v] of entries) {
    if (v < DENSE_LIMIT) dense[v] = k;
    else sparse.set(v, k);
  }
  return { dense, sparse };
}

function lookup<N extends string>(rev: Reverse<N>, code: number): N | undefined {
  return code >= 0 && code < DENSE_LIMIT ? rev.dense[code] : rev.sparse.get(code);
}

/* ------------------------------------------------------------------ message / action / instruction / band types */

export type KnownMessageType = Exclude<OfpMessageType, 'unknown'>;
export type ActionType = Action['type'];
export type InstructionType = Instruction['type'];
export type MeterBandType = MeterBand['type'];

/** 'OFPT_HELLO' → 0 … 'OFPT_METER_MOD' → 29. */
export const MESSAGE_TYPE_CODES: Readonly<Record<KnownMessageType, number>> = prefixed('OFPT_', OFPT);
/** 'OFPAT_OUTPUT' → 0 … 'OFPAT_EXPERIMENTER' → 0xffff. */
export const ACTION_TYPE_CODES: Readonly<Record<ActionType, number>> = prefixed('OFPAT_', OFPAT);
/** 'OFPIT_GOTO_TABLE' → 1 … 'OFPIT_EXPERIMENTER' → 0xffff. */
export const INSTRUCTION_TYPE_CODES: Readonly<Record<InstructionType, number>> = prefixed('OFPIT_', OFPIT);
/** 'OFPMBT_DROP' → 1, 'OFPMBT_DSCP_REMARK' → 2, 'OFPMBT_EXPERIMENTER' → 0xffff. */
export const METER_BAND_TYPE_CODES: Readonly<Record<MeterBandType, number>> = prefixed('OFPMBT_', OFPMBT);

const MESSAGE_TYPE_NAMES = reverse(MESSAGE_TYPE_CODES);
const ACTION_TYPE_NAMES = reverse(ACTION_TYPE_CODES);
const INSTRUCTION_TYPE_NAMES = reverse(INSTRUCTION_TYPE_CODES);
const METER_BAND_TYPE_NAMES = reverse(METER_BAND_TYPE_CODES);

/** ofp_header.type code → 'OFPT_*', or undefined for a code OF1.3 does not define. */
export function messageTypeName(code: number): KnownMessageType | undefined {
  return lookup(MESSAGE_TYPE_NAMES, code);
}
/** ofp_action_header.type code → 'OFPAT_*', or undefined. */
export function actionTypeName(code: number): ActionType | undefined {
  return lookup(ACTION_TYPE_NAMES, code);
}
/** ofp_instruction.type code → 'OFPIT_*', or undefined. */
export function instructionTypeName(code: number): InstructionType | undefined {
  return lookup(INSTRUCTION_TYPE_NAMES, code);
}
/** ofp_meter_band_header.type code → 'OFPMBT_*', or undefined. */
export function meterBandTypeName(code: number): MeterBandType | undefined {
  return lookup(METER_BAND_TYPE_NAMES, code);
}

/* ------------------------------------------------------------------ errors (A.4.4) */

/** Per error type: its name, the prefix of its codes, and the code names in code order 0, 1, 2, … */
const ERROR_CODES: ReadonlyMap<number, { readonly type: string; readonly prefix: string; readonly codes: readonly string[] }> =
  new Map([
    [OFPET.HELLO_FAILED, { type: 'OFPET_HELLO_FAILED', prefix: 'OFPHFC_', codes: ['INCOMPATIBLE', 'EPERM'] }],
    [OFPET.BAD_REQUEST, {
      type: 'OFPET_BAD_REQUEST', prefix: 'OFPBRC_',
      codes: ['BAD_VERSION', 'BAD_TYPE', 'BAD_MULTIPART', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'EPERM', 'BAD_LEN',
        'BUFFER_EMPTY', 'BUFFER_UNKNOWN', 'BAD_TABLE_ID', 'IS_SLAVE', 'BAD_PORT', 'BAD_PACKET',
        'MULTIPART_BUFFER_OVERFLOW'],
    }],
    [OFPET.BAD_ACTION, {
      type: 'OFPET_BAD_ACTION', prefix: 'OFPBAC_',
      codes: ['BAD_TYPE', 'BAD_LEN', 'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'BAD_OUT_PORT', 'BAD_ARGUMENT', 'EPERM',
        'TOO_MANY', 'BAD_QUEUE', 'BAD_OUT_GROUP', 'MATCH_INCONSISTENT', 'UNSUPPORTED_ORDER', 'BAD_TAG',
        'BAD_SET_TYPE', 'BAD_SET_LEN', 'BAD_SET_ARGUMENT'],
    }],
    [OFPET.BAD_INSTRUCTION, {
      type: 'OFPET_BAD_INSTRUCTION', prefix: 'OFPBIC_',
      codes: ['UNKNOWN_INST', 'UNSUP_INST', 'BAD_TABLE_ID', 'UNSUP_METADATA', 'UNSUP_METADATA_MASK',
        'BAD_EXPERIMENTER', 'BAD_EXP_TYPE', 'BAD_LEN', 'EPERM'],
    }],
    [OFPET.BAD_MATCH, {
      type: 'OFPET_BAD_MATCH', prefix: 'OFPBMC_',
      codes: ['BAD_TYPE', 'BAD_LEN', 'BAD_TAG', 'BAD_DL_ADDR_MASK', 'BAD_NW_ADDR_MASK', 'BAD_WILDCARDS',
        'BAD_FIELD', 'BAD_VALUE', 'BAD_MASK', 'BAD_PREREQ', 'DUP_FIELD', 'EPERM'],
    }],
    [OFPET.FLOW_MOD_FAILED, {
      type: 'OFPET_FLOW_MOD_FAILED', prefix: 'OFPFMFC_',
      codes: ['UNKNOWN', 'TABLE_FULL', 'BAD_TABLE_ID', 'OVERLAP', 'EPERM', 'BAD_TIMEOUT', 'BAD_COMMAND', 'BAD_FLAGS'],
    }],
    [OFPET.GROUP_MOD_FAILED, {
      type: 'OFPET_GROUP_MOD_FAILED', prefix: 'OFPGMFC_',
      codes: ['GROUP_EXISTS', 'INVALID_GROUP', 'WEIGHT_UNSUPPORTED', 'OUT_OF_GROUPS', 'OUT_OF_BUCKETS',
        'CHAINING_UNSUPPORTED', 'WATCH_UNSUPPORTED', 'LOOP', 'UNKNOWN_GROUP', 'CHAINED_GROUP', 'BAD_TYPE',
        'BAD_COMMAND', 'BAD_BUCKET', 'BAD_WATCH', 'EPERM'],
    }],
    [OFPET.PORT_MOD_FAILED, {
      type: 'OFPET_PORT_MOD_FAILED', prefix: 'OFPPMFC_',
      codes: ['BAD_PORT', 'BAD_HW_ADDR', 'BAD_CONFIG', 'BAD_ADVERTISE', 'EPERM'],
    }],
    [OFPET.TABLE_MOD_FAILED, { type: 'OFPET_TABLE_MOD_FAILED', prefix: 'OFPTMFC_', codes: ['BAD_TABLE', 'BAD_CONFIG', 'EPERM'] }],
    [OFPET.QUEUE_OP_FAILED, { type: 'OFPET_QUEUE_OP_FAILED', prefix: 'OFPQOFC_', codes: ['BAD_PORT', 'BAD_QUEUE', 'EPERM'] }],
    [OFPET.SWITCH_CONFIG_FAILED, {
      type: 'OFPET_SWITCH_CONFIG_FAILED', prefix: 'OFPSCFC_', codes: ['BAD_FLAGS', 'BAD_LEN', 'EPERM'],
    }],
    [OFPET.ROLE_REQUEST_FAILED, {
      type: 'OFPET_ROLE_REQUEST_FAILED', prefix: 'OFPRRFC_', codes: ['STALE', 'UNSUP', 'BAD_ROLE'],
    }],
    [OFPET.METER_MOD_FAILED, {
      type: 'OFPET_METER_MOD_FAILED', prefix: 'OFPMMFC_',
      codes: ['UNKNOWN', 'METER_EXISTS', 'INVALID_METER', 'UNKNOWN_METER', 'BAD_COMMAND', 'BAD_FLAGS', 'BAD_RATE',
        'BAD_BURST', 'BAD_BAND', 'BAD_BAND_VALUE', 'OUT_OF_METERS', 'OUT_OF_BANDS'],
    }],
    [OFPET.TABLE_FEATURES_FAILED, {
      type: 'OFPET_TABLE_FEATURES_FAILED', prefix: 'OFPTFFC_',
      codes: ['BAD_TABLE', 'BAD_METADATA', 'BAD_TYPE', 'BAD_LEN', 'BAD_ARGUMENT', 'EPERM'],
    }],
    [OFPET.EXPERIMENTER, { type: 'OFPET_EXPERIMENTER', prefix: '', codes: [] }],
  ]);

/**
 * Names of an OFPT_ERROR's type and code, e.g. (4, 6) → { type: 'OFPET_BAD_MATCH', code: 'OFPBMC_BAD_FIELD' }.
 * An unknown type or code (and any code of OFPET_EXPERIMENTER, whose code is an exp_type) is given as its
 * decimal number, e.g. (99, 1) → { type: '99', code: '1' }.
 */
export function errorNames(errType: number, code: number): { type: string; code: string } {
  const entry = ERROR_CODES.get(errType);
  if (!entry) return { type: String(errType), code: String(code) };
  const name = entry.codes[code];
  return { type: entry.type, code: name === undefined ? String(code) : entry.prefix + name };
}

/** Inverse of {@link errorNames} for known names: 'OFPBMC_BAD_FIELD' → { errType: 4, code: 6 }, else undefined. */
export function errorCodeOf(codeName: string): { errType: number; code: number } | undefined {
  for (const [errType, entry] of ERROR_CODES) {
    if (entry.prefix === '' || !codeName.startsWith(entry.prefix)) continue;
    const code = entry.codes.indexOf(codeName.slice(entry.prefix.length));
    if (code >= 0) return { errType, code };
  }
  return undefined;
}
