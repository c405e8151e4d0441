/**
 * The expected flow completion time of PIAS's multi-level feedback queue in an M/G/1 model (pure).
 *
 * The model (PIAS, Bai et al., NSDI 2015, §4.2, the threshold optimization; Karuna, Chen et al., SIGCOMM
 * 2016, extends the same scheme to flows of known and unknown size): the fabric is one bottleneck link of capacity 1 byte per time
 * unit; flows arrive as a Poisson process of rate λ with sizes S drawn from F, at load ρ = λ·E[S] < 1;
 * the port has K strict-priority FIFO queues; a flow starts in queue 1 and is demoted from queue j to j+1
 * once it has sent α_j bytes (α_0 = 0 < α_1 < … < α_{K−1} < α_K = ∞). A flow of size x with
 * α_{j−1} < x ≤ α_j therefore finishes in queue j.
 *
 * Rivulet evaluates that model exactly (the M/G/1 multi-level queue with FIFO inside each level, as in
 * Kleinrock, Queueing Systems vol. II, ch. 4; test/unit/qos/thresholds-sim.test.ts checks it against a
 * discrete-event simulation) instead of PIAS's simplified per-queue delay bound:
 * with ρ(a) = λ·E[min(S, a)] (the load of the first a bytes of every flow) and
 * W(a) = λ·E[min(S, a)²] / (2·(1 − ρ(a))) (the mean work, counted up to a bytes per flow, that a new flow
 * finds in the system), a flow of size x finishing in queue j takes
 *
 *     T(x) = (W(α_j) + x) / (1 − ρ(α_{j−1}))
 *
 * — it waits for all work already present up to α_j bytes per flow, its own x bytes, and the first
 * α_{j−1} bytes of every flow arriving meanwhile. Averaging over F gives the objective
 *
 *     E[T] = Σ_{j=1..K} [ θ_j·W(α_j) + (M1(α_j) − M1(α_{j−1})) ] / (1 − ρ(α_{j−1}))
 *
 * with θ_j = F(α_j) − F(α_{j−1}) (the fraction of flows finishing in queue j) and M1(a) = E[S; S ≤ a].
 * K = 1 gives FIFO, E[T] = λ·E[S²]/(2(1−ρ)) + E[S]; thresholds at every size give foreground–background
 * (LAS), T(x) = λ·E[min(S,x)²]/(2(1−ρ(x))²) + x/(1−ρ(x)).
 *
 * Times are in "byte-times" (the time to send one byte at the bottleneck's rate): divide by the capacity
 * in bytes per second for seconds. The sum is chain-separable — a sum of terms over consecutive
 * thresholds — which is what lets optimize.ts solve it exactly on a grid by dynamic programming.
 */
import { partialMoments, type FlowSizeDistribution } from './distribution.js';

/** What the model needs at one candidate threshold a (bytes; Infinity for α_K). */
export interface ThresholdPoint {
  readonly bytes: number;
  /** F(a) */
  readonly F: number;
  /** M1(a) = E[S; S ≤ a], bytes */
  readonly M1: number;
  /** ρ(a) = λ·E[min(S, a)] */
  readonly rho: number;
  /** W(a), byte-times */
  readonly W: number;
}

/** The model at one load: λ in flows per byte-time. */
export interface QueueModel {
  readonly dist: FlowSizeDistribution;
  readonly load: number;
  readonly lambda: number;
  /** the point for α_0 = 0 */
  readonly origin: ThresholdPoint;
  /** the point for α_K = ∞ */
  readonly top: ThresholdPoint;
}

/** The model of `dist` at load ρ (0 < ρ < 1; checked by the caller). */
export function queueModel(dist: FlowSizeDistribution, load: number): QueueModel {
  const lambda = load / dist.meanBytes;
  const m: QueueModel = {
    dist,
    load,
    lambda,
    origin: { bytes: 0, F: 0, M1: 0, rho: 0, W: 0 },
    top: { bytes: Infinity, F: 1, M1: dist.meanBytes, rho: load, W: (lambda * dist.secondMoment) / (2 * (1 - load)) },
  };
  return { ...m, origin: pointAt(m, 0) };
}

/** The model's quantities at threshold `a` bytes. */
export function pointAt(m: Pick<QueueModel, 'dist' | 'lambda' | 'top'>, a: number): ThresholdPoint {
  if (a === Infinity) return m.top;
  const pm = partialMoments(m.dist, a);
  const tail = Math.max(0, 1 - pm.F);
  const rho = m.lambda * (pm.M1 + a * tail);
  const m2 = pm.M2 + a * a * tail;
  return { bytes: a, F: pm.F, M1: pm.M1, rho, W: (m.lambda * m2) / (2 * (1 - rho)) };
}

/** One queue's term of E[T]: the flows finishing in it (between `lo` and `hi`), weighted by their share. */
export function bucketCost(lo: ThresholdPoint, hi: ThresholdPoint): number {
  const theta = Math.max(0, hi.F - lo.F);
  return (theta * hi.W + Math.max(0, hi.M1 - lo.M1)) / (1 - lo.rho);
}

/** E[T] (byte-times) for demotion thresholds α_1 < … < α_{K−1} (bytes; the caller checks the order). */
export function expectedFct(m: QueueModel, thresholds: readonly number[]): number {
  let prev = m.origin;
  let sum = 0;
  for (const a of thresholds) {
    const p = pointAt(m, a);
    sum += bucketCost(prev, p);
    prev = p;
  }
  return sum + bucketCost(prev, m.top);
}

/** Per queue j: the size range it finishes, the share of flows (θ_j) and of bytes served in it, its flows' mean FCT. */
export interface QueueShare {
  /** 1 = highest priority */
  readonly queue: number;
  readonly fromBytes: number;
  /** null for the last queue (∞) */
  readonly toBytes: number | null;
  readonly flowFraction: number;
  readonly byteFraction: number;
  /** mean FCT of the flows finishing in this queue, byte-times (null when none does) */
  readonly meanFct: number | null;
}

/** The queues' shares for `thresholds`. */
export function queueShares(m: QueueModel, thresholds: readonly number[]): QueueShare[] {
  const pts = [m.origin, ...thresholds.map((a) => pointAt(m, a)), m.top];
  const out: QueueShare[] = [];
  for (let j = 1; j < pts.length; j++) {
    const lo = pts[j - 1]!;
    const hi = pts[j]!;
    const theta = Math.max(0, hi.F - lo.F);
    // bytes of every flow between lo and hi bytes: E[min(S,hi)] − E[min(S,lo)] = (ρ(hi) − ρ(lo)) / λ
    const bytes = (hi.rho - lo.rho) / m.lambda;
    out.push({
      queue: j,
      fromBytes: lo.bytes,
      toBytes: hi.bytes === Infinity ? null : hi.bytes,
      flowFraction: theta,
      byteFraction: bytes / m.dist.meanBytes,
      meanFct: theta > 0 ? bucketCost(lo, hi) / theta : null,
    });
  }
  return out;
}
