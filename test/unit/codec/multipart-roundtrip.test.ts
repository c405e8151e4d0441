/**
 * Property tests of the multipart codec (OpenFlow 1.3.5 §7.3.5): encode∘decode identity for every request
 * and reply body, split + reassembly identity, and truncation at every byte → typed error, never a throw.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { OfReader, OfWriter } from '../../../openflow/codec/buffer.js';
import { OfpDecodeError } from '../../../openflow/codec/errors.js';
import { OfpDecoderBugError, decodeMessage, encodeMessage } from '../../../openflow/codec/messages.js';
import {
  MultipartReassembler, decodeMultipartReply, decodeMultipartRequest, encodeMultipartReply, encodeMultipartRequest,
  mergeMultipartReplies, splitMultipartReply,
} from '../../../openflow/codec/multipart.js';
import type { MessageOf, OfpMessage } from '../../../openflow/codec/types.js';
import { arbArrayReplyBody, arbReply, arbReplyBody, arbRequest, bytes, u32 } from '../../../testing/codec/multipart-arbitraries.js';

type Reply = MessageOf<'OFPT_MULTIPART_REPLY'>;

function roundTrip(msg: OfpMessage): OfpMessage {
  const res = decodeMessage(encodeMessage(msg));
  if (!res.ok) throw res.error;
  return res.value;
}

describe('codec/multipart round trips (encode∘decode = id)', () => {
  it('every request body through encodeMessage/decodeMessage', () => {
    fc.assert(fc.property(arbRequest, (m) => void expect(roundTrip(m)).to.deep.equal(m)), { numRuns: 400 });
  });

  it('every reply body through encodeMessage/decodeMessage', () => {
    fc.assert(fc.property(arbReply(), (m) => void expect(roundTrip(m)).to.deep.equal(m)), { numRuns: 400 });
  });

  it('the body functions read exactly what they wrote (after an 8-byte header)', () => {
    fc.assert(
      fc.property(arbRequest, arbReply(), (q, p) => {
        const wq = new OfWriter();
        wq.zeros(8);
        encodeMultipartRequest(wq, q);
        const bq = wq.finish();
        const rq = new OfReader(bq, 8);
        expect(decodeMultipartRequest(rq, q.xid)).to.deep.equal(q);
        expect(rq.atEnd).to.equal(true);
        const wp = new OfWriter();
        wp.zeros(8);
        encodeMultipartReply(wp, p);
        const rp = new OfReader(wp.finish(), 8);
        expect(decodeMultipartReply(rp, p.xid)).to.deep.equal(p);
        expect(rp.atEnd).to.equal(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('codec/multipart split + reassembly', () => {
  const finalReply = (body = arbArrayReplyBody): fc.Arbitrary<Reply> =>
    arbReply(body).map((m) => ({ ...m, flags: m.flags & ~1 }));

  it('splitting at random sizes and reassembling the decoded parts gives back the reply', () => {
    fc.assert(
      fc.property(finalReply(), fc.integer({ min: 32, max: 3000 }), (m, maxBytes) => {
        const parts = splitMultipartReply(m, maxBytes);
        const r = new MultipartReassembler();
        let merged: Reply | undefined;
        parts.forEach((part, i) => {
          const frame = encodeMessage(part);
          const res = decodeMessage(frame);
          if (!res.ok) throw res.error;
          const got = r.add(res.value as Reply, frame.length);
          if (i < parts.length - 1) {
            expect(got).to.equal(undefined);
            expect(part.flags & 1).to.equal(1);
          } else {
            merged = got;
          }
        });
        expect(merged).to.deep.equal(m);
        expect(r.pendingCount).to.equal(0);
        expect(mergeMultipartReplies(parts)).to.deep.equal(m);
      }),
      { numRuns: 300 },
    );
  });

  it('parts fit maxBytes unless a single element is larger', () => {
    fc.assert(
      fc.property(finalReply(), fc.integer({ min: 32, max: 3000 }), (m, maxBytes) => {
        for (const part of splitMultipartReply(m, maxBytes)) {
          const len = encodeMessage(part).length;
          const items = Object.values(part.body).find(Array.isArray) as unknown[];
          if (items.length > 1) expect(len).to.be.at.most(maxBytes);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('experimenter and unknown bodies split by data and merge back', () => {
    const body = fc.oneof(
      fc.record({ mpType: fc.constant('OFPMP_EXPERIMENTER' as const), experimenter: u32, expType: u32, data: bytes(300) }),
      fc.record({ mpType: fc.constant('unknown' as const), mpTypeCode: fc.integer({ min: 14, max: 0xfffe }), data: bytes(300) }),
    );
    fc.assert(
      fc.property(finalReply(body), fc.integer({ min: 32, max: 200 }), (m, maxBytes) => {
        const parts = splitMultipartReply(m, maxBytes);
        for (const p of parts) expect(encodeMessage(p).length).to.be.at.most(maxBytes);
        const r = new MultipartReassembler();
        const outs = parts.map((p) => r.add(p));
        expect(outs[outs.length - 1]).to.deep.equal(m);
      }),
      { numRuns: 200 },
    );
  });

  it('a reply that fits is returned as the single part', () => {
    fc.assert(
      fc.property(finalReply(arbReplyBody), (m) => {
        expect(splitMultipartReply(m, 0xffff)).to.deep.equal([m]);
      }),
      { numRuns: 100 },
    );
  });
});

/** A few real replies: a switch's port list, flow dump, table features, and random ones (fixed seed). */
function realReplies(): Reply[] {
  const port = (n: number) => ({
    portNo: n, hwAddr: `0a:00:00:00:00:0${n}`, name: `s1-eth${n}`, config: 0, state: 4, curr: 0x2820, advertised: 0,
    supported: 0, peer: 0, currSpeed: 1000000, maxSpeed: 1000000,
  });
  const fixed: Reply[] = [
    { type: 'OFPT_MULTIPART_REPLY', xid: 1, flags: 0, body: { mpType: 'OFPMP_PORT_DESC', ports: [port(1), port(2)] } },
    {
      type: 'OFPT_MULTIPART_REPLY', xid: 2, flags: 0,
      body: {
        mpType: 'OFPMP_FLOW',
        flows: [{
          tableId: 0, durationSec: 3, durationNsec: 5, priority: 0, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: 0n,
          packetCount: 9n, byteCount: 900n, match: [{ field: 'in_port', value: 1 }],
          instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port: 0xfffffffd, maxLen: 0xffff }] }],
        }],
      },
    },
    {
      type: 'OFPT_MULTIPART_REPLY', xid: 3, flags: 0,
      body: {
        mpType: 'OFPMP_TABLE_FEATURES',
        tables: [{
          tableId: 0, name: 't0', metadataMatch: 0n, metadataWrite: 0n, config: 0, maxEntries: 1000,
          properties: [
            { type: 'OFPTFPT_INSTRUCTIONS', instructionIds: [{ instructionType: 1 }, { instructionType: 0xffff, experimenter: 9 }] },
            { type: 'OFPTFPT_NEXT_TABLES', tableIds: [1, 2, 3] },
            { type: 'OFPTFPT_MATCH', oxmIds: [{ oxmClass: 0x8000, fieldCode: 0, hasMask: false, length: 4 }] },
            { type: 'OFPTFPT_EXPERIMENTER', experimenter: 1, expType: 2, data: Buffer.from([7]) },
          ],
        }],
      },
    },
  ];
  return [...fixed, ...fc.sample(arbReply(), { seed: 20240601, numRuns: 25 })];
}

describe('codec/multipart truncation at every byte', () => {
  it('decodeMessage never throws: a typed error, or a valid shorter message that re-encodes to the cut bytes', () => {
    for (const m of realReplies()) {
      const frame = encodeMessage(m);
      for (let cut = 8; cut < frame.length; cut++) {
        const t = Buffer.from(frame.subarray(0, cut));
        t.writeUInt16BE(cut, 2);
        const res = decodeMessage(t);
        if (res.ok) {
          expect(encodeMessage(res.value).equals(t), `cut ${cut} of ${m.body.mpType}`).to.equal(true);
        } else {
          expect(res.error).to.be.instanceOf(OfpDecodeError);
          expect(res.error, String(res.error)).not.to.be.instanceOf(OfpDecoderBugError);
        }
      }
    }
  });

  it('decodeMultipartReply on a reader cut anywhere throws only OfpDecodeError', () => {
    for (const m of realReplies()) {
      const frame = encodeMessage(m);
      for (let cut = 8; cut < frame.length; cut++) {
        try {
          decodeMultipartReply(new OfReader(frame, 8, cut), m.xid);
        } catch (e) {
          expect(e, String(e)).to.be.instanceOf(OfpDecodeError);
        }
      }
    }
  });

  it('fixed-size bodies cut anywhere fail with OFP_ERR_BAD_LEN', () => {
    const fixed = realReplies().filter((m) => ['OFPMP_DESC', 'OFPMP_AGGREGATE', 'OFPMP_GROUP_FEATURES', 'OFPMP_METER_FEATURES'].includes(m.body.mpType));
    expect(fixed.length).to.be.greaterThan(0);
    for (const m of fixed) {
      const frame = encodeMessage(m);
      for (let cut = 8; cut < frame.length; cut++) {
        const t = Buffer.from(frame.subarray(0, cut));
        t.writeUInt16BE(cut, 2);
        const res = decodeMessage(t);
        expect(res.ok).to.equal(false);
        if (!res.ok) expect(res.error.code).to.equal('OFP_ERR_BAD_LEN');
      }
    }
  });

  it('random bytes after a valid multipart header never throw', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: 15 }), bytes(200), (isReply, mp, body) => {
        const head = Buffer.from([4, isReply ? 19 : 18, 0, 0, 0, 0, 0, 1, 0, mp, 0, 0, 0, 0, 0, 0]);
        const frame = Buffer.concat([head, body]);
        frame.writeUInt16BE(frame.length, 2);
        const res = decodeMessage(frame);
        if (!res.ok) expect(res.error).not.to.be.instanceOf(OfpDecoderBugError);
      }),
      { numRuns: 2000 },
    );
  });
});
