/**
 * OFPMPF_REPLY_MORE reassembly (OpenFlow 1.3.5 §7.3.5): MultipartReassembler, mergeMultipartReplies and
 * splitMultipartReply, including their bounds and failure modes.
 */
import { expect } from 'chai';
import { OfpDecodeError, OfpEncodeError } from '../../../openflow/codec/errors.js';
import {
  MultipartReassembler, OFPMPF_REPLY_MORE, mergeMultipartReplies, splitMultipartReply,
} from '../../../openflow/codec/multipart.js';
import type { MessageOf, MultipartReplyBody, TableStats } from '../../../openflow/codec/types.js';

type Reply = MessageOf<'OFPT_MULTIPART_REPLY'>;

const MORE = OFPMPF_REPLY_MORE;
const stats = (id: number): TableStats => ({ tableId: id, activeCount: id, lookupCount: 0n, matchedCount: 0n });
const tables = (xid: number, flags: number, ids: number[]): Reply => ({
  type: 'OFPT_MULTIPART_REPLY', xid, flags, body: { mpType: 'OFPMP_TABLE', tables: ids.map(stats) },
});
const reply = (xid: number, flags: number, body: MultipartReplyBody): Reply => ({ type: 'OFPT_MULTIPART_REPLY', xid, flags, body });

function expectBadMultipart(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(OfpDecodeError);
    expect((e as OfpDecodeError).code).to.equal('OFP_ERR_BAD_MULTIPART');
    return;
  }
  expect.fail('expected OFP_ERR_BAD_MULTIPART');
}

describe('codec/multipart reassembly', () => {
  describe('MultipartReassembler', () => {
    it('returns a reply without REPLY_MORE at once', () => {
      const r = new MultipartReassembler();
      const m = tables(1, 0, [0]);
      expect(r.add(m)).to.equal(m);
      expect(r.pendingCount).to.equal(0);
    });

    it('merges interleaved sequences per xid, in arrival order', () => {
      const r = new MultipartReassembler();
      expect(r.add(tables(1, MORE, [0, 1]))).to.equal(undefined);
      expect(r.add(tables(2, MORE, [10]))).to.equal(undefined);
      expect(r.add(tables(1, MORE, [2]))).to.equal(undefined);
      expect(r.pendingCount).to.equal(2);
      expect(r.add(tables(2, 0, [11]))).to.deep.equal(tables(2, 0, [10, 11]));
      expect(r.add(tables(1, 0, [3]))).to.deep.equal(tables(1, 0, [0, 1, 2, 3]));
      expect(r.pendingCount).to.equal(0);
    });

    it('fails a sequence whose parts change type, then drains its remaining parts', () => {
      const r = new MultipartReassembler();
      r.add(tables(7, MORE, [0]));
      expectBadMultipart(() => r.add(reply(7, MORE, { mpType: 'OFPMP_PORT_DESC', ports: [] })));
      expect(r.add(tables(7, MORE, [1]))).to.equal(undefined);
      expect(r.add(tables(7, 0, [2]))).to.equal(undefined);
      expect(r.has(7)).to.equal(false);
      expect(r.add(tables(7, 0, [5]))).to.deep.equal(tables(7, 0, [5]));
    });

    it('bounds the parts held per xid', () => {
      const r = new MultipartReassembler({ maxParts: 3 });
      for (let i = 0; i < 3; i++) r.add(tables(1, MORE, [i]));
      expectBadMultipart(() => r.add(tables(1, MORE, [3])));
      expect(r.add(tables(1, 0, [4]))).to.equal(undefined);
      expect(r.pendingCount).to.equal(0);
    });

    it('bounds the bytes held per xid (given or measured)', () => {
      const given = new MultipartReassembler({ maxBytes: 1000 });
      given.add(tables(1, MORE, [0]), 600);
      expectBadMultipart(() => given.add(tables(1, MORE, [1]), 600));
      // measured: each part is 16 + 24 bytes on the wire
      const measured = new MultipartReassembler({ maxBytes: 100 });
      measured.add(tables(2, MORE, [0]));
      measured.add(tables(2, MORE, [1]));
      expectBadMultipart(() => measured.add(tables(2, 0, [2])));
      expect(measured.pendingCount).to.equal(0);
    });

    it('bounds the number of sequences in progress, and drop() releases one', () => {
      const r = new MultipartReassembler({ maxPending: 2 });
      r.add(tables(1, MORE, [0]));
      r.add(tables(2, MORE, [0]));
      expectBadMultipart(() => r.add(tables(3, MORE, [0])));
      expect(r.drop(1)).to.equal(true);
      expect(r.add(tables(3, MORE, [0]))).to.equal(undefined);
      expect(r.pendingCount).to.equal(2);
      r.clear();
      expect(r.pendingCount).to.equal(0);
    });
  });

  describe('mergeMultipartReplies', () => {
    it('concatenates array bodies and keeps the last part’s flags', () => {
      expect(mergeMultipartReplies([tables(1, MORE, [0]), tables(1, MORE | 2, []), tables(1, 2, [1])])).to.deep.equal(
        tables(1, 2, [0, 1]),
      );
    });

    it('concatenates experimenter data', () => {
      const exp = (flags: number, data: number[]): Reply =>
        reply(4, flags, { mpType: 'OFPMP_EXPERIMENTER', experimenter: 1, expType: 2, data: Buffer.from(data) });
      expect(mergeMultipartReplies([exp(MORE, [1, 2]), exp(0, [3])])).to.deep.equal(exp(0, [1, 2, 3]));
    });

    it('rejects empty input, mixed xids, mixed types, a missing REPLY_MORE and split single structures', () => {
      expectBadMultipart(() => mergeMultipartReplies([]));
      expectBadMultipart(() => mergeMultipartReplies([tables(1, MORE, [0]), tables(2, 0, [1])]));
      expectBadMultipart(() => mergeMultipartReplies([tables(1, MORE, [0]), reply(1, 0, { mpType: 'OFPMP_PORT_DESC', ports: [] })]));
      expectBadMultipart(() => mergeMultipartReplies([tables(1, 0, [0]), tables(1, 0, [1])]));
      const agg = (flags: number): Reply =>
        reply(1, flags, { mpType: 'OFPMP_AGGREGATE', packetCount: 0n, byteCount: 0n, flowCount: 0 });
      expectBadMultipart(() => mergeMultipartReplies([agg(MORE), agg(0)]));
      const exp = (experimenter: number, flags: number): Reply =>
        reply(1, flags, { mpType: 'OFPMP_EXPERIMENTER', experimenter, expType: 0, data: Buffer.alloc(0) });
      expectBadMultipart(() => mergeMultipartReplies([exp(1, MORE), exp(2, 0)]));
    });
  });

  describe('splitMultipartReply', () => {
    it('splits at element boundaries with REPLY_MORE on all parts but the last', () => {
      // 16 header bytes + 24 per table stats: 64 bytes hold two entries
      const parts = splitMultipartReply(tables(9, 0, [0, 1, 2, 3, 4]), 64);
      expect(parts.map((p) => p.flags)).to.deep.equal([MORE, MORE, 0]);
      expect(parts.map((p) => (p.body as unknown as { tables: TableStats[] }).tables.map((t) => t.tableId))).to.deep.equal([[0, 1], [2, 3], [4]]);
    });

    it('refuses sizes outside 32..65535', () => {
      expect(() => splitMultipartReply(tables(1, 0, [0]), 31)).to.throw(OfpEncodeError);
      expect(() => splitMultipartReply(tables(1, 0, [0]), 65536)).to.throw(OfpEncodeError);
    });
  });
});
