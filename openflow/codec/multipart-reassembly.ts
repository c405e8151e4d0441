/**
 * OFPMPF_REPLY_MORE sequences (OpenFlow 1.3.5 §7.3.5): a switch may answer one multipart request with
 * several OFPT_MULTIPART_REPLY messages sharing the request's xid, every one but the last flagged
 * OFPMPF_REPLY_MORE; individual structures (a flow stats entry, a port…) are never split across messages.
 *
 * - {@link mergeMultipartReplies}: pure; concatenates the parts of one sequence.
 * - {@link MultipartReassembler}: stateful, bounded; feeds parts as they arrive, returns the merged reply
 *   once the last part arrives.
 * - {@link splitMultipartReply}: the inverse, for fake switches and tests.
 */
import { OfWriter } from './buffer.js';
import { OFPMPF_REPLY_MORE } from './constants.js';
import { OfpDecodeError, OfpEncodeError } from './errors.js';
import type { MessageOf, MultipartReplyBody } from './types.js';
import { MP_SIZES, arrayReplyOf } from './multipart-structs.js';

type Reply = MessageOf<'OFPT_MULTIPART_REPLY'>;

const REPLY_MORE = OFPMPF_REPLY_MORE;
/** ofp_header + the multipart header (type, flags, pad). */
const REPLY_OVERHEAD = 8 + MP_SIZES.multipartHeader;
/** Smallest frame size a reply can be split to: headers, experimenter header, 8 bytes of payload. */
const MIN_SPLIT_BYTES = REPLY_OVERHEAD + MP_SIZES.experimenterHeader + 8;

function bad(message: string): never {
  throw new OfpDecodeError('OFP_ERR_BAD_MULTIPART', message);
}

function sameKind(a: MultipartReplyBody, b: MultipartReplyBody): boolean {
  if (a.mpType !== b.mpType) return false;
  if (a.mpType === 'unknown') return a.mpTypeCode === (b as typeof a).mpTypeCode;
  if (a.mpType === 'OFPMP_EXPERIMENTER') {
    const e = b as typeof a;
    return a.experimenter === e.experimenter && a.expType === e.expType;
  }
  return true;
}

function kindName(b: MultipartReplyBody): string {
  return b.mpType === 'unknown' ? `unknown type ${b.mpTypeCode}` : b.mpType;
}

/**
 * Merges the parts of one REPLY_MORE sequence into one reply: array bodies concatenated in order,
 * experimenter and unknown bodies' `data` concatenated. The result has the xid of the parts and the flags
 * of the last part. A single part is returned as is.
 * @throws OfpDecodeError OFP_ERR_BAD_MULTIPART when `parts` is empty, xids or body kinds (type, experimenter
 *   id and type, unknown code) differ, a part other than the last lacks OFPMPF_REPLY_MORE, or a
 *   single-structure body (DESC, AGGREGATE, GROUP_FEATURES, METER_FEATURES) comes in more than one part.
 */
export function mergeMultipartReplies(parts: readonly Reply[]): Reply {
  const first = parts[0];
  if (first === undefined) bad('no multipart reply parts to merge');
  parts.forEach((p, i) => {
    if (p.xid !== first.xid) bad(`part ${i} has xid ${p.xid}, expected ${first.xid}`);
    if (!sameKind(first.body, p.body)) bad(`part ${i} is ${kindName(p.body)}, expected ${kindName(first.body)}`);
    if (i < parts.length - 1 && (p.flags & REPLY_MORE) === 0) bad(`part ${i} of ${parts.length} lacks OFPMPF_REPLY_MORE`);
  });
  const last = parts[parts.length - 1]!;
  if (parts.length === 1) return first;
  const arr = arrayReplyOf(first.body);
  let body: MultipartReplyBody;
  if (arr) {
    const items = parts.flatMap((p) => arrayReplyOf(p.body)!.items);
    body = { ...first.body, [arr.field]: items } as MultipartReplyBody;
  } else if (first.body.mpType === 'OFPMP_EXPERIMENTER' || first.body.mpType === 'unknown') {
    const data = Buffer.concat(parts.map((p) => (p.body as { data: Buffer }).data));
    body = { ...first.body, data };
  } else {
    bad(`${first.body.mpType} reply cannot span ${parts.length} messages`);
  }
  return { type: 'OFPT_MULTIPART_REPLY', xid: first.xid, flags: last.flags, body };
}

/** Bytes of the reply's body as encoded (without the 16 bytes of headers). */
function replyBodySize(b: MultipartReplyBody): number {
  const arr = arrayReplyOf(b);
  if (arr) {
    const w = new OfWriter(1024);
    for (const item of arr.items) arr.codec.encode(w, item);
    return w.offset;
  }
  switch (b.mpType) {
    case 'OFPMP_DESC': return MP_SIZES.desc;
    case 'OFPMP_AGGREGATE': return MP_SIZES.aggregateReply;
    case 'OFPMP_GROUP_FEATURES': return MP_SIZES.groupFeatures;
    case 'OFPMP_METER_FEATURES': return MP_SIZES.meterFeatures;
    case 'OFPMP_EXPERIMENTER': return MP_SIZES.experimenterHeader + b.data.length;
    default: return (b as { data: Buffer }).data.length;
  }
}

/** Limits of a {@link MultipartReassembler}. */
export interface ReassemblerLimits {
  /** Most parts held for one xid (default 4096). */
  readonly maxParts?: number;
  /** Most wire bytes held for one xid (default 64 MiB). */
  readonly maxBytes?: number;
  /** Most xids with a sequence in progress at once (default 1024). */
  readonly maxPending?: number;
}

interface Pending {
  parts: Reply[];
  bytes: number;
  /** the sequence failed: later parts are dropped until its last part arrives */
  discarding: boolean;
}

/**
 * Collects OFPMPF_REPLY_MORE sequences per xid (one instance per switch connection).
 *
 * `add(part)` returns the merged reply when `part` completes its sequence (a part without REPLY_MORE),
 * otherwise undefined. A failed sequence (limits exceeded, mismatched kinds) throws
 * OfpDecodeError OFP_ERR_BAD_MULTIPART once; its remaining parts are then dropped silently until its last
 * part arrives, so a half sequence is never delivered as if whole. Call {@link drop} when a request times
 * out to release what its xid holds.
 */
export class MultipartReassembler {
  private readonly pending = new Map<number, Pending>();
  private readonly maxParts: number;
  private readonly maxBytes: number;
  private readonly maxPending: number;

  constructor(limits: ReassemblerLimits = {}) {
    this.maxParts = limits.maxParts ?? 4096;
    this.maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
    this.maxPending = limits.maxPending ?? 1024;
  }

  /** Number of xids with a sequence in progress (including failed ones still being drained). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether a sequence for `xid` is in progress. */
  has(xid: number): boolean {
    return this.pending.has(xid);
  }

  /** Forgets everything held for `xid`; true when something was held. */
  drop(xid: number): boolean {
    return this.pending.delete(xid);
  }

  clear(): void {
    this.pending.clear();
  }

  /**
   * Adds one received part. `wireBytes` is the frame's length (measured by encoding when omitted).
   * @returns the merged reply once the sequence is complete, else undefined
   * @throws OfpDecodeError OFP_ERR_BAD_MULTIPART on a limit exceeded or a part that does not match its
   *   sequence (see {@link mergeMultipartReplies})
   */
  add(msg: Reply, wireBytes?: number): Reply | undefined {
    const more = (msg.flags & REPLY_MORE) !== 0;
    let entry = this.pending.get(msg.xid);
    if (entry === undefined && !more) return msg;
    if (entry?.discarding) {
      if (!more) this.pending.delete(msg.xid);
      return undefined;
    }
    if (entry === undefined) {
      if (this.pending.size >= this.maxPending) bad(`more than ${this.maxPending} multipart replies in progress`);
      entry = { parts: [], bytes: 0, discarding: false };
      this.pending.set(msg.xid, entry);
    }
    const first = entry.parts[0];
    if (first && !sameKind(first.body, msg.body)) {
      this.fail(msg.xid, more, `xid ${msg.xid}: part is ${kindName(msg.body)}, sequence is ${kindName(first.body)}`);
    }
    entry.bytes += wireBytes ?? REPLY_OVERHEAD + replyBodySize(msg.body);
    if (entry.parts.length + 1 > this.maxParts) this.fail(msg.xid, more, `xid ${msg.xid}: more than ${this.maxParts} parts`);
    if (entry.bytes > this.maxBytes) this.fail(msg.xid, more, `xid ${msg.xid}: more than ${this.maxBytes} bytes`);
    entry.parts.push(msg);
    if (more) return undefined;
    this.pending.delete(msg.xid);
    return mergeMultipartReplies(entry.parts);
  }

  private fail(xid: number, more: boolean, message: string): never {
    if (more) this.pending.set(xid, { parts: [], bytes: 0, discarding: true });
    else this.pending.delete(xid);
    bad(message);
  }
}

/**
 * Splits a reply into a REPLY_MORE sequence whose frames (ofp_header included) are at most `maxBytes`
 * long: array bodies at element boundaries (greedy, in order; an element too big for one frame travels
 * alone in an over-size part), experimenter and unknown bodies by `data` chunks. Every part but the last
 * gets OFPMPF_REPLY_MORE; the last keeps `msg.flags`, so `mergeMultipartReplies(split(m, n))` deep-equals
 * `m`. Single-structure bodies and empty arrays come back as `[msg]`.
 * @throws OfpEncodeError when `maxBytes` is not an integer in 32..65535
 */
export function splitMultipartReply(msg: Reply, maxBytes: number): Reply[] {
  if (!Number.isInteger(maxBytes) || maxBytes < MIN_SPLIT_BYTES || maxBytes > 0xffff) {
    throw new OfpEncodeError(`split size ${maxBytes} outside ${MIN_SPLIT_BYTES}..65535`);
  }
  const room = maxBytes - REPLY_OVERHEAD;
  const b = msg.body;
  const arr = arrayReplyOf(b);
  let bodies: MultipartReplyBody[];
  if (arr) {
    bodies = chunkItems(arr.items, arr.codec.encode, room).map((items) => ({ ...b, [arr.field]: items }) as MultipartReplyBody);
  } else if (b.mpType === 'OFPMP_EXPERIMENTER') {
    bodies = chunkBytes(b.data, room - MP_SIZES.experimenterHeader).map((data) => ({ ...b, data }));
  } else if (b.mpType === 'unknown') {
    bodies = chunkBytes(b.data, room).map((data) => ({ ...b, data }));
  } else {
    return [msg];
  }
  if (bodies.length <= 1) return [msg];
  return bodies.map((body, i) => ({ ...msg, flags: i < bodies.length - 1 ? msg.flags | REPLY_MORE : msg.flags, body }));
}

function chunkItems(items: readonly unknown[], encode: (w: OfWriter, item: unknown) => void, room: number): unknown[][] {
  const chunks: unknown[][] = [];
  let current: unknown[] = [];
  let used = 0;
  for (const item of items) {
    const w = new OfWriter(256);
    encode(w, item);
    if (current.length > 0 && used + w.offset > room) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(item);
    used += w.offset;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function chunkBytes(data: Buffer, room: number): Buffer[] {
  if (room < 1) throw new OfpEncodeError(`no room for data in a split part (${room} bytes)`);
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += room) out.push(Buffer.from(data.subarray(at, at + room)));
  return out;
}
