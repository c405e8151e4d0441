/**
 * Small statistics for the end-to-end tests and the demo: Pearson's χ² goodness-of-fit test against the
 * uniform distribution, with the exact p-value from the regularized upper incomplete gamma function
 * (p = Q(k/2, χ²/2) for k degrees of freedom), and a seeded PRNG.
 */
import { mulberry32 } from '../../testing/random.js';

export interface ChiSquare {
  /** the statistic Σ (observed − expected)² / expected */
  readonly chi2: number;
  /** degrees of freedom: categories − 1 */
  readonly df: number;
  /** P(X ≥ chi2) for X ~ χ²(df) */
  readonly p: number;
  readonly expected: number;
}

/** χ² test of `counts` against a uniform distribution over its categories (at least 2). */
export function chiSquareUniform(counts: readonly number[]): ChiSquare {
  if (counts.length < 2) throw new RangeError('χ² needs at least two categories');
  const n = counts.reduce((a, b) => a + b, 0);
  if (n <= 0) throw new RangeError('χ² needs at least one observation');
  const expected = n / counts.length;
  const chi2 = counts.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
  const df = counts.length - 1;
  return { chi2, df, p: chiSquareSurvival(chi2, df), expected };
}

/** P(X ≥ x) for X ~ χ²(df). */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

/**
 * ln Γ(z) for z > 0: the recurrence Γ(z) = Γ(z + 1) / z up to z ≥ 10, then Stirling's series to the z^-9
 * term (absolute error below 1e-14 there).
 */
export function logGamma(z: number): number {
  if (!(z > 0)) throw new RangeError('logGamma needs z > 0');
  let shift = 0;
  while (z < 10) {
    shift -= Math.log(z);
    z += 1;
  }
  const z2 = 1 / (z * z);
  const series = (1 / 12 - z2 * (1 / 360 - z2 * (1 / 1260 - z2 * (1 / 1680 - z2 / 1188)))) / z;
  return shift + (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + series;
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a): series for x < a + 1, else continued fraction. */
export function gammaQ(a: number, x: number): number {
  if (x < 0 || a <= 0) throw new RangeError('gammaQ needs a > 0 and x ≥ 0');
  if (x === 0) return 1;
  const lnPre = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // P(a, x) = e^{-x} x^a / Γ(a) · Σ x^n / (a (a+1) … (a+n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(lnPre);
  }
  // Lentz's method for the continued fraction of Γ(a, x)
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(lnPre) * h;
}

/** mulberry32 (see random.ts). */
export const seededRandom = mulberry32;
