/**
 * The writer paths of the flow-setup hot path: u64 values above 2^32 (cookies sharing a high word, the
 * all-ones mask, alternating high words) are written as Buffer.writeBigUInt64BE writes them, and
 * appendMessage lays several frames one after the other in one output, each as encodeMessageAs encodes
 * it, leaving the output as it was when a message does not encode.
 */
import { expect } from 'chai';
import { OfWriter, appendMessage, encodeMessageAs, flowMod, OFPFC, OfpEncodeError, type OfpMessage } from '../../../openflow/codec/index.js';

function big(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}

describe('codec writer: u64 and appended frames', () => {
  it('writes u64 values of every range as writeBigUInt64BE does, whatever the order', () => {
    const values = [0n, 1n, 0xffffffffn, 0x100000000n, 0x5256_0100_0000_0001n, 0x5256_0100_0000_0002n, 0xffffffffffffffffn,
      0x5256_0100_ffff_ffffn, 0x5256_0101_0000_0000n, 0x5256_0100_0000_0003n, 0xfffffffffffffffen, 0x1234_5678_9abc_def0n];
    for (const order of [values, [...values].reverse()]) {
      const w = new OfWriter();
      for (const v of order) w.u64(v);
      expect(w.finish().toString('hex')).to.equal(Buffer.concat(order.map(big)).toString('hex'));
    }
    expect(() => new OfWriter().u64(0x1_0000_0000_0000_0000n)).to.throw(OfpEncodeError);
    expect(() => new OfWriter().u64(-1n)).to.throw(OfpEncodeError);
  });

  it('appendMessage lays frames one after the other, each as encodeMessageAs encodes it', () => {
    const msgs: [OfpMessage, number][] = [
      [flowMod({ cookie: 0x5256_0100_0000_0007n, command: OFPFC.ADD, match: [{ field: 'in_port', value: 3 }] }) as OfpMessage, 11],
      [{ type: 'OFPT_PACKET_OUT', xid: 0, bufferId: 0xffffffff, inPort: 3, actions: [{ type: 'OFPAT_OUTPUT', port: 1, maxLen: 0 }], data: Buffer.from('abcde') }, 12],
      [{ type: 'OFPT_BARRIER_REQUEST', xid: 0 }, 13],
    ];
    const w = new OfWriter(0);
    w.startOutput();
    for (const [m, xid] of msgs) appendMessage(w, m, xid);
    const expected = Buffer.concat(msgs.map(([m, xid]) => Buffer.from(encodeMessageAs(m, xid))));
    expect(w.takeOutput().toString('hex')).to.equal(expected.toString('hex'));
  });

  it('appendMessage leaves the output as it was when the message does not encode', () => {
    const w = new OfWriter(0);
    w.startOutput();
    appendMessage(w, { type: 'OFPT_BARRIER_REQUEST', xid: 0 }, 1);
    const bad = flowMod({ priority: 70_000 }) as OfpMessage;
    expect(() => appendMessage(w, bad, 2)).to.throw(OfpEncodeError);
    appendMessage(w, { type: 'OFPT_BARRIER_REQUEST', xid: 0 }, 3);
    const out = w.takeOutput();
    expect(out.length).to.equal(16);
    expect(out.readUInt32BE(4)).to.equal(1);
    expect(out.readUInt32BE(12)).to.equal(3);
  });
});
