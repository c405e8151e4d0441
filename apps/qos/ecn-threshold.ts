/**
 * The ECN marking threshold of a port from its speed (DCTCP's K scales with the link's bandwidth-delay
 * product; ARCHITECTURE.md "Commitments to operators" 4): interpolated from the configured
 * `qos.ecn.bySpeed` points.
 */
import { parseBitRate } from '../../lib/bit-rate.js';

/**
 * DCTCP's K for a link speed (Karuna §3, DCTCP §3.4: K grows with C·RTT): linear between the configured
 * (speed, packets) points, along the last segment above the fastest, in proportion to speed below the
 * slowest, never under `minPackets`; rounded to whole packets. Speeds as in `bySpeed` keys ("1G").
 */
export function ecnThresholdPackets(speedBps: number, bySpeed: Readonly<Record<string, number>>, minPackets: number): number {
  const pts = Object.entries(bySpeed)
    .map(([s, k]) => [parseBitRate(s), k] as const)
    .sort((a, b) => a[0] - b[0]);
  if (pts.length === 0 || speedBps <= 0) return minPackets;
  let k: number;
  if (speedBps <= pts[0]![0]) k = (pts[0]![1] * speedBps) / pts[0]![0];
  else {
    let i = pts.findIndex((p) => p[0] >= speedBps);
    if (i < 0) i = pts.length - 1;
    if (i === 0) k = pts[0]![1];
    else {
      const [s0, k0] = pts[i - 1]!;
      const [s1, k1] = pts[i]!;
      k = k0 + ((k1 - k0) * (speedBps - s0)) / (s1 - s0);
    }
  }
  return Math.max(minPackets, Math.round(k));
}
