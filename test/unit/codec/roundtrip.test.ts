/**
 * Property tests: for every struct and every non-multipart message, decode(encode(x)) deep-equals x and
 * encode(decode(bytes)) reproduces the bytes; FrameDecoder reassembles frames split at any byte.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { OfReader, OfWriter } from '../../../openflow/codec/buffer.js';
import { decodeAction, encodeAction } from '../../../openflow/codec/actions.js';
import { decodeBucket, encodeBucket } from '../../../openflow/codec/group.js';
import { decodeInstruction, encodeInstruction } from '../../../openflow/codec/instructions.js';
import { decodeMeterBand, encodeMeterBand } from '../../../openflow/codec/meter.js';
import { decodeMatch, decodeOxm, decodeOxmId, encodeMatch, encodeOxm, encodeOxmId, matchInPort } from '../../../openflow/codec/oxm.js';
import { decodePort, encodePort } from '../../../openflow/codec/port.js';
import { decodePacketQueue, encodePacketQueue } from '../../../openflow/codec/queue.js';
import { decodeMessage, encodeMessage, OfpDecoderBugError } from '../../../openflow/codec/messages.js';
import { FrameDecoder } from '../../../openflow/codec/framing.js';
import { OfpDecodeError } from '../../../openflow/codec/errors.js';
import type { OfpMessage } from '../../../openflow/codec/types.js';
import {
  arbAction, arbBucket, arbInstruction, arbMatch, arbMessage, arbMeterBand, arbOxmField, arbOxmId, arbPacketQueue, arbPort,
} from '../../../testing/codec/arbitraries.js';

const RUNS = { numRuns: 300 };

/** encode → decode is the identity, the reader ends exactly at the end, and the size is as required. */
function structRoundTrip<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  enc: (w: OfWriter, x: T) => void,
  dec: (r: OfReader) => T,
  align = 1,
): void {
  it(`${name}: decode(encode(x)) = x`, () => {
    fc.assert(
      fc.property(arb, (x) => {
        const w = new OfWriter();
        enc(w, x);
        const bytes = w.finish();
        expect(bytes.length % align, 'alignment').to.equal(0);
        const r = new OfReader(bytes);
        expect(dec(r)).to.deep.equal(x);
        expect(r.atEnd, 'consumed everything').to.equal(true);
        const w2 = new OfWriter();
        enc(w2, dec(new OfReader(bytes)));
        expect(w2.finish().equals(bytes), 're-encoded bytes').to.equal(true);
      }),
      RUNS,
    );
  });
}

describe('codec round trips (fast-check)', () => {
  describe('structs', () => {
    structRoundTrip('OXM TLV', arbOxmField, encodeOxm, decodeOxm);
    structRoundTrip('ofp_match', arbMatch, encodeMatch, decodeMatch, 8);
    structRoundTrip('OXM id', arbOxmId, encodeOxmId, decodeOxmId, 4);
    structRoundTrip('action', arbAction, encodeAction, decodeAction, 8);
    structRoundTrip('instruction', arbInstruction, encodeInstruction, decodeInstruction, 8);
    structRoundTrip('meter band', arbMeterBand, encodeMeterBand, decodeMeterBand, 8);
    structRoundTrip('bucket', arbBucket, encodeBucket, decodeBucket, 8);
    structRoundTrip('ofp_port', arbPort, encodePort, decodePort, 64);
    structRoundTrip('ofp_packet_queue', arbPacketQueue, encodePacketQueue, decodePacketQueue, 8);
  });

  describe('messages', () => {
    it('decode(encode(m)) = m and header length = frame length', () => {
      fc.assert(
        fc.property(arbMessage, (m) => {
          const frame = encodeMessage(m);
          expect(frame.readUInt16BE(2)).to.equal(frame.length);
          const res = decodeMessage(frame);
          if (!res.ok) throw res.error;
          expect(res.value).to.deep.equal(m);
        }),
        { numRuns: 2000 },
      );
    });

    it('encode(decode(bytes)) = bytes', () => {
      fc.assert(
        fc.property(arbMessage, (m) => {
          const frame = encodeMessage(m);
          const res = decodeMessage(frame);
          if (!res.ok) throw res.error;
          expect(encodeMessage(res.value).equals(frame)).to.equal(true);
        }),
        RUNS,
      );
    });
  });

  describe('FrameDecoder', () => {
    function drain(fd: FrameDecoder): Buffer[] {
      const out: Buffer[] = [];
      for (let f = fd.next(); f !== undefined; f = fd.next()) {
        if (f instanceof OfpDecodeError) throw f;
        out.push(Buffer.from(f));
      }
      return out;
    }

    it('splits a stream cut at every byte boundary (one and two cuts)', () => {
      const msgs: OfpMessage[] = fc.sample(arbMessage, { numRuns: 4, seed: 42 });
      const frames = msgs.map(encodeMessage);
      const stream = Buffer.concat(frames);
      for (let i = 0; i <= stream.length; i++) {
        const fd = new FrameDecoder();
        fd.push(stream.subarray(0, i));
        const got = drain(fd);
        fd.push(stream.subarray(i));
        got.push(...drain(fd));
        expect(got.map((b) => b.toString('hex'))).to.deep.equal(frames.map((b) => b.toString('hex')));
        expect(fd.bufferedBytes).to.equal(0);
      }
      const short = Buffer.concat(frames.slice(0, 2));
      for (let i = 0; i <= short.length; i++) {
        for (let j = i; j <= short.length; j++) {
          const fd = new FrameDecoder();
          const got: Buffer[] = [];
          for (const part of [short.subarray(0, i), short.subarray(i, j), short.subarray(j)]) {
            fd.push(part);
            got.push(...drain(fd));
          }
          expect(Buffer.concat(got).equals(short)).to.equal(true);
          expect(got.length).to.equal(2);
        }
      }
    });

    it('byte-at-a-time delivery yields the same frames, which decode to the messages', () => {
      fc.assert(
        fc.property(fc.array(arbMessage, { minLength: 1, maxLength: 5 }), (msgs) => {
          const stream = Buffer.concat(msgs.map(encodeMessage));
          const fd = new FrameDecoder();
          const got: Buffer[] = [];
          for (let i = 0; i < stream.length; i++) {
            fd.push(stream.subarray(i, i + 1));
            got.push(...drain(fd));
          }
          expect(got.length).to.equal(msgs.length);
          got.forEach((f, i) => {
            const res = decodeMessage(f);
            if (!res.ok) throw res.error;
            expect(res.value).to.deep.equal(msgs[i]);
          });
        }),
        { numRuns: 50 },
      );
    });

    it('random chunking preserves frames', () => {
      fc.assert(
        fc.property(fc.array(arbMessage, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(200), { maxLength: 20 }), (msgs, cuts) => {
          const frames = msgs.map(encodeMessage);
          const stream = Buffer.concat(frames);
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const fd = new FrameDecoder();
          const got: Buffer[] = [];
          let prev = 0;
          for (const p of [...points, stream.length]) {
            fd.push(stream.subarray(prev, p));
            prev = p;
            got.push(...drain(fd));
          }
          expect(got.map((b) => b.toString('hex'))).to.deep.equal(frames.map((b) => b.toString('hex')));
        }),
        { numRuns: 200 },
      );
    });

    it('returns a zero-copy view when a frame lies inside one chunk', () => {
      const frame = encodeMessage({ type: 'OFPT_BARRIER_REQUEST', xid: 1 });
      const chunk = Buffer.concat([frame, frame]);
      const fd = new FrameDecoder();
      fd.push(chunk);
      const f = fd.next() as Buffer;
      expect(f.buffer).to.equal(chunk.buffer);
      expect(fd.bufferedBytes).to.equal(8);
    });
  });

  it('no decoder bug surfaced while decoding generated messages', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const res = decodeMessage(encodeMessage(m));
        expect(!res.ok && res.error instanceof OfpDecoderBugError).to.equal(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('matchInPort', () => {
  it('reads the in_port a match carries, and undefined without one (any match, after a round trip)', () => {
    fc.assert(
      fc.property(arbMatch, (m) => {
        const w = new OfWriter();
        encodeMatch(w, m);
        const decoded = decodeMatch(new OfReader(w.finish()));
        const f = m.find((x) => x.field === 'in_port');
        expect(matchInPort(decoded)).to.equal(f && 'value' in f ? f.value : undefined);
      }),
      { numRuns: 300 },
    );
    expect(matchInPort([{ field: 'eth_type', value: 0x0800 }, { field: 'in_port', value: 7 }])).to.equal(7);
    expect(matchInPort([{ field: 'eth_type', value: 0x0800 }])).to.equal(undefined);
  });
});
