/**
 * Group buckets (OpenFlow 1.3.5 §7.3.4.2, ofp_bucket): {u16 len, u16 weight, u32 watch_port,
 * u32 watch_group, pad[4]} (16 bytes) then actions up to `len`.
 */
import type { OfReader, OfWriter } from './buffer.js';
import { decodeActions, encodeActions } from './actions.js';
import type { Bucket } from './types.js';

export const BUCKET_HEADER_LEN = 16;

/** Writes one bucket; its length is patched once the actions are written. @throws OfpEncodeError */
export function encodeBucket(w: OfWriter, b: Bucket): void {
  const start = w.offset;
  const lenAt = w.placeholderU16();
  w.u16(b.weight).u32(b.watchPort).u32(b.watchGroup).zeros(4);
  encodeActions(w, b.actions);
  w.patchU16(lenAt, w.offset - start);
}

/** Writes a bucket list (the enclosing message carries the length). */
export function encodeBuckets(w: OfWriter, buckets: readonly Bucket[]): void {
  for (const b of buckets) encodeBucket(w, b);
}

/**
 * Reads one bucket. OFP_ERR_BAD_BUCKET for len < 16, not a multiple of 8, or past the end;
 * OFP_ERR_BAD_PADDING; action errors from its action list.
 */
export function decodeBucket(r: OfReader): Bucket {
  r.need(2, 'bucket length', 'OFP_ERR_BAD_BUCKET');
  const len = r.u16();
  if (len < BUCKET_HEADER_LEN || len % 8 !== 0) r.fail('OFP_ERR_BAD_BUCKET', `bucket length ${len}`);
  const outerCode = r.lenCode;
  const outer = r.enter(len - 2, 'OFP_ERR_BAD_BUCKET');
  const weight = r.u16();
  const watchPort = r.u32();
  const watchGroup = r.u32();
  r.zeroPad(4);
  const actions = decodeActions(r);
  r.leave(outer, outerCode);
  return { weight, watchPort, watchGroup, actions };
}

/** Reads buckets until the (bounded) reader's end. */
export function decodeBuckets(r: OfReader): Bucket[] {
  const out: Bucket[] = [];
  while (!r.atEnd) out.push(decodeBucket(r));
  return out;
}
