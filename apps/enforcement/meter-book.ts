/**
 * The enforcement core's account of meters (pure): which meters it asked the shell to set (key, switch,
 * rate, the flowlets covered), which failed and when to retry, the meter ids and measured rates the
 * MeterEnforcer reports back — and, each run, the difference between the meters the allocation wants
 * (meter-plan.ts) and those set, as `meterSet` / `meterRemove` effects.
 *
 * A meter polices at the rate plus its margin in mode `both`, so it changes only when the rate moved
 * beyond max(`rateChangeThreshold`, `meterMarginFraction`), or when it would police below the rate. A
 * failed meter is set again after {@link METER_RETRY_MS}; a switch that went down or came up again has its
 * meters forgotten, so the next run sets them anew.
 */
import type { Flowlet } from './flowlets.js';
import { planMeters, type DesiredMeter } from './meter-plan.js';
import { rateMoved } from './rate-effects.js';
import type { EnforcementEffect, EnforcementSettings } from './types.js';

/** A failed meter is set again after this long, ms. */
export const METER_RETRY_MS = 5000;

interface SetMeter {
  readonly dpid: bigint;
  rateBps: number;
  sig: string;
  failedAtMs?: number;
  setAtMs: number;
  /** flowlet keys it covered when last set (its removal counts for them) */
  flowlets: readonly string[];
}

export class MeterBook {
  private readonly installed = new Map<string, SetMeter>();
  private readonly ids = new Map<string, number>();
  private readonly measured = new Map<string, number>();

  constructor(private readonly settings: EnforcementSettings) {}

  /** Whether meter `key` is set (or being set). */
  has(key: string): boolean {
    return this.installed.has(key);
  }

  /** The rate meter `key` was last set to, bit/s. */
  rateBps(key: string): number | undefined {
    return this.installed.get(key)?.rateBps;
  }

  /** The switch's id of meter `key` (MeterEnforcer.list()). */
  meterId(key: string): number | undefined {
    return this.ids.get(key);
  }

  /** The rate meter `key` let through over the last statistics interval, bit/s. */
  measuredBps(key: string): number | undefined {
    return this.measured.get(key);
  }

  /** The switch confirmed meter `key`: no retry pending. */
  confirmed(key: string): void {
    const m = this.installed.get(key);
    if (m) m.failedAtMs = undefined;
  }

  /** Setting meter `key` failed at `nowMs`: set again after METER_RETRY_MS. */
  failed(key: string, nowMs: number): void {
    const m = this.installed.get(key);
    if (m) m.failedAtMs = nowMs;
  }

  /** A switch went down or came up again (its meters were forgotten): the next run sets them anew. */
  forgetOn(dpid: bigint): void {
    for (const [key, m] of this.installed) if (m.dpid === dpid) this.installed.delete(key);
  }

  /** Meter ids and measured rates (MeterEnforcer.list()). */
  stats(infos: readonly { readonly key: string; readonly meterId: number; readonly stats?: { readonly measuredBps: number } }[]): void {
    this.ids.clear();
    for (const i of infos) {
      this.ids.set(i.key, i.meterId);
      if (i.stats) this.measured.set(i.key, i.stats.measuredBps);
    }
  }

  /**
   * The meter effects of a run: removals of meters no longer wanted, then sets of new meters and of
   * meters whose rate moved (or whose retry is due). Records each flowlet's meter key and counts its
   * meter updates.
   * @returns the effects added to `out`
   */
  effects(flowlets: ReadonlyMap<string, Flowlet>, nowMs: number, out: EnforcementEffect[]): number {
    let n = 0;
    const desired = this.desired(flowlets.values());
    for (const key of [...this.installed.keys()]) {
      if (desired.has(key)) continue;
      this.installed.delete(key);
      this.measured.delete(key);
      out.push({ kind: 'meterRemove', key });
      n++;
    }
    const s = this.settings;
    const margin = s.mode === 'both' ? s.meterMarginFraction : 0;
    const relative = Math.max(s.rateChangeThreshold, margin);
    for (const [key, d] of desired) {
      for (const fk of d.flowlets) flowlets.get(fk)!.meterKey = key;
      const m = this.installed.get(key);
      if (m?.failedAtMs !== undefined && nowMs - m.failedAtMs < METER_RETRY_MS) continue;
      if (m && m.failedAtMs === undefined && m.sig === d.sig) {
        // within its margin the meter still passes the rate; policing below the rate itself, it must move
        if (margin > 0) {
          // mode both: the agents shape, the meter only polices above them — it moves when it would police
          // below the rate (an increase beyond the margin) or is loose by more than a second margin
          const tooTight = m.rateBps < d.spec.rateBps / (1 + margin);
          const tooLoose = m.rateBps > d.spec.rateBps * (1 + margin) && rateMoved(s, m.rateBps / (1 + margin), d.spec.rateBps / (1 + margin), m.setAtMs, nowMs, relative);
          if (!tooTight && !tooLoose) continue;
        } else if (!rateMoved(s, m.rateBps, d.spec.rateBps, m.setAtMs, nowMs, relative)) continue;
      }
      this.installed.set(key, { dpid: d.spec.dpid, rateBps: d.spec.rateBps, sig: d.sig, setAtMs: nowMs, flowlets: d.flowlets });
      for (const fk of d.flowlets) flowlets.get(fk)!.meterUpdates++;
      out.push({ kind: 'meterSet', target: d.spec, flowlets: d.flowlets });
      n++;
    }
    return n;
  }

  /** The meters the current allocation wants, by key (meter-plan.ts); clears every flowlet's meter key. */
  private desired(flowlets: Iterable<Flowlet>): Map<string, DesiredMeter> {
    const live: Flowlet[] = [];
    for (const f of flowlets) {
      f.meterKey = undefined;
      if (f.state === 'allocated' && f.path && f.allocatedBps !== undefined && f.allocatedBps > 0 && Number.isFinite(f.allocatedBps)) live.push(f);
    }
    // mode both: the meter polices above what the agent was told (its pushed rate), not the allocator's latest;
    // a flow its agent shapes in its tenant's host class (tenant-limits.ts) above that class's rate: the class
    // shares the tenant's aggregate among its flows, a per-flowlet meter would police them within it
    // with work-conserving agents, above the ceiling the agent may borrow up to
    const rateOf = (f: Flowlet): number => (this.settings.mode !== 'both' ? f.allocatedBps!
      : (this.settings.meterPer === 'flowlet' ? f.tenantHostBps : undefined) ?? f.agentCeilBps ?? f.agentBps ?? f.allocatedBps!);
    return planMeters(live.map((f) => ({ key: f.key, flow: f.flow, flowKey: f.flowKey, path: f.path!, allocatedBps: rateOf(f) })), this.settings);
  }
}
