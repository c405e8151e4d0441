/**
 * Pure OpenFlow meter enforcement (no I/O): the enforcement cookie scheme, the
 * burst rule, named builders for the METER_MOD and FLOW_MOD messages the enforcer sends, and the rate a
 * meter measured between two OFPMP_METER samples. The shell is meter-enforcer.ts.
 *
 * Units: rates in bit/s (1000s, ARCHITECTURE.md "Commitments" 10) at this module's interface, kbit/s on the wire (OFPMF_KBPS);
 * bursts in bytes here, kbit on the wire (OFPMF_BURST with OFPMF_KBPS); times in ms.
 *
 * Cookie scheme (64 bits, like routing's): `0x5256` ("RV", Rivulet) in bits 63–48, app id `0x02`
 * (enforcement) in bits 47–40, a serial in bits 39–0. Every metered entry installed gets a fresh serial,
 * so one entry can be deleted by exact cookie, and every entry of the app (left by an earlier run) by the
 * prefix and {@link ENFORCEMENT_COOKIE_PREFIX_MASK}.
 */
import {
  OFPFC,
  OFPFF,
  OFPM,
  OFPMC,
  OFPMF,
  OFPTT_ALL,
  flowMod,
  type Action,
  type Match,
  type MeterBand,
  type MeterStats,
} from '../../openflow/codec/index.js';
import type { OutMessage } from '../../openflow/app-api.js';
import { ALL_ONES_64, APP_COOKIE_PREFIX_MASK, appCookie, appCookiePrefix, isAppCookie } from '../../lib/cookies.js';

/* ------------------------------------------------------------------ cookies */

const ENFORCEMENT_APP_ID = 0x02;
export const ENFORCEMENT_COOKIE_PREFIX = appCookiePrefix(ENFORCEMENT_APP_ID);
/** Mask selecting the prefix (tag + app id) of a cookie. */
export const ENFORCEMENT_COOKIE_PREFIX_MASK = APP_COOKIE_PREFIX_MASK;

/** The cookie of metered entry number `serial` (only its low 40 bits are kept). */
export function enforcementCookie(serial: number): bigint {
  return appCookie(ENFORCEMENT_APP_ID, serial);
}

/** True for cookies of Rivulet enforcement entries. */
export function isEnforcementCookie(cookie: bigint): boolean {
  return isAppCookie(ENFORCEMENT_APP_ID, cookie);
}

/* ------------------------------------------------------------------ rates and bursts */

/** Bytes of a full-size Ethernet frame as a datapath meters it (1500 MTU + 14 header, no FCS). */
export const FULL_FRAME_BYTES = 1514;
/** The burst never holds fewer than this many full-size frames (ARCHITECTURE.md "Commitments" 2: a tiny burst starves TCP). */
export const MIN_BURST_FRAMES = 10;
/** Default burst duration, ms: the band lets `rate · 20 ms` through at line rate before it drops. */
export const DEFAULT_BURST_MS = 20;
/** Highest rate a kbit/s band can carry (u32 kbit/s), bit/s. */
export const MAX_METER_RATE_BPS = 0xffffffff * 1000;

/**
 * The burst, in bytes, of a drop band of `rateBps` bit/s: what the rate sends in `burstMs` ms
 * (`rate · burstMs / 8000`), but at least {@link MIN_BURST_FRAMES} full-size frames, rounded up to a
 * whole byte. A deliberate burst: with a token bucket of a few packets TCP's bursts are dropped and it
 * settles well below the rate (ARCHITECTURE.md "Commitments" 2).
 * @throws RangeError for a rate that is not finite and > 0, or burstMs not finite and ≥ 0
 */
export function meterBurstBytes(rateBps: number, burstMs: number = DEFAULT_BURST_MS): number {
  checkRate(rateBps);
  if (!Number.isFinite(burstMs) || burstMs < 0) throw new RangeError(`burst must be a finite number of ms ≥ 0, got ${burstMs}`);
  return Math.max(MIN_BURST_FRAMES * FULL_FRAME_BYTES, Math.ceil((rateBps * burstMs) / 8000));
}

/** bit/s → the band's kbit/s, rounded UP (a meter never enforces less than asked), at least 1. @throws RangeError */
export function rateKbps(rateBps: number): number {
  checkRate(rateBps);
  return Math.max(1, Math.ceil(rateBps / 1000));
}

/** Bytes → the band's burst_size in kbit (with OFPMF_KBPS), rounded up, at least 1. @throws RangeError */
export function burstKbit(burstBytes: number): number {
  if (!Number.isFinite(burstBytes) || burstBytes <= 0) throw new RangeError(`burst must be a finite number of bytes > 0, got ${burstBytes}`);
  const kbit = Math.max(1, Math.ceil((burstBytes * 8) / 1000));
  if (kbit > 0xffffffff) throw new RangeError(`burst of ${burstBytes} bytes does not fit a u32 of kbit`);
  return kbit;
}

function checkRate(rateBps: number): void {
  if (!Number.isFinite(rateBps) || rateBps <= 0 || rateBps > MAX_METER_RATE_BPS) {
    throw new RangeError(`meter rate must be a finite number of bit/s in (0, ${MAX_METER_RATE_BPS}], got ${rateBps}`);
  }
}

function checkMeterId(meterId: number): void {
  if (!Number.isInteger(meterId) || meterId < 1 || meterId > OFPM.MAX) {
    throw new RangeError(`flow meter id must be an integer in 1..${OFPM.MAX}, got ${meterId}`);
  }
}

/* ------------------------------------------------------------------ builders */

/** The flags of every enforcement meter: rates in kbit/s, burst given, statistics kept (§7.3.4.5). */
export const ENFORCEMENT_METER_FLAGS = OFPMF.KBPS | OFPMF.BURST | OFPMF.STATS;

/**
 * The one band of an enforcement meter: OFPMBT_DROP (the only band OVS accepts, ARCHITECTURE.md "Platform facts"), rate in
 * kbit/s rounded up from `rateBps`, burst_size in kbit rounded up from `burstBytes`.
 * @throws RangeError
 */
export function dropBand(rateBps: number, burstBytes: number): MeterBand {
  return { type: 'OFPMBT_DROP', rate: rateKbps(rateBps), burstSize: burstKbit(burstBytes) };
}

function meterMod(command: number, meterId: number, rateBps: number, burstBytes: number): OutMessage {
  checkMeterId(meterId);
  return { type: 'OFPT_METER_MOD', command, flags: ENFORCEMENT_METER_FLAGS, meterId, bands: [dropBand(rateBps, burstBytes)] };
}

/**
 * METER_MOD OFPMC_ADD (OpenFlow 1.3.5 §7.3.4.5): meter `meterId` (1..OFPM_MAX) with flags
 * KBPS|BURST|STATS and one drop band at `rateBps` bit/s (sent as kbit/s, rounded up) with a burst of
 * `burstBytes` bytes (sent as kbit, rounded up). The switch answers OFPMMFC_METER_EXISTS for a taken id.
 * @throws RangeError for an id outside 1..OFPM_MAX or a bad rate/burst
 */
export function meterAdd(meterId: number, rateBps: number, burstBytes: number): OutMessage {
  return meterMod(OFPMC.ADD, meterId, rateBps, burstBytes);
}

/** METER_MOD OFPMC_MODIFY of an existing meter: same flags and band as {@link meterAdd}. @throws RangeError */
export function meterModify(meterId: number, rateBps: number, burstBytes: number): OutMessage {
  return meterMod(OFPMC.MODIFY, meterId, rateBps, burstBytes);
}

/**
 * METER_MOD OFPMC_DELETE of meter `meterId` (or of every meter with OFPM_ALL); no bands. Per §7.3.4.5
 * the switch also deletes the flow entries that use it.
 * @throws RangeError for an id that is neither 1..OFPM_MAX nor OFPM_ALL
 */
export function meterDelete(meterId: number): OutMessage {
  if (meterId !== OFPM.ALL) checkMeterId(meterId);
  return { type: 'OFPT_METER_MOD', command: OFPMC.DELETE, flags: 0, meterId, bands: [] };
}

/** METER_MOD OFPMC_DELETE of every meter (meter_id OFPM_ALL, §7.3.4.5) — the clean slate at switch-up. */
export function meterDeleteAll(): OutMessage {
  return meterDelete(OFPM.ALL);
}

export interface MeteredEntryOptions {
  /** the entry's cookie ({@link enforcementCookie}) */
  readonly cookie: bigint;
  readonly tableId: number;
  /** above the pinned entry's priority, so the metered entry wins (routing.priority + 1) */
  readonly priority: number;
  /** idle timeout, s (0: none) */
  readonly idleTimeoutS: number;
  readonly match: Match;
  readonly meterId: number;
  /** the pinned entry's actions (output, set_queue…) */
  readonly actions: readonly Action[];
}

/**
 * FLOW_MOD OFPFC_ADD of a metered entry: instructions OFPIT_METER `meterId` (§7.2.4: the meter runs
 * before the actions) then OFPIT_APPLY_ACTIONS `actions`; idle timeout, no hard timeout,
 * OFPFF_SEND_FLOW_REM. An ADD over an entry of identical match and priority replaces it (§6.4).
 * @throws RangeError for a bad meter id
 */
export function meteredEntry(o: MeteredEntryOptions): OutMessage {
  checkMeterId(o.meterId);
  return flowMod({
    cookie: o.cookie, tableId: o.tableId, idleTimeout: o.idleTimeoutS, priority: o.priority,
    flags: OFPFF.SEND_FLOW_REM, match: o.match,
    instructions: [{ type: 'OFPIT_METER', meterId: o.meterId }, { type: 'OFPIT_APPLY_ACTIONS', actions: o.actions }],
  });
}

/** Where an attached meter goes: the pinned entry (table, priority, match) and the actions it keeps. */
export interface AttachOptions {
  readonly tableId: number;
  readonly priority: number;
  readonly match: Match;
  readonly actions: readonly Action[];
}

/**
 * FLOW_MOD OFPFC_MODIFY_STRICT of an existing (routing's pinned) entry: its instructions become
 * meter + apply-actions. OpenFlow 1.3.5 §6.4: a modify changes only the instructions — the entry keeps
 * its cookie, timeouts, flags and counters, so its owner still recognises its FLOW_REMOVED — and does
 * nothing when no entry matches (no entry is ever created by it).
 */
export function attachMeter(o: AttachOptions & { readonly meterId: number }): OutMessage {
  checkMeterId(o.meterId);
  return flowMod({
    command: OFPFC.MODIFY_STRICT, tableId: o.tableId, priority: o.priority, match: o.match,
    instructions: [{ type: 'OFPIT_METER', meterId: o.meterId }, { type: 'OFPIT_APPLY_ACTIONS', actions: o.actions }],
  });
}

/**
 * FLOW_MOD OFPFC_MODIFY_STRICT giving the entry back its plain apply-actions. Sent before a meter is
 * deleted: OVS (like the spec's meter delete) removes every entry that still uses a deleted meter.
 */
export function detachMeter(o: AttachOptions): OutMessage {
  return flowMod({
    command: OFPFC.MODIFY_STRICT, tableId: o.tableId, priority: o.priority, match: o.match,
    instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: o.actions }],
  });
}

/* ------------------------------------------------------------------ meters that expire with the controller */

/**
 * The cookie of the meter table's table-miss entry (serial 0 of the enforcement prefix, so the clean
 * slate's delete-by-prefix takes it too and re-adds it in the same batch).
 */
export const METER_TABLE_MISS_COOKIE = enforcementCookie(0);

/**
 * FLOW_MOD OFPFC_ADD of the meter table's table-miss entry: priority 0, match all, NO instructions, so
 * the pipeline ends there and the packet's action set (written by the pinned entry) is executed
 * (OpenFlow 1.3.5 §5.4, §5.10). A packet whose metered entry has expired is thus forwarded unmetered
 * on its pinned path — never dropped, never sent to the controller. No timeouts.
 */
export function meterTableMiss(meterTableId: number): OutMessage {
  return flowMod({ cookie: METER_TABLE_MISS_COOKIE, tableId: meterTableId, priority: 0, match: [], instructions: [] });
}

export interface ExpiringMeterEntryOptions {
  /** the key's cookie ({@link enforcementCookie}) */
  readonly cookie: bigint;
  /** the meter table (after routing's) */
  readonly meterTableId: number;
  /** the pinned entry's priority */
  readonly priority: number;
  /** the pinned entry's match */
  readonly match: Match;
  readonly meterId: number;
  /** idle timeout, s: the entry goes when its flow stops */
  readonly idleTimeoutS: number;
  /** hard timeout, s: the entry goes this long after it was last (re-)added, i.e. after the controller's last refresh */
  readonly hardTimeoutS: number;
}

/**
 * FLOW_MOD OFPFC_ADD of a metered entry in the meter table: instruction OFPIT_METER only (the packet's
 * action set, written by the pinned entry, is executed at the end of the pipeline), idle and hard
 * timeouts, no OFPFF_SEND_FLOW_REM, no OFPFF_RESET_COUNTS. Sent again as the refresh: an ADD over an
 * entry of identical match and priority replaces it and restarts its timeouts (OpenFlow 1.3.5 §6.4; on
 * OVS 3.1 the duration restarts and the counters are kept, measured). The meter itself is not touched, so
 * a refresh changes neither the band's bucket nor the rate, and no packet misses the table.
 * @throws RangeError for a bad meter id or timeout
 */
export function expiringMeterEntry(o: ExpiringMeterEntryOptions): OutMessage {
  checkMeterId(o.meterId);
  for (const [name, v] of [['idle', o.idleTimeoutS], ['hard', o.hardTimeoutS]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} timeout must be an integer 0..65535 s, got ${v}`);
  }
  return flowMod({
    cookie: o.cookie, tableId: o.meterTableId, priority: o.priority, match: o.match,
    idleTimeout: o.idleTimeoutS, hardTimeout: o.hardTimeoutS,
    instructions: [{ type: 'OFPIT_METER', meterId: o.meterId }],
  });
}

/**
 * FLOW_MOD OFPFC_MODIFY_STRICT of routing's pinned entry: its actions go into the action set
 * (OFPIT_WRITE_ACTIONS) and the packet continues to the meter table (OFPIT_GOTO_TABLE, §5.9). The entry
 * keeps its cookie, timeouts, flags and counters (§6.4), and it still sees every packet of its flow, so
 * its idle timeout works. The pinned actions must fit an action set (one output: a pinned hop has one).
 * @throws RangeError when the meter table is not after the pinned entry's table
 */
export function gotoMeterTable(o: AttachOptions & { readonly meterTableId: number }): OutMessage {
  if (!Number.isInteger(o.meterTableId) || o.meterTableId <= o.tableId || o.meterTableId > 0xfe) {
    throw new RangeError(`meter table must be after table ${o.tableId} and ≤ 254, got ${o.meterTableId}`);
  }
  return flowMod({
    command: OFPFC.MODIFY_STRICT, tableId: o.tableId, priority: o.priority, match: o.match,
    instructions: [{ type: 'OFPIT_WRITE_ACTIONS', actions: o.actions }, { type: 'OFPIT_GOTO_TABLE', tableId: o.meterTableId }],
  });
}

/** FLOW_MOD OFPFC_DELETE_STRICT of the meter table's entry of (match, priority). */
export function deleteExpiringMeterEntry(meterTableId: number, priority: number, match: Match): OutMessage {
  return flowMod({ command: OFPFC.DELETE_STRICT, tableId: meterTableId, priority, match });
}

/** FLOW_MOD OFPFC_DELETE of the entries carrying exactly `cookie` in table `tableId` (default all tables). */
export function deleteEntryByCookie(cookie: bigint, tableId: number = OFPTT_ALL): OutMessage {
  return flowMod({ cookie, cookieMask: ALL_ONES_64, tableId, command: OFPFC.DELETE });
}

/** FLOW_MOD OFPFC_DELETE of every enforcement entry (cookie prefix + mask), all tables — the clean slate. */
export function deleteEnforcementEntries(): OutMessage {
  return flowMod({
    cookie: ENFORCEMENT_COOKIE_PREFIX, cookieMask: ENFORCEMENT_COOKIE_PREFIX_MASK, tableId: OFPTT_ALL, command: OFPFC.DELETE,
  });
}

/* ------------------------------------------------------------------ measured rates */

/** One meter's counters at one moment. Counts are of what PASSED the meter (entered − dropped by bands). */
export interface MeterSample {
  readonly meterId: number;
  /** packets that passed */
  readonly packets: number;
  /** bytes that passed */
  readonly bytes: number;
  /** the switch's duration of the meter (duration_sec/nsec), ms */
  readonly durationMs: number;
  /** the controller's clock when the sample arrived, ms */
  readonly atMs: number;
}

/**
 * A sample from one ofp_meter_stats (§7.3.5.12): passed = packet_in_count / byte_in_count minus the
 * bands' packet_band_count / byte_band_count (a drop band counts what it dropped).
 */
export function meterSample(s: MeterStats, atMs: number): MeterSample {
  let droppedPackets = 0n;
  let droppedBytes = 0n;
  for (const b of s.bandStats) {
    droppedPackets += b.packetBandCount;
    droppedBytes += b.byteBandCount;
  }
  const pos = (v: bigint): number => Number(v > 0n ? v : 0n);
  return {
    meterId: s.meterId,
    packets: pos(s.packetInCount - droppedPackets),
    bytes: pos(s.byteInCount - droppedBytes),
    durationMs: s.durationSec * 1000 + s.durationNsec / 1e6,
    atMs,
  };
}

/**
 * The rate that passed a meter between two samples, bit/s (1000s): Δbytes · 8000 / Δms. Δms is the
 * switch's duration difference when it grew (no controller-side latency in it), else the controller
 * clock's. undefined when the samples are of different meters, no time passed, or a counter went
 * backwards (the meter was re-created or modified: OVS's userspace datapath restarts the counters).
 */
export function measuredBps(prev: MeterSample, cur: MeterSample): number | undefined {
  if (prev.meterId !== cur.meterId || cur.bytes < prev.bytes || cur.packets < prev.packets) return undefined;
  const dSwitch = cur.durationMs - prev.durationMs;
  const dt = dSwitch > 0 ? dSwitch : cur.atMs - prev.atMs;
  if (!(dt > 0)) return undefined;
  return ((cur.bytes - prev.bytes) * 8000) / dt;
}

/* ------------------------------------------------------------------ meter features */

/** What OFPMP_METER_FEATURES says a switch can do (§7.3.5.13), and whether it serves enforcement. */
export interface MeterFeaturesVerdict {
  readonly supported: boolean;
  readonly maxMeter: number;
  /** OFPMBT_* names of the band types the switch supports */
  readonly bandTypes: readonly string[];
  /** why not supported (absent when supported) */
  readonly reason?: string;
}

const BAND_TYPE_BITS: readonly [number, string][] = [[1, 'OFPMBT_DROP'], [2, 'OFPMBT_DSCP_REMARK']];

/**
 * Judges a METER_FEATURES reply: enforcement needs max_meter > 0, the drop band (band_types bit
 * 1 << OFPMBT_DROP) and kbit/s rates (capabilities OFPMF_KBPS). Burst and stats are used when there
 * but not required.
 */
export function judgeMeterFeatures(f: { readonly maxMeter: number; readonly bandTypes: number; readonly capabilities: number }): MeterFeaturesVerdict {
  const bandTypes = BAND_TYPE_BITS.filter(([t]) => (f.bandTypes >>> t) & 1).map(([, n]) => n);
  const missing: string[] = [];
  if (f.maxMeter <= 0) missing.push('max_meter is 0');
  if (!bandTypes.includes('OFPMBT_DROP')) missing.push('no drop band');
  if (!(f.capabilities & OFPMF.KBPS)) missing.push('no kbit/s rates');
  const base = { maxMeter: f.maxMeter, bandTypes };
  return missing.length === 0 ? { supported: true, ...base } : { supported: false, ...base, reason: missing.join('; ') };
}
