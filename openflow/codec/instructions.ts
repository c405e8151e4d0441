/**
 * Instruction lists (OpenFlow 1.3.5 §7.2.4). Every instruction starts with {u16 type, u16 len}; `len`
 * includes that header and is a multiple of 8.
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OfpEncodeError } from './errors.js';
import { decodeActions, encodeActions } from './actions.js';
import { INSTRUCTION_TYPE_CODES, type InstructionType } from './names.js';
import type { Action, Instruction } from './types.js';

type InstructionOf<K extends InstructionType> = Extract<Instruction, { type: K }>;

/** Layout of one instruction type: total length (undefined = variable) and body codec (after type+len). */
interface InstructionLayout<K extends InstructionType> {
  readonly len?: number;
  enc(w: OfWriter, i: InstructionOf<K>): void;
  /** Reads the body and returns the whole instruction (type included: no spread, one shape per type). */
  dec(r: OfReader): InstructionOf<K>;
}

/** ofp_instruction_actions: pad[4], then actions up to len. */
function withActions<K extends 'OFPIT_WRITE_ACTIONS' | 'OFPIT_APPLY_ACTIONS'>(type: K): InstructionLayout<K> {
  return {
    enc: (w: OfWriter, i: { readonly actions: readonly Action[] }) => {
      w.zeros(4);
      encodeActions(w, i.actions);
    },
    dec: (r: OfReader) => {
      r.zeroPad(4);
      return { type, actions: decodeActions(r) } as InstructionOf<K>;
    },
  };
}

const LAYOUTS: { readonly [K in InstructionType]: InstructionLayout<K> } = {
  /** ofp_instruction_goto_table: table_id u8, pad[3] */
  OFPIT_GOTO_TABLE: {
    len: 8,
    enc: (w, i) => void w.u8(i.tableId).zeros(3),
    dec: (r) => {
      const tableId = r.u8();
      r.zeroPad(3);
      return { type: 'OFPIT_GOTO_TABLE', tableId };
    },
  },
  /** ofp_instruction_write_metadata: pad[4], metadata u64, metadata_mask u64 */
  OFPIT_WRITE_METADATA: {
    len: 24,
    enc: (w, i) => void w.zeros(4).u64(i.metadata).u64(i.metadataMask),
    dec: (r) => {
      r.zeroPad(4);
      return { type: 'OFPIT_WRITE_METADATA', metadata: r.u64(), metadataMask: r.u64() };
    },
  },
  OFPIT_WRITE_ACTIONS: withActions('OFPIT_WRITE_ACTIONS'),
  OFPIT_APPLY_ACTIONS: withActions('OFPIT_APPLY_ACTIONS'),
  /** ofp_instruction_actions with no actions: pad[4] */
  OFPIT_CLEAR_ACTIONS: { len: 8, enc: (w) => void w.zeros(4), dec: (r) => (r.zeroPad(4), { type: 'OFPIT_CLEAR_ACTIONS' }) },
  /** ofp_instruction_meter: meter_id u32 */
  OFPIT_METER: { len: 8, enc: (w, i) => void w.u32(i.meterId), dec: (r) => ({ type: 'OFPIT_METER', meterId: r.u32() }) },
  /** ofp_instruction_experimenter: experimenter u32, then experimenter-defined bytes */
  OFPIT_EXPERIMENTER: {
    enc: (w, i) => {
      if (!Buffer.isBuffer(i.data) || i.data.length % 8 !== 0) {
        throw new OfpEncodeError('experimenter instruction data must be a Buffer of a multiple of 8 bytes');
      }
      w.u32(i.experimenter).bytes(i.data);
    },
    dec: (r) => ({ type: 'OFPIT_EXPERIMENTER', experimenter: r.u32(), data: r.rest() }),
  },
};

/** Writes one instruction; its length is patched once known. @throws OfpEncodeError */
export function encodeInstruction(w: OfWriter, ins: Instruction): void {
  const layout = LAYOUTS[ins.type] as InstructionLayout<InstructionType> | undefined;
  if (!layout) throw new OfpEncodeError(`unknown instruction type ${String(ins.type)}`);
  const start = w.offset;
  w.u16(INSTRUCTION_TYPE_CODES[ins.type]);
  const lenAt = w.placeholderU16();
  layout.enc(w, ins as never);
  w.patchU16(lenAt, w.offset - start);
}

/** Writes an instruction list (the enclosing structure carries the length). */
export function encodeInstructions(w: OfWriter, ins: readonly Instruction[]): void {
  for (let i = 0; i < ins.length; i++) encodeInstruction(w, ins[i]!);
}

/** Layouts by wire type code (dense for 0..255, plus OFPIT_EXPERIMENTER), built from LAYOUTS. */
const BY_CODE = new Map<number, { readonly type: InstructionType; readonly layout: InstructionLayout<InstructionType> }>(
  (Object.keys(LAYOUTS) as InstructionType[]).map((type) => [
    INSTRUCTION_TYPE_CODES[type], { type, layout: LAYOUTS[type] as InstructionLayout<InstructionType> },
  ]),
);
const DENSE = Array.from({ length: 256 }, (_, code) => BY_CODE.get(code));

/**
 * Reads one instruction. Errors: OFP_ERR_BAD_INSTRUCTION_TYPE (unknown type), OFP_ERR_BAD_INSTRUCTION_LEN
 * (len < 8, not a multiple of 8, past the end, wrong for its type), OFP_ERR_BAD_PADDING, and the action
 * errors of write/apply-actions.
 */
export function decodeInstruction(r: OfReader): Instruction {
  r.need(4, 'instruction header', 'OFP_ERR_BAD_INSTRUCTION_LEN');
  const typeCode = r.u16();
  const len = r.u16();
  const entry = typeCode < 256 ? DENSE[typeCode] : BY_CODE.get(typeCode);
  if (entry === undefined) return r.fail('OFP_ERR_BAD_INSTRUCTION_TYPE', `unknown instruction type ${typeCode}`);
  const layout = entry.layout;
  if (len < 8 || len % 8 !== 0 || (layout.len !== undefined && len !== layout.len)) {
    r.fail('OFP_ERR_BAD_INSTRUCTION_LEN', `${entry.type} with length ${len}`);
  }
  const outerCode = r.lenCode;
  const outer = r.enter(len - 4, 'OFP_ERR_BAD_INSTRUCTION_LEN');
  const instruction = layout.dec(r);
  r.leave(outer, outerCode);
  return instruction;
}

/** Reads instructions until the (bounded) reader's end. Errors as {@link decodeInstruction}. */
export function decodeInstructions(r: OfReader): Instruction[] {
  const out: Instruction[] = [];
  while (!r.atEnd) out.push(decodeInstruction(r));
  return out;
}
