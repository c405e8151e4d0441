/**
 * Malformed input → the right typed error code; random and mutated bytes never throw.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, OfpDecoderBugError } from '../../../openflow/codec/messages.js';
import { FrameDecoder } from '../../../openflow/codec/framing.js';
import { DECODE_ERRORS, OfpDecodeError, OfpEncodeError, type DecodeErrorCode } from '../../../openflow/codec/errors.js';
import {
  ACTION_TYPE_CODES, actionTypeName, errorCodeOf, errorNames, INSTRUCTION_TYPE_CODES, instructionTypeName, MESSAGE_TYPE_CODES,
  messageTypeName, METER_BAND_TYPE_CODES, meterBandTypeName,
} from '../../../openflow/codec/names.js';
import { OFPT } from '../../../openflow/codec/constants.js';
import type { OfpMessage } from '../../../openflow/codec/types.js';
import { arbMessage } from '../../../testing/codec/arbitraries.js';
import { frame, hex } from './hex.js';

function expectError(buf: Buffer, code: DecodeErrorCode): OfpDecodeError {
  const res = decodeMessage(buf);
  if (res.ok) expect.fail(`decoded ${JSON.stringify(res.value, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}, expected ${code}`);
  expect(res.error).to.be.instanceOf(OfpDecodeError);
  expect(res.error).not.to.be.instanceOf(OfpDecoderBugError);
  expect(res.error.code, res.error.message).to.equal(code);
  return res.error;
}

function expectOk(buf: Buffer): OfpMessage {
  const res = decodeMessage(buf);
  if (!res.ok) throw res.error;
  return res.value;
}

/** FLOW_MOD fixed part (§7.3.4.1), 40 bytes: cookie, cookie_mask, table, command, timeouts, priority, buffer, out_port, out_group, flags, pad. */
const FM_HEAD = '0000000000000000 0000000000000000 00 00 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000';
const EMPTY_MATCH = '0001 0004 00000000';
const flowMod = (match: string, instructions = ''): Buffer => frame(OFPT.FLOW_MOD, `${FM_HEAD} ${match} ${instructions}`);
/** PACKET_OUT with the given actions_len and action bytes, no data. */
const packetOut = (actionsLen: number, actions: string): Buffer =>
  frame(OFPT.PACKET_OUT, `ffffffff fffffffd ${actionsLen.toString(16).padStart(4, '0')} 000000000000 ${actions}`);

describe('codec errors', () => {
  describe('frame header', () => {
    it('fewer than 8 bytes → OFP_ERR_BAD_LEN', () => {
      for (let n = 0; n < 8; n++) expectError(Buffer.alloc(n, 4), 'OFP_ERR_BAD_LEN');
    });
    it('header length < 8 → OFP_ERR_BAD_LEN', () => expectError(hex('04 14 0004 00000001'), 'OFP_ERR_BAD_LEN'));
    it('header length longer than the frame → OFP_ERR_BAD_LEN', () => expectError(hex('04 14 0010 00000001'), 'OFP_ERR_BAD_LEN'));
    it('header length shorter than the frame → OFP_ERR_BAD_LEN', () =>
      expectError(hex('04 14 0008 00000001 00000000'), 'OFP_ERR_BAD_LEN'));
    it('version ≠ 4 → OFP_ERR_BAD_VERSION (except HELLO)', () => {
      expectError(frame(OFPT.ECHO_REQUEST, '', 1, 3), 'OFP_ERR_BAD_VERSION');
      expectError(frame(OFPT.FEATURES_REQUEST, '', 1, 1), 'OFP_ERR_BAD_VERSION');
      expectError(frame(30, '', 1, 5), 'OFP_ERR_BAD_VERSION');
      expect(expectOk(frame(OFPT.HELLO, '', 7, 1))).to.deep.equal({ type: 'OFPT_HELLO', xid: 7, version: 1, elements: [] });
    });
    it('unknown type → an `unknown` value, not an error', () => {
      expect(expectOk(frame(30, 'aabb', 9))).to.deep.equal({ type: 'unknown', xid: 9, version: 4, typeCode: 30, body: hex('aabb') });
    });
    it('trailing bytes after a fixed body → OFP_ERR_BAD_LEN', () => {
      expectError(frame(OFPT.BARRIER_REQUEST, '00'), 'OFP_ERR_BAD_LEN');
      expectError(frame(OFPT.FEATURES_REPLY, '0000000000000001 00000100 fe 00 0000 0000004f 00000000 0000000000000000'), 'OFP_ERR_BAD_LEN');
      expectError(frame(OFPT.ROLE_REQUEST, '00000002 00000000 0000000000000001 00'), 'OFP_ERR_BAD_LEN');
    });
    it('truncated fixed body → OFP_ERR_BAD_LEN', () => {
      expectError(frame(OFPT.FEATURES_REPLY, '0000000000000001 00000100 fe 00 0000 0000004f'), 'OFP_ERR_BAD_LEN');
      expectError(frame(OFPT.ERROR, 'ffff 0001 0000'), 'OFP_ERR_BAD_LEN');
      expectError(frame(OFPT.PORT_STATUS, '00 00000000000000 00000001'), 'OFP_ERR_BAD_LEN');
    });
  });

  describe('match (§7.2.3)', () => {
    it('type OFPMT_STANDARD → OFP_ERR_BAD_MATCH_TYPE', () => expectError(flowMod('0000 0004 00000000'), 'OFP_ERR_BAD_MATCH_TYPE'));
    it('length < 4 → OFP_ERR_BAD_MATCH_LEN', () => expectError(flowMod('0001 0002 00000000'), 'OFP_ERR_BAD_MATCH_LEN'));
    it('length past the message → OFP_ERR_BAD_MATCH_LEN', () => expectError(flowMod('0001 0040 00000000'), 'OFP_ERR_BAD_MATCH_LEN'));
    it('OXM overflowing the match → OFP_ERR_BAD_MATCH_LEN', () =>
      expectError(flowMod('0001 000c 80000008 00000001 00000000'), 'OFP_ERR_BAD_MATCH_LEN'));
    it('OXM header cut by the match length → OFP_ERR_BAD_MATCH_LEN', () =>
      expectError(flowMod('0001 0006 8000 0000'), 'OFP_ERR_BAD_MATCH_LEN'));
    it('basic field code 40 → OFP_ERR_BAD_FIELD', () =>
      expectError(flowMod('0001 000c 80005004 00000001 00000000'), 'OFP_ERR_BAD_FIELD'));
    it('in_port of length 2 → OFP_ERR_BAD_FIELD', () =>
      expectError(flowMod('0001 000a 80000002 0001 000000000000'), 'OFP_ERR_BAD_FIELD'));
    it('masked ipv4_src of length 4 → OFP_ERR_BAD_FIELD', () =>
      expectError(flowMod('0001 000c 80001704 0a000001 00000000'), 'OFP_ERR_BAD_FIELD'));
    it('a basic field twice → OFP_ERR_DUP_FIELD', () =>
      expectError(flowMod('0001 0014 80000004 00000001 80000004 00000002 00000000'), 'OFP_ERR_DUP_FIELD'));
    it('a mask on a non-maskable field decodes (lenient, as switches send them)', () => {
      const m = expectOk(flowMod('0001 000c 80000b04 0800 ffff 00000000')) as { match: unknown };
      expect(m.match).to.deep.equal([{ field: 'eth_type', value: 0x0800, mask: 0xffff }]);
    });
    it('experimenter OXM shorter than its id → OFP_ERR_BAD_MATCH_LEN', () =>
      expectError(flowMod('0001 000a ffff0002 0000 000000000000'), 'OFP_ERR_BAD_MATCH_LEN'));
  });

  describe('actions (§7.2.5)', () => {
    it('length not a multiple of 8 → OFP_ERR_BAD_ACTION_LEN', () =>
      expectError(packetOut(12, '0000 000c 00000001 ffff0000'), 'OFP_ERR_BAD_ACTION_LEN'));
    it('length 0 (must not spin) → OFP_ERR_BAD_ACTION_LEN', () => expectError(packetOut(8, '0000 0000 00000000'), 'OFP_ERR_BAD_ACTION_LEN'));
    it('output of length 8 → OFP_ERR_BAD_ACTION_LEN', () => expectError(packetOut(8, '0000 0008 00000001'), 'OFP_ERR_BAD_ACTION_LEN'));
    it('action past actions_len → OFP_ERR_BAD_ACTION_LEN', () =>
      expectError(packetOut(8, '0000 0010 00000001 ffff 000000000000'), 'OFP_ERR_BAD_ACTION_LEN'));
    it('unknown action type → OFP_ERR_BAD_ACTION_TYPE', () => expectError(packetOut(8, '0001 0008 00000000'), 'OFP_ERR_BAD_ACTION_TYPE'));
    it('set_field with more padding than needed → OFP_ERR_BAD_ACTION_LEN', () =>
      expectError(packetOut(24, '0019 0018 80000004 00000001 00000000 0000000000000000'), 'OFP_ERR_BAD_ACTION_LEN'));
    it('set_field with non-zero padding → OFP_ERR_BAD_PADDING', () =>
      expectError(packetOut(16, '0019 0010 80000004 00000001 00000001'), 'OFP_ERR_BAD_PADDING'));
    it('output with non-zero padding → OFP_ERR_BAD_PADDING', () =>
      expectError(packetOut(16, '0000 0010 00000001 ffff 000000000001'), 'OFP_ERR_BAD_PADDING'));
    it('actions_len past the message → OFP_ERR_BAD_LEN', () => expectError(packetOut(16, '0012 0008 00000000'), 'OFP_ERR_BAD_LEN'));
  });

  describe('instructions (§7.2.4)', () => {
    it('unknown type → OFP_ERR_BAD_INSTRUCTION_TYPE', () =>
      expectError(flowMod(EMPTY_MATCH, '0007 0008 00000000'), 'OFP_ERR_BAD_INSTRUCTION_TYPE'));
    it('goto_table of length 16 → OFP_ERR_BAD_INSTRUCTION_LEN', () =>
      expectError(flowMod(EMPTY_MATCH, '0001 0010 01 000000 0000000000000000'), 'OFP_ERR_BAD_INSTRUCTION_LEN'));
    it('length 0 (must not spin) → OFP_ERR_BAD_INSTRUCTION_LEN', () =>
      expectError(flowMod(EMPTY_MATCH, '0004 0000 00000000'), 'OFP_ERR_BAD_INSTRUCTION_LEN'));
    it('length past the message → OFP_ERR_BAD_INSTRUCTION_LEN', () =>
      expectError(flowMod(EMPTY_MATCH, '0004 0020 00000000 0000 0010 00000001 ffff 000000000000'), 'OFP_ERR_BAD_INSTRUCTION_LEN'));
    it('a bad action inside apply-actions → OFP_ERR_BAD_ACTION_TYPE', () =>
      expectError(flowMod(EMPTY_MATCH, '0004 0010 00000000 0001 0008 00000000'), 'OFP_ERR_BAD_ACTION_TYPE'));
    it('non-zero padding in goto_table → OFP_ERR_BAD_PADDING', () =>
      expectError(flowMod(EMPTY_MATCH, '0001 0008 01 000100'), 'OFP_ERR_BAD_PADDING'));
  });

  describe('meter bands, buckets, queues, hello', () => {
    const meterMod = (bands: string): Buffer => frame(OFPT.METER_MOD, `0000 0001 00000001 ${bands}`);
    const groupMod = (buckets: string): Buffer => frame(OFPT.GROUP_MOD, `0000 00 00 00000001 ${buckets}`);
    it('unknown band type → OFP_ERR_BAD_BAND', () => expectError(meterMod('0003 0010 00000001 00000001 00000000'), 'OFP_ERR_BAD_BAND'));
    it('drop band of length 8 → OFP_ERR_BAD_BAND', () => expectError(meterMod('0001 0008 00000001'), 'OFP_ERR_BAD_BAND'));
    it('band past the message → OFP_ERR_BAD_BAND', () => expectError(meterMod('0001 0010 00000001 00000001'), 'OFP_ERR_BAD_BAND'));
    it('bucket of length 8 → OFP_ERR_BAD_BUCKET', () => expectError(groupMod('0008 0000 00000000'), 'OFP_ERR_BAD_BUCKET'));
    it('bucket of length 0 (must not spin) → OFP_ERR_BAD_BUCKET', () =>
      expectError(groupMod('0000 0000 00000000 00000000 00000000'), 'OFP_ERR_BAD_BUCKET'));
    it('bucket past the message → OFP_ERR_BAD_BUCKET', () =>
      expectError(groupMod('0020 0000 00000000 00000000 00000000'), 'OFP_ERR_BAD_BUCKET'));
    it('queue property of unknown type → OFP_ERR_BAD_QUEUE_PROP', () =>
      expectError(
        frame(OFPT.QUEUE_GET_CONFIG_REPLY, '00000001 00000000 00000001 00000001 0020 000000000000 0003 0010 00000000 0000 000000000000'),
        'OFP_ERR_BAD_QUEUE_PROP',
      ));
    it('packet queue of length 8 → OFP_ERR_BAD_QUEUE_PROP', () =>
      expectError(frame(OFPT.QUEUE_GET_CONFIG_REPLY, '00000001 00000000 00000001 00000001 0008 000000000000'), 'OFP_ERR_BAD_QUEUE_PROP'));
    it('hello element of length 2 → OFP_ERR_HELLO_INCOMPATIBLE', () =>
      expectError(frame(OFPT.HELLO, '0001 0002 00000000'), 'OFP_ERR_HELLO_INCOMPATIBLE'));
    it('version bitmap of length 6 → OFP_ERR_HELLO_INCOMPATIBLE', () =>
      expectError(frame(OFPT.HELLO, '0001 0006 0000 0000'), 'OFP_ERR_HELLO_INCOMPATIBLE'));
    it('hello element past the message → OFP_ERR_HELLO_INCOMPATIBLE', () =>
      expectError(frame(OFPT.HELLO, '0001 0010 00000010'), 'OFP_ERR_HELLO_INCOMPATIBLE'));
    it('non-zero hello element padding → OFP_ERR_BAD_PADDING', () =>
      expectError(frame(OFPT.HELLO, '0001 000c 00000010 00000000 00000001'), 'OFP_ERR_BAD_PADDING'));
  });

  describe('non-zero where the spec requires zero → OFP_ERR_BAD_PADDING', () => {
    it('features reply pad', () =>
      expectError(frame(OFPT.FEATURES_REPLY, '0000000000000001 00000100 fe 00 0001 0000004f 00000000'), 'OFP_ERR_BAD_PADDING'));
    it('role request pad', () => expectError(frame(OFPT.ROLE_REQUEST, '00000002 00000001 0000000000000001'), 'OFP_ERR_BAD_PADDING'));
    it('flow-mod pad after flags', () =>
      expectError(frame(OFPT.FLOW_MOD, `${FM_HEAD.slice(0, -4)} 0100 ${EMPTY_MATCH}`), 'OFP_ERR_BAD_PADDING'));
    it('port-status pad', () => expectError(frame(OFPT.PORT_STATUS, `00 00000000000001 ${'00'.repeat(64)}`), 'OFP_ERR_BAD_PADDING'));
    it('packet-in pad after the match', () =>
      expectError(frame(OFPT.PACKET_IN, `ffffffff 0000 00 00 0000000000000000 ${EMPTY_MATCH} 0001`), 'OFP_ERR_BAD_PADDING'));
  });

  describe('truncation at every length', () => {
    const LEN_CODES: readonly DecodeErrorCode[] = [
      'OFP_ERR_BAD_LEN', 'OFP_ERR_BAD_MATCH_LEN', 'OFP_ERR_BAD_ACTION_LEN', 'OFP_ERR_BAD_INSTRUCTION_LEN', 'OFP_ERR_BAD_BAND',
      'OFP_ERR_BAD_BUCKET', 'OFP_ERR_BAD_QUEUE_PROP', 'OFP_ERR_HELLO_INCOMPATIBLE',
    ];
    it('a cut frame (header length unchanged) is always OFP_ERR_BAD_LEN', () => {
      fc.assert(
        fc.property(arbMessage, (m) => {
          const full = encodeMessage(m);
          for (let n = 0; n < full.length; n++) expectError(full.subarray(0, n), 'OFP_ERR_BAD_LEN');
        }),
        { numRuns: 100 },
      );
    });
    it('a cut body with a consistent header is a length error, or a valid shorter message that re-encodes exactly', () => {
      fc.assert(
        fc.property(arbMessage, (m) => {
          const full = encodeMessage(m);
          for (let n = 8; n < full.length; n++) {
            const cut = Buffer.from(full.subarray(0, n));
            cut.writeUInt16BE(n, 2);
            const res = decodeMessage(cut);
            if (res.ok) {
              expect(encodeMessage(res.value).equals(cut), `valid prefix of ${m.type} at ${n} must re-encode`).to.equal(true);
            } else {
              expect(res.error).not.to.be.instanceOf(OfpDecoderBugError);
              expect(LEN_CODES, `${m.type} cut at ${n}: ${res.error.message}`).to.include(res.error.code);
            }
          }
        }),
        { numRuns: 300 },
      );
    });
    it('fixed-size messages fail at every shorter length', () => {
      const fixed: OfpMessage[] = [
        { type: 'OFPT_FEATURES_REPLY', xid: 1, datapathId: 1n, nBuffers: 0, nTables: 1, auxiliaryId: 0, capabilities: 0, reserved: 0 },
        { type: 'OFPT_SET_CONFIG', xid: 1, flags: 0, missSendLen: 128 },
        { type: 'OFPT_ROLE_REQUEST', xid: 1, role: 2, generationId: 5n },
        { type: 'OFPT_SET_ASYNC', xid: 1, packetInMask: [1, 0], portStatusMask: [7, 7], flowRemovedMask: [15, 0] },
        { type: 'OFPT_TABLE_MOD', xid: 1, tableId: 0, config: 3 },
        { type: 'OFPT_PORT_MOD', xid: 1, portNo: 1, hwAddr: '00:00:00:00:00:01', config: 0, mask: 0, advertise: 0 },
        { type: 'OFPT_QUEUE_GET_CONFIG_REQUEST', xid: 1, port: 1 },
      ];
      for (const m of fixed) {
        const full = encodeMessage(m);
        for (let n = 8; n < full.length; n++) {
          const cut = Buffer.from(full.subarray(0, n));
          cut.writeUInt16BE(n, 2);
          expectError(cut, 'OFP_ERR_BAD_LEN');
        }
      }
    });
  });

  describe('FrameDecoder limits', () => {
    it('header length < 8 → OFP_ERR_BAD_LEN, and the stream stays failed', () => {
      const fd = new FrameDecoder();
      fd.push(hex('04 00 0007 00000001'));
      const e = fd.next();
      expect(e).to.be.instanceOf(OfpDecodeError);
      expect((e as OfpDecodeError).code).to.equal('OFP_ERR_BAD_LEN');
      fd.push(frame(OFPT.HELLO, ''));
      expect(fd.next()).to.equal(e);
      expect(fd.next()).to.equal(e);
    });
    it('a header split after its length field is enough to detect a bad length', () => {
      const fd = new FrameDecoder();
      fd.push(hex('04 00'));
      expect(fd.next()).to.equal(undefined);
      fd.push(hex('00'));
      expect(fd.next()).to.equal(undefined);
      fd.push(hex('02'));
      expect((fd.next() as OfpDecodeError).code).to.equal('OFP_ERR_BAD_LEN');
    });
    it('a frame above maxFrameBytes → OFP_ERR_FRAME_TOO_LONG', () => {
      const fd = new FrameDecoder({ maxFrameBytes: 64 });
      fd.push(hex('04 13 0041'));
      expect((fd.next() as OfpDecodeError).code).to.equal('OFP_ERR_FRAME_TOO_LONG');
    });
  });

  describe('encode rejects invalid objects with OfpEncodeError', () => {
    const fm = (over: Record<string, unknown>): OfpMessage =>
      ({
        type: 'OFPT_FLOW_MOD', xid: 1, cookie: 0n, cookieMask: 0n, tableId: 0, command: 0, idleTimeout: 0, hardTimeout: 0,
        priority: 1, bufferId: 0xffffffff, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 0, match: [], instructions: [],
        ...over,
      }) as OfpMessage;
    const bad: [string, OfpMessage][] = [
      ['mask on in_port', fm({ match: [{ field: 'in_port', value: 1, mask: 1 }] })],
      ['vlan_vid above 13 bits', fm({ match: [{ field: 'vlan_vid', value: 0x2000 }] })],
      ['string value for a number field', fm({ match: [{ field: 'tcp_dst', value: '80' }] })],
      ['bad MAC', fm({ match: [{ field: 'eth_dst', value: '00:11:22' }] })],
      ['duplicate field', fm({ match: [{ field: 'ip_proto', value: 6 }, { field: 'ip_proto', value: 17 }] })],
      ['unknown field name', fm({ match: [{ field: 'nope', value: 1 }] })],
      ['basic class as other', fm({ match: [{ field: 'other', oxmClass: 0x8000, fieldCode: 0, hasMask: false, payload: Buffer.alloc(4) }] })],
      ['priority out of range', fm({ priority: 0x10000 })],
      ['negative xid', fm({ xid: -1 })],
      ['cookie not a bigint', fm({ cookie: 1 })],
      ['experimenter action data of 5 bytes', fm({
        instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_EXPERIMENTER', experimenter: 1, data: Buffer.alloc(5) }] }],
      })],
      ['unknown instruction', fm({ instructions: [{ type: 'OFPIT_NOPE' }] })],
      ['error experimenter without id', { type: 'OFPT_ERROR', xid: 1, errType: 0xffff, code: 1, data: Buffer.alloc(0) }],
      ['error with id on a standard type', { type: 'OFPT_ERROR', xid: 1, errType: 1, code: 1, experimenter: 5, data: Buffer.alloc(0) }],
      ['unknown message with a known type code', { type: 'unknown', xid: 1, version: 4, typeCode: 14, body: Buffer.alloc(0) }],
      ['frame above 65535 bytes', { type: 'OFPT_ECHO_REQUEST', xid: 1, data: Buffer.alloc(70000) }],
      ['echo data not a buffer', { type: 'OFPT_ECHO_REQUEST', xid: 1, data: undefined as unknown as Buffer }],
      ['port name of 16 bytes', {
        type: 'OFPT_PORT_STATUS', xid: 1, reason: 0,
        desc: { portNo: 1, hwAddr: '00:00:00:00:00:01', name: 'x'.repeat(16), config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 },
      }],
    ];
    for (const [what, m] of bad) it(what, () => expect(() => encodeMessage(m)).to.throw(OfpEncodeError));
  });

  describe('fuzz: decodeMessage never throws', () => {
    const check = (buf: Buffer): void => {
      const res = decodeMessage(buf);
      if (!res.ok) {
        expect(res.error).to.be.instanceOf(OfpDecodeError);
        if (res.error instanceof OfpDecoderBugError) throw res.error.original;
      }
    };
    it('random bytes', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => check(Buffer.from(b))), { numRuns: 5000 });
    });
    it('random bodies behind a valid header, biased to real types', () => {
      const arbType = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 29 }) }, { weight: 1, arbitrary: fc.integer({ min: 30, max: 255 }) });
      fc.assert(
        fc.property(arbType, fc.uint8Array({ maxLength: 300 }), fc.constantFrom(4, 4, 4, 1, 5), (type, body, version) => {
          check(frame(type, Buffer.from(body).toString('hex'), 1, version));
        }),
        { numRuns: 10000 },
      );
    });
    it('valid messages with random bytes flipped (header length kept)', () => {
      fc.assert(
        fc.property(arbMessage, fc.array(fc.tuple(fc.nat(), arbByte), { minLength: 1, maxLength: 4 }), (m, flips) => {
          const buf = encodeMessage(m);
          for (const [pos, v] of flips) {
            const at = 4 + (pos % Math.max(1, buf.length - 4));
            if (at < buf.length) buf[at] = v;
          }
          check(buf);
        }),
        { numRuns: 5000 },
      );
    });
  });
});

const arbByte = fc.integer({ min: 0, max: 255 });

describe('codec names', () => {
  it('errorNames names every decode error code as the spec does', () => {
    const expected: Record<DecodeErrorCode, [string, string]> = {
      OFP_ERR_BAD_LEN: ['OFPET_BAD_REQUEST', 'OFPBRC_BAD_LEN'],
      OFP_ERR_BAD_VERSION: ['OFPET_BAD_REQUEST', 'OFPBRC_BAD_VERSION'],
      OFP_ERR_BAD_TYPE: ['OFPET_BAD_REQUEST', 'OFPBRC_BAD_TYPE'],
      OFP_ERR_BAD_MULTIPART: ['OFPET_BAD_REQUEST', 'OFPBRC_BAD_MULTIPART'],
      OFP_ERR_HELLO_INCOMPATIBLE: ['OFPET_HELLO_FAILED', 'OFPHFC_INCOMPATIBLE'],
      OFP_ERR_BAD_MATCH_TYPE: ['OFPET_BAD_MATCH', 'OFPBMC_BAD_TYPE'],
      OFP_ERR_BAD_MATCH_LEN: ['OFPET_BAD_MATCH', 'OFPBMC_BAD_LEN'],
      OFP_ERR_BAD_FIELD: ['OFPET_BAD_MATCH', 'OFPBMC_BAD_FIELD'],
      OFP_ERR_DUP_FIELD: ['OFPET_BAD_MATCH', 'OFPBMC_DUP_FIELD'],
      OFP_ERR_BAD_ACTION_TYPE: ['OFPET_BAD_ACTION', 'OFPBAC_BAD_TYPE'],
      OFP_ERR_BAD_ACTION_LEN: ['OFPET_BAD_ACTION', 'OFPBAC_BAD_LEN'],
      OFP_ERR_BAD_INSTRUCTION_TYPE: ['OFPET_BAD_INSTRUCTION', 'OFPBIC_UNKNOWN_INST'],
      OFP_ERR_BAD_INSTRUCTION_LEN: ['OFPET_BAD_INSTRUCTION', 'OFPBIC_BAD_LEN'],
      OFP_ERR_BAD_BAND: ['OFPET_METER_MOD_FAILED', 'OFPMMFC_BAD_BAND'],
      OFP_ERR_BAD_BUCKET: ['OFPET_GROUP_MOD_FAILED', 'OFPGMFC_BAD_BUCKET'],
      OFP_ERR_BAD_TABLE_FEATURE: ['OFPET_TABLE_FEATURES_FAILED', 'OFPTFFC_BAD_ARGUMENT'],
      OFP_ERR_FRAME_TOO_LONG: ['OFPET_BAD_REQUEST', 'OFPBRC_BAD_LEN'],
      OFP_ERR_BAD_QUEUE_PROP: ['OFPET_QUEUE_OP_FAILED', 'OFPQOFC_BAD_QUEUE'],
      OFP_ERR_BAD_PADDING: ['OFPET_BAD_REQUEST', 'OFPBRC_BAD_LEN'],
    };
    for (const [code, { errType, errCode }] of Object.entries(DECODE_ERRORS)) {
      const names = errorNames(errType, errCode);
      expect([names.type, names.code], code).to.deep.equal(expected[code as DecodeErrorCode]);
    }
  });
  it('errorNames: last codes of each type, experimenter and unknown values', () => {
    expect(errorNames(1, 13)).to.deep.equal({ type: 'OFPET_BAD_REQUEST', code: 'OFPBRC_MULTIPART_BUFFER_OVERFLOW' });
    expect(errorNames(2, 15)).to.deep.equal({ type: 'OFPET_BAD_ACTION', code: 'OFPBAC_BAD_SET_ARGUMENT' });
    expect(errorNames(6, 14)).to.deep.equal({ type: 'OFPET_GROUP_MOD_FAILED', code: 'OFPGMFC_EPERM' });
    expect(errorNames(11, 2)).to.deep.equal({ type: 'OFPET_ROLE_REQUEST_FAILED', code: 'OFPRRFC_BAD_ROLE' });
    expect(errorNames(12, 11)).to.deep.equal({ type: 'OFPET_METER_MOD_FAILED', code: 'OFPMMFC_OUT_OF_BANDS' });
    expect(errorNames(13, 5)).to.deep.equal({ type: 'OFPET_TABLE_FEATURES_FAILED', code: 'OFPTFFC_EPERM' });
    expect(errorNames(0xffff, 5)).to.deep.equal({ type: 'OFPET_EXPERIMENTER', code: '5' });
    expect(errorNames(4, 99)).to.deep.equal({ type: 'OFPET_BAD_MATCH', code: '99' });
    expect(errorNames(99, 1)).to.deep.equal({ type: '99', code: '1' });
    expect(errorCodeOf('OFPBMC_DUP_FIELD')).to.deep.equal({ errType: 4, code: 10 });
    expect(errorCodeOf('OFPNOPE')).to.equal(undefined);
  });
  it('type name maps are inverse of each other', () => {
    for (const [name, code] of Object.entries(MESSAGE_TYPE_CODES)) expect(messageTypeName(code)).to.equal(name);
    for (const [name, code] of Object.entries(ACTION_TYPE_CODES)) expect(actionTypeName(code)).to.equal(name);
    for (const [name, code] of Object.entries(INSTRUCTION_TYPE_CODES)) expect(instructionTypeName(code)).to.equal(name);
    for (const [name, code] of Object.entries(METER_BAND_TYPE_CODES)) expect(meterBandTypeName(code)).to.equal(name);
    expect(Object.keys(MESSAGE_TYPE_CODES)).to.have.length(30);
    expect(messageTypeName(30)).to.equal(undefined);
  });
});
