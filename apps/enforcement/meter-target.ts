/**
 * What the meter enforcer (meter-enforcer.ts) is asked and what it reports: a target (a key's rate on its
 * ingress leaf, the pinned entries its meter goes on), the per-key and per-switch reports the REST API
 * shows, and the enforcer's own rejections with stable codes. Units: bit/s, bytes, ms.
 */
import type { Action, Match } from '../../openflow/codec/index.js';

export interface MeterTarget {
  readonly key: string;                    // caller's key (a flowlet, or a host pair)
  readonly dpid: bigint;                   // the ingress leaf
  readonly match: Match;                   // the pinned entry's match there (in_port + 5-tuple or host pair)
  readonly actions: readonly Action[];     // the pinned entry's actions there (output, set_queue…)
  readonly rateBps: number;                // the band's rate, bit/s
  /**
   * With `attachPriority`: the pinned entries the meter goes on (default just `match`/`actions`). A host-pair
   * meter lists every flow of the pair, so one meter polices them all while each keeps its own path.
   */
  readonly attachments?: readonly Attachment[];
}

/** One pinned entry a meter is attached to: its match and the actions it keeps. */
export interface Attachment {
  readonly match: Match;
  readonly actions: readonly Action[];
}

/**
 * One key as the enforcer sees it. `rateBps`/`burstBytes` are the latest asked for; `meterId` is 0 while
 * no meter is held (failed, or not yet installed). `stats` counts what PASSED the meter (entered minus
 * dropped by the band), `measuredBps` over the last polling interval (bit/s), `sampledAtMs` clock ms.
 */
export interface MeterInfo {
  readonly key: string; readonly dpid: string /*16 hex*/; readonly meterId: number;
  readonly rateBps: number; readonly burstBytes: number;
  readonly state: 'installing' | 'installed' | 'failed'; readonly error?: string;
  readonly installedAtMs?: number;          // when the switch confirmed (barrier) the latest set()
  readonly stats?: { readonly packets: number; readonly bytes: number; readonly measuredBps: number; readonly sampledAtMs: number };
}

/** Meter support of one switch (OFPMP_METER_FEATURES, §7.3.5.13); bandTypes are OFPMBT_* names. */
export interface MeterSupport { readonly dpid: string; readonly supported: boolean; readonly maxMeter: number; readonly bandTypes: readonly string[]; readonly reason?: string }

/** Stable codes of the enforcer's own rejections (errors callers branch on, ARCHITECTURE.md "Principles"). */
export type MeterEnforcerErrorCode =
  /** close() was called */
  | 'ENF_CLOSED'
  /** the switch is not connected */
  | 'ENF_NO_SWITCH'
  /** the switch has no usable meters (see support(dpid).reason) */
  | 'ENF_UNSUPPORTED'
  /** every meter id of the switch is in use */
  | 'ENF_IDS_EXHAUSTED'
  /** a remove() of the key was called before this set() ran */
  | 'ENF_SUPERSEDED'
  /** the switch went down or came up again while the set() was queued or running */
  | 'ENF_SWITCH_RESET';

export class MeterEnforcerError extends Error {
  constructor(
    readonly code: MeterEnforcerErrorCode,
    message: string,
    readonly dpid?: bigint,
  ) {
    super(`${code}: ${message}`);
    this.name = 'MeterEnforcerError';
  }
}

/** The pinned entries a target's meter goes on (default its own match and actions). */
export function attachmentsOf(t: MeterTarget): readonly Attachment[] {
  return t.attachments && t.attachments.length > 0 ? t.attachments : [{ match: t.match, actions: t.actions }];
}
