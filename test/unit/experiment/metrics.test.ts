import { expect } from 'chai';
import { idealFctUs, jainIndex, percentile, PAYLOAD_EFFICIENCY, sizeBins, summarize, tenantSharesOverTime, transferTimes, type FlowResult, type ReceivedSample } from '../../../experiment/metrics.js';

function flow(p: Partial<FlowResult> & { id: number }): FlowResult {
  return { scheme: 'x', src: 'h1', dst: 'h3', sizeBytes: 1000, nominalBytes: 1000, startUs: 0, fctUs: 1000, idealUs: 500,
    slowdown: 2, transfer: '', tenant: '', completed: true, reason: '', sport: 0, ...p };
}

describe('experiment metrics', () => {
  it('ideal FCT: size at the goodput of the bottleneck plus one base RTT, two for a fresh connection', () => {
    // 125,000 bytes = 1 Mbit at 10 Mbit/s: 0.1 s of line rate, ÷ 1448/1514 payload efficiency
    const kept = idealFctUs({ sizeBytes: 125_000, bottleneckBps: 10e6, baseRttUs: 400, fresh: false });
    expect(kept).to.be.closeTo(100_000 / PAYLOAD_EFFICIENCY + 400, 1e-6);
    expect(kept).to.be.closeTo(104_558.0 + 400, 1);
    expect(idealFctUs({ sizeBytes: 125_000, bottleneckBps: 10e6, baseRttUs: 400, fresh: true })).to.be.closeTo(kept + 400, 1e-6);
  });

  it('percentiles by nearest rank; p99 of 100 samples is the 99th smallest', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 99)).to.equal(99);
    expect(percentile(xs, 50)).to.equal(50);
    expect(percentile([3], 99)).to.equal(3);
    expect(Number.isNaN(percentile([], 50))).to.equal(true);
  });

  it('size bins from edges', () => {
    expect(sizeBins([100e3, 10e6]).map((b) => b.label)).to.deep.equal(['≤ 100 KB', '100 KB–10 MB', '> 10 MB']);
  });

  it('summary by hand: bins, censored timeouts kept in mean and p99, reasons counted', () => {
    const flows = [
      flow({ id: 0, nominalBytes: 50e3, fctUs: 2000, slowdown: 2 }),
      flow({ id: 1, nominalBytes: 80e3, fctUs: 4000, slowdown: 4 }),
      flow({ id: 2, nominalBytes: 90e3, fctUs: 30_000, slowdown: 30, completed: false, reason: 'timeout' }),
      flow({ id: 3, nominalBytes: 5e6, fctUs: 1_000_000, slowdown: 1.5 }),
    ];
    const s = summarize('ecmp', flows, [100e3, 10e6]);
    expect(s.flows).to.equal(4);
    expect(s.completed).to.equal(3);
    expect(s.reasons).to.deep.equal({ timeout: 1 });
    const small = s.bins[0]!;
    expect(small.count).to.equal(3);
    expect(small.notCompleted).to.equal(1);
    expect(small.meanFctMs).to.be.closeTo((2 + 4 + 30) / 3, 1e-9);
    expect(small.meanSlowdown).to.be.closeTo(12, 1e-9);
    expect(small.p99Slowdown).to.equal(30);
    expect(s.bins[1]!.count).to.equal(1);
    expect(s.bins[2]!.count).to.equal(0);
    expect(s.meanSlowdown).to.be.closeTo((2 + 4 + 30 + 1.5) / 4, 1e-9);
  });

  it('TCT is the last end minus the first start of a transfer', () => {
    const flows = [
      flow({ id: 0, transfer: 't0', startUs: 1000, fctUs: 5000 }),
      flow({ id: 1, transfer: 't0', startUs: 1000, fctUs: 9000 }),
      flow({ id: 2, transfer: 't1', startUs: 20_000, fctUs: 3000 }),
    ];
    const t = transferTimes(flows);
    expect(t.get('t0')).to.equal(9);
    expect(t.get('t1')).to.equal(3);
    const s = summarize('fca', flows, [100e3]);
    expect(s.meanTctMs).to.equal(6);
    expect(s.p99TctMs).to.equal(9);
  });

  it("Jain's index: 1 for equal, 1/n for one taker; tenant shares weighted", () => {
    expect(jainIndex([5, 5, 5])).to.equal(1);
    expect(jainIndex([1, 0, 0, 0])).to.equal(0.25);
    expect(jainIndex([1, 3])).to.be.closeTo(16 / 20, 1e-12);
    // tenant a: 1 MB in 1 s; b: 3 MB in 1 s → shares 0.25/0.75; weighted 1:3 → Jain 1
    const flows = [
      flow({ id: 0, tenant: 'a', sizeBytes: 1e6, startUs: 0, fctUs: 1e6 }),
      flow({ id: 1, tenant: 'b', sizeBytes: 3e6, startUs: 0, fctUs: 1e6 }),
    ];
    const s = summarize('flowtune', flows, [100e3], { a: 1, b: 3 });
    expect(s.tenants.map((t) => t.share)).to.deep.equal([0.25, 0.75]);
    expect(s.tenants[0]!.throughputBps).to.equal(8e6);
    expect(s.jain).to.be.closeTo(1, 1e-12);
  });

  it('tenant shares over time spread each flow over its lifetime', () => {
    const flows = [flow({ id: 0, tenant: 'a', sizeBytes: 2000, startUs: 0, fctUs: 2e6 }), flow({ id: 1, tenant: 'b', sizeBytes: 1000, startUs: 1e6, fctUs: 1e6 })];
    const rows = tenantSharesOverTime(flows, 1000);
    const at = (t: number, n: string) => rows.find((r) => r.tS === t && r.tenant === n)!;
    expect(at(0, 'a').share).to.equal(1);
    expect(at(1, 'a').bps).to.equal(8000);
    expect(at(1, 'b').share).to.equal(0.5);
  });
});

describe('experiment metrics: tenant shares in the contended window', () => {
  it('counts only the time when every tenant is active', () => {
    // a: 1 flow of 1 MB over [0, 2 s]; b: 1 flow of 3 MB over [0, 1 s] → window [0, 1 s]: a 0.5 MB, b 3 MB
    const flows = [
      flow({ id: 0, tenant: 'a', sizeBytes: 1e6, startUs: 0, fctUs: 2e6 }),
      flow({ id: 1, tenant: 'b', sizeBytes: 3e6, startUs: 0, fctUs: 1e6 }),
    ];
    const s = summarize('maxmin', flows, [100e3], { a: 1, b: 3 });
    expect(s.tenants.map((t) => t.throughputBps)).to.deep.equal([4e6, 24e6]);
    expect(s.tenants[0]!.share).to.be.closeTo(0.5 / 3.5, 1e-12);
  });

  it("with the receivers' counts: the bytes that arrived inside the window, not each flow's bytes spread over its FCT", () => {
    // a: one 2 MB flow over [0, 4 s] that waited: 0.25 MB/s while b was sending, 1.5 MB/s after b's last byte.
    // b: one 3 MB flow over [0, 2 s]. Window = [0, 2 s]. Spread, a gets 1 MB of it (share 0.25);
    // by what arrived, a got 0.5 MB (share 0.5 / 3.5).
    const flows = [
      flow({ id: 0, tenant: 'a', sizeBytes: 2e6, startUs: 0, fctUs: 4e6 }),
      flow({ id: 1, tenant: 'b', sizeBytes: 3e6, startUs: 0, fctUs: 2e6 }),
    ];
    const rx = (atS: number, tenant: string, bytes: number): ReceivedSample => ({ scheme: 'flowtune', atUs: atS * 1e6, tenant, bytes });
    const received = [
      rx(1, 'a', 0.25e6), rx(2, 'a', 0.25e6), rx(3, 'a', 0.75e6), rx(4, 'a', 0.75e6),
      rx(1, 'b', 1.5e6), rx(2, 'b', 1.5e6),
    ];
    const spread = summarize('flowtune', flows, [100e3], { a: 1, b: 3 });
    expect(spread.tenants.map((t) => [t.share, t.measured])).to.deep.equal([[0.25, 'spread'], [0.75, 'spread']]);
    const counted = summarize('flowtune', flows, [100e3], { a: 1, b: 3 }, received);
    expect(counted.tenants.map((t) => t.measured)).to.deep.equal(['receiver', 'receiver']);
    expect(counted.tenants.map((t) => t.throughputBps)).to.deep.equal([2e6, 12e6]); // 0.5 MB and 3 MB in 2 s
    expect(counted.tenants[0]!.share).to.be.closeTo(0.5 / 3.5, 1e-12);
    // over time, from the counts: each count falls in the bin where its period ends (1 s bins from the first start)
    const rows = tenantSharesOverTime(flows, 1000, received);
    const at = (t: number, n: string) => rows.find((r) => r.tS === t && r.tenant === n)!;
    expect(at(1, 'a').share).to.be.closeTo(0.25 / 1.75, 1e-12);
    expect(at(3, 'a').bps).to.equal(6e6);
    expect(at(3, 'b').bps).to.equal(0);
  });
});
