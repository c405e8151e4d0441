/**
 * Which allocated rates go out to the agents, and the damping every pushed rate (agent or meter) obeys.
 * Pure: flowlets and agents in, `rates` effects out.
 *
 * Damping (first rates always go out):
 * - hysteresis, relative AND absolute: a pushed rate changes only when |new − pushed| exceeds both
 *   `rateChangeThreshold`·pushed and `rateChangeMinBps`;
 * - at most one change per flowlet (per meter) every `minUpdateIntervalMs` (under `fca`, increases are exempt).
 * With work-conserving enforcement (`enforcement.workConserving`) each entry also carries the flowlet's
 * ceiling (allocation.ts `ceilings`) when it is above the rate; an entry goes out when its rate OR its
 * ceiling moved (the ceiling by {@link CEIL_CHANGE_THRESHOLD}).
 * A flowlet's end sends no clear: the agent removed its limit itself when it ended the flowlet.
 *
 * Under `fca` with `fcaClassDscps` set (`enforcement.fcaEnforce: priority`), no rates are enforced: each
 * allocated flowlet gets its transfer's priority class among the transfers sharing its links (fca-classes.ts; FCA §4.2, Aalo SIGCOMM 2015) as a
 * DSCP with an unlimited rate ({@link UNLIMITED_BPS}: the agent keeps no HTB class for it), pushed only when
 * the flowlet's class changes.
 */
import type { RatesMsg } from '../../protocol/agent.js';
import type { Agent, Flowlet } from './flowlets.js';
import type { EnforcementEffect, EnforcementSettings } from './types.js';
import { remainingPayloadBytes } from './allocation.js';
import { fcaClassDscpOf, fcaClassesOf } from './fca-classes.js';

/**
 * Relative hysteresis of a pushed ceiling (work-conserving enforcement): the ceiling bounds what a flowlet
 * may borrow of its host link, it is not a share, and it follows every arrival and departure downstream;
 * pushed with each rate change, and on its own only when it moved by more than this fraction (and by
 * `rateChangeMinBps`, within `minUpdateIntervalMs`).
 */
export const CEIL_CHANGE_THRESHOLD = 0.2;

/** The rate sent with a class-only `set` (fca priority enforcement): any rate ≥ the host link's; the agent clamps it and keeps no limit. */
export const UNLIMITED_BPS = 1e12;

/**
 * Whether `r` should replace `pushed` (set at `pushedMs`): hysteresis, relative (`relative`, default
 * `rateChangeThreshold`) AND absolute (`rateChangeMinBps`), and the minimum interval. Rates bit/s, times ms.
 */
export function rateMoved(
  settings: EnforcementSettings, pushed: number | undefined, r: number, pushedMs: number | undefined, nowMs: number,
  relative = settings.rateChangeThreshold,
): boolean {
  if (pushed === undefined) return true;
  const d = Math.abs(r - pushed);
  if (d <= relative * pushed || d <= (settings.rateChangeMinBps ?? 0)) return false;
  // fca serves transfers one after another (FCA §4.2): a rate going UP is the next transfer's turn, held
  // back it would leave the link idle; only decreases wait for the interval
  if (settings.policy === 'fca' && r > pushed) return true;
  return pushedMs === undefined || nowMs - pushedMs >= (settings.minUpdateIntervalMs ?? 0);
}

/**
 * One `rates` message per connected agent whose allocated flowlets' rates moved (see {@link rateMoved});
 * records what was pushed on each flowlet and numbers the messages per agent.
 * @returns the rate entries sent
 */
export function agentRateEffects(
  settings: EnforcementSettings, flowlets: Iterable<Flowlet>, agents: ReadonlyMap<string, Agent>, nowMs: number, out: EnforcementEffect[],
): number {
  const classDscps = fcaClassesOf(settings);
  if (classDscps) return classEffects(classDscps, flowlets, agents, nowMs, out);
  const sets = new Map<string, RatesMsg['set'][number][]>();
  for (const f of flowlets) {
    const r = f.allocatedBps;
    if (f.state !== 'allocated' || r === undefined || !(r > 0) || !Number.isFinite(r)) continue;
    if (!agents.get(f.agentId)?.connected) continue;
    const ceil = f.ceilBps !== undefined && Math.round(f.ceilBps) > Math.round(r) ? f.ceilBps : undefined;
    // a ceiling only bounds borrowing: it moves by the coarser CEIL_CHANGE_THRESHOLD (no ceiling = the rate)
    const ceilMoved = f.agentBps !== undefined && rateMoved(settings, f.agentCeilBps ?? f.agentBps, ceil ?? r, f.agentPushedMs, nowMs,
      Math.max(settings.rateChangeThreshold, CEIL_CHANGE_THRESHOLD));
    if (!rateMoved(settings, f.agentBps, r, f.agentPushedMs, nowMs) && !ceilMoved) continue;
    f.agentBps = r;
    f.agentCeilBps = ceil;
    f.agentPushedMs = nowMs;
    f.agentUpdates++;
    let list = sets.get(f.agentId);
    if (!list) sets.set(f.agentId, (list = []));
    list.push({ id: f.id, rateBps: Math.max(1, Math.round(r)), ...(ceil !== undefined ? { ceilBps: Math.round(ceil) } : {}) });
  }
  return send(sets, agents, out);
}

/** fca priority enforcement: one `set` (class DSCP, unlimited rate) per allocated flowlet whose class changed. */
function classEffects(
  classDscps: readonly number[], flowlets: Iterable<Flowlet>, agents: ReadonlyMap<string, Agent>, nowMs: number, out: EnforcementEffect[],
): number {
  const live = [...flowlets].filter((f) => f.state === 'allocated');
  const dscpOf = fcaClassDscpOf(live.map((f) => ({ id: f.key, transferId: f.transferId, remainingBytes: remainingPayloadBytes(f), links: f.path?.links, currentDscp: f.agentDscp })), classDscps);
  const sets = new Map<string, RatesMsg['set'][number][]>();
  for (const f of live) {
    const dscp = dscpOf.get(f.key)!;
    if (f.agentDscp === dscp || !agents.get(f.agentId)?.connected) continue;
    f.agentDscp = dscp;
    f.agentBps = UNLIMITED_BPS;
    f.agentPushedMs = nowMs;
    f.agentUpdates++;
    let list = sets.get(f.agentId);
    if (!list) sets.set(f.agentId, (list = []));
    list.push({ id: f.id, rateBps: UNLIMITED_BPS, dscp });
  }
  return send(sets, agents, out);
}

function send(sets: Map<string, RatesMsg['set'][number][]>, agents: ReadonlyMap<string, Agent>, out: EnforcementEffect[]): number {
  let sent = 0;
  for (const [id, set] of sets) {
    const a = agents.get(id)!;
    out.push({ kind: 'rates', agentId: id, msg: { type: 'rates', seq: a.seq++, set, clear: [] } });
    sent += set.length;
  }
  return sent;
}
