/**
 * The capture layer and the OpenFlow stream decoder on hostile input: the malformed captures of
 * test/fixtures/captures/malformed/ (fuzzer-found LLDP and OpenFlow 1.0 cases), the OpenFlow 1.0 session
 * of10_p3295.pcap, and random or mutated pcap bytes. Every case ends in messages or typed errors
 * (CaptureError, OfpDecodeError), within a time bound, without a throw.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeMessage, FrameDecoder, OfpDecodeError } from '../../../openflow/codec/index.js';
import {
  analyzePcap, CaptureError, parsePacket, readPcapBuffer, readPcapFile, type Capture, type PcapFile,
} from '../../../lib/packet/pcap.js';
import { decodeOpenFlowCapture, type OpenFlowRecord } from '../../../openflow/capture-stream.js';
import { buildPcap, ethTcpFrame } from '../../../testing/pcap-builder.js';

const CAPTURES = fileURLToPath(new URL('../../../../test/fixtures/captures/', import.meta.url));
const MALFORMED = `${CAPTURES}malformed/`;
const PORTS = [6633, 6653];
const TIME_LIMIT_MS = 5000;

/** Rejects if `p` does not settle within `ms` (a hang is a failure, not a stuck test). */
async function within<T>(p: Promise<T>, ms = TIME_LIMIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Decodes `buf` as one frame and as a stream of frames; asserts typed outcomes only. */
function decodeAnyway(buf: Buffer): void {
  const r = decodeMessage(buf);
  if (!r.ok) expect(r.error).to.be.instanceOf(OfpDecodeError);
  const fd = new FrameDecoder();
  fd.push(buf);
  for (let i = 0; i <= buf.length; i++) {
    const next = fd.next();
    if (next === undefined || next instanceof OfpDecodeError) break;
    const m = decodeMessage(next);
    if (!m.ok) expect(m.error).to.be.instanceOf(OfpDecodeError);
  }
}

/** Full pipeline on pcap bytes: file → packets → streams → OpenFlow records; all outcomes typed. */
async function pipeline(bytes: Buffer): Promise<{ file?: PcapFile; capture?: Capture; records: OpenFlowRecord[] }> {
  const file = await within(readPcapBuffer(bytes));
  if (!file.ok) {
    expect(file.error).to.be.instanceOf(CaptureError);
    return { records: [] };
  }
  const capture = analyzePcap(file.value);
  for (const e of capture.errors) expect(e).to.be.instanceOf(CaptureError);
  const records = decodeOpenFlowCapture(capture, { ports: PORTS });
  for (const r of records) {
    expect(Boolean(r.message) !== Boolean(r.error), `frame ${r.frame}: message xor error`).to.equal(true);
    if (r.error) expect(r.error).to.be.instanceOf(OfpDecodeError);
  }
  return { file: file.value, capture, records };
}

describe('capture: malformed and foreign captures', function () {
  this.timeout(60000);
  const files = [...readdirSync(MALFORMED).filter((f) => f.endsWith('.pcap')).map((f) => `${MALFORMED}${f}`), `${CAPTURES}of10_p3295.pcap`];

  for (const path of files) {
    const name = path.slice(CAPTURES.length);
    it(`${name}: every record, TCP payload and OpenFlow frame ends in a value or a typed error`, async () => {
      const started = Date.now();
      const { file, capture } = await pipeline(readFileSync(path));
      expect(file, 'a readable pcap').to.not.equal(undefined);
      for (const raw of file!.packets) {
        decodeAnyway(raw.data);
        if (raw.data.length > 14) decodeAnyway(raw.data.subarray(14)); // the Ethernet payload
      }
      for (const p of capture!.packets) if (p.tcp) decodeAnyway(p.tcp.payload);
      expect(Date.now() - started).to.be.lessThan(TIME_LIMIT_MS);
    });
  }

  it('of10_p3295.pcap: OpenFlow 1.0 messages are version-rejected, except HELLO which decodes with version 1', async () => {
    const { records } = await pipeline(readFileSync(`${CAPTURES}of10_p3295.pcap`));
    expect(records.length).to.be.greaterThan(10);
    for (const r of records) {
      expect(r.version).to.equal(1);
      if (r.typeCode === 0) expect(r.message).to.include({ type: 'OFPT_HELLO', version: 1 });
      else expect(r.error?.code, `frame ${r.frame} type ${r.type}`).to.equal('OFP_ERR_BAD_VERSION');
    }
    expect(records.filter((r) => r.message).map((r) => r.type)).to.deep.equal(['OFPT_HELLO', 'OFPT_HELLO']);
  });

  it('the truncated OpenFlow 1.0 fuzz captures: version-rejected messages, then the cut one as OFP_ERR_BAD_LEN', async () => {
    for (const f of ['of10_7050sx_bsn-oobr.pcap', 'of10_inv_OFPST_FLOW.pcap']) {
      const { records, capture } = await pipeline(readFileSync(`${MALFORMED}${f}`));
      expect(records.length, f).to.be.greaterThan(0);
      expect(capture!.connections[0]!.toClient.gaps.length + capture!.connections[0]!.toServer.gaps.length, f).to.be.greaterThan(0);
      const codes = records.map((r) => r.error?.code);
      expect(codes.every((c) => c === 'OFP_ERR_BAD_VERSION' || c === 'OFP_ERR_BAD_LEN'), `${f}: ${codes.join(',')}`).to.equal(true);
      expect(codes[codes.length - 1], f).to.equal('OFP_ERR_BAD_LEN');
    }
  });

  describe('pcap file damage', () => {
    const good = buildPcap([
      { tsUs: 1, data: ethTcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 6653, seq: 1, payload: Buffer.from('0400000800000001', 'hex') }) },
      { tsUs: 2, data: ethTcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 6653, seq: 9, payload: Buffer.from('0402000800000002', 'hex') }) },
    ]);

    const expectFatal = async (bytes: Buffer, code: string): Promise<void> => {
      const r = await within(readPcapBuffer(bytes));
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error).to.be.instanceOf(CaptureError).and.to.include({ code });
    };

    it('empty or short file → PCAP_BAD_HEADER; pcapng or unknown magic → PCAP_BAD_MAGIC; bad version → PCAP_BAD_HEADER', async () => {
      await expectFatal(Buffer.alloc(0), 'PCAP_BAD_HEADER');
      await expectFatal(good.subarray(0, 20), 'PCAP_BAD_HEADER');
      await expectFatal(Buffer.concat([Buffer.from('0a0d0d0a', 'hex'), good.subarray(4)]), 'PCAP_BAD_MAGIC');
      await expectFatal(Buffer.concat([Buffer.from('4d3cb2a1', 'hex'), good.subarray(4)]), 'PCAP_BAD_MAGIC');
      await expectFatal(Buffer.alloc(100, 0x41), 'PCAP_BAD_MAGIC');
      const v3 = Buffer.from(good);
      v3.writeUInt16LE(3, 4);
      await expectFatal(v3, 'PCAP_BAD_HEADER');
    });

    it('a file that ends inside a record keeps the records before it and reports PCAP_TRUNCATED', async () => {
      const r = await within(readPcapBuffer(good.subarray(0, good.length - 5)));
      if (!r.ok) throw r.error;
      expect(r.value.packets).to.have.length(1);
      expect(r.value.errors.map((e) => [e.code, e.frame])).to.deep.equal([['PCAP_TRUNCATED', 2]]);
    });

    it('an impossible captured length stops reading with PCAP_BAD_RECORD instead of buffering the file', async () => {
      const bad = Buffer.from(good);
      bad.writeUInt32LE(0x7fffffff, 24 + 8); // first record's captured length
      const r = await within(readPcapBuffer(bad));
      if (!r.ok) throw r.error;
      expect(r.value.packets).to.have.length(0);
      expect(r.value.errors.map((e) => e.code)).to.deep.equal(['PCAP_BAD_RECORD']);
    });

    it('a missing file or a directory → PCAP_IO', async () => {
      for (const p of [`${CAPTURES}does-not-exist.pcap`, CAPTURES]) {
        const r = await within(readPcapFile(p));
        expect(r.ok).to.equal(false);
        if (!r.ok) expect(r.error.code).to.equal('PCAP_IO');
      }
    });

    it('packets: truncated and impossible headers and unknown link types → typed packet errors', () => {
      const frame = ethTcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2, seq: 0 });
      const at = (data: Buffer, link = 1) => {
        const r = parsePacket(link, { frame: 7, tsUs: 0, origLen: data.length, data });
        return r.ok ? 'ok' : `${r.error.code}@${r.error.frame}`;
      };
      expect(at(frame)).to.equal('ok');
      expect(at(frame.subarray(0, 10))).to.equal('PKT_TRUNCATED@7');
      expect(at(frame.subarray(0, 30))).to.equal('PKT_TRUNCATED@7');
      const badIhl = Buffer.from(frame);
      badIhl[14] = 0x43;
      expect(at(badIhl)).to.equal('PKT_MALFORMED@7');
      const badOffset = Buffer.from(frame);
      badOffset[14 + 20 + 12] = 0x30;
      expect(at(badOffset)).to.equal('PKT_MALFORMED@7');
      expect(at(frame, 147)).to.equal('PKT_UNSUPPORTED_LINK@7');
      const tags = Buffer.concat([frame.subarray(0, 12), Buffer.from('8100000a'.repeat(9), 'hex'), frame.subarray(12)]);
      expect(at(tags)).to.equal('PKT_MALFORMED@7');
    });
  });

  describe('random and mutated pcap bytes', () => {
    const seeds = [...files, `${CAPTURES}of13_ericsson.pcap`].map((p) => readFileSync(p));

    it('random bytes, with or without a valid pcap header, end in values or typed errors', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), async (raw, withHeader) => {
          const bytes = withHeader ? Buffer.concat([seeds[0]!.subarray(0, 24), raw]) : Buffer.from(raw);
          await pipeline(bytes);
        }),
        { numRuns: 200 },
      );
    });

    it('real captures with flipped bytes, cuts and insertions end in values or typed errors', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.nat(seeds.length - 1),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }),
          fc.option(fc.nat()),
          fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 64 }))),
          async (which, flips, cutAt, insert) => {
            const seed = seeds[which]!;
            let bytes = Buffer.from(seed.subarray(0, Math.min(seed.length, 20000)));
            for (const [pos, v] of flips) bytes[pos % bytes.length] = v;
            if (insert) {
              const at = insert[0] % bytes.length;
              bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(insert[1]), bytes.subarray(at)]);
            }
            if (cutAt !== null) bytes = bytes.subarray(0, cutAt % (bytes.length + 1));
            await pipeline(bytes);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
