/**
 * The meter enforcement shell: enforces a rate on one flow (or host pair) at its ingress leaf with an
 * OpenFlow 1.3 meter (one drop band, OFPMF_KBPS|BURST|STATS) and a metered copy of the pinned entry one
 * priority above it (OFPIT_METER then the pinned actions). What to send comes from meters.ts (pure); this
 * file keeps the per-key state, the per-switch meter id pools and the order of operations, and talks to
 * switches through SwitchHandle.transact (messages + barrier).
 *
 * Per key, operations run one at a time in call order; queued set()s coalesce (the latest target wins and
 * every coalesced caller gets its outcome). Invariant: a key whose last set() failed has nothing on the
 * switch (meter and entry deleted, id recycled) — traffic falls back to the unmetered pinned entry
 * (BwE: fall back to plain TCP). Errors never escape as unhandled rejections; only set() rejects, with a
 * SwitchError (openflow/errors.ts), a {@link MeterEnforcerError} or a RangeError for a bad target.
 *
 * Meters that expire with the controller (`expiryS`, BwE §6.5): the pinned entry writes its actions and
 * goes on to the meter table, whose entry of the same match holds the meter with a hard timeout; refresh()
 * re-adds those entries (an ADD restarts the timeouts, OpenFlow 1.3.5 §6.4) while the controller lives.
 * Once it is gone they expire, the meter table's table-miss entry ends the pipeline, and the action set
 * forwards the flow unmetered on its path: no packet-in, no drop.
 *
 * Probe before you promise (ARCHITECTURE.md "Commitments" 1): every switch's OFPMP_METER_FEATURES is read at switchUp (or at
 * its first set()), reported by support(), and set() on a switch without drop-band kbit/s meters rejects.
 * Units: bit/s, bytes, ms (kbit/s and kbit only on the wire, meters.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import type { OutMessage, RequestOptions, SwitchHandle } from '../../openflow/app-api.js';
import { flowMod, OFPFC, OFPG, OFPM, OFPP, OFPTT_ALL, type Action, type Match } from '../../openflow/codec/index.js';
import type { Clock } from '../../lib/clock.js';
import { dpidHex, type Logger } from '../../lib/log.js';
import {
  DEFAULT_BURST_MS, MeterIdPool, burstKbit, deleteEnforcementEntries, deleteEntryByCookie, enforcementCookie,
  judgeMeterFeatures, measuredBps, meterAdd, meterBurstBytes, meterDelete, meterDeleteAll, meterModify, meterSample,
  meteredEntry, rateKbps, attachMeter, detachMeter, isEnforcementCookie, type MeterSample,
  expiringMeterEntry, gotoMeterTable, deleteExpiringMeterEntry, meterTableMiss,
} from './meters.js';

export interface MeterEnforcerOptions {
  readonly switches: (dpid: bigint) => SwitchHandle | undefined;
  readonly log: Logger;                    // lib/log.ts
  readonly clock: Pick<Clock, 'now'>;       // lib/clock.ts, ms
  readonly priority: number;               // priority of metered entries (routing.priority + 1)
  readonly tableId?: number;               // default 0
  readonly idleTimeoutS: number;           // idle timeout of metered entries
  readonly burstMs?: number;               // default 20
  /**
   * Attach each meter to the pinned entry it polices instead of adding an entry of its own: the entry of
   * (target.match, this priority) in tableId is modified (MODIFY_STRICT) to meter + its actions, and given
   * its plain actions back before the meter is deleted. Use routing's priority. With an entry of its own
   * at a higher priority, the pinned entry below would see no packets and idle out under traffic.
   */
  readonly attachPriority?: number;
  /**
   * With `attachPriority`: metered entries expire this long (s) after the controller last refreshed them,
   * so the switches stop policing within this time of the controller's death (BwE §6.5: enforcement
   * falls back when the controller is gone, like the agents after their grace). The pinned entry then
   * writes its actions to the action set and continues to `meterTableId`, where an entry of the same match
   * holds the meter (hard timeout `expiryS`, re-added by {@link MeterEnforcer.refresh}) and a table-miss
   * entry without instructions forwards whatever no longer has one. 0 or absent: the meter goes into the
   * pinned entry itself and stays while the controller is down.
   */
  readonly expiryS?: number;
  /** The meter table of expiring meters (default tableId + 1; must be after tableId). */
  readonly meterTableId?: number;
}

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

function attachmentsOf(t: MeterTarget): readonly Attachment[] {
  return t.attachments && t.attachments.length > 0 ? t.attachments : [{ match: t.match, actions: t.actions }];
}

/** Wait for the deletes of close(), ms. */
const CLOSE_TIMEOUT_MS = 2000;

interface Waiter<T> {
  readonly resolve: (v: T) => void;
  readonly reject: (e: unknown) => void;
}

type Op =
  | { readonly kind: 'set'; target: MeterTarget; readonly waiters: Waiter<number>[] }
  | { readonly kind: 'remove'; readonly waiters: Waiter<void>[] };

/** What one key has on one switch (exactly what the switch confirmed). */
interface Installed {
  readonly sw: SwitchState;
  readonly meterId: number;
  readonly cookie: bigint;
  readonly rateBps: number;
  readonly burstBytes: number;
  readonly match: Match;
  readonly actions: readonly Action[];
  /** the entries it is attached to (attached mode) */
  readonly attachments: readonly Attachment[];
}

interface Entry {
  readonly key: string;
  target: MeterTarget;
  burstBytes: number;
  state: MeterInfo['state'];
  error?: string;
  installedAtMs?: number;
  stats?: MeterInfo['stats'];
  prev?: MeterSample;
  on?: Installed;
  readonly queue: Op[];
  running?: Promise<void>;
  /** dropped by switchUp/switchDown/close: whatever is in flight must not record itself */
  forgotten: boolean;
  /** the last completed op was a remove */
  removed: boolean;
}

interface SwitchState {
  readonly dpid: bigint;
  support?: MeterSupport;
  pool: MeterIdPool;
  ready: Promise<void>;
}

export class MeterEnforcer {
  private readonly log: Logger;
  private readonly tableId: number;
  private readonly meterTableId: number;
  private readonly expiryS: number;
  private readonly burstMs: number;
  private readonly entries = new Map<string, Entry>();
  private readonly sws = new Map<bigint, SwitchState>();
  private serial = 1;
  private closed = false;
  private closing?: Promise<void>;
  private polling?: Promise<void>;

  /** @throws RangeError for a burstMs that is not a finite number ≥ 0, a bad expiryS or meterTableId */
  constructor(private readonly opts: MeterEnforcerOptions) {
    this.log = opts.log.child({ app: 'enforcement' });
    this.tableId = opts.tableId ?? 0;
    this.meterTableId = opts.meterTableId ?? this.tableId + 1;
    this.expiryS = opts.expiryS ?? 0;
    if (!Number.isInteger(this.expiryS) || this.expiryS < 0 || this.expiryS > 0xffff) throw new RangeError(`expiryS must be an integer 0..65535, got ${this.expiryS}`);
    if (this.expiryS > 0 && (this.meterTableId <= this.tableId || this.meterTableId > 0xfe)) {
      throw new RangeError(`meterTableId must be after table ${this.tableId} and ≤ 254, got ${this.meterTableId}`);
    }
    this.burstMs = opts.burstMs ?? DEFAULT_BURST_MS;
    meterBurstBytes(1, this.burstMs); // RangeError for a bad burstMs, at construction
  }

  /** Keys known (installing, installed or failed). */
  get size(): number {
    return this.entries.size;
  }

  /** Adds (METER_MOD ADD + metered FLOW_MOD ADD) or modifies (METER_MOD MODIFY; FLOW_MOD again if match/actions changed) the meter of target.key, then a barrier (SwitchHandle.transact). Resolves with clock ms when the switch confirmed. Concurrent set() on one key are serialized/coalesced (the latest wins). Rejects (state 'failed', logged with dpid) on a switch error or a switch without meter support. */
  set(target: MeterTarget): Promise<number> {
    if (this.closed) return Promise.reject(new MeterEnforcerError('ENF_CLOSED', 'the meter enforcer is closed'));
    let burstBytes: number;
    try {
      burstBytes = meterBurstBytes(target.rateBps, this.burstMs);
      burstKbit(burstBytes);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    let e = this.entries.get(target.key);
    if (!e) {
      e = { key: target.key, target, burstBytes, state: 'installing', queue: [], forgotten: false, removed: false };
      this.entries.set(target.key, e);
    }
    const entry = e;
    entry.target = target;
    entry.burstBytes = burstBytes;
    entry.state = 'installing';
    return new Promise<number>((resolve, reject) => {
      const last = entry.queue[entry.queue.length - 1];
      if (last?.kind === 'set') {
        last.target = target;
        last.waiters.push({ resolve, reject });
      } else entry.queue.push({ kind: 'set', target, waiters: [{ resolve, reject }] });
      this.pump(entry);
    });
  }

  /** Deletes the key's metered entry (DELETE_STRICT by match+priority, or by its cookie) and its meter; recycles the id. Unknown key: no-op. */
  remove(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      while (e.queue[e.queue.length - 1]?.kind === 'set') {
        const dropped = e.queue.pop() as Extract<Op, { kind: 'set' }>;
        for (const w of dropped.waiters) w.reject(new MeterEnforcerError('ENF_SUPERSEDED', `key ${key} was removed before this set() ran`));
      }
      const last = e.queue[e.queue.length - 1];
      if (last?.kind === 'remove') last.waiters.push({ resolve, reject });
      else e.queue.push({ kind: 'remove', waiters: [{ resolve, reject }] });
      this.pump(e);
    });
  }

  /** A switch (re)connected: probe OFPMP_METER_FEATURES (probe before you promise, ARCHITECTURE.md "Commitments" 1), and clean slate — delete every entry with the enforcement cookie prefix and every meter (OFPM_ALL) left by an earlier controller run; forget its keys. */
  async switchUp(dpid: bigint): Promise<void> {
    if (this.closed) return;
    const inFlight = this.forgetSwitch(dpid, 'switch came up again');
    await this.startSwitch(dpid, inFlight).ready;
  }

  /** A switch went away: forget its meters (ids back to its pool). */
  switchDown(dpid: bigint): void {
    this.forgetSwitch(dpid, 'switch went down');
    this.sws.delete(dpid);
  }

  /** Meter support of a switch probed at switchUp (undefined before). */
  support(dpid: bigint): MeterSupport | undefined {
    return this.sws.get(dpid)?.support;
  }

  /** Reads OFPMP_METER stats from every switch that has meters; updates MeterInfo.stats (measured bit/s from successive samples). */
  pollStats(): Promise<void> {
    this.polling ??= this.pollAll().finally(() => (this.polling = undefined));
    return this.polling;
  }

  /**
   * Re-adds the metered entry of every installed key (expiring mode; otherwise a no-op), one batch and a
   * barrier per switch, so each entry's hard timeout starts again. Keys being set or with an operation
   * queued are skipped (that operation writes the entries anyway; a key being removed has no entries). An ADD over the identical entry
   * replaces it and restarts its timeouts (OpenFlow 1.3.5 §6.4); the meter is not touched. Call it at least
   * twice per `expiryS` ({@link MeterEnforcer.refreshIntervalMs}). Never rejects.
   * @returns the number of entries re-added
   */
  async refresh(): Promise<number> {
    if (!this.expiring || this.closed) return 0;
    const bySwitch = new Map<SwitchState, OutMessage[]>();
    for (const e of this.entries.values()) {
      const on = e.on;
      if (!on || e.state !== 'installed' || e.queue.length > 0 || e.forgotten) continue;
      if (this.sws.get(on.sw.dpid) !== on.sw) continue;
      const msgs = bySwitch.get(on.sw) ?? [];
      for (const a of on.attachments) msgs.push(this.expiringEntryOf(on, a));
      bySwitch.set(on.sw, msgs);
    }
    const counts = await Promise.all([...bySwitch].map(async ([st, msgs]) => {
      const sw = this.opts.switches(st.dpid);
      if (!sw?.alive) return 0;
      try {
        await sw.transact(msgs);
        return msgs.length;
      } catch (err) {
        this.log.warn({ event: 'meter_refresh_failed', dpid: dpidHex(st.dpid), entries: msgs.length, err }, 'meter refresh failed: those meters expire unless the next refresh succeeds');
        return 0;
      }
    }));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** How often to call {@link refresh}, ms: a third of `expiryS` (two refreshes may be lost), 0 when not expiring. */
  get refreshIntervalMs(): number {
    return this.expiring ? Math.max(100, Math.floor((this.expiryS * 1000) / 3)) : 0;
  }

  /** Every key, in the order first set; a snapshot (new objects each call). */
  list(): MeterInfo[] {
    return [...this.entries.values()].map((e) => ({
      key: e.key,
      dpid: dpidHex(e.target.dpid),
      meterId: e.on?.meterId ?? 0,
      rateBps: e.target.rateBps,
      burstBytes: e.burstBytes,
      state: e.state,
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.installedAtMs !== undefined ? { installedAtMs: e.installedAtMs } : {}),
      ...(e.stats ? { stats: e.stats } : {}),
    }));
  }

  /** Deletes everything it installed (best effort, bounded wait) and refuses further set(). Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.closeAll();
    return this.closing;
  }

  /* ------------------------------------------------------------ per-key operations */

  private pump(e: Entry): void {
    if (e.running) return;
    e.running = this.drain(e).finally(() => {
      e.running = undefined;
      if (e.queue.length > 0 && !e.forgotten) this.pump(e);
      else if (e.removed && this.entries.get(e.key) === e) this.entries.delete(e.key);
    });
  }

  /** Runs the key's queued operations in order. Never rejects. */
  private async drain(e: Entry): Promise<void> {
    for (let op = e.queue.shift(); op !== undefined && !e.forgotten; op = e.queue.shift()) {
      if (op.kind === 'remove') {
        await this.teardown(e);
        e.removed = true;
        if (e.queue.length === 0 && this.entries.get(e.key) === e) this.entries.delete(e.key);
        for (const w of op.waiters) w.resolve();
        continue;
      }
      e.removed = false;
      try {
        const at = await this.apply(e, op.target);
        e.installedAtMs = at;
        e.error = undefined;
        e.state = e.queue.some((o) => o.kind === 'set') ? 'installing' : 'installed';
        for (const w of op.waiters) w.resolve(at);
      } catch (err) {
        await this.teardown(e);
        e.state = 'failed';
        e.error = err instanceof Error ? err.message : String(err);
        // a switch that is gone or reconnecting is expected (fabric changes, shutdown): one line, no stack
        const transient = err instanceof MeterEnforcerError && (err.code === 'ENF_NO_SWITCH' || err.code === 'ENF_SWITCH_RESET');
        if (transient) this.log.info({ event: 'meter_set_failed', dpid: dpidHex(op.target.dpid), key: e.key, code: err.code }, `meter not set: ${err.message}`);
        else this.log.warn({ event: 'meter_set_failed', dpid: dpidHex(op.target.dpid), key: e.key, rateBps: op.target.rateBps, err }, 'meter set failed; nothing left installed');
        for (const w of op.waiters) w.reject(err);
      }
    }
  }

  /** Installs or modifies `t`. @returns clock ms of the barrier reply @throws on any failure (after cleaning what it added) */
  private async apply(e: Entry, t: MeterTarget): Promise<number> {
    if (e.on && e.on.sw.dpid !== t.dpid) await this.teardown(e); // the key moved to another switch
    const st = await this.switchFor(t.dpid);
    const sw = this.handle(t.dpid);
    const burstBytes = meterBurstBytes(t.rateBps, this.burstMs);
    if (e.on && e.on.sw !== st) e.on = undefined; // from a switch state forgotten since
    const next = e.on ? await this.modify(e, e.on, sw, t, burstBytes) : await this.install(e, st, sw, t, burstBytes);
    this.checkCurrent(e, st);
    const at = this.opts.clock.now();
    this.log.debug({ event: 'meter_set', dpid: dpidHex(t.dpid), key: e.key, meterId: next.meterId, rateBps: t.rateBps, burstBytes }, 'meter set');
    return at;
  }

  private async install(e: Entry, st: SwitchState, sw: SwitchHandle, t: MeterTarget, burstBytes: number): Promise<Installed> {
    const meterId = st.pool.acquire();
    if (meterId === undefined) throw new MeterEnforcerError('ENF_IDS_EXHAUSTED', `all ${st.pool.max} meter ids of ${dpidHex(st.dpid)} in use`, st.dpid);
    const on: Installed = {
      sw: st, meterId, cookie: enforcementCookie(this.serial++), rateBps: t.rateBps, burstBytes, match: t.match, actions: t.actions,
      attachments: attachmentsOf(t),
    };
    try {
      await sw.transact([meterAdd(meterId, t.rateBps, burstBytes), ...this.entriesOf(on)]);
    } catch (err) {
      await this.deleteFrom(on, []);
      throw err;
    }
    e.on = on; // recorded even if forgotten meanwhile: teardown then skips (the clean slate owns it)
    e.prev = undefined;
    e.stats = undefined;
    return on;
  }

  private async modify(e: Entry, old: Installed, sw: SwitchHandle, t: MeterTarget, burstBytes: number): Promise<Installed> {
    const msgs: OutMessage[] = [];
    const rateChanged = rateKbps(t.rateBps) !== rateKbps(old.rateBps) || burstKbit(burstBytes) !== burstKbit(old.burstBytes);
    if (rateChanged) msgs.push(meterModify(old.meterId, t.rateBps, burstBytes));
    const flowChanged = !isDeepStrictEqual(old.match, t.match) || !isDeepStrictEqual(old.actions, t.actions);
    const cookie = flowChanged ? enforcementCookie(this.serial++) : old.cookie;
    const on: Installed = { ...old, cookie, rateBps: t.rateBps, burstBytes, match: t.match, actions: t.actions, attachments: attachmentsOf(t) };
    // the new entry first (an ADD of an identical match replaces the old one), then the old cookie's;
    // attached: the pinned entry of the new match gets the meter, the old match's its plain actions back
    // (attached: the attach is re-sent on every set — a re-pin by routing re-adds its entry without the
    // meter even when the ingress match and actions stay the same; a MODIFY_STRICT is idempotent)
    if (this.attached) {
      const gone = old.attachments.filter((a) => !on.attachments.some((b) => isDeepStrictEqual(a.match, b.match)));
      msgs.push(...gone.flatMap((a) => this.detachOf(a)), ...this.entriesOf(on));
    } else if (flowChanged) msgs.push(this.entryOf(on), deleteEntryByCookie(old.cookie, this.tableId));
    try {
      if (msgs.length > 0) await sw.transact(msgs);
      else await sw.barrier();
    } catch (err) {
      e.on = undefined;
      // old and new entry (or every entry it may be attached to by now), and the meter
      const all = { ...old, attachments: [...old.attachments, ...on.attachments.filter((a) => !old.attachments.some((b) => isDeepStrictEqual(a.match, b.match)))] };
      await this.deleteFrom(all, flowChanged ? [cookie] : []);
      throw err;
    }
    e.on = on;
    if (rateChanged) {
      e.prev = undefined; // OVS's userspace datapath restarts the counters on modify
      e.stats = undefined; // a rate measured under the old band is not this band's
    }
    return on;
  }

  /** Deletes what the key has on its switch (entry by cookie, then the meter) and recycles the id. Never throws. */
  private async teardown(e: Entry): Promise<void> {
    const on = e.on;
    if (!on) return;
    e.on = undefined;
    e.prev = undefined;
    e.stats = undefined;
    await this.deleteFrom(on, []);
  }

  /**
   * Deletes `on` (and entries of `extraCookies`) from its switch with a barrier; the id goes back to the
   * pool only when the switch confirmed (else it stays taken, so it is never reused while it may still
   * exist; the next switchUp resets the pool). Skipped when the switch state was replaced. Never throws.
   */
  private async deleteFrom(on: Installed, extraCookies: readonly bigint[], opts?: RequestOptions): Promise<void> {
    if (this.sws.get(on.sw.dpid) !== on.sw) return;
    const sw = this.opts.switches(on.sw.dpid);
    const dpid = dpidHex(on.sw.dpid);
    if (!sw?.alive) {
      this.log.debug({ event: 'meter_delete_skipped', dpid, meterId: on.meterId }, 'switch not connected');
      return;
    }
    const msgs = this.attached ? on.attachments.flatMap((a) => this.detachOf(a)) : [on.cookie, ...extraCookies].map((c) => deleteEntryByCookie(c, this.tableId));
    try {
      await sw.transact([...msgs, meterDelete(on.meterId)], opts);
      on.sw.pool.release(on.meterId);
    } catch (err) {
      this.log.warn({ event: 'meter_delete_failed', dpid, meterId: on.meterId, err }, 'meter delete failed; id kept out of use');
    }
  }

  /** The messages that put `on`'s meter in place: one attach per attachment, or its own entry. */
  private entriesOf(on: Installed): OutMessage[] {
    if (!this.attached) return [this.entryOf(on)];
    const priority = this.opts.attachPriority!;
    if (!this.expiring) return on.attachments.map((a) => attachMeter({ tableId: this.tableId, priority, match: a.match, actions: a.actions, meterId: on.meterId }));
    // the metered entry first, then the pinned entry that leads to it (no moment where a packet finds
    // the goto but not the meter… except the table-miss, which forwards unmetered)
    return on.attachments.flatMap((a) => [
      this.expiringEntryOf(on, a),
      gotoMeterTable({ tableId: this.tableId, priority, match: a.match, actions: a.actions, meterTableId: this.meterTableId }),
    ]);
  }

  private expiringEntryOf(on: Installed, a: Attachment): OutMessage {
    return expiringMeterEntry({
      cookie: on.cookie, meterTableId: this.meterTableId, priority: this.opts.attachPriority!, match: a.match, meterId: on.meterId,
      idleTimeoutS: this.opts.idleTimeoutS, hardTimeoutS: this.expiryS,
    });
  }

  /** Metered entries expire unless refreshed (attached mode with expiryS > 0). */
  private get expiring(): boolean {
    return this.attached && this.expiryS > 0;
  }

  private entryOf(on: Installed): ReturnType<typeof meteredEntry> {
    return meteredEntry({
      cookie: on.cookie, tableId: this.tableId, priority: this.opts.priority, idleTimeoutS: this.opts.idleTimeoutS,
      match: on.match, meterId: on.meterId, actions: on.actions,
    });
  }

  /** Meters go on the pinned entries (MODIFY_STRICT) rather than on entries of their own. */
  private get attached(): boolean {
    return this.opts.attachPriority !== undefined;
  }

  /** The pinned entry gets its plain apply-actions back (and, expiring, its meter-table entry goes). */
  private detachOf(a: Attachment): OutMessage[] {
    const priority = this.opts.attachPriority!;
    const plain = detachMeter({ tableId: this.tableId, priority, match: a.match, actions: a.actions });
    return this.expiring ? [plain, deleteExpiringMeterEntry(this.meterTableId, priority, a.match)] : [plain];
  }

  /* ------------------------------------------------------------ switches */

  private handle(dpid: bigint): SwitchHandle {
    const sw = this.opts.switches(dpid);
    if (!sw?.alive) throw new MeterEnforcerError('ENF_NO_SWITCH', `switch ${dpidHex(dpid)} is not connected`, dpid);
    return sw;
  }

  /**
   * A fresh state for `dpid` (replacing any other): once `inFlight` settled (their messages go out before
   * the clean slate), probe, then clean slate. `ready` never rejects.
   */
  private startSwitch(dpid: bigint, inFlight: readonly Promise<void>[]): SwitchState {
    const st: SwitchState = { dpid, pool: new MeterIdPool(0), ready: Promise.resolve() };
    this.sws.set(dpid, st);
    st.ready = (async () => {
      await Promise.allSettled(inFlight);
      await this.probe(st);
      await this.cleanSlate(st);
    })();
    return st;
  }

  /** The switch's state once probed (a switch never seen in switchUp gets its switch-up sequence now). */
  private async switchFor(dpid: bigint): Promise<SwitchState> {
    let st = this.sws.get(dpid);
    if (!st) {
      this.handle(dpid);
      this.log.info({ event: 'meter_switch_lazy_up', dpid: dpidHex(dpid) }, 'set() on a switch not seen in switchUp: probing it now');
      st = this.startSwitch(dpid, []); // no keys of it can be installed yet: nothing to forget
    }
    await st.ready;
    if (this.sws.get(dpid) !== st) throw new MeterEnforcerError('ENF_SWITCH_RESET', `switch ${dpidHex(dpid)} went down or came up again`, dpid);
    if (!st.support?.supported) {
      throw new MeterEnforcerError('ENF_UNSUPPORTED', `switch ${dpidHex(dpid)} cannot meter: ${st.support?.reason ?? 'not probed'}`, dpid);
    }
    return st;
  }

  private checkCurrent(e: Entry, st: SwitchState): void {
    if (e.forgotten || this.sws.get(st.dpid) !== st) {
      throw new MeterEnforcerError('ENF_SWITCH_RESET', `switch ${dpidHex(st.dpid)} went down or came up again`, st.dpid);
    }
  }

  /** Drops every key of `dpid` (queued set()s reject); returns the operations still in flight. */
  private forgetSwitch(dpid: bigint, why: string): Promise<void>[] {
    const inFlight: Promise<void>[] = [];
    for (const e of [...this.entries.values()]) {
      if ((e.on?.sw.dpid ?? e.target.dpid) !== dpid) continue;
      this.forget(e, new MeterEnforcerError('ENF_SWITCH_RESET', `${why} (${dpidHex(dpid)})`, dpid));
      if (e.running) inFlight.push(e.running);
    }
    return inFlight;
  }

  private forget(e: Entry, err: unknown): void {
    e.forgotten = true;
    for (const op of e.queue.splice(0)) for (const w of op.waiters) w.reject(err);
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
  }

  /** OFPMP_METER_FEATURES → st.support and the id pool. Never throws (a failed probe = unsupported). */
  private async probe(st: SwitchState): Promise<void> {
    const dpid = dpidHex(st.dpid);
    const sw = this.opts.switches(st.dpid);
    let verdict: Omit<MeterSupport, 'dpid'>;
    if (!sw?.alive) verdict = { supported: false, maxMeter: 0, bandTypes: [], reason: 'switch not connected' };
    else {
      try {
        verdict = judgeMeterFeatures(await sw.multipart({ mpType: 'OFPMP_METER_FEATURES' }));
      } catch (err) {
        verdict = { supported: false, maxMeter: 0, bandTypes: [], reason: `OFPMP_METER_FEATURES failed: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    if (verdict.supported && this.expiring && sw && sw.features.nTables <= this.meterTableId) {
      verdict = { ...verdict, supported: false, reason: `expiring meters need table ${this.meterTableId}; the switch has ${sw.features.nTables} tables` };
    }
    st.support = { dpid, ...verdict };
    st.pool = new MeterIdPool(verdict.supported ? verdict.maxMeter : 0);
    if (verdict.supported) this.log.info({ event: 'meter_probe', dpid, ...verdict }, 'meters supported');
    else this.log.warn({ event: 'meter_probe', dpid, ...verdict }, 'meters NOT supported: rates cannot be enforced on this switch');
  }

  /** Deletes the entries of the enforcement cookie prefix and (where meters work) every meter. Never throws. */
  private async cleanSlate(st: SwitchState): Promise<void> {
    const dpid = dpidHex(st.dpid);
    const sw = this.opts.switches(st.dpid);
    if (!sw?.alive || this.sws.get(st.dpid) !== st) return;
    try {
      // Entries of other apps that an earlier run attached a meter to (routing's pinned entries) would be
      // removed with the meter (§7.3.4.5): give them their plain instructions back first, so the flows they
      // carry keep their path across a controller restart.
      const detach = st.support?.supported ? await this.attachedLeftovers(sw).catch((err: unknown) => {
        this.log.warn({ event: 'meter_leftovers_unread', dpid, err }, 'could not read the flow table; entries using old meters go with them');
        return [];
      }) : [];
      const miss = st.support?.supported && this.expiring ? [meterTableMiss(this.meterTableId)] : [];
      await sw.transact([...detach, deleteEnforcementEntries(), ...miss, ...(st.support?.supported ? [meterDeleteAll()] : [])]);
      this.log.info({ event: 'meter_clean_slate', dpid, detached: detach.length }, 'deleted enforcement entries and meters of earlier runs');
    } catch (err) {
      this.log.warn({ event: 'meter_clean_slate_failed', dpid, err }, 'could not delete leftovers; meter adds may collide');
    }
  }

  /**
   * MODIFY_STRICTs giving every entry (not the app's own) that an earlier run metered its plain
   * instructions back: the meter instruction removed, or — an entry leading to the meter table — its
   * written actions applied again and the goto removed.
   */
  private async attachedLeftovers(sw: SwitchHandle): Promise<OutMessage[]> {
    const reply = await sw.multipart({
      mpType: 'OFPMP_FLOW', tableId: OFPTT_ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [],
    });
    const toMeterTable = (i: { type: string; tableId?: number }): boolean => i.type === 'OFPIT_GOTO_TABLE' && i.tableId === this.meterTableId;
    return reply.flows
      .filter((f) => !isEnforcementCookie(f.cookie) && f.instructions.some((i) => i.type === 'OFPIT_METER' || (f.tableId === this.tableId && toMeterTable(i))))
      .map((f) => {
        const viaTable = f.instructions.some(toMeterTable);
        return flowMod({
          command: OFPFC.MODIFY_STRICT, tableId: f.tableId, priority: f.priority, match: f.match,
          instructions: viaTable
            ? f.instructions.flatMap((i) => i.type === 'OFPIT_WRITE_ACTIONS' ? [{ type: 'OFPIT_APPLY_ACTIONS' as const, actions: i.actions }]
              : i.type === 'OFPIT_METER' || toMeterTable(i) ? [] : [i])
            : f.instructions.filter((i) => i.type !== 'OFPIT_METER'),
        });
      });
  }

  /* ------------------------------------------------------------ stats and close */

  private async pollAll(): Promise<void> {
    const bySwitch = new Map<SwitchState, Map<number, Entry>>();
    for (const e of this.entries.values()) {
      if (!e.on || this.sws.get(e.on.sw.dpid) !== e.on.sw) continue;
      const m = bySwitch.get(e.on.sw) ?? new Map<number, Entry>();
      m.set(e.on.meterId, e);
      bySwitch.set(e.on.sw, m);
    }
    await Promise.all([...bySwitch].map(([st, byId]) => this.pollSwitch(st, byId)));
  }

  private async pollSwitch(st: SwitchState, byId: ReadonlyMap<number, Entry>): Promise<void> {
    const sw = this.opts.switches(st.dpid);
    if (!sw?.alive) return;
    try {
      const reply = await sw.multipart({ mpType: 'OFPMP_METER', meterId: OFPM.ALL });
      const now = this.opts.clock.now();
      for (const m of reply.meters) {
        const e = byId.get(m.meterId);
        if (!e || e.on?.meterId !== m.meterId || e.on.sw !== st) continue;
        const s = meterSample(m, now);
        const bps = e.prev ? measuredBps(e.prev, s) : undefined;
        if (bps !== undefined) e.stats = { packets: s.packets, bytes: s.bytes, measuredBps: bps, sampledAtMs: now };
        e.prev = s;
      }
    } catch (err) {
      // a session closing under the request (switch gone, shutdown) is not worth a stack trace
      const closed = (err as { code?: string }).code === 'OFP_SESSION_CLOSED';
      if (closed) this.log.info({ event: 'meter_stats_failed', dpid: dpidHex(st.dpid), reason: (err as Error).message }, 'meter stats request failed: session closed');
      else this.log.warn({ event: 'meter_stats_failed', dpid: dpidHex(st.dpid), err }, 'meter stats request failed');
    }
  }

  private async closeAll(): Promise<void> {
    const closedErr = new MeterEnforcerError('ENF_CLOSED', 'the meter enforcer is closed');
    const running: Promise<void>[] = [];
    for (const e of this.entries.values()) {
      for (const op of e.queue.splice(0)) for (const w of op.waiters) w.reject(closedErr);
      if (e.running) running.push(e.running);
    }
    await Promise.allSettled(running);
    const all = [...this.entries.values()];
    for (const e of all) this.forget(e, closedErr);
    await Promise.allSettled(all.map(async (e) => {
      const on = e.on;
      e.on = undefined;
      if (on) await this.deleteFrom(on, [], { timeoutMs: CLOSE_TIMEOUT_MS });
    }));
    this.log.info({ event: 'meter_enforcer_closed', deleted: all.filter((e) => e.state === 'installed').length }, 'meter enforcer closed');
  }
}
