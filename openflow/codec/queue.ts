/**
 * Queue descriptions for OFPT_QUEUE_GET_CONFIG_REPLY (OpenFlow 1.3.5 §7.2.2).
 * ofp_packet_queue: queue_id u32, port u32, len u16, pad[6], then properties up to len.
 * Properties start with ofp_queue_prop_header {u16 property, u16 len, pad[4]}:
 * min/max rate (16 bytes: + rate u16 in 1/10 %, pad[6]); experimenter (+ experimenter u32, pad[4], data).
 */
import type { OfReader, OfWriter } from './buffer.js';
import { OfpEncodeError } from './errors.js';
import { OFPQT } from './constants.js';
import type { PacketQueue, QueueProperty } from './types.js';

/** Writes one queue property. @throws OfpEncodeError */
export function encodeQueueProperty(w: OfWriter, p: QueueProperty): void {
  const start = w.offset;
  if (p.type === 'OFPQT_MIN_RATE' || p.type === 'OFPQT_MAX_RATE') {
    w.u16(p.type === 'OFPQT_MIN_RATE' ? OFPQT.MIN_RATE : OFPQT.MAX_RATE).u16(16).zeros(4).u16(p.rate).zeros(6);
    return;
  }
  if (p.type !== 'OFPQT_EXPERIMENTER') throw new OfpEncodeError(`unknown queue property ${String((p as QueueProperty).type)}`);
  if (!Buffer.isBuffer(p.data) || p.data.length % 8 !== 0) {
    throw new OfpEncodeError('experimenter queue property data must be a Buffer of a multiple of 8 bytes');
  }
  w.u16(OFPQT.EXPERIMENTER);
  const lenAt = w.placeholderU16();
  w.zeros(4).u32(p.experimenter).zeros(4).bytes(p.data);
  w.patchU16(lenAt, w.offset - start);
}

/** Reads one queue property. OFP_ERR_BAD_QUEUE_PROP for an unknown type or a bad length. */
export function decodeQueueProperty(r: OfReader): QueueProperty {
  r.need(8, 'queue property header', 'OFP_ERR_BAD_QUEUE_PROP');
  const type = r.u16();
  const len = r.u16();
  r.zeroPad(4);
  const known = type === OFPQT.MIN_RATE || type === OFPQT.MAX_RATE || type === OFPQT.EXPERIMENTER;
  if (!known) r.fail('OFP_ERR_BAD_QUEUE_PROP', `unknown queue property ${type}`);
  const badLen = type === OFPQT.EXPERIMENTER ? len < 16 || len % 8 !== 0 : len !== 16;
  if (badLen) r.fail('OFP_ERR_BAD_QUEUE_PROP', `queue property ${type} with length ${len}`);
  const body = r.sub(len - 8, 'OFP_ERR_BAD_QUEUE_PROP');
  if (type === OFPQT.EXPERIMENTER) {
    const experimenter = body.u32();
    body.zeroPad(4);
    return { type: 'OFPQT_EXPERIMENTER', experimenter, data: body.rest() };
  }
  const rate = body.u16();
  body.zeroPad(6);
  return { type: type === OFPQT.MIN_RATE ? 'OFPQT_MIN_RATE' : 'OFPQT_MAX_RATE', rate };
}

/** Writes one ofp_packet_queue with its properties. @throws OfpEncodeError */
export function encodePacketQueue(w: OfWriter, q: PacketQueue): void {
  const start = w.offset;
  w.u32(q.queueId).u32(q.port);
  const lenAt = w.placeholderU16();
  w.zeros(6);
  for (const p of q.properties) encodeQueueProperty(w, p);
  w.patchU16(lenAt, w.offset - start);
}

/** Reads one ofp_packet_queue. OFP_ERR_BAD_QUEUE_PROP for len < 16, not a multiple of 8, or past the end. */
export function decodePacketQueue(r: OfReader): PacketQueue {
  r.need(16, 'ofp_packet_queue', 'OFP_ERR_BAD_QUEUE_PROP');
  const queueId = r.u32();
  const port = r.u32();
  const len = r.u16();
  r.zeroPad(6);
  if (len < 16 || len % 8 !== 0) r.fail('OFP_ERR_BAD_QUEUE_PROP', `ofp_packet_queue length ${len}`);
  const body = r.sub(len - 16, 'OFP_ERR_BAD_QUEUE_PROP');
  const properties: QueueProperty[] = [];
  while (!body.atEnd) properties.push(decodeQueueProperty(body));
  return { queueId, port, properties };
}
