/**
 * Reading iperf3 interval reports: the longest stretch without traffic (a failover gap) and the rate
 * before and after it. Pure functions over {@link Iperf3Interval} lists (times in s, rates in bit/s).
 */
import type { Iperf3Interval } from './mininet.js';

export interface GapAnalysis {
  /** median rate of the full-length intervals, bit/s (the reference for "no traffic") */
  readonly baselineBps: number;
  /** longest run of consecutive intervals below `threshold × baseline`, s (0 when none) */
  readonly gapS: number;
  /** where that run starts and ends (s from the start of the test); undefined when no gap */
  readonly gapStartS?: number;
  readonly gapEndS?: number;
  /** mean rate of the intervals after the gap, bit/s (NaN when the gap runs to the end) */
  readonly afterBps: number;
  /** mean rate of the intervals before the gap, bit/s */
  readonly beforeBps: number;
}

/**
 * Finds the longest stretch of intervals whose rate is below `threshold` (default 0.2) of the median,
 * ignoring the first `skipS` seconds (slow start) and intervals shorter than 40% of the nominal length
 * (iperf3's trailing partial interval).
 */
export function throughputGap(intervals: readonly Iperf3Interval[], opts: { threshold?: number; skipS?: number } = {}): GapAnalysis {
  const threshold = opts.threshold ?? 0.2;
  const skipS = opts.skipS ?? 0.3;
  const lens = intervals.map((iv) => iv.end - iv.start);
  const nominal = median(lens);
  const usable = intervals.filter((iv) => iv.end - iv.start >= 0.4 * nominal && iv.start >= skipS - 1e-9);
  const baselineBps = median(usable.map((iv) => iv.bps));
  let best = { len: 0, from: -1, to: -1 };
  let runStart = -1;
  for (let i = 0; i <= usable.length; i++) {
    const low = i < usable.length && usable[i]!.bps < threshold * baselineBps;
    if (low && runStart < 0) runStart = i;
    if (!low && runStart >= 0) {
      const len = usable[i - 1]!.end - usable[runStart]!.start;
      if (len > best.len) best = { len, from: runStart, to: i - 1 };
      runStart = -1;
    }
  }
  const mean = (xs: readonly Iperf3Interval[]): number =>
    xs.length === 0 ? NaN : xs.reduce((s, iv) => s + iv.bytes * 8, 0) / xs.reduce((s, iv) => s + (iv.end - iv.start), 0);
  if (best.from < 0) return { baselineBps, gapS: 0, afterBps: mean(usable), beforeBps: mean(usable) };
  return {
    baselineBps,
    gapS: best.len,
    gapStartS: usable[best.from]!.start,
    gapEndS: usable[best.to]!.end,
    beforeBps: mean(usable.slice(0, best.from)),
    afterBps: mean(usable.slice(best.to + 1)),
  };
}

/**
 * How long after `eventS` (s from the start of the test) traffic was flowing again: 0 when no interval
 * in the 0.5 s after the event falls below `threshold × baseline`; otherwise the end of that low stretch
 * minus `eventS`. Infinity when traffic never came back.
 */
export function resumedAfter(intervals: readonly Iperf3Interval[], eventS: number, baselineBps: number, threshold = 0.2): number {
  const lens = intervals.map((iv) => iv.end - iv.start);
  const nominal = median(lens);
  const usable = intervals.filter((iv) => iv.end - iv.start >= 0.4 * nominal && iv.end > eventS);
  const low = (iv: Iperf3Interval): boolean => iv.bps < threshold * baselineBps;
  const first = usable.findIndex((iv) => low(iv));
  if (first < 0 || usable[first]!.start > eventS + 0.5) return 0;
  for (let i = first; i < usable.length; i++) if (!low(usable[i]!)) return Math.max(0, usable[i]!.start - eventS);
  return Infinity;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** bit/s → "12.3 Mbit/s" (1000-based). */
export function mbps(bps: number): string {
  return `${(bps / 1e6).toFixed(1)} Mbit/s`;
}
