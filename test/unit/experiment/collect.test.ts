import { expect } from 'chai';
import fc from 'fast-check';
import { collectFlows, collectReceived, fromCsv, parseEvents, receivedFromCsv, receivedToCsv, toCsv, type CollectOptions } from '../../../experiment/collect.js';
import { encodeHeader, FlowReceiver, HEADER_BYTES } from '../../../experiment/traffic-protocol.js';
import type { FlowSpec } from '../../../experiment/workload.js';

const opts: CollectOptions = { scheme: 'ecmp', bottleneckBps: 10e6, baseRttUs: 1000, fresh: false, timeoutFactor: 20, minTimeoutMs: 100, startAtUs: 1e12 };
const plan: FlowSpec[] = [
  { id: 0, src: 'h1', dst: 'h3', startUs: 0, sizeBytes: 12_500, nominalBytes: 125_000 },
  { id: 1, src: 'h1', dst: 'h3', startUs: 10, sizeBytes: 12_500, nominalBytes: 125_000, transfer: 't0' },
  { id: 2, src: 'h2', dst: 'h4', startUs: 20, sizeBytes: 12_500, nominalBytes: 125_000, tenant: 'a' },
  { id: 3, src: 'h2', dst: 'h4', startUs: 30, sizeBytes: 12_500, nominalBytes: 125_000 },
];

describe('experiment traffic protocol and result collection', () => {
  it('the receiver reports each flow once all its bytes are in, however the stream is cut', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: HEADER_BYTES, max: 5000 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
      (sizes, cuts) => {
        const stream = Buffer.concat(sizes.flatMap((s, i) => [encodeHeader(i + 7, s), Buffer.alloc(s - HEADER_BYTES)]));
        const rx = new FlowReceiver();
        const done: [number, number, number][] = [];
        let off = 0;
        let k = 0;
        while (off < stream.length) {
          const n = Math.min(cuts[k++ % cuts.length]!, stream.length - off);
          rx.push(stream.subarray(off, off + n), (id, bytes) => done.push([id, bytes, off + n]));
          off += n;
        }
        expect(done.map(([id, b]) => [id, b])).to.deep.equal(sizes.map((s, i) => [i + 7, s]));
        // a flow is reported in the chunk holding its last byte, never before
        let end = 0;
        sizes.forEach((s, i) => {
          end += s;
          expect(done[i]![2]).to.be.at.least(end);
        });
      }));
    expect(() => new FlowReceiver().push(Buffer.alloc(16), () => undefined)).to.throw(/magic/);
  });

  it("the receiver's byte pieces of each flow sum to its size, and never run ahead of the bytes received", () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: HEADER_BYTES, max: 5000 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
      (sizes, cuts) => {
        const stream = Buffer.concat(sizes.flatMap((s, i) => [encodeHeader(i, s), Buffer.alloc(s - HEADER_BYTES)]));
        const rx = new FlowReceiver();
        const got = new Array<number>(sizes.length).fill(0);
        let off = 0;
        let k = 0;
        let credited = 0;
        while (off < stream.length) {
          const n = Math.min(cuts[k++ % cuts.length]!, stream.length - off);
          rx.push(stream.subarray(off, off + n), () => undefined, (id, bytes) => { got[id]! += bytes; credited += bytes; });
          off += n;
          expect(credited).to.be.at.most(off).and.at.least(off - HEADER_BYTES); // a header is credited once whole
        }
        expect(got).to.deep.equal(sizes);
      }));
  });

  it("collects the receivers' per-tenant counts as sorted samples; received.csv round-trips", () => {
    const text = [
      JSON.stringify({ ev: 'rx', atUs: 300, byTenant: { b: 10, a: 5 } }),
      JSON.stringify({ ev: 'rx', atUs: 100, byTenant: { a: 7 } }),
      JSON.stringify({ ev: 'rx', atUs: 200, byTenant: { a: -1, b: 'x' } }), // malformed counts: skipped
      JSON.stringify({ ev: 'end', id: 0, atUs: 150, bytes: 12_500 }),
    ].join('\n');
    const samples = collectReceived('flowtune', parseEvents(text));
    expect(samples).to.deep.equal([
      { scheme: 'flowtune', atUs: 100, tenant: 'a', bytes: 7 },
      { scheme: 'flowtune', atUs: 300, tenant: 'a', bytes: 5 },
      { scheme: 'flowtune', atUs: 300, tenant: 'b', bytes: 10 },
    ]);
    expect(receivedFromCsv(receivedToCsv(samples))).to.deep.equal(samples);
  });

  it('joins starts and ends; censors late, missing and failed flows at their timeout with a reason', () => {
    const t0 = opts.startAtUs;
    const text = [
      JSON.stringify({ ev: 'start', id: 0, atUs: t0 + 5, sport: 20000 }),
      JSON.stringify({ ev: 'end', id: 0, atUs: t0 + 5 + 20_000, bytes: 12_500 }),
      JSON.stringify({ ev: 'start', id: 1, atUs: t0 + 12, sport: 20001 }),
      JSON.stringify({ ev: 'end', id: 1, atUs: t0 + 12 + 10_000_000, bytes: 12_500 }), // after its timeout
      JSON.stringify({ ev: 'start', id: 2, atUs: t0 + 20, sport: 20002 }),
      JSON.stringify({ ev: 'error', id: 2, message: 'ECONNREFUSED' }),
      '{"ev":"end","id":3,"atU', // torn line
    ].join('\n');
    const rows = collectFlows(plan, parseEvents(text), opts);
    expect(rows).to.have.length(4);
    const ideal = 12_500 * 8 / (10e6 * 1448 / 1514) * 1e6 + 1000;
    expect(rows[0]!).to.include({ completed: true, reason: '', fctUs: 20_000, sport: 20000 });
    expect(rows[0]!.idealUs).to.be.closeTo(ideal, 1e-6);
    expect(rows[0]!.slowdown).to.be.closeTo(20_000 / ideal, 1e-9);
    const timeout = Math.max(20 * ideal, 100_000);
    expect(rows[1]!).to.include({ completed: false, reason: 'timeout', transfer: 't0' });
    expect(rows[1]!.fctUs).to.be.closeTo(timeout, 1e-6);
    expect(rows[2]!).to.include({ completed: false, reason: 'error: ECONNREFUSED', tenant: 'a' });
    expect(rows[3]!).to.include({ completed: false, reason: 'not started', startUs: t0 + 30 });
  });

  it('flows.csv round-trips', () => {
    const rows = collectFlows(plan, [], opts).map((r, i) => ({ ...r, reason: i === 0 ? 'error: a, "b"' : r.reason }));
    const back = fromCsv(toCsv(rows));
    expect(back.map((r) => [r.id, r.reason, r.completed, r.tenant])).to.deep.equal(rows.map((r) => [r.id, r.reason, r.completed, r.tenant]));
    expect(back[0]!.fctUs).to.be.closeTo(rows[0]!.fctUs, 1e-3);
  });
});

describe('experiment compare', () => {
  it('says whether flow lists are identical and gives the spread of each metric', async () => {
    const { formatCompare, spreads } = await import('../../../experiment/compare.js');
    const { summarize } = await import('../../../experiment/metrics.js');
    const mk = (fct: number) => [collectFlows(plan, [], opts)[0]!].map((r) => ({ ...r, completed: true, fctUs: fct, slowdown: fct / r.idealUs }));
    const runs = [1000, 2000, 4000].map((fct, i) => ({ dir: `r${i}`, plan: '[1]', summaries: [summarize('ecmp', mk(fct), [100e3])] }));
    const s = spreads(runs).find((x) => x.metric === '> 100 KB: mean FCT ms')!;
    expect(s.values).to.deep.equal([1, 2, 4]);
    expect(s.median).to.equal(2);
    expect(s.relSpread).to.equal(1.5);
    expect(formatCompare(runs)).to.match(/identical in all 3 runs/);
    expect(formatCompare([...runs.slice(0, 2), { ...runs[2]!, plan: '[2]' }])).to.match(/DIFFER/);
  });
});
