/**
 * fast-check arbitraries of every multipart request and reply body (OpenFlow 1.3.5 §7.3.5), in the
 * canonical form the decoder produces. Nested structures come from the shared struct arbitraries.
 */
import fc from 'fast-check';
import type {
  ActionId, FlowStats, GroupDesc, GroupStats, InstructionId, MessageOf, MeterConfig, MeterStats,
  MultipartReplyBody, MultipartRequestBody, OxmId, PortStats, QueueStats, TableFeatureProp, TableFeatures, TableStats,
} from '../../openflow/codec/types.js';
import { arbBucket, arbInstruction, arbMatch, arbMeterBand, arbPort } from './arbitraries.js';

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
export const bytes = (maxLength: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const nonEmptyBytes = (maxLength: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: 1, maxLength }).map((a) => Buffer.from(a));
/** Printable ASCII without NUL, shorter than a fixed field of n bytes. */
export const fixedString = (n: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: n - 1 }).map((cs) => String.fromCharCode(...cs));

/* ------------------------------------------------------------ table features */

const notExp = u16.filter((t) => t !== 0xffff);

const arbGenericId = <K extends string>(key: K): fc.Arbitrary<{ [P in K]: number } & { experimenter?: number; data?: Buffer }> =>
  fc.oneof(
    notExp.map((t) => ({ [key]: t })),
    fc.record({ t: notExp, data: nonEmptyBytes(8) }).map(({ t, data }) => ({ [key]: t, data })),
    u32.map((experimenter) => ({ [key]: 0xffff, experimenter })),
    fc.record({ experimenter: u32, data: nonEmptyBytes(8) }).map(({ experimenter, data }) => ({ [key]: 0xffff, experimenter, data })),
  ) as fc.Arbitrary<{ [P in K]: number } & { experimenter?: number; data?: Buffer }>;

export const arbInstructionId: fc.Arbitrary<InstructionId> = arbGenericId('instructionType');
export const arbActionId: fc.Arbitrary<ActionId> = arbGenericId('actionType');

export const arbOxmId: fc.Arbitrary<OxmId> = fc.oneof(
  fc.record({
    oxmClass: fc.integer({ min: 0, max: 0xfffe }), fieldCode: fc.integer({ min: 0, max: 127 }), hasMask: fc.boolean(), length: u8,
  }),
  fc.record({
    oxmClass: fc.constant(0xffff), fieldCode: fc.integer({ min: 0, max: 127 }), hasMask: fc.boolean(), length: u8, experimenter: u32,
  }),
);

const KNOWN_PROP_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 0xfffe, 0xffff]);

export const arbTableFeatureProp: fc.Arbitrary<TableFeatureProp> = fc.oneof(
  fc.record({
    type: fc.constantFrom('OFPTFPT_INSTRUCTIONS', 'OFPTFPT_INSTRUCTIONS_MISS' as const),
    instructionIds: fc.array(arbInstructionId, { maxLength: 4 }),
  }),
  fc.record({ type: fc.constantFrom('OFPTFPT_NEXT_TABLES', 'OFPTFPT_NEXT_TABLES_MISS' as const), tableIds: fc.array(u8, { maxLength: 9 }) }),
  fc.record({
    type: fc.constantFrom(
      'OFPTFPT_WRITE_ACTIONS', 'OFPTFPT_WRITE_ACTIONS_MISS', 'OFPTFPT_APPLY_ACTIONS', 'OFPTFPT_APPLY_ACTIONS_MISS' as const,
    ),
    actionIds: fc.array(arbActionId, { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constantFrom(
      'OFPTFPT_MATCH', 'OFPTFPT_WILDCARDS', 'OFPTFPT_WRITE_SETFIELD', 'OFPTFPT_WRITE_SETFIELD_MISS', 'OFPTFPT_APPLY_SETFIELD',
      'OFPTFPT_APPLY_SETFIELD_MISS' as const,
    ),
    oxmIds: fc.array(arbOxmId, { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constantFrom('OFPTFPT_EXPERIMENTER', 'OFPTFPT_EXPERIMENTER_MISS' as const),
    experimenter: u32, expType: u32, data: bytes(11),
  }),
  fc.record({
    type: fc.constant('unknown' as const), propType: u16.filter((t) => !KNOWN_PROP_CODES.has(t)), data: bytes(11),
  }),
);

export const arbTableFeatures: fc.Arbitrary<TableFeatures> = fc.record({
  tableId: u8, name: fixedString(32), metadataMatch: u64, metadataWrite: u64, config: u32, maxEntries: u32,
  properties: fc.array(arbTableFeatureProp, { maxLength: 5 }),
});

/* ------------------------------------------------------------ stats */

export const arbFlowStats: fc.Arbitrary<FlowStats> = fc.record({
  tableId: u8, durationSec: u32, durationNsec: u32, priority: u16, idleTimeout: u16, hardTimeout: u16, flags: u16,
  cookie: u64, packetCount: u64, byteCount: u64, match: arbMatch, instructions: fc.array(arbInstruction, { maxLength: 3 }),
});

export const arbTableStats: fc.Arbitrary<TableStats> = fc.record({ tableId: u8, activeCount: u32, lookupCount: u64, matchedCount: u64 });

export const arbPortStats: fc.Arbitrary<PortStats> = fc.record({
  portNo: u32, rxPackets: u64, txPackets: u64, rxBytes: u64, txBytes: u64, rxDropped: u64, txDropped: u64, rxErrors: u64,
  txErrors: u64, rxFrameErr: u64, rxOverErr: u64, rxCrcErr: u64, collisions: u64, durationSec: u32, durationNsec: u32,
});

export const arbQueueStats: fc.Arbitrary<QueueStats> = fc.record({
  portNo: u32, queueId: u32, txBytes: u64, txPackets: u64, txErrors: u64, durationSec: u32, durationNsec: u32,
});

export const arbGroupStats: fc.Arbitrary<GroupStats> = fc.record({
  groupId: u32, refCount: u32, packetCount: u64, byteCount: u64, durationSec: u32, durationNsec: u32,
  bucketStats: fc.array(fc.record({ packetCount: u64, byteCount: u64 }), { maxLength: 4 }),
});

export const arbGroupDesc: fc.Arbitrary<GroupDesc> = fc.record({
  groupType: u8, groupId: u32, buckets: fc.array(arbBucket, { maxLength: 3 }),
});

export const arbMeterStats: fc.Arbitrary<MeterStats> = fc.record({
  meterId: u32, flowCount: u32, packetInCount: u64, byteInCount: u64, durationSec: u32, durationNsec: u32,
  bandStats: fc.array(fc.record({ packetBandCount: u64, byteBandCount: u64 }), { maxLength: 4 }),
});

export const arbMeterConfig: fc.Arbitrary<MeterConfig> = fc.record({
  flags: u16, meterId: u32, bands: fc.array(arbMeterBand, { maxLength: 3 }),
});

/* ------------------------------------------------------------ bodies */

const KNOWN_MP_CODES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xffff]);
const unknownMpCode = u16.filter((c) => !KNOWN_MP_CODES.has(c));

const arbFlowRequestFields = fc.record({
  tableId: u8, outPort: u32, outGroup: u32, cookie: u64, cookieMask: u64, match: arbMatch,
});

export const arbRequestBody: fc.Arbitrary<MultipartRequestBody> = fc.oneof(
  fc.constantFrom(
    'OFPMP_DESC', 'OFPMP_TABLE', 'OFPMP_GROUP_DESC', 'OFPMP_GROUP_FEATURES', 'OFPMP_METER_FEATURES', 'OFPMP_PORT_DESC' as const,
  ).map((mpType) => ({ mpType })),
  fc.record({ mpType: fc.constantFrom('OFPMP_FLOW', 'OFPMP_AGGREGATE' as const), q: arbFlowRequestFields }).map(
    ({ mpType, q }) => ({ mpType, ...q }),
  ),
  fc.record({ mpType: fc.constant('OFPMP_PORT_STATS' as const), portNo: u32 }),
  fc.record({ mpType: fc.constant('OFPMP_QUEUE' as const), portNo: u32, queueId: u32 }),
  fc.record({ mpType: fc.constant('OFPMP_GROUP' as const), groupId: u32 }),
  fc.record({ mpType: fc.constantFrom('OFPMP_METER', 'OFPMP_METER_CONFIG' as const), meterId: u32 }),
  fc.record({ mpType: fc.constant('OFPMP_TABLE_FEATURES' as const), tables: fc.array(arbTableFeatures, { maxLength: 3 }) }),
  fc.record({ mpType: fc.constant('OFPMP_EXPERIMENTER' as const), experimenter: u32, expType: u32, data: bytes(32) }),
  fc.record({ mpType: fc.constant('unknown' as const), mpTypeCode: unknownMpCode, data: bytes(32) }),
) as fc.Arbitrary<MultipartRequestBody>;

/** Array-valued reply bodies only (the ones that split and merge element-wise). */
export const arbArrayReplyBody: fc.Arbitrary<MultipartReplyBody> = fc.oneof(
  fc.record({ mpType: fc.constant('OFPMP_FLOW' as const), flows: fc.array(arbFlowStats, { maxLength: 6 }) }),
  fc.record({ mpType: fc.constant('OFPMP_TABLE' as const), tables: fc.array(arbTableStats, { maxLength: 8 }) }),
  fc.record({ mpType: fc.constant('OFPMP_PORT_STATS' as const), ports: fc.array(arbPortStats, { maxLength: 6 }) }),
  fc.record({ mpType: fc.constant('OFPMP_QUEUE' as const), queues: fc.array(arbQueueStats, { maxLength: 6 }) }),
  fc.record({ mpType: fc.constant('OFPMP_GROUP' as const), groups: fc.array(arbGroupStats, { maxLength: 6 }) }),
  fc.record({ mpType: fc.constant('OFPMP_GROUP_DESC' as const), groups: fc.array(arbGroupDesc, { maxLength: 5 }) }),
  fc.record({ mpType: fc.constant('OFPMP_METER' as const), meters: fc.array(arbMeterStats, { maxLength: 6 }) }),
  fc.record({ mpType: fc.constant('OFPMP_METER_CONFIG' as const), meters: fc.array(arbMeterConfig, { maxLength: 5 }) }),
  fc.record({ mpType: fc.constant('OFPMP_TABLE_FEATURES' as const), tables: fc.array(arbTableFeatures, { maxLength: 3 }) }),
  fc.record({ mpType: fc.constant('OFPMP_PORT_DESC' as const), ports: fc.array(arbPort, { maxLength: 6 }) }),
);

export const arbReplyBody: fc.Arbitrary<MultipartReplyBody> = fc.oneof(
  arbArrayReplyBody,
  fc.record({
    mpType: fc.constant('OFPMP_DESC' as const), mfrDesc: fixedString(256), hwDesc: fixedString(256), swDesc: fixedString(256),
    serialNum: fixedString(32), dpDesc: fixedString(256),
  }),
  fc.record({ mpType: fc.constant('OFPMP_AGGREGATE' as const), packetCount: u64, byteCount: u64, flowCount: u32 }),
  fc.record({
    mpType: fc.constant('OFPMP_GROUP_FEATURES' as const), types: u32, capabilities: u32,
    maxGroups: fc.tuple(u32, u32, u32, u32), actions: fc.tuple(u32, u32, u32, u32),
  }),
  fc.record({
    mpType: fc.constant('OFPMP_METER_FEATURES' as const), maxMeter: u32, bandTypes: u32, capabilities: u32, maxBands: u8, maxColor: u8,
  }),
  fc.record({ mpType: fc.constant('OFPMP_EXPERIMENTER' as const), experimenter: u32, expType: u32, data: bytes(64) }),
  fc.record({ mpType: fc.constant('unknown' as const), mpTypeCode: unknownMpCode, data: bytes(64) }),
) as fc.Arbitrary<MultipartReplyBody>;

export const arbRequest: fc.Arbitrary<MessageOf<'OFPT_MULTIPART_REQUEST'>> = fc.record({
  type: fc.constant('OFPT_MULTIPART_REQUEST' as const), xid: u32, flags: u16, body: arbRequestBody,
});

export const arbReply = (body = arbReplyBody): fc.Arbitrary<MessageOf<'OFPT_MULTIPART_REPLY'>> =>
  fc.record({ type: fc.constant('OFPT_MULTIPART_REPLY' as const), xid: u32, flags: u16, body });
