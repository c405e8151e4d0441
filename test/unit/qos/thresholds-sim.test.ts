/**
 * The threshold model (apps/qos/thresholds/model.ts) against a discrete-event simulation of what it
 * models: one server of 1 byte per time unit, Poisson arrivals at load ρ, K strict-priority FIFO queues,
 * a flow demoted from queue j to j+1 once it has been served α_j bytes (preemptive-resume across queues,
 * FIFO inside each). Sizes are drawn by inverting the piecewise-linear CDF here, with a seeded PRNG.
 */
import { expect } from 'chai';
import { expectedFct, fromCdfPoints, queueModel } from '../../../apps/qos/thresholds/index.js';
import { mulberry32 } from '../../../testing/random.js';

const POINTS: [number, number][] = [[0, 0], [1000, 0.5], [10_000, 0.8], [100_000, 1]];

function drawSize(u: number): number {
  for (let i = 1; i < POINTS.length; i++) {
    const [x0, p0] = POINTS[i - 1]!;
    const [x1, p1] = POINTS[i]!;
    if (u <= p1) return x0 + ((u - p0) / (p1 - p0)) * (x1 - x0);
  }
  return POINTS[POINTS.length - 1]![0];
}

interface Job {
  readonly arrival: number;
  readonly size: number;
  served: number;
  level: number;
}

/** Mean sojourn time of `n` flows (after `warmup` more) through the multi-level queue. */
function simulate(load: number, thresholds: readonly number[], n: number, warmup: number, seed: number): number {
  const rnd = mulberry32(seed);
  const mean = POINTS.slice(1).reduce((s, [x, p], i) => s + (p - POINTS[i]![1]) * (x + POINTS[i]![0]) / 2, 0);
  const lambda = load / mean;
  const limits = [...thresholds, Infinity];
  const queues: Job[][] = limits.map(() => []);
  const heads = limits.map(() => 0); // index of each queue's head (arrays used as FIFOs)
  let now = 0;
  let nextArrival = -Math.log(1 - rnd()) / lambda;
  let arrived = 0;
  let done = 0;
  let sum = 0;
  while (done < n + warmup) {
    const level = queues.findIndex((q, i) => heads[i]! < q.length);
    if (level < 0) {
      now = nextArrival;
    } else {
      const job = queues[level]![heads[level]!]!;
      const target = Math.min(job.size, limits[level]!);
      const finishAt = now + (target - job.served);
      if (finishAt <= nextArrival) {
        now = finishAt;
        job.served = target;
        heads[level]!++;
        if (job.served >= job.size) {
          done++;
          if (done > warmup) sum += now - job.arrival;
        } else {
          job.level = level + 1;
          queues[level + 1]!.push(job);
        }
        continue;
      }
      job.served += nextArrival - now;
      now = nextArrival;
    }
    if (arrived < n + warmup) {
      queues[0]!.push({ arrival: now, size: drawSize(rnd()), served: 0, level: 0 });
      arrived++;
    }
    nextArrival = arrived < n + warmup ? now - Math.log(1 - rnd()) / lambda : Infinity;
  }
  return sum / n;
}

describe('qos/thresholds: the M/G/1 multi-level model against a discrete-event simulation', () => {
  const d = fromCdfPoints(POINTS.map(([bytes, p]) => ({ bytes, p })));
  for (const [load, thresholds] of [[0.6, []], [0.6, [1000, 10_000]], [0.8, [3000]], [0.5, [500, 2000, 20_000]]] as const) {
    it(`load ${load}, thresholds [${thresholds.join(', ')}]: simulated mean FCT within 3% of the model`, function () {
      this.timeout(60_000);
      const model = expectedFct(queueModel(d, load), thresholds);
      const sims = [1, 2, 3].map((seed) => simulate(load, thresholds, 200_000, 20_000, seed));
      const sim = sims.reduce((a, b) => a + b, 0) / sims.length;
      console.log(`      [measure] model ${model.toFixed(0)} byte-times, simulation ${sim.toFixed(0)} (${sims.map((s) => s.toFixed(0)).join(', ')}), ` +
        `difference ${((100 * (sim - model)) / model).toFixed(2)}%`);
      expect(Math.abs(sim - model) / model).to.be.below(0.03);
    });
  }
});
