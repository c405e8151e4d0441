/** The χ² helper of the end-to-end tests, against textbook critical values. */
import { expect } from 'chai';
import { resumedAfter, throughputGap } from '../../testing/iperf.js';
import { chiSquareSurvival, chiSquareUniform, gammaQ, logGamma, seededRandom } from '../helpers/stats.js';

describe('test helpers: χ² against uniform', () => {
  it('ln Γ matches known values', () => {
    expect(logGamma(1)).to.be.closeTo(0, 1e-12);
    expect(logGamma(0.5)).to.be.closeTo(Math.log(Math.sqrt(Math.PI)), 1e-12);
    expect(logGamma(10)).to.be.closeTo(Math.log(362880), 1e-10);
  });

  it('p-values at the tabulated critical values (df 1, 2, 3, 10)', () => {
    expect(chiSquareSurvival(3.841459, 1)).to.be.closeTo(0.05, 1e-6);
    expect(chiSquareSurvival(6.634897, 1)).to.be.closeTo(0.01, 1e-6);
    expect(chiSquareSurvival(5.991465, 2)).to.be.closeTo(0.05, 1e-6);
    expect(chiSquareSurvival(9.21034, 2)).to.be.closeTo(0.01, 1e-6);
    expect(chiSquareSurvival(11.344867, 3)).to.be.closeTo(0.01, 1e-6);
    expect(chiSquareSurvival(18.307038, 10)).to.be.closeTo(0.05, 1e-6);
    expect(chiSquareSurvival(0, 3)).to.equal(1);
  });

  it('closed forms: df 2 is exp(−x/2); Q(1, x) = e^−x', () => {
    for (const x of [0.1, 1, 4, 20]) {
      expect(chiSquareSurvival(x, 2)).to.be.closeTo(Math.exp(-x / 2), 1e-12);
      expect(gammaQ(1, x)).to.be.closeTo(Math.exp(-x), 1e-12);
    }
  });

  it('uniform counts give χ² 0 and p 1; a lopsided split is rejected', () => {
    expect(chiSquareUniform([32, 32])).to.deep.include({ chi2: 0, df: 1, p: 1, expected: 32 });
    const r = chiSquareUniform([40, 24]); // χ² = 4, df 1 → p ≈ 0.0455
    expect(r.chi2).to.be.closeTo(4, 1e-12);
    expect(r.p).to.be.closeTo(0.0455, 1e-4);
    expect(chiSquareUniform([64, 0, 0]).p).to.be.below(1e-20);
  });

  it('seeded PRNG repeats and stays in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (let i = 0; i < 100; i++) {
      const x = a();
      expect(x).to.equal(b());
      expect(x).to.be.at.least(0).and.below(1);
    }
  });
});

describe('test helpers: iperf3 failover gap', () => {
  const iv = (start: number, mbit: number, len = 0.1) => ({ start, end: start + len, bytes: (mbit * 1e6 * len) / 8, bps: mbit * 1e6 });
  it('finds the longest stretch below 20% of the median, ignoring slow start and the partial tail', () => {
    const ivs = [iv(0, 1), iv(0.1, 1), iv(0.2, 40)];
    for (let t = 0.3; t < 1.95; t += 0.1) ivs.push(iv(Math.round(t * 10) / 10, 40));
    for (let t = 2.0; t < 2.75; t += 0.1) ivs.push(iv(Math.round(t * 10) / 10, 0)); // 8 intervals: 0.8 s
    for (let t = 2.8; t < 4.0; t += 0.1) ivs.push(iv(Math.round(t * 10) / 10, 45));
    ivs.push(iv(4.0, 0, 0.005));
    const g = throughputGap(ivs);
    expect(g.gapS).to.be.closeTo(0.8, 1e-9);
    expect(g.gapStartS).to.be.closeTo(2.0, 1e-9);
    expect(g.baselineBps).to.equal(40e6);
    expect(g.beforeBps).to.be.closeTo(40e6, 1);
    expect(g.afterBps).to.be.closeTo(45e6, 1);
    expect(resumedAfter(ivs, 1.95, g.baselineBps)).to.be.closeTo(0.85, 1e-9);
    expect(resumedAfter(ivs, 1.0, g.baselineBps)).to.equal(0);
    expect(resumedAfter(ivs.slice(0, 25), 1.95, g.baselineBps)).to.equal(Infinity);
  });
  it('reports no gap for steady traffic', () => {
    const ivs = Array.from({ length: 20 }, (_, i) => iv(i * 0.1, 30));
    expect(throughputGap(ivs).gapS).to.equal(0);
  });
});
