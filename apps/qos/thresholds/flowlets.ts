/**
 * Flowlets of one flow (pure; Flowtune's flowlets): a flowlet is a burst of a sender's packets; it ends
 * when the sender stays idle longer than a gap (PIAS treats a 500 µs idle gap as a message
 * boundary). Only packets that carry data count as the sender sending.
 */

/** PIAS's gap, µs. */
export const DEFAULT_FLOWLET_GAP_US = 500;

/** One flowlet: times in µs since the epoch, bytes of payload. */
export interface Flowlet {
  readonly startUs: number;
  readonly endUs: number;
  readonly packets: number;
  readonly bytes: number;
}

/**
 * Splits a flow's packets (capture order; `timesUs[i]` with `payloads[i]` bytes of payload) into flowlets:
 * a new flowlet starts at a data packet that follows the previous data packet by more than `gapUs`.
 * Packets without payload are ignored. Timestamps that go backwards (capture reordering) count as no gap.
 */
export function splitFlowlets(timesUs: readonly number[], payloads: readonly number[], gapUs = DEFAULT_FLOWLET_GAP_US): Flowlet[] {
  if (!(gapUs >= 0)) throw new RangeError(`flowlet gap ${gapUs} µs: expected ≥ 0`);
  const out: Flowlet[] = [];
  let cur: { startUs: number; endUs: number; packets: number; bytes: number } | undefined;
  for (let i = 0; i < timesUs.length; i++) {
    const len = payloads[i] ?? 0;
    if (len <= 0) continue;
    const t = timesUs[i]!;
    if (cur && t - cur.endUs <= gapUs) {
      cur.endUs = Math.max(cur.endUs, t);
      cur.packets++;
      cur.bytes += len;
    } else {
      if (cur) out.push(cur);
      cur = { startUs: t, endUs: t, packets: 1, bytes: len };
    }
  }
  if (cur) out.push(cur);
  return out;
}
