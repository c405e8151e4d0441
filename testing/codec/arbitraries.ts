/**
 * fast-check arbitraries producing canonical OpenFlow 1.3 objects (the form decode returns), for
 * round-trip properties: decode(encode(x)) deep-equals x. Reusable by other codec tests.
 */
import fc from 'fast-check';
import { formatIpv6 } from '../../openflow/codec/buffer.js';
import { OXM_FIELDS, type OxmFieldSpec } from '../../openflow/codec/oxm-fields.js';
import type {
  Action, Bucket, HelloElement, Instruction, Match, MeterBand, OfpMessage, OxmBasicField, OxmField, OxmId,
  OxmOtherField, OxmValue, PacketQueue, Port, QueueProperty,
} from '../../openflow/codec/types.js';

export const arbU8 = fc.integer({ min: 0, max: 0xff });
export const arbU16 = fc.integer({ min: 0, max: 0xffff });
export const arbU32 = fc.integer({ min: 0, max: 0xffffffff });
export const arbU64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });

/** A Buffer of minLength..maxLength bytes. */
export function arbBytes(maxLength = 24, minLength = 0): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength, maxLength }).map((a) => Buffer.from(a));
}

/** A Buffer whose length is a multiple of 8 (experimenter payloads). */
export const arbBytes8 = fc.integer({ min: 0, max: 3 }).chain((n) => arbBytes(8 * n, 8 * n));

export const arbMac = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
export const arbIpv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Array.from(b).join('.'));
/** IPv6 text, biased towards runs of zero groups so that '::' forms are exercised. */
export const arbIpv6 = fc
  .array(fc.oneof(fc.constant(0), arbU16), { minLength: 8, maxLength: 8 })
  .map((g) => {
    const b = Buffer.alloc(16);
    g.forEach((x, i) => b.writeUInt16BE(x, i * 2));
    return formatIpv6(b);
  });

function arbValue(spec: OxmFieldSpec): fc.Arbitrary<OxmValue> {
  switch (spec.kind) {
    case 'uint':
      return fc.integer({ min: 0, max: 2 ** spec.bits - 1 });
    case 'u64':
      return arbU64;
    case 'mac':
      return arbMac;
    case 'ipv4':
      return arbIpv4;
    case 'ipv6':
      return arbIpv6;
  }
}

/** A basic-class OXM of any of the 40 fields, with a mask only where the spec allows one. */
export const arbOxmBasic: fc.Arbitrary<OxmBasicField> = fc.constantFrom(...OXM_FIELDS).chain((spec) => {
  const value = arbValue(spec);
  if (!spec.maskable) return value.map((v): OxmBasicField => ({ field: spec.name, value: v }));
  return fc.tuple(value, fc.option(arbValue(spec), { nil: undefined })).map(
    ([v, m]): OxmBasicField => (m === undefined ? { field: spec.name, value: v } : { field: spec.name, value: v, mask: m }),
  );
});

/** An OXM of a non-basic class (NXM_0, NXM_1, an unknown class or experimenter 0xFFFF). */
export const arbOxmOther: fc.Arbitrary<OxmOtherField> = fc
  .record({
    oxmClass: fc.oneof(fc.constantFrom(0x0000, 0x0001, 0xffff), fc.integer({ min: 0x0002, max: 0x7fff })),
    fieldCode: fc.integer({ min: 0, max: 0x7f }),
    hasMask: fc.boolean(),
    experimenter: arbU32,
    payload: arbBytes(20),
  })
  .map(({ oxmClass, fieldCode, hasMask, experimenter, payload }): OxmOtherField =>
    oxmClass === 0xffff
      ? { field: 'other', oxmClass, fieldCode, hasMask, experimenter, payload }
      : { field: 'other', oxmClass, fieldCode, hasMask, payload },
  );

export const arbOxmField: fc.Arbitrary<OxmField> = fc.oneof({ weight: 4, arbitrary: arbOxmBasic }, { weight: 1, arbitrary: arbOxmOther });

/** A match: distinct basic fields and a few other-class OXMs, interleaved. */
export const arbMatch: fc.Arbitrary<Match> = fc
  .tuple(fc.uniqueArray(arbOxmBasic, { selector: (f) => f.field, maxLength: 8 }), fc.array(arbOxmOther, { maxLength: 2 }))
  .chain(([basic, other]) => {
    const all: OxmField[] = [...basic, ...other];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });

export const arbOxmId: fc.Arbitrary<OxmId> = fc
  .record({ oxmClass: arbU16, fieldCode: fc.integer({ min: 0, max: 0x7f }), hasMask: fc.boolean(), length: arbU8, experimenter: arbU32 })
  .map(({ experimenter, ...id }) => (id.oxmClass === 0xffff ? { ...id, experimenter } : id));

const simple = <T extends Action['type']>(type: T) => fc.constant({ type } as Extract<Action, { type: T }>);

export const arbAction: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ type: fc.constant('OFPAT_OUTPUT' as const), port: arbU32, maxLen: arbU16 }),
  simple('OFPAT_COPY_TTL_OUT'),
  simple('OFPAT_COPY_TTL_IN'),
  fc.record({ type: fc.constant('OFPAT_SET_MPLS_TTL' as const), mplsTtl: arbU8 }),
  simple('OFPAT_DEC_MPLS_TTL'),
  fc.record({ type: fc.constant('OFPAT_PUSH_VLAN' as const), ethertype: arbU16 }),
  simple('OFPAT_POP_VLAN'),
  fc.record({ type: fc.constant('OFPAT_PUSH_MPLS' as const), ethertype: arbU16 }),
  fc.record({ type: fc.constant('OFPAT_POP_MPLS' as const), ethertype: arbU16 }),
  fc.record({ type: fc.constant('OFPAT_SET_QUEUE' as const), queueId: arbU32 }),
  fc.record({ type: fc.constant('OFPAT_GROUP' as const), groupId: arbU32 }),
  fc.record({ type: fc.constant('OFPAT_SET_NW_TTL' as const), nwTtl: arbU8 }),
  simple('OFPAT_DEC_NW_TTL'),
  fc.record({ type: fc.constant('OFPAT_SET_FIELD' as const), field: arbOxmField }),
  fc.record({ type: fc.constant('OFPAT_PUSH_PBB' as const), ethertype: arbU16 }),
  simple('OFPAT_POP_PBB'),
  fc.record({ type: fc.constant('OFPAT_EXPERIMENTER' as const), experimenter: arbU32, data: arbBytes8 }),
);

export const arbActions = fc.array(arbAction, { maxLength: 5 });

export const arbInstruction: fc.Arbitrary<Instruction> = fc.oneof(
  fc.record({ type: fc.constant('OFPIT_GOTO_TABLE' as const), tableId: arbU8 }),
  fc.record({ type: fc.constant('OFPIT_WRITE_METADATA' as const), metadata: arbU64, metadataMask: arbU64 }),
  fc.record({ type: fc.constant('OFPIT_WRITE_ACTIONS' as const), actions: arbActions }),
  fc.record({ type: fc.constant('OFPIT_APPLY_ACTIONS' as const), actions: arbActions }),
  fc.constant({ type: 'OFPIT_CLEAR_ACTIONS' as const }),
  fc.record({ type: fc.constant('OFPIT_METER' as const), meterId: arbU32 }),
  fc.record({ type: fc.constant('OFPIT_EXPERIMENTER' as const), experimenter: arbU32, data: arbBytes8 }),
);

export const arbInstructions = fc.array(arbInstruction, { maxLength: 4 });

export const arbMeterBand: fc.Arbitrary<MeterBand> = fc.oneof(
  fc.record({ type: fc.constant('OFPMBT_DROP' as const), rate: arbU32, burstSize: arbU32 }),
  fc.record({ type: fc.constant('OFPMBT_DSCP_REMARK' as const), rate: arbU32, burstSize: arbU32, precLevel: arbU8 }),
  fc.record({ type: fc.constant('OFPMBT_EXPERIMENTER' as const), rate: arbU32, burstSize: arbU32, experimenter: arbU32, data: arbBytes8 }),
);

export const arbBucket: fc.Arbitrary<Bucket> = fc.record({ weight: arbU16, watchPort: arbU32, watchGroup: arbU32, actions: arbActions });

/** A port name: 0–15 latin1 characters without NUL. */
export const arbPortName = fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 15 });

export const arbPort: fc.Arbitrary<Port> = fc.record({
  portNo: arbU32, hwAddr: arbMac, name: arbPortName, config: arbU32, state: arbU32, curr: arbU32, advertised: arbU32,
  supported: arbU32, peer: arbU32, currSpeed: arbU32, maxSpeed: arbU32,
});

export const arbQueueProperty: fc.Arbitrary<QueueProperty> = fc.oneof(
  fc.record({ type: fc.constant('OFPQT_MIN_RATE' as const), rate: arbU16 }),
  fc.record({ type: fc.constant('OFPQT_MAX_RATE' as const), rate: arbU16 }),
  fc.record({ type: fc.constant('OFPQT_EXPERIMENTER' as const), experimenter: arbU32, data: arbBytes8 }),
);

export const arbPacketQueue: fc.Arbitrary<PacketQueue> = fc.record({
  queueId: arbU32, port: arbU32, properties: fc.array(arbQueueProperty, { maxLength: 3 }),
});

export const arbHelloElement: fc.Arbitrary<HelloElement> = fc.oneof(
  fc.record({ type: fc.constant('OFPHET_VERSIONBITMAP' as const), bitmaps: fc.array(arbU32, { maxLength: 3 }) }),
  fc.record({
    type: fc.constant('unknown' as const),
    elementType: arbU16.filter((t) => t !== 1),
    data: arbBytes(12),
  }),
);

const xid = arbU32;
const msg = <T extends OfpMessage['type']>(type: T) => fc.constant(type);
const masks = fc.tuple(arbU32, arbU32);

/** Every message type this codec owns except the multipart ones (and `unknown` types 30..255). */
export const arbMessage: fc.Arbitrary<OfpMessage> = fc.oneof(
  fc.record({ type: msg('OFPT_HELLO'), xid, version: arbU8, elements: fc.array(arbHelloElement, { maxLength: 3 }) }),
  fc.record({ type: msg('OFPT_ERROR'), xid, errType: fc.integer({ min: 0, max: 0xfffe }), code: arbU16, data: arbBytes(64) }),
  fc.record({ type: msg('OFPT_ERROR'), xid, errType: fc.constant(0xffff), code: arbU16, experimenter: arbU32, data: arbBytes(64) }),
  fc.record({ type: msg('OFPT_ECHO_REQUEST'), xid, data: arbBytes(32) }),
  fc.record({ type: msg('OFPT_ECHO_REPLY'), xid, data: arbBytes(32) }),
  fc.record({ type: msg('OFPT_EXPERIMENTER'), xid, experimenter: arbU32, expType: arbU32, data: arbBytes(32) }),
  fc.record({ type: msg('OFPT_FEATURES_REQUEST'), xid }),
  fc.record({
    type: msg('OFPT_FEATURES_REPLY'), xid, datapathId: arbU64, nBuffers: arbU32, nTables: arbU8, auxiliaryId: arbU8,
    capabilities: arbU32, reserved: arbU32,
  }),
  fc.record({ type: msg('OFPT_GET_CONFIG_REQUEST'), xid }),
  fc.record({ type: msg('OFPT_GET_CONFIG_REPLY'), xid, flags: arbU16, missSendLen: arbU16 }),
  fc.record({ type: msg('OFPT_SET_CONFIG'), xid, flags: arbU16, missSendLen: arbU16 }),
  fc.record({
    type: msg('OFPT_PACKET_IN'), xid, bufferId: arbU32, totalLen: arbU16, reason: arbU8, tableId: arbU8, cookie: arbU64,
    match: arbMatch, data: arbBytes(64),
  }),
  fc.record({
    type: msg('OFPT_FLOW_REMOVED'), xid, cookie: arbU64, priority: arbU16, reason: arbU8, tableId: arbU8, durationSec: arbU32,
    durationNsec: arbU32, idleTimeout: arbU16, hardTimeout: arbU16, packetCount: arbU64, byteCount: arbU64, match: arbMatch,
  }),
  fc.record({ type: msg('OFPT_PORT_STATUS'), xid, reason: arbU8, desc: arbPort }),
  fc.record({ type: msg('OFPT_PACKET_OUT'), xid, bufferId: arbU32, inPort: arbU32, actions: arbActions, data: arbBytes(64) }),
  fc.record({
    type: msg('OFPT_FLOW_MOD'), xid, cookie: arbU64, cookieMask: arbU64, tableId: arbU8, command: arbU8, idleTimeout: arbU16,
    hardTimeout: arbU16, priority: arbU16, bufferId: arbU32, outPort: arbU32, outGroup: arbU32, flags: arbU16,
    match: arbMatch, instructions: arbInstructions,
  }),
  fc.record({
    type: msg('OFPT_GROUP_MOD'), xid, command: arbU16, groupType: arbU8, groupId: arbU32,
    buckets: fc.array(arbBucket, { maxLength: 3 }),
  }),
  fc.record({ type: msg('OFPT_PORT_MOD'), xid, portNo: arbU32, hwAddr: arbMac, config: arbU32, mask: arbU32, advertise: arbU32 }),
  fc.record({ type: msg('OFPT_TABLE_MOD'), xid, tableId: arbU8, config: arbU32 }),
  fc.record({ type: msg('OFPT_BARRIER_REQUEST'), xid }),
  fc.record({ type: msg('OFPT_BARRIER_REPLY'), xid }),
  fc.record({ type: msg('OFPT_QUEUE_GET_CONFIG_REQUEST'), xid, port: arbU32 }),
  fc.record({ type: msg('OFPT_QUEUE_GET_CONFIG_REPLY'), xid, port: arbU32, queues: fc.array(arbPacketQueue, { maxLength: 3 }) }),
  fc.record({ type: msg('OFPT_ROLE_REQUEST'), xid, role: arbU32, generationId: arbU64 }),
  fc.record({ type: msg('OFPT_ROLE_REPLY'), xid, role: arbU32, generationId: arbU64 }),
  fc.record({ type: msg('OFPT_GET_ASYNC_REQUEST'), xid }),
  fc.record({ type: msg('OFPT_GET_ASYNC_REPLY'), xid, packetInMask: masks, portStatusMask: masks, flowRemovedMask: masks }),
  fc.record({ type: msg('OFPT_SET_ASYNC'), xid, packetInMask: masks, portStatusMask: masks, flowRemovedMask: masks }),
  fc.record({
    type: msg('OFPT_METER_MOD'), xid, command: arbU16, flags: arbU16, meterId: arbU32, bands: fc.array(arbMeterBand, { maxLength: 3 }),
  }),
  fc.record({ type: msg('unknown'), xid, version: fc.constant(4), typeCode: fc.integer({ min: 30, max: 255 }), body: arbBytes(32) }),
) as fc.Arbitrary<OfpMessage>;
