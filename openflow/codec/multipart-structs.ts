/**
 * Element codecs of the OpenFlow 1.3.5 multipart bodies (§7.3.5): the flow-stats request and every
 * structure that appears in an array-valued reply (ofp_flow_stats, ofp_table_stats, ofp_port_stats,
 * ofp_queue_stats, ofp_group_stats, ofp_group_desc, ofp_meter_stats, ofp_meter_config, ofp_port,
 * ofp_table_features).
 *
 * Layouts are declared once as sizes ({@link MP_SIZES}) and checked by the golden tests. Each element
 * decoder consumes exactly one element through a bounded sub-reader, so a bad inner length fails with an
 * {@link OfpDecodeError} (OFP_ERR_BAD_LEN unless stated) and never over-reads; every variable-length
 * element has a minimum length > 0, so list decoding always makes progress.
 */
import type { OfReader, OfWriter } from './buffer.js';
import type { DecodeErrorCode } from './errors.js';
import type {
  FlowStats, FlowStatsRequest, GroupDesc, GroupStats, MeterConfig, MeterStats, MultipartReplyBody, Port,
  PortStats, QueueStats, TableFeatures, TableStats,
} from './types.js';
import { decodeMatch, encodeMatch } from './oxm.js';
import { decodeInstructions, encodeInstructions } from './instructions.js';
import { decodeMeterBands, encodeMeterBands } from './meter.js';
import { decodeBuckets, encodeBuckets } from './group.js';
import { decodePort, encodePort } from './port.js';
import { decodeTableFeatures, encodeTableFeatures } from './table-features.js';

/** Fixed sizes in bytes of the multipart structures (OpenFlow 1.3.5 §7.3.5, without variable parts). */
export const MP_SIZES = {
  /** u16 type, u16 flags, pad[4] after the ofp_header */
  multipartHeader: 8,
  desc: 1056,
  flowStatsRequestFixed: 32,
  flowStatsFixed: 48,
  aggregateReply: 24,
  tableStats: 24,
  portStatsRequest: 8,
  portStats: 112,
  queueStatsRequest: 8,
  queueStats: 40,
  groupStatsRequest: 8,
  groupStatsFixed: 40,
  bucketCounter: 16,
  groupDescFixed: 8,
  groupFeatures: 40,
  meterRequest: 8,
  meterStatsFixed: 40,
  meterBandStats: 16,
  meterConfigFixed: 8,
  meterFeatures: 16,
  tableFeaturesFixed: 64,
  port: 64,
  experimenterHeader: 8,
} as const;

/** Codec of one element of an array-valued body. `decode` consumes exactly one element. */
export interface ElementCodec<T> {
  encode(w: OfWriter, item: T): void;
  decode(r: OfReader): T;
}

/** Decodes elements until `r` is exhausted (each element consumes ≥ 1 byte, so this terminates). */
export function decodeList<T>(r: OfReader, codec: ElementCodec<T>): T[] {
  const out: T[] = [];
  while (!r.atEnd) out.push(codec.decode(r));
  return out;
}

export function encodeList<T>(w: OfWriter, items: readonly T[], codec: ElementCodec<T>): void {
  for (const item of items) codec.encode(w, item);
}

/**
 * Reads the u16 length at `lenAt` bytes into the next element, checks it against `min` (and, for
 * elements with trailing fixed-size records, that `(len - min) % step === 0`), and returns a reader
 * limited to the element. @throws OfpDecodeError OFP_ERR_BAD_LEN (or `code`)
 */
export function elementReader(r: OfReader, what: string, lenAt: number, min: number, step = 1, code = r.lenCode): OfReader {
  return r.sub(elementLength(r, what, lenAt, min, step, code), code);
}

/** The checks of {@link elementReader}; returns the element's length (not consumed). */
function elementLength(r: OfReader, what: string, lenAt: number, min: number, step: number, code: DecodeErrorCode): number {
  if (r.remaining < lenAt + 2) r.fail(code, `${what}: ${r.remaining} bytes left, too short for its length field`);
  const len = r.peekU16(lenAt);
  if (len < min) r.fail(code, `${what}: length ${len} below minimum ${min}`);
  if ((len - min) % step !== 0) r.fail(code, `${what}: length ${len} not ${min} + a multiple of ${step}`);
  if (len > r.remaining) r.fail(code, `${what}: length ${len} exceeds the ${r.remaining} bytes left`);
  return len;
}

/** Runs `body` and patches the u16 written at `lenAt` (absolute offset) with the bytes written since `start`. */
function withLength(w: OfWriter, start: number, lenAt: number, body: () => void): void {
  body();
  w.patchU16(lenAt, w.offset - start);
}

/* ------------------------------------------------------------ ofp_flow_stats_request (§7.3.5.2) */

/** ofp_flow_stats_request / ofp_aggregate_stats_request: 32 fixed bytes then an ofp_match. */
export function encodeFlowStatsRequest(w: OfWriter, q: FlowStatsRequest): void {
  w.u8(q.tableId).zeros(3).u32(q.outPort).u32(q.outGroup).zeros(4).u64(q.cookie).u64(q.cookieMask);
  encodeMatch(w, q.match);
}

export function decodeFlowStatsRequest(r: OfReader): FlowStatsRequest {
  const tableId = r.u8();
  r.pad(3);
  const outPort = r.u32();
  const outGroup = r.u32();
  r.pad(4);
  const cookie = r.u64();
  const cookieMask = r.u64();
  const match = decodeMatch(r);
  return { tableId, outPort, outGroup, cookie, cookieMask, match };
}

/* ------------------------------------------------------------ ofp_flow_stats (§7.3.5.2) */

export const flowStatsCodec: ElementCodec<FlowStats> = {
  encode(w, f) {
    const start = w.offset;
    const lenAt = w.placeholderU16();
    withLength(w, start, lenAt, () => {
      w.u8(f.tableId).zeros(1).u32(f.durationSec).u32(f.durationNsec);
      w.u16(f.priority).u16(f.idleTimeout).u16(f.hardTimeout).u16(f.flags).zeros(4);
      w.u64(f.cookie).u64(f.packetCount).u64(f.byteCount);
      encodeMatch(w, f.match);
      encodeInstructions(w, f.instructions);
    });
  },
  decode(e) {
    // Bounded like elementReader, without a second reader (this is the element of big flow dumps).
    const code = e.lenCode;
    const outer = e.enter(elementLength(e, 'ofp_flow_stats', 0, MP_SIZES.flowStatsFixed, 1, code), code);
    e.u16();
    const tableId = e.u8();
    e.pad(1);
    const durationSec = e.u32();
    const durationNsec = e.u32();
    const priority = e.u16();
    const idleTimeout = e.u16();
    const hardTimeout = e.u16();
    const flags = e.u16();
    e.pad(4);
    const cookie = e.u64();
    const packetCount = e.u64();
    const byteCount = e.u64();
    const match = decodeMatch(e);
    const instructions = decodeInstructions(e);
    e.leave(outer, code);
    return {
      tableId, durationSec, durationNsec, priority, idleTimeout, hardTimeout, flags, cookie, packetCount, byteCount,
      match, instructions,
    };
  },
};

/* ------------------------------------------------------------ ofp_table_stats (§7.3.5.4) */

export const tableStatsCodec: ElementCodec<TableStats> = {
  encode(w, t) {
    w.u8(t.tableId).zeros(3).u32(t.activeCount).u64(t.lookupCount).u64(t.matchedCount);
  },
  decode(r) {
    const e = r.sub(MP_SIZES.tableStats);
    const tableId = e.u8();
    e.pad(3);
    return { tableId, activeCount: e.u32(), lookupCount: e.u64(), matchedCount: e.u64() };
  },
};

/* ------------------------------------------------------------ ofp_port_stats (§7.3.5.6) */

const PORT_COUNTERS = [
  'rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxDropped', 'txDropped', 'rxErrors', 'txErrors', 'rxFrameErr',
  'rxOverErr', 'rxCrcErr', 'collisions',
] as const;

export const portStatsCodec: ElementCodec<PortStats> = {
  encode(w, p) {
    w.u32(p.portNo).zeros(4);
    for (const k of PORT_COUNTERS) w.u64(p[k]);
    w.u32(p.durationSec).u32(p.durationNsec);
  },
  decode(r) {
    const e = r.sub(MP_SIZES.portStats);
    const portNo = e.u32();
    e.pad(4);
    const counters = {} as Record<(typeof PORT_COUNTERS)[number], bigint>;
    for (const k of PORT_COUNTERS) counters[k] = e.u64();
    return { portNo, ...counters, durationSec: e.u32(), durationNsec: e.u32() };
  },
};

/* ------------------------------------------------------------ ofp_queue_stats (§7.3.5.8) */

export const queueStatsCodec: ElementCodec<QueueStats> = {
  encode(w, q) {
    w.u32(q.portNo).u32(q.queueId).u64(q.txBytes).u64(q.txPackets).u64(q.txErrors).u32(q.durationSec).u32(q.durationNsec);
  },
  decode(r) {
    const e = r.sub(MP_SIZES.queueStats);
    return {
      portNo: e.u32(), queueId: e.u32(), txBytes: e.u64(), txPackets: e.u64(), txErrors: e.u64(),
      durationSec: e.u32(), durationNsec: e.u32(),
    };
  },
};

/* ------------------------------------------------------------ ofp_group_stats (§7.3.5.9) */

export const groupStatsCodec: ElementCodec<GroupStats> = {
  encode(w, g) {
    const start = w.offset;
    const lenAt = w.placeholderU16();
    withLength(w, start, lenAt, () => {
      w.zeros(2).u32(g.groupId).u32(g.refCount).zeros(4).u64(g.packetCount).u64(g.byteCount);
      w.u32(g.durationSec).u32(g.durationNsec);
      for (const b of g.bucketStats) w.u64(b.packetCount).u64(b.byteCount);
    });
  },
  decode(r) {
    const e = elementReader(r, 'ofp_group_stats', 0, MP_SIZES.groupStatsFixed, MP_SIZES.bucketCounter);
    e.u16();
    e.pad(2);
    const groupId = e.u32();
    const refCount = e.u32();
    e.pad(4);
    const packetCount = e.u64();
    const byteCount = e.u64();
    const durationSec = e.u32();
    const durationNsec = e.u32();
    const bucketStats: { packetCount: bigint; byteCount: bigint }[] = [];
    while (!e.atEnd) bucketStats.push({ packetCount: e.u64(), byteCount: e.u64() });
    return { groupId, refCount, packetCount, byteCount, durationSec, durationNsec, bucketStats };
  },
};

/* ------------------------------------------------------------ ofp_group_desc (§7.3.5.10) */

export const groupDescCodec: ElementCodec<GroupDesc> = {
  encode(w, g) {
    const start = w.offset;
    const lenAt = w.placeholderU16();
    withLength(w, start, lenAt, () => {
      w.u8(g.groupType).zeros(1).u32(g.groupId);
      encodeBuckets(w, g.buckets);
    });
  },
  decode(r) {
    const e = elementReader(r, 'ofp_group_desc', 0, MP_SIZES.groupDescFixed);
    e.u16();
    const groupType = e.u8();
    e.pad(1);
    const groupId = e.u32();
    return { groupType, groupId, buckets: decodeBuckets(e) };
  },
};

/* ------------------------------------------------------------ ofp_meter_stats (§7.3.5.12) */

export const meterStatsCodec: ElementCodec<MeterStats> = {
  encode(w, m) {
    const start = w.offset;
    w.u32(m.meterId);
    const lenAt = w.placeholderU16();
    withLength(w, start, lenAt, () => {
      w.zeros(6).u32(m.flowCount).u64(m.packetInCount).u64(m.byteInCount).u32(m.durationSec).u32(m.durationNsec);
      for (const b of m.bandStats) w.u64(b.packetBandCount).u64(b.byteBandCount);
    });
  },
  decode(r) {
    const e = elementReader(r, 'ofp_meter_stats', 4, MP_SIZES.meterStatsFixed, MP_SIZES.meterBandStats);
    const meterId = e.u32();
    e.u16();
    e.pad(6);
    const flowCount = e.u32();
    const packetInCount = e.u64();
    const byteInCount = e.u64();
    const durationSec = e.u32();
    const durationNsec = e.u32();
    const bandStats: { packetBandCount: bigint; byteBandCount: bigint }[] = [];
    while (!e.atEnd) bandStats.push({ packetBandCount: e.u64(), byteBandCount: e.u64() });
    return { meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bandStats };
  },
};

/* ------------------------------------------------------------ ofp_meter_config (§7.3.5.13) */

export const meterConfigCodec: ElementCodec<MeterConfig> = {
  encode(w, m) {
    const start = w.offset;
    const lenAt = w.placeholderU16();
    withLength(w, start, lenAt, () => {
      w.u16(m.flags).u32(m.meterId);
      encodeMeterBands(w, m.bands);
    });
  },
  decode(r) {
    const e = elementReader(r, 'ofp_meter_config', 0, MP_SIZES.meterConfigFixed);
    e.u16();
    const flags = e.u16();
    const meterId = e.u32();
    return { flags, meterId, bands: decodeMeterBands(e) };
  },
};

/* ------------------------------------------------------------ ofp_port (§7.2.1), ofp_table_features */

export const portCodec: ElementCodec<Port> = {
  encode: (w, p) => encodePort(w, p),
  decode: (r) => decodePort(r.sub(MP_SIZES.port)),
};

export const tableFeaturesCodec: ElementCodec<TableFeatures> = {
  encode: (w, t) => encodeTableFeatures(w, t),
  decode: (r) => decodeTableFeatures(r),
};

/* ------------------------------------------------------------ array-valued reply bodies */

/** Reply types whose body is an array of elements, with the body field holding the array. */
export const REPLY_ARRAYS = {
  OFPMP_FLOW: { field: 'flows', codec: flowStatsCodec },
  OFPMP_TABLE: { field: 'tables', codec: tableStatsCodec },
  OFPMP_PORT_STATS: { field: 'ports', codec: portStatsCodec },
  OFPMP_QUEUE: { field: 'queues', codec: queueStatsCodec },
  OFPMP_GROUP: { field: 'groups', codec: groupStatsCodec },
  OFPMP_GROUP_DESC: { field: 'groups', codec: groupDescCodec },
  OFPMP_METER: { field: 'meters', codec: meterStatsCodec },
  OFPMP_METER_CONFIG: { field: 'meters', codec: meterConfigCodec },
  OFPMP_TABLE_FEATURES: { field: 'tables', codec: tableFeaturesCodec },
  OFPMP_PORT_DESC: { field: 'ports', codec: portCodec },
} as const;

export type ArrayReplyType = keyof typeof REPLY_ARRAYS;

/** An untyped view of an array-valued reply: the descriptor, and the element list of `body`. */
export function arrayReplyOf(
  body: MultipartReplyBody,
): { field: string; codec: ElementCodec<unknown>; items: readonly unknown[] } | undefined {
  if (!Object.hasOwn(REPLY_ARRAYS, body.mpType)) return undefined;
  const d = REPLY_ARRAYS[body.mpType as ArrayReplyType];
  const items = (body as unknown as Record<string, readonly unknown[]>)[d.field]!;
  return { field: d.field, codec: d.codec as ElementCodec<unknown>, items };
}
