/**
 * The meter enforcement shell: enforces a rate on one flow (or host pair) at its ingress leaf with an
 * OpenFlow 1.3 meter (one drop band, OFPMF_KBPS|BURST|STATS) on the pinned entry it polices. This file
 * keeps the per-key state and the order of operations (install, modify, teardown, refresh, statistics,
 * close) and talks to switches through SwitchHandle.transact (messages + barrier). The parts it uses:
 * meter-ops.ts (the per-key operation queue), meters.ts (the pure messages, cookies, id pool, burst rule), meter-layout.ts (where a meter goes: its
 * own entry, attached to the pinned entry, or expiring through the meter table), meter-switches.ts (the
 * per-switch probe, id pool and clean slate), meter-target.ts (targets, reports, errors).
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
import { OFPM, type Action, type Match } from '../../openflow/codec/index.js';
import type { Clock } from '../../lib/clock.js';
import { dpidHex, type Logger } from '../../lib/log.js';
import { MeterLayout } from './meter-layout.js';
import { OpQueue } from './meter-ops.js';
import { MeterSwitches, type SwitchState } from './meter-switches.js';
import { attachmentsOf, MeterEnforcerError, type Attachment, type MeterInfo, type MeterSupport, type MeterTarget } from './meter-target.js';
import {
  DEFAULT_BURST_MS, burstKbit, deleteEntryByCookie, enforcementCookie, measuredBps, meterAdd, meterBurstBytes, meterDelete,
  meterModify, meterSample, rateKbps, type MeterSample,
} from './meters.js';

export {
  MeterEnforcerError, type Attachment, type MeterEnforcerErrorCode, type MeterInfo, type MeterSupport, type MeterTarget,
} from './meter-target.js';

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
  /** Ids at the top of each switch's range (max_meter, max_meter − 1, …) left to other apps (default 0). */
  readonly reservedTopIds?: number;
}

/** Wait for the deletes of close(), ms. */
const CLOSE_TIMEOUT_MS = 2000;

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
  readonly queue: OpQueue;
  running?: Promise<void>;
  /** dropped by switchUp/switchDown/close: whatever is in flight must not record itself */
  forgotten: boolean;
  /** the last completed op was a remove */
  removed: boolean;
}

export class MeterEnforcer {
  private readonly log: Logger;
  private readonly layout: MeterLayout;
  private readonly sws: MeterSwitches;
  private readonly burstMs: number;
  private readonly entries = new Map<string, Entry>();
  private serial = 1;
  private closed = false;
  private closing?: Promise<void>;
  private polling?: Promise<void>;

  /** @throws RangeError for a burstMs that is not a finite number ≥ 0, a bad expiryS or meterTableId */
  constructor(private readonly opts: MeterEnforcerOptions) {
    this.log = opts.log.child({ app: 'enforcement' });
    this.layout = new MeterLayout(opts);
    this.sws = new MeterSwitches(opts.switches, this.log, this.layout, opts.reservedTopIds ?? 0);
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
      e = { key: target.key, target, burstBytes, state: 'installing', queue: new OpQueue(), forgotten: false, removed: false };
      this.entries.set(target.key, e);
    }
    const entry = e;
    entry.target = target;
    entry.burstBytes = burstBytes;
    entry.state = 'installing';
    return new Promise<number>((resolve, reject) => {
      entry.queue.set(target, { resolve, reject });
      this.pump(entry);
    });
  }

  /** Deletes the key's metered entry (DELETE_STRICT by match+priority, or by its cookie) and its meter; recycles the id. Unknown key: no-op. */
  remove(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      e.queue.remove(key, { resolve, reject });
      this.pump(e);
    });
  }

  /** A switch (re)connected: probe OFPMP_METER_FEATURES (probe before you promise, ARCHITECTURE.md "Commitments" 1), and clean slate — delete every entry with the enforcement cookie prefix and every meter (OFPM_ALL) left by an earlier controller run; forget its keys. */
  async switchUp(dpid: bigint): Promise<void> {
    if (this.closed) return;
    const inFlight = this.forgetSwitch(dpid, 'switch came up again');
    await this.sws.start(dpid, inFlight).ready;
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
    if (!this.layout.expiring || this.closed) return 0;
    const bySwitch = new Map<SwitchState, OutMessage[]>();
    for (const e of this.entries.values()) {
      const on = e.on;
      if (!on || e.state !== 'installed' || e.queue.length > 0 || e.forgotten) continue;
      if (!this.sws.current(on.sw)) continue;
      const msgs = bySwitch.get(on.sw) ?? [];
      for (const a of on.attachments) msgs.push(this.layout.expiringEntry(on, a));
      bySwitch.set(on.sw, msgs);
    }
    const counts = await Promise.all([...bySwitch].map(async ([st, msgs]) => {
      const sw = this.sws.session(st.dpid);
      if (!sw?.alive) return 0;
      try {
        await sw.transact(msgs);
        return msgs.length;
      } catch (err) {
        if (!sw.alive || this.closed) {
          // the switch left (or the controller is stopping) while the refresh was in flight: the session's end
          // is logged where it happens, and switchDown forgets the switch's meters
          this.log.debug({ event: 'meter_refresh_abandoned', dpid: dpidHex(st.dpid), entries: msgs.length }, 'meter refresh abandoned: the switch disconnected');
          return 0;
        }
        this.log.warn({ event: 'meter_refresh_failed', dpid: dpidHex(st.dpid), entries: msgs.length, err }, 'meter refresh failed: those meters expire unless the next refresh succeeds');
        return 0;
      }
    }));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** How often to call {@link refresh}, ms: a third of `expiryS` (two refreshes may be lost), 0 when not expiring. */
  get refreshIntervalMs(): number {
    return this.layout.refreshIntervalMs;
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
    for (let op = e.queue.next(); op !== undefined && !e.forgotten; op = e.queue.next()) {
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
        e.state = e.queue.hasSet ? 'installing' : 'installed';
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
    const st = await this.sws.ready(t.dpid);
    const sw = this.sws.handle(t.dpid);
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
      await sw.transact([meterAdd(meterId, t.rateBps, burstBytes), ...this.layout.entries(on)]);
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
    if (this.layout.attached) {
      const gone = old.attachments.filter((a) => !on.attachments.some((b) => isDeepStrictEqual(a.match, b.match)));
      msgs.push(...gone.flatMap((a) => this.layout.detach(a)), ...this.layout.entries(on));
    } else if (flowChanged) msgs.push(this.layout.ownEntry(on), deleteEntryByCookie(old.cookie, this.layout.tableId));
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
    if (!this.sws.current(on.sw)) return;
    const sw = this.sws.session(on.sw.dpid);
    const dpid = dpidHex(on.sw.dpid);
    if (!sw?.alive) {
      this.log.debug({ event: 'meter_delete_skipped', dpid, meterId: on.meterId }, 'switch not connected');
      return;
    }
    const msgs = this.layout.removal(on, extraCookies);
    try {
      await sw.transact([...msgs, meterDelete(on.meterId)], opts);
      on.sw.pool.release(on.meterId);
    } catch (err) {
      this.log.warn({ event: 'meter_delete_failed', dpid, meterId: on.meterId, err }, 'meter delete failed; id kept out of use');
    }
  }

  /* ------------------------------------------------------------ switches */

  private checkCurrent(e: Entry, st: SwitchState): void {
    if (e.forgotten || !this.sws.current(st)) {
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
    e.queue.rejectAll(err);
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
  }

  /* ------------------------------------------------------------ stats and close */

  private async pollAll(): Promise<void> {
    const bySwitch = new Map<SwitchState, Map<number, Entry>>();
    for (const e of this.entries.values()) {
      if (!e.on || !this.sws.current(e.on.sw)) continue;
      const m = bySwitch.get(e.on.sw) ?? new Map<number, Entry>();
      m.set(e.on.meterId, e);
      bySwitch.set(e.on.sw, m);
    }
    await Promise.all([...bySwitch].map(([st, byId]) => this.pollSwitch(st, byId)));
  }

  private async pollSwitch(st: SwitchState, byId: ReadonlyMap<number, Entry>): Promise<void> {
    const sw = this.sws.session(st.dpid);
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
      e.queue.rejectAll(closedErr);
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
