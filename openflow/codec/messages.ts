/**
 * Whole OpenFlow 1.3.5 messages: ofp_header (§7.1: version u8, type u8, length u16, xid u32) plus the
 * body codec registered for the type in message-layouts.ts.
 */
import { OfReader, OfWriter } from './buffer.js';
import { OfpDecodeError, OfpEncodeError, type DecodeResult } from './errors.js';
import { OFP_HEADER_LEN, OFP_VERSION } from './constants.js';
import { MESSAGE_LAYOUTS, type MessageLayout } from './message-layouts.js';
import { MESSAGE_TYPE_CODES, messageTypeName, type KnownMessageType } from './names.js';
import type { OfpMessage } from './types.js';

/**
 * A decoder failure that is not a protocol error but a bug in this codec (an exception other than
 * OfpDecodeError escaped a layout). Reported like any decode failure, so decodeMessage stays total,
 * but tests assert it never happens. `original` holds the exception that escaped.
 */
export class OfpDecoderBugError extends OfpDecodeError {
  readonly bug = true as const;
  constructor(readonly original: unknown) {
    super('OFP_ERR_BAD_LEN', `internal decoder error: ${String(original)}`);
    this.name = 'OfpDecoderBugError';
  }
}

/**
 * Encodes one message to a frame (header written last, once the length is known). HELLO and `unknown`
 * messages carry their own header version; all others are sent as version 4.
 * @throws OfpEncodeError for an object that cannot be encoded (value out of range, missing field, frame
 *   longer than 65535 bytes, an `unknown` message whose typeCode is a known type).
 */
export function encodeMessage(msg: OfpMessage): Buffer {
  return encodeMessageAs(msg, msg.xid);
}

/**
 * {@link encodeMessage} with `xid` written instead of `msg.xid` (a session numbers a message without
 * copying it). @throws OfpEncodeError as encodeMessage
 */
export function encodeMessageAs(msg: OfpMessage, xid: number): Buffer {
  // One writer serves every call (encoding is synchronous) and hands each frame out as a view into its
  // slab, so a message costs no allocation or copy of its own. A re-entrant call (only possible from a
  // getter on the message object) gets a writer of its own.
  if (writerBusy) {
    const w = new OfWriter(256);
    encodeInto(w, msg, xid);
    return w.finish();
  }
  writerBusy = true;
  try {
    shared.startOutput();
    encodeInto(shared, msg, xid);
    return shared.takeOutput();
  } finally {
    writerBusy = false;
  }
}

const shared = new OfWriter(16);
let writerBusy = false;

/**
 * Appends `msg`, numbered `xid`, as one more frame of `w`'s current output (startOutput … takeOutput):
 * a session encodes the messages of an event-loop turn straight into its write buffer, one after the
 * other, and writes them as one view. On failure the output is left as it was before the call.
 * Returns the frame's length in bytes. @throws OfpEncodeError as encodeMessage
 */
export function appendMessage(w: OfWriter, msg: OfpMessage, xid: number): number {
  const start = w.offset;
  try {
    encodeInto(w, msg, xid);
  } catch (e) {
    w.truncate(start);
    throw e;
  }
  return w.offset - start;
}

/** Writes header and body of `msg` at the writer's current offset (a frame of its current output). @throws OfpEncodeError */
function encodeInto(w: OfWriter, msg: OfpMessage, xid: number): void {
  const at = w.offset;
  w.zeros(OFP_HEADER_LEN);
  let version: number = OFP_VERSION;
  let typeCode: number;
  try {
    if (msg.type === 'unknown') {
      if (messageTypeName(msg.typeCode) !== undefined) throw new OfpEncodeError(`unknown message with known type ${msg.typeCode}`);
      ({ version, typeCode } = msg);
      w.bytes(msg.body);
    } else {
      typeCode = MESSAGE_TYPE_CODES[msg.type];
      const layout = MESSAGE_LAYOUTS[msg.type] as MessageLayout<KnownMessageType> | undefined;
      if (typeCode === undefined || !layout) throw new OfpEncodeError(`unknown message type ${String(msg.type)}`);
      if (msg.type === 'OFPT_HELLO') version = msg.version;
      layout.enc(w, msg as never);
    }
    if (!Number.isInteger(version) || version < 0 || version > 0xff) throw new OfpEncodeError(`bad version ${version}`);
    if (!Number.isInteger(typeCode) || typeCode < 0 || typeCode > 0xff) throw new OfpEncodeError(`bad type code ${typeCode}`);
    w.patchU16(at, (version << 8) | typeCode);
    w.patchU16(at + 2, w.offset - at);
    w.patchU32(at + 4, xid);
  } catch (e) {
    if (e instanceof OfpEncodeError) throw e;
    throw new OfpEncodeError(`${String(msg.type)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Decodes one complete frame (as split by FrameDecoder). Never throws.
 * Errors: OFP_ERR_BAD_LEN (frame < 8 bytes, header length ≠ frame length, truncated body, trailing
 * bytes after the body), OFP_ERR_BAD_VERSION (version ≠ 4 on anything but HELLO), and every code of the
 * nested decoders (match, actions, instructions, bands, buckets, multipart, padding).
 * A type code OF1.3 does not define decodes to `{ type: 'unknown', … }` (not an error).
 */
export function decodeMessage(frame: Buffer): DecodeResult<OfpMessage> {
  try {
    return { ok: true, value: decodeFrame(frame) };
  } catch (e) {
    if (e instanceof OfpDecodeError) return { ok: false, error: e };
    return { ok: false, error: new OfpDecoderBugError(e) };
  }
}

/** Body codecs by header type code (0..255; undefined for codes OF1.3 does not define). */
const LAYOUT_BY_CODE: readonly (MessageLayout<KnownMessageType> | undefined)[] = Array.from({ length: 256 }, (_, code) => {
  const type = messageTypeName(code);
  return type === undefined ? undefined : (MESSAGE_LAYOUTS[type] as MessageLayout<KnownMessageType>);
});

function decodeFrame(frame: Buffer): OfpMessage {
  if (frame.length < OFP_HEADER_LEN) throw new OfpDecodeError('OFP_ERR_BAD_LEN', `frame of ${frame.length} bytes`);
  const version = frame[0]!;
  const typeCode = frame[1]!;
  const length = (frame[2]! << 8) | frame[3]!;
  const xid = frame[4]! * 0x1000000 + ((frame[5]! << 16) | (frame[6]! << 8) | frame[7]!);
  if (length < OFP_HEADER_LEN || length !== frame.length) {
    throw new OfpDecodeError('OFP_ERR_BAD_LEN', `header length ${length}, frame ${frame.length} bytes`, 2);
  }
  const type = messageTypeName(typeCode);
  if (type !== 'OFPT_HELLO' && version !== OFP_VERSION) {
    throw new OfpDecodeError('OFP_ERR_BAD_VERSION', `version ${version} on message type ${typeCode}`, 0);
  }
  const r = new OfReader(frame, OFP_HEADER_LEN, length, 'OFP_ERR_BAD_LEN');
  if (type === undefined) return { type: 'unknown', xid, version, typeCode, body: r.rest() };
  const msg = LAYOUT_BY_CODE[typeCode]!.dec(r, xid, version);
  if (!r.atEnd) r.fail('OFP_ERR_BAD_LEN', `${r.remaining} trailing bytes after ${type}`);
  return msg;
}
