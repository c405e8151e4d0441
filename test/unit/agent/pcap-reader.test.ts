/**
 * agent/capture.ts's pcap stream reader: what tcpdump writes to its stdout, split into records whatever
 * the chunking of the pipe (a record cut across reads, many records in one read, one byte at a time),
 * either byte order, µs and ns timestamps; a stream that is not a pcap stops the reader. And the NFLOG
 * records of a stand-in for tcpdump routed by their prefix: crossings of the small-flowlet threshold to
 * their own callback, starts to the other.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quietLogger } from '../../../lib/log.js';
import { LINKTYPE_NFLOG, PacketCapture, PcapRecordReader } from '../../../agent/capture.js';
import type { OutgoingPacket } from '../../../agent/detector.js';
import { CROSSED_PREFIX } from '../../../agent/nft-rules.js';
import { buildPcap } from '../../../testing/pcap-builder.js';
import { pollUntil } from '../../../testing/until.js';

interface Rec {
  linkType: number;
  tsUs: number;
  origLen: number;
  data: number[];
}

function read(chunks: readonly Buffer[]): { recs: Rec[]; reader: PcapRecordReader } {
  const recs: Rec[] = [];
  const reader = new PcapRecordReader((linkType, tsUs, origLen, data) => recs.push({ linkType, tsUs, origLen, data: [...data] }));
  for (const c of chunks) reader.push(c);
  return { recs, reader };
}

const RECORDS = [
  { tsUs: 1_700_000_000_000_001, data: Buffer.from([1, 2, 3]), origLen: 1500 },
  { tsUs: 1_700_000_000_500_002, data: Buffer.alloc(0) },
  { tsUs: 1_700_000_001_000_003, data: Buffer.from([9, 8, 7, 6, 5]) },
];
const WANT: Rec[] = [
  { linkType: 1, tsUs: 1_700_000_000_000_001, origLen: 1500, data: [1, 2, 3] },
  { linkType: 1, tsUs: 1_700_000_000_500_002, origLen: 0, data: [] },
  { linkType: 1, tsUs: 1_700_000_001_000_003, origLen: 5, data: [9, 8, 7, 6, 5] },
];

/** The same stream in big-endian order with ns timestamps (magic a1b23c4d). */
function bigEndianNanos(records: typeof RECORDS): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32BE(0xa1b23c4d, 0);
  head.writeUInt16BE(2, 4);
  head.writeUInt16BE(4, 6);
  head.writeUInt32BE(65535, 16);
  head.writeUInt32BE(1, 20);
  const parts = [head];
  for (const r of records) {
    const h = Buffer.alloc(16);
    h.writeUInt32BE(Math.floor(r.tsUs / 1e6), 0);
    h.writeUInt32BE((r.tsUs % 1e6) * 1000 + 999, 4);
    h.writeUInt32BE(r.data.length, 8);
    h.writeUInt32BE(r.origLen ?? r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

describe('agent: pcap stream reader', () => {
  const file = buildPcap(RECORDS);

  it('one chunk, one byte at a time, and every split in two give the same records', () => {
    expect(read([file]).recs).to.deep.equal(WANT);
    expect(read([...file].map((b) => Buffer.from([b]))).recs).to.deep.equal(WANT);
    for (let cut = 0; cut <= file.length; cut++) {
      expect(read([file.subarray(0, cut), file.subarray(cut)]).recs, `cut at ${cut}`).to.deep.equal(WANT);
    }
  });

  it('big-endian streams with ns timestamps', () => {
    const be = bigEndianNanos(RECORDS);
    expect(read([be.subarray(0, 30), be.subarray(30)]).recs).to.deep.equal(WANT);
  });

  it('a stream that is not a pcap, or a record longer than any snap length, stops the reader', () => {
    const bad = read([Buffer.from('not a pcap stream at all, really')]);
    expect(bad.recs).to.deep.equal([]);
    expect(bad.reader.broken).to.match(/magic/);
    expect(bad.reader.push(file)).to.equal(false);
    const huge = Buffer.from(file);
    huge.writeUInt32LE(1 << 20, 24 + 8);
    const h = read([huge]);
    expect(h.recs).to.deep.equal([]);
    expect(h.reader.broken).to.match(/record of 1048576 bytes/);
  });

  it('the link type is the stream header\'s (NFLOG: 239)', () => {
    expect(read([buildPcap(RECORDS.slice(0, 1), LINKTYPE_NFLOG)]).recs[0]!.linkType).to.equal(239);
  });
});

describe('agent: NFLOG records routed by prefix', () => {
  const pcap = readFileSync(new URL('../../../../test/fixtures/captures/nflog-flowlet-starts.pcap', import.meta.url));
  /** The fixture's first record (a start, empty prefix) with its prefix TLV replaced by `prefix`. */
  function withPrefix(prefix: string): Buffer {
    const rec = pcap.subarray(24 + 16, 24 + 16 + pcap.readUInt32LE(24 + 8));
    const parts: Buffer[] = [rec.subarray(0, 4)];
    let off = 4;
    while (off + 4 <= rec.length) {
      const len = rec.readUInt16LE(off);
      const type = rec.readUInt16LE(off + 2);
      const padded = (len + 3) & ~3;
      if (type === 10) {
        const v = Buffer.from(`${prefix}\0`, 'latin1');
        const tlv = Buffer.alloc((4 + v.length + 3) & ~3);
        tlv.writeUInt16LE(4 + v.length, 0);
        tlv.writeUInt16LE(10, 2);
        v.copy(tlv, 4);
        parts.push(tlv);
      } else parts.push(rec.subarray(off, off + padded));
      off += padded;
    }
    return Buffer.concat(parts);
  }

  it('crossings (prefix rivulet-big) to their callback; starts and other prefixes to the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rvag-pfx-'));
    try {
      const f = join(dir, 'x.pcap');
      const recs = ['', CROSSED_PREFIX, `${CROSSED_PREFIX}x`, 'rivulet-bi'].map((p, i) => ({ tsUs: 1_700_000_000_000_000 + i, data: withPrefix(p) }));
      writeFileSync(f, buildPcap(recs, LINKTYPE_NFLOG));
      const starts: OutgoingPacket[] = [];
      const crossed: OutgoingPacket[] = [];
      const cap = new PacketCapture({
        dev: 'eth0', nflogGroup: 7, log: quietLogger(), onPacket: (p) => starts.push(p), prefixed: { prefix: CROSSED_PREFIX, onPacket: (p) => crossed.push(p) },
        command: ['sh', '-c', `cat ${f}; exec sleep 5`], restartMs: 60_000,
      });
      cap.start();
      await pollUntil('4 records', () => starts.length + crossed.length >= 4, { timeoutMs: 5000, everyMs: 10 }).catch(() => undefined);
      await cap.stop();
      expect(crossed.map((p) => p.tsUs % 10)).to.deep.equal([1]);
      expect(starts.map((p) => p.tsUs % 10)).to.deep.equal([0, 2, 3]);
      expect(crossed[0]).to.deep.include({ flow: { src: '10.97.0.1', dst: '10.97.0.2', proto: 6, sport: 42494, dport: 5001 }, ipBytes: 7292 });
      expect(cap.malformed).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
