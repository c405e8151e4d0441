/**
 * What the enforcement core counts for its read views (pure): allocation runs, events per second, rate
 * updates sent (in total and per flowlet, over the flowlets that ended), and the reaction-time samples —
 * first packet → enforced at the agent / at the meter, first packet → reported to the controller. Sample
 * sets keep the last `keep` values (stats.ts).
 */
import type { Flowlet } from './flowlets.js';
import { EventRate, Samples } from './stats.js';
import type { AllocatorView } from './types.js';

export class EnforcementCounters {
  readonly agentReaction: Samples;
  readonly meterReaction: Samples;
  readonly reportLatency: Samples;
  readonly eventRate = new EventRate(10);
  /** rate entries sent to agents, meter sets and removals */
  readonly updates = { agents: 0, meters: 0 };
  runs = 0;
  lastRunAtMs: number | null = null;
  lastRunDurationUs: number | null = null;
  private readonly perFlowlet = { ended: 0, endedAllocated: 0, agentAllocated: 0, meterAllocated: 0, agentAll: 0, meterAll: 0 };

  constructor(keep: number) {
    this.agentReaction = new Samples(keep);
    this.meterReaction = new Samples(keep);
    this.reportLatency = new Samples(keep);
  }

  /** An allocation run finished at `nowMs`. */
  ran(nowMs: number): void {
    this.runs++;
    this.lastRunAtMs = nowMs;
  }

  /** A first enforcement confirmation: first packet → enforced, µs. */
  reaction(by: 'agent' | 'meter', us: number): void {
    (by === 'agent' ? this.agentReaction : this.meterReaction).add(us);
  }

  /**
   * `f` ended (or expired) with its updates; `ownMeter`: its meter of its own is still set (its removal,
   * at the next run, counts for it).
   */
  flowletEnded(f: Flowlet, ownMeter: boolean): void {
    const pf = this.perFlowlet;
    const meterUpdates = f.meterUpdates + (ownMeter ? 1 : 0);
    pf.ended++;
    pf.agentAll += f.agentUpdates;
    pf.meterAll += meterUpdates;
    if (f.allocatedEpochUs !== undefined) {
      pf.endedAllocated++;
      pf.agentAllocated += f.agentUpdates;
      pf.meterAllocated += meterUpdates;
    }
  }

  /** The updates-per-flowlet means of {@link AllocatorView} (null before any flowlet ended). */
  updatesPerFlowlet(): AllocatorView['updatesPerFlowlet'] {
    const pf = this.perFlowlet;
    return {
      ended: pf.ended,
      endedAllocated: pf.endedAllocated,
      agentPerAllocated: pf.endedAllocated > 0 ? pf.agentAllocated / pf.endedAllocated : null,
      meterPerAllocated: pf.endedAllocated > 0 ? pf.meterAllocated / pf.endedAllocated : null,
      agentPerFlowlet: pf.ended > 0 ? pf.agentAll / pf.ended : null,
      meterPerFlowlet: pf.ended > 0 ? pf.meterAll / pf.ended : null,
    };
  }

  /** Samples kept, µs. */
  reactionSamples(): { agent: number[]; meter: number[]; report: number[] } {
    return { agent: this.agentReaction.values(), meter: this.meterReaction.values(), report: this.reportLatency.values() };
  }
}
