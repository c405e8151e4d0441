/**
 * `rivulet trace` (cli/commands/trace.ts) on captures built byte by byte: flow sizes count each TCP byte
 * once (a retransmission does not add), flowlets split at idle gaps longer than --gap-us, the
 * distribution and the thresholds it implies, JSON output, and exit status 2 with one line for an
 * unreadable file or a bad option.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrace, type TraceReport } from '../../../cli/commands/trace.js';
import { splitFlowlets } from '../../../apps/qos/thresholds/index.js';
import { buildPcap, ethTcpFrame, type PcapRecord } from '../../../testing/pcap-builder.js';

const MSS = 1000;

/** A TCP connection from `src`:`port` to 10.0.0.9:80 sending `bytes` in MSS segments, starting at t0 µs. */
function connection(src: string, port: number, bytes: number, t0: number, opts: { pauseBefore?: number; pauseUs?: number; retransmit?: number } = {}): PcapRecord[] {
  const recs: PcapRecord[] = [];
  let t = t0;
  const isn = 1000;
  recs.push({ tsUs: t, data: ethTcpFrame({ src, dst: '10.0.0.9', srcPort: port, dstPort: 80, seq: isn, flags: 0x02 }) });
  recs.push({ tsUs: (t += 50), data: ethTcpFrame({ src: '10.0.0.9', dst: src, srcPort: 80, dstPort: port, seq: 5000, ack: isn + 1, flags: 0x12 }) });
  let off = 0;
  let seg = 0;
  while (off < bytes) {
    const len = Math.min(MSS, bytes - off);
    t += seg === opts.pauseBefore ? (opts.pauseUs ?? 0) : 100;
    const frame = ethTcpFrame({ src, dst: '10.0.0.9', srcPort: port, dstPort: 80, seq: isn + 1 + off, ack: 5001, payload: Buffer.alloc(len, 0x61) });
    recs.push({ tsUs: t, data: frame });
    if (seg === opts.retransmit) recs.push({ tsUs: (t += 100), data: frame });
    recs.push({ tsUs: t + 20, data: ethTcpFrame({ src: '10.0.0.9', dst: src, srcPort: 80, dstPort: port, seq: 5001, ack: isn + 1 + off + len }) });
    off += len;
    seg++;
  }
  return recs;
}

describe('cli: rivulet trace', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-trace-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (file: string, opts: Record<string, string | boolean> = {}): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runTrace(file, opts, (s) => (out += s), (s) => (err += s));
    return { code, out, err };
  };

  it('reports flow sizes (retransmissions once), flowlets split at the gap, the distribution and thresholds', async () => {
    const recs = [
      ...connection('10.0.0.1', 40001, 25_500, 1_000_000, { retransmit: 3 }),
      ...connection('10.0.0.2', 40002, 4_000, 1_200_000, { pauseBefore: 3, pauseUs: 2_000 }),
      ...connection('10.0.0.3', 40003, 100_000, 1_400_000),
    ].sort((a, b) => a.tsUs - b.tsUs);
    const file = join(dir, 'three.pcap');
    writeFileSync(file, buildPcap(recs));
    const r = await run(file, { json: true });
    expect(r.code, r.err).to.equal(0);
    const rep = JSON.parse(r.out) as TraceReport;
    const size = (port: number): number => rep.flows.find((f) => f.srcPort === port)!.bytes;
    expect([size(40001), size(40002), size(40003)]).to.deep.equal([25_500, 4_000, 100_000]);
    const f1 = rep.flows.find((f) => f.srcPort === 40001)!;
    expect(f1.capturedPayloadBytes).to.equal(26_500); // the retransmitted segment counted twice here
    const f2 = rep.flows.find((f) => f.srcPort === 40002)!;
    expect(f2.flowlets.map((f) => f.bytes)).to.deep.equal([3_000, 1_000]); // 2 ms idle > 500 µs
    expect(rep.flows.filter((f) => f.srcPort === 80).every((f) => f.bytes === 0)).to.equal(true); // ACK directions
    expect(rep.distribution!.count).to.equal(3);
    expect(rep.distribution!.percentiles['p50']).to.equal(25_500);
    expect(rep.distribution!.cdf[rep.distribution!.cdf.length - 1]).to.deep.equal({ bytes: 100_000, p: 1 });
    expect(rep.thresholds!.queues).to.equal(4);
    expect(rep.thresholds!.thresholds.length).to.be.within(1, 2); // three sizes: at most three queues are useful
    // a larger gap keeps flow 2 in one flowlet; text output names every flow
    const wide = JSON.parse((await run(file, { json: true, gapUs: '5000' })).out) as TraceReport;
    expect(wide.flows.find((f) => f.srcPort === 40002)!.flowlets).to.have.length(1);
    const text = await run(file);
    expect(text.out).to.match(/10\.0\.0\.3:40003\s+10\.0\.0\.9:80\s+100000/);
    expect(text.out).to.match(/PIAS demotion thresholds for 4 queues at load 0\.6/);
  });

  it('flowlets: split only at idle gaps longer than the gap; packets without payload ignored', () => {
    expect(splitFlowlets([0, 100, 700, 1300, 1301], [10, 10, 10, 0, 10], 500)).to.deep.equal([
      { startUs: 0, endUs: 100, packets: 2, bytes: 20 },
      { startUs: 700, endUs: 700, packets: 1, bytes: 10 },
      { startUs: 1301, endUs: 1301, packets: 1, bytes: 10 },
    ]);
  });

  it('exits 2 with one line for an unreadable file, a non-pcap file or a bad option', async () => {
    const notPcap = join(dir, 'text.pcap');
    writeFileSync(notPcap, 'hello, this is not a capture at all\n');
    const good = join(dir, 'three.pcap');
    const cases: [string, Record<string, string>][] = [
      [join(dir, 'missing.pcap'), {}], [dir, {}], [notPcap, {}],
      [good, { queues: '0' }], [good, { queues: '9' }], [good, { load: '1' }], [good, { load: 'x' }], [good, { gapUs: '-1' }], [good, { sizes: 'packets' }],
    ];
    for (const [file, opts] of cases) {
      const r = await run(file, opts);
      expect(r.code, `${file} ${JSON.stringify(opts)}`).to.equal(2);
      expect(r.out).to.equal('');
      expect(r.err.trimEnd().split('\n'), r.err).to.have.length(1);
      expect(r.err).to.match(/^rivulet trace: /);
    }
  });
});
