/**
 * Which meters the current allocation wants (one meter per enforced flowlet, or per host
 * pair, on the ingress leaf). Pure: allocated flowlets in, meter specs out; the core diffs them against
 * what is installed and the shell performs the difference.
 *
 * - per flowlet: key `flowlet:<agent>/<id>`, attached to the flow's pinned ingress entry, rate = the
 *   flowlet's allocated rate;
 * - per host pair: key `pair:<src>><dst>`, ONE meter attached to the pinned ingress entry of every flow of
 *   the pair (each flow keeps the path routing chose for it), rate = the sum of their rates.
 * In mode `both` every meter polices at rate·(1 + meterMarginFraction), above the agents' shaping.
 */
import type { FiveTuple } from '../../protocol/agent.js';
import { flowMatch } from '../routing/flow-key.js';
import type { FlowKey } from '../routing/types.js';
import { stableText, type ResolvedPath } from './paths.js';
import type { EnforcementSettings, MeterSpec } from './types.js';

/** An allocated flowlet as the plan reads it; rates in bit/s (wire). */
export interface PlannedFlowlet {
  /** `<agent>/<id>` */
  readonly key: string;
  readonly flow: FiveTuple;
  readonly flowKey: FlowKey;
  readonly path: ResolvedPath;
  readonly allocatedBps: number;
}

/** One wanted meter: its spec, what its installation depends on besides the rate, the flowlets it covers. */
export interface DesiredMeter {
  readonly spec: MeterSpec;
  readonly sig: string;
  readonly flowlets: string[];
}

/** The meters `live` (allocated flowlets with a path and a rate > 0) want, by key. */
export function planMeters(
  live: readonly PlannedFlowlet[],
  settings: Pick<EnforcementSettings, 'mode' | 'meterMarginFraction' | 'meterPer'>,
): Map<string, DesiredMeter> {
  const factor = settings.mode === 'both' ? 1 + settings.meterMarginFraction : 1;
  const want = new Map<string, DesiredMeter>();
  const perFlowlet = (f: PlannedFlowlet): void => {
    const key = `flowlet:${f.key}`;
    const ing = f.path.ingress;
    const spec: MeterSpec = { key, dpid: ing.dpid, match: flowMatch(f.flowKey, ing.inPort), actions: ing.actions, rateBps: meterRate(f.allocatedBps * factor) };
    want.set(key, { spec, sig: sigOf(spec, [f.path.sig]), flowlets: [f.key] });
  };
  if (settings.meterPer === 'flowlet') {
    live.forEach(perFlowlet);
    return want;
  }
  const pairs = new Map<string, PlannedFlowlet[]>();
  for (const f of live) {
    const k = `${f.flow.src}>${f.flow.dst}`;
    let g = pairs.get(k);
    if (!g) pairs.set(k, (g = []));
    g.push(f);
  }
  for (const [pair, group] of pairs) {
    const first = group[0]!.path.ingress;
    const key = `pair:${pair}`;
    const onFirst = group.filter((f) => f.path.ingress.dpid === first.dpid);
    group.filter((f) => f.path.ingress.dpid !== first.dpid).forEach(perFlowlet); // a host that moved mid-way
    const total = onFirst.reduce((s, f) => s + f.allocatedBps, 0);
    const attachments = onFirst.map((f) => ({ match: flowMatch(f.flowKey, f.path.ingress.inPort), actions: f.path.ingress.actions }))
      .sort((a, b) => stableText(a.match).localeCompare(stableText(b.match)));
    const spec: MeterSpec = {
      key, dpid: first.dpid, match: attachments[0]!.match, actions: attachments[0]!.actions, rateBps: meterRate(total * factor), attachments,
    };
    want.set(key, { spec, sig: sigOf(spec, onFirst.map((f) => f.path.sig).sort()), flowlets: onFirst.map((f) => f.key) });
  }
  return want;
}

/** A meter band rate, bit/s: whole, at least 1. */
function meterRate(bps: number): number {
  return Math.max(1, Math.round(bps));
}

/**
 * What the meter's installation depends on besides its rate: switch, entries, and the routes (their
 * cookies) of the flowlets it covers — a re-pin re-adds the pinned entry without the meter, so a new
 * route must re-send the attach even when match and actions are the same.
 */
function sigOf(spec: MeterSpec, routeSigs: readonly string[]): string {
  return stableText([spec.dpid, spec.match, spec.actions, spec.attachments ?? null, routeSigs]);
}
