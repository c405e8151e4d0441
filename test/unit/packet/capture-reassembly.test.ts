/**
 * TCP reassembly (lib/packet/tcp-reassembly.ts) on synthetic segments: in order, out of order,
 * duplicated, overlapping, with holes, across sequence wrap-around; plus the same through real pcap
 * bytes (Ethernet + 802.1Q, Linux cooked, IPv4 and IPv6).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { reassembleTcp, type TcpStream } from '../../../lib/packet/tcp-reassembly.js';
import { analyzePcap, readPcapBuffer, type ParsedPacket } from '../../../lib/packet/pcap.js';
import { buildPcap, ethTcpFrame, sllTcpFrame, type TcpSpec } from '../../../testing/pcap-builder.js';

const A = { ip: '10.0.0.1', port: 40000 };
const B = { ip: '10.0.0.2', port: 6653 };
const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;

/** A parsed TCP packet from A to B (or B to A with `reverse`). */
function seg(frame: number, seq: number, payload: Buffer, flags = ACK, reverse = false, payloadLen = payload.length): ParsedPacket {
  const [s, d] = reverse ? [B, A] : [A, B];
  return {
    frame,
    tsUs: 1_000_000 + frame,
    wireLen: 54 + payload.length,
    vlans: [],
    ethType: 0x0800,
    ip: { version: 4, src: s.ip, dst: d.ip, proto: 6, length: 40 + payloadLen, ttl: 64, dscp: 0, fragment: false },
    tcp: { srcPort: s.port, dstPort: d.port, seq: seq >>> 0, ack: 0, flags, window: 1000, payload, payloadLen },
  };
}

function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

function streamData(s: TcpStream): Buffer {
  return Buffer.concat(s.runs.map((r) => r.data));
}

/** Cuts `data` at `cuts` into segments starting at sequence `isn`. */
function cut(data: Buffer, cuts: number[], isn: number): { seq: number; payload: Buffer }[] {
  const points = [...new Set([0, ...cuts.filter((c) => c > 0 && c < data.length), data.length])].sort((x, y) => x - y);
  const out: { seq: number; payload: Buffer }[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push({ seq: (isn + points[i]!) >>> 0, payload: data.subarray(points[i], points[i + 1]) });
  return out;
}

describe('capture: TCP reassembly', () => {
  it('concatenates in-order segments after the SYN and keeps each piece\'s frame', () => {
    const isn = 1000;
    const pkts = [seg(1, isn, Buffer.alloc(0), SYN), seg(2, isn + 1, bytes(10)), seg(3, isn + 11, bytes(5, 2))];
    const [conn] = reassembleTcp(pkts);
    const s = conn!.toServer;
    expect(s.synSeen).to.equal(true);
    expect(s.runs).to.have.length(1);
    expect(s.runs[0]!.offset).to.equal(0);
    expect(streamData(s)).to.deep.equal(Buffer.concat([bytes(10), bytes(5, 2)]));
    expect(s.runs[0]!.pieces.map((p) => [p.offset, p.length, p.frame])).to.deep.equal([[0, 10, 2], [10, 5, 3]]);
    expect(s.gaps).to.deep.equal([]);
    expect(conn!.client).to.deep.equal(A);
  });

  it('reorders out-of-order segments and drops exact duplicates', () => {
    const data = bytes(30);
    const [s1, s2, s3] = cut(data, [10, 20], 5000);
    const pkts = [seg(1, s1!.seq, s1!.payload), seg(2, s3!.seq, s3!.payload), seg(3, s2!.seq, s2!.payload), seg(4, s3!.seq, s3!.payload), seg(5, s1!.seq, s1!.payload)];
    const s = reassembleTcp(pkts)[0]!.toServer;
    expect(streamData(s)).to.deep.equal(data);
    expect(s.runs).to.have.length(1);
    expect(s.gaps).to.deep.equal([]);
    expect(s.stats.outOfOrderSegments).to.equal(1);
    expect(s.stats.duplicateSegments).to.equal(2);
    // provenance: bytes 20..30 came from frame 2, which arrived before frame 3
    expect(s.runs[0]!.pieces.map((p) => p.frame)).to.deep.equal([1, 3, 2]);
  });

  it('trims overlapping retransmissions with different boundaries (first copy wins)', () => {
    const data = bytes(40);
    const pkts = [
      seg(1, 100, data.subarray(0, 15)),
      seg(2, 110, data.subarray(10, 30)), // overlaps 5 bytes
      seg(3, 105, Buffer.alloc(20, 0xee)), // entirely old bytes with different content: dropped
      seg(4, 128, data.subarray(28, 40)), // overlaps 2 bytes
    ];
    const s = reassembleTcp(pkts)[0]!.toServer;
    expect(streamData(s)).to.deep.equal(data);
    expect(s.stats.overlapBytes).to.equal(7);
    expect(s.stats.duplicateSegments).to.equal(1);
  });

  it('reports a hole as a gap and never glues the bytes around it', () => {
    const data = bytes(30);
    const pkts = [seg(1, 0, data.subarray(0, 10)), seg(2, 20, data.subarray(20, 30))];
    const s = reassembleTcp(pkts)[0]!.toServer;
    expect(s.runs.map((r) => [r.offset, r.data.length])).to.deep.equal([[0, 10], [20, 10]]);
    expect(s.gaps).to.deep.equal([{ offset: 10, length: 10, afterFrame: 1 }]);
    expect(s.runs[1]!.data).to.deep.equal(data.subarray(20, 30));
  });

  it('reports bytes cut by the snap length as a gap at the tail', () => {
    const s = reassembleTcp([seg(1, 0, bytes(10)), seg(2, 10, bytes(4), ACK, false, 100)])[0]!.toServer;
    expect(streamData(s)).to.have.length(14);
    expect(s.gaps).to.deep.equal([{ offset: 14, length: 96, afterFrame: 2 }]);
  });

  it('handles sequence numbers wrapping past 2^32', () => {
    const data = bytes(64);
    const isn = 0xffffffff - 20;
    const segs = cut(data, [8, 16, 24, 40, 50], isn);
    const pkts = [seg(0, (isn - 1) >>> 0, Buffer.alloc(0), SYN), ...[...segs].reverse().map((x, i) => seg(i + 1, x.seq, x.payload))];
    const s = reassembleTcp(pkts)[0]!.toServer;
    expect(s.gaps).to.deep.equal([]);
    expect(streamData(s)).to.deep.equal(data);
  });

  it('keeps the two directions apart and opens a new connection on a new SYN for the same 4-tuple', () => {
    const pkts = [
      seg(1, 10, Buffer.alloc(0), SYN),
      seg(2, 500, Buffer.alloc(0), SYN | ACK, true),
      seg(3, 11, Buffer.from('hello')),
      seg(4, 501, Buffer.from('world'), ACK, true),
      seg(5, 16, Buffer.alloc(0), FIN | ACK),
      seg(6, 506, Buffer.alloc(0), FIN | ACK, true),
      seg(7, 90000, Buffer.alloc(0), SYN),
      seg(8, 90001, Buffer.from('again')),
    ];
    const conns = reassembleTcp(pkts);
    expect(conns).to.have.length(2);
    expect(streamData(conns[0]!.toServer).toString()).to.equal('hello');
    expect(streamData(conns[0]!.toClient).toString()).to.equal('world');
    expect(conns[0]!.toServer.finSeen).to.equal(true);
    expect(streamData(conns[1]!.toServer).toString()).to.equal('again');
    expect(conns[1]!.firstFrame).to.equal(7);
  });

  it('without a captured SYN, starts at the first payload byte and counts older bytes as before-start', () => {
    const s = reassembleTcp([seg(1, 1000, bytes(10)), seg(2, 990, bytes(25)), seg(3, 980, bytes(5))])[0]!.toServer;
    expect(s.runs[0]!.offset).to.equal(0);
    expect(streamData(s)).to.deep.equal(Buffer.concat([bytes(10), bytes(25).subarray(20)]));
    expect(s.stats.beforeStartBytes).to.equal(15);
    expect(s.stats.overlapBytes).to.equal(10);
  });

  it('bounds the bytes held behind a hole (maxPendingBytes) by declaring the hole a gap', () => {
    const pkts = [seg(1, 0, bytes(10))];
    for (let i = 0; i < 20; i++) pkts.push(seg(2 + i, 20 + i * 10, bytes(10, i)));
    const s = reassembleTcp(pkts, { maxPendingBytes: 50 })[0]!.toServer;
    expect(s.gaps).to.have.length(1);
    expect(s.gaps[0]).to.include({ offset: 10, length: 10 });
    expect(streamData(s)).to.have.length(210);
  });

  it('property: any cutting, shuffling, duplication and overlap of a stream reassembles to the stream', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        fc.array(fc.nat(600), { maxLength: 20 }),
        fc.array(fc.tuple(fc.nat(600), fc.nat(120)), { maxLength: 10 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.infiniteStream(fc.nat()),
        (raw, cuts, overlaps, isn, rnd) => {
          const data = Buffer.from(raw);
          const segs = cut(data, cuts, isn);
          for (const [start, len] of overlaps) {
            const s0 = start % data.length;
            segs.push({ seq: (isn + s0) >>> 0, payload: data.subarray(s0, Math.min(data.length, s0 + len + 1)) });
          }
          // Fisher-Yates with fast-check's random stream, but keep the first segment first so the stream
          // starts at offset 0 (no SYN here)
          const [first, ...rest] = segs;
          const it = rnd[Symbol.iterator]();
          for (let i = rest.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [rest[i], rest[j]] = [rest[j]!, rest[i]!];
          }
          const pkts = [first!, ...rest].map((x, i) => seg(i + 1, x.seq, x.payload));
          const s = reassembleTcp(pkts)[0]!.toServer;
          expect(s.gaps).to.deep.equal([]);
          expect(s.runs).to.have.length(1);
          expect(streamData(s)).to.deep.equal(data);
          let at = 0;
          for (const p of s.runs[0]!.pieces) {
            expect(p.offset).to.equal(at);
            at += p.length;
          }
          expect(at).to.equal(data.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  describe('through pcap bytes', () => {
    const spec = (over: Partial<TcpSpec>): TcpSpec => ({ src: '10.1.1.1', dst: '10.1.1.2', srcPort: 45555, dstPort: 6653, seq: 1, ...over });

    async function streamsOf(pcap: Buffer): Promise<{ data: string; errors: number; vlans: number[] }> {
      const file = await readPcapBuffer(pcap);
      if (!file.ok) throw file.error;
      const cap = analyzePcap(file.value);
      return {
        data: Buffer.concat(cap.connections[0]!.toServer.runs.map((r) => r.data)).toString(),
        errors: cap.errors.length,
        vlans: [...(cap.packets[0]?.vlans ?? [])],
      };
    }

    it('Ethernet + 802.1Q + IPv4 with TCP options, out of order', async () => {
      const frames = [
        ethTcpFrame(spec({ seq: 100, flags: SYN, vlans: [10, 20] })),
        ethTcpFrame(spec({ seq: 107, payload: Buffer.from('world'), vlans: [10, 20] }), true),
        ethTcpFrame(spec({ seq: 101, payload: Buffer.from('hello '), vlans: [10, 20] }), true),
      ];
      const r = await streamsOf(buildPcap(frames.map((data, i) => ({ tsUs: 1e6 + i, data }))));
      expect(r).to.deep.equal({ data: 'hello world', errors: 0, vlans: [10, 20] });
    });

    it('Ethernet with trailing padding does not add bytes to the stream', async () => {
      const f = Buffer.concat([ethTcpFrame(spec({ seq: 1, payload: Buffer.from('ab') })), Buffer.alloc(6)]);
      const r = await streamsOf(buildPcap([{ tsUs: 1, data: f }]));
      expect(r.data).to.equal('ab');
    });

    it('Linux cooked capture with IPv6', async () => {
      const s = (seq: number, p: string): TcpSpec => spec({ src: 'fd00::1', dst: 'fd00::2', seq, payload: Buffer.from(p) });
      const pcap = buildPcap([{ tsUs: 1, data: sllTcpFrame(s(1, 'abc')) }, { tsUs: 2, data: sllTcpFrame(s(4, 'def')) }], 113);
      expect((await streamsOf(pcap)).data).to.equal('abcdef');
    });
  });
});
