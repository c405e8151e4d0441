/**
 * PIAS/Karuna priority thresholds (apps/qos/thresholds): the websearch thresholds at load 0.6 with 4
 * queues (PIAS's model; README.md "QoS" figures), the optimizer against an INDEPENDENT exhaustive search over a grid of
 * threshold sets (its own CDF reader, its own numerical integration of the moments, brute force over
 * every set), the model against closed forms, properties (fast-check) and the typed errors.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  expectedFct, fromCdfPoints, fromSamples, optimizeThresholds, parseCdf, queueModel, ThresholdError,
  type FlowSizeDistribution, type ThresholdErrorCode,
} from '../../../apps/qos/thresholds/index.js';

const WORKLOADS = fileURLToPath(new URL('../../../../test/fixtures/workloads/', import.meta.url));
const cdfText = (name: string): string => readFileSync(`${WORKLOADS}${name}.cdf`, 'utf8');
const measure = (label: string, text: string): void => console.log(`      [measure] ${label}: ${text}`);

// ------------------------------------------------------------------ the independent reference

/** The CDF file's points, read without the module under test. */
function knots(text: string): [number, number][] {
  return text.split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
}

/**
 * Flow sizes as a fine discrete mixture: each linear CDF segment cut into `cells` equal-probability cells,
 * each cell's mass at its midpoint. Moments by direct summation; E[T] from the per-size FCT
 * T(x) = (W(α_j) + x)/(1 − ρ(α_{j−1})) averaged numerically.
 */
class Reference {
  private readonly xs: number[] = [];
  private readonly ws: number[] = [];
  readonly lambda: number;
  constructor(pts: [number, number][], readonly load: number, cells = 4000) {
    let [px, pp] = [0, 0];
    for (const [x, p] of pts) {
      if (p > pp) {
        if (x === px) {
          this.xs.push(x);
          this.ws.push(p - pp);
        } else {
          for (let c = 0; c < cells; c++) {
            this.xs.push(px + ((c + 0.5) / cells) * (x - px));
            this.ws.push((p - pp) / cells);
          }
        }
      }
      [px, pp] = [x, p];
    }
    const mean = this.xs.reduce((s, x, i) => s + x * this.ws[i]!, 0);
    this.lambda = load / mean;
  }
  /** F, M1, ρ, W at a (a = Infinity allowed) */
  at(a: number): { F: number; M1: number; rho: number; W: number } {
    let F = 0;
    let M1 = 0;
    let e1 = 0;
    let e2 = 0;
    this.xs.forEach((x, i) => {
      const w = this.ws[i]!;
      const t = Math.min(x, a);
      e1 += w * t;
      e2 += w * t * t;
      if (x <= a) {
        F += w;
        M1 += w * x;
      }
    });
    const rho = this.lambda * e1;
    return { F, M1, rho, W: (this.lambda * e2) / (2 * (1 - rho)) };
  }
  /** E[T] from precomputed points (α_0 = 0 first, α_K = ∞ last). */
  static objective(pts: readonly { F: number; M1: number; rho: number; W: number }[]): number {
    let sum = 0;
    for (let j = 1; j < pts.length; j++) {
      const lo = pts[j - 1]!;
      const hi = pts[j]!;
      sum += ((hi.F - lo.F) * hi.W + (hi.M1 - lo.M1)) / (1 - lo.rho);
    }
    return sum;
  }
  fct(thresholds: readonly number[]): number {
    return Reference.objective([this.at(0), ...thresholds.map((a) => this.at(a)), this.at(Infinity)]);
  }
}

/** Every increasing k-subset of `grid`, the best E[T] (brute force). */
function exhaustive(ref: Reference, grid: readonly number[], k: number): { best: number; thresholds: number[]; sets: number } {
  const pts = grid.map((a) => ref.at(a));
  const origin = ref.at(0);
  const top = ref.at(Infinity);
  let best = Infinity;
  let arg: number[] = [];
  let sets = 0;
  const idx: number[] = [];
  const rec = (from: number): void => {
    if (idx.length === k) {
      sets++;
      const v = Reference.objective([origin, ...idx.map((i) => pts[i]!), top]);
      if (v < best) {
        best = v;
        arg = idx.map((i) => grid[i]!);
      }
      return;
    }
    for (let i = from; i < grid.length; i++) {
      idx.push(i);
      rec(i + 1);
      idx.pop();
    }
  };
  rec(0);
  return { best, thresholds: arg, sets };
}

/** The knots below the largest size plus `n` log-spaced sizes between 1 kB and the largest size. */
function searchGrid(pts: [number, number][], n: number): number[] {
  const max = pts[pts.length - 1]![0];
  const g = new Set(pts.map(([x]) => x).filter((x) => x > 0 && x < max));
  for (let i = 0; i < n; i++) g.add(Math.round(1000 * Math.pow(max / 1000, i / n)));
  return [...g].sort((a, b) => a - b);
}

// ------------------------------------------------------------------------------------------ tests

describe('qos/thresholds: PIAS demotion thresholds', () => {
  it('websearch.cdf, load 0.6, 4 queues: thresholds reported (acceptance 3)', () => {
    const d = parseCdf(cdfText('websearch'));
    const r = optimizeThresholds(d, { queues: 4, load: 0.6 });
    measure('websearch ρ=0.6 K=4', `thresholds ${r.thresholds.join(', ')} bytes; E[FCT] ${r.objective.toExponential(6)} byte-times ` +
      `= ${(r.objective / r.meanFlowBytes).toFixed(4)} × E[S]/C (FIFO ${(r.fifoObjective / r.meanFlowBytes).toFixed(4)}); ` +
      `flows per queue ${r.shares.map((s) => (100 * s.flowFraction).toFixed(1) + '%').join(' / ')}; grid ${r.gridPoints} points`);
    expect(r.thresholds).to.have.length(3);
    expect(r.objective).to.be.below(r.fifoObjective);
    expect(r.objective).to.be.at.most(r.gridObjective * (1 + 1e-12));
  });

  for (const [workload, load, queues, cells, extra] of [
    ['websearch', 0.6, 4, 4000, 45], ['websearch', 0.6, 2, 4000, 200], ['websearch', 0.8, 3, 4000, 80], ['datamining', 0.6, 4, 1000, 45],
  ] as const) {
    it(`${workload}, load ${load}, ${queues} queues: within 1% of an independent exhaustive grid search, never worse by more than 1%`, function () {
      this.timeout(120_000);
      const text = cdfText(workload);
      const pts = knots(text);
      const ref = new Reference(pts, load, cells);
      const grid = searchGrid(pts, extra);
      const ex = exhaustive(ref, grid, queues - 1);
      const r = optimizeThresholds(parseCdf(text), { queues, load });
      const mine = ref.fct(r.thresholds); // the optimizer's thresholds, evaluated by the reference
      const gap = (mine - ex.best) / ex.best;
      measure(`${workload} ρ=${load} K=${queues}`, `optimizer ${r.thresholds.join(',')} → ${mine.toExponential(6)} (reported ${r.objective.toExponential(6)}); ` +
        `grid best over ${ex.sets} sets of ${grid.length} sizes ${ex.thresholds.join(',')} → ${ex.best.toExponential(6)}; gap ${(100 * gap).toFixed(4)}%`);
      expect(Math.abs(gap), 'within 1% of the grid optimum').to.be.below(0.01);
      expect(mine, 'never worse than the grid optimum by more than 1%').to.be.at.most(ex.best * 1.01);
      // the module's closed-form moments agree with the numerical reference
      expect(Math.abs(r.objective - mine) / mine).to.be.below(1e-3);
    });
  }

  it('model: one queue is M/G/1 FIFO (Pollaczek–Khinchine); a two-size example by hand', () => {
    const d = parseCdf(cdfText('websearch'));
    const m = queueModel(d, 0.6);
    const pk = (m.lambda * d.secondMoment) / (2 * (1 - 0.6)) + d.meanBytes;
    expect(expectedFct(m, [])).to.be.closeTo(pk, pk * 1e-12);
    // sizes 1 and 9 bytes, half each: E[S] = 5, ρ = 0.5 → λ = 0.1. Threshold 1:
    // queue 1: W(1) = λ·E[min(S,1)²]/(2(1−ρ(1))) = 0.1·1/(2·0.9) = 1/18; T(1) = W(1) + 1.
    // queue 2: W(∞) = 0.1·41/(2·0.5) = 4.1; T(9) = (4.1 + 9)/(1 − 0.1).
    const two = fromSamples([1, 9]);
    const m2 = queueModel(two, 0.5);
    const want = 0.5 * (1 / 18 + 1) + 0.5 * ((4.1 + 9) / 0.9);
    expect(expectedFct(m2, [1])).to.be.closeTo(want, 1e-12);
    expect(optimizeThresholds(two, { queues: 2, load: 0.5 }).thresholds).to.deep.equal([1]);
  });

  it('properties: increasing whole-byte thresholds inside the support, K = 1 gives none, more queues never worse', function () {
    this.timeout(120_000);
    const piecewise = fc
      .record({
        xs: fc.uniqueArray(fc.integer({ min: 1, max: 50_000_000 }), { minLength: 1, maxLength: 6 }),
        ps: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
        first: fc.constantFrom(0, 0.2),
      })
      .map(({ xs, ps, first }) => {
        const sizes = [...xs].sort((a, b) => a - b);
        const cum: number[] = [];
        let s = 0;
        const tot = ps.slice(0, sizes.length).reduce((a, b) => a + b, 0);
        for (let i = 0; i < sizes.length; i++) cum.push((s += ps[i]! / tot));
        cum[cum.length - 1] = 1;
        return fromCdfPoints([{ bytes: 0, p: 0 }, ...sizes.map((b, i) => ({ bytes: b, p: first + (1 - first) * cum[i]! }))].filter((p, i, a) => i === 0 || p.bytes > a[i - 1]!.bytes || p.p > a[i - 1]!.p));
      });
    const empirical = fc.array(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 1, maxLength: 40 }).map((xs) => fromSamples(xs));
    const check = (d: FlowSizeDistribution, load: number): void => {
      let prev = Infinity;
      for (let K = 1; K <= 8; K++) {
        const r = optimizeThresholds(d, { queues: K, load, gridPoints: 300 });
        expect(r.thresholds.length).to.be.at.most(K - 1);
        if (K === 1) expect(r.thresholds).to.deep.equal([]);
        r.thresholds.forEach((a, i) => {
          expect(Number.isInteger(a)).to.equal(true);
          expect(a).to.be.greaterThan(i === 0 ? 0 : r.thresholds[i - 1]!);
          expect(a).to.be.lessThan(d.maxBytes);
        });
        expect(r.objective).to.be.at.most(prev * (1 + 1e-12));
        expect(r.objective).to.be.at.most(r.fifoObjective * (1 + 1e-12));
        expect(r.objective).to.be.closeTo(expectedFct(queueModel(d, load), r.thresholds), r.objective * 1e-12);
        prev = r.objective;
      }
    };
    fc.assert(fc.property(piecewise, fc.double({ min: 0.05, max: 0.95, noNaN: true }), (d, load) => check(d, load)), { numRuns: 25, seed: 4 });
    fc.assert(fc.property(empirical, fc.double({ min: 0.05, max: 0.95, noNaN: true }), (d, load) => check(d, load)), { numRuns: 25, seed: 5 });
  });

  it('is deterministic', () => {
    const d = parseCdf(cdfText('datamining'));
    expect(optimizeThresholds(d, { queues: 5, load: 0.7 })).to.deep.equal(optimizeThresholds(d, { queues: 5, load: 0.7 }));
  });

  it('typed errors: bad CDFs, K outside 1..8, load outside (0, 1)', () => {
    const code = (f: () => unknown): ThresholdErrorCode | undefined => {
      try {
        f();
      } catch (e) {
        if (e instanceof ThresholdError) return e.code;
        throw e;
      }
      return undefined;
    };
    expect(code(() => parseCdf('# nothing\n\n'))).to.equal('CDF_EMPTY');
    expect(code(() => parseCdf('0 0\n100 0.5\n50 1\n'))).to.equal('CDF_NOT_MONOTONE');
    expect(code(() => parseCdf('0 0\n100 0.7\n200 0.5\n300 1\n'))).to.equal('CDF_NOT_MONOTONE');
    expect(code(() => parseCdf('0 0\n100 1.5\n'))).to.equal('CDF_PROBABILITY_RANGE');
    expect(code(() => parseCdf('0 -0.1\n100 1\n'))).to.equal('CDF_PROBABILITY_RANGE');
    expect(code(() => parseCdf('0 0\n100 0.9\n'))).to.equal('CDF_INCOMPLETE');
    expect(code(() => parseCdf('-5 0\n100 1\n'))).to.equal('CDF_NEGATIVE_SIZE');
    expect(code(() => parseCdf('0 0\n100 one\n'))).to.equal('CDF_PARSE');
    expect(code(() => parseCdf('0 1\n'))).to.equal('CDF_EMPTY');
    expect(code(() => fromSamples([0, -3]))).to.equal('CDF_EMPTY');
    const bad = (() => {
      try {
        parseCdf('# c\n0 0\n100 0.5\n50 1\n');
      } catch (e) {
        return e as ThresholdError;
      }
      return undefined;
    })();
    expect(bad?.line).to.equal(4);
    const d = parseCdf(cdfText('websearch'));
    for (const queues of [0, 9, 2.5, NaN]) expect(code(() => optimizeThresholds(d, { queues, load: 0.5 }))).to.equal('BAD_QUEUE_COUNT');
    for (const load of [0, 1, -0.1, 1.5, NaN]) expect(code(() => optimizeThresholds(d, { queues: 4, load }))).to.equal('BAD_LOAD');
  });
});
