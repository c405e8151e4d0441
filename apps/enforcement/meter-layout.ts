/**
 * Where a meter goes in a switch's tables, and the FLOW_MODs that put it there or take it away (pure;
 * the builders are meters.ts's). Three layouts, chosen by the MeterEnforcer's options:
 * - own entry: a metered copy of the pinned entry one priority above it (OFPIT_METER then its actions);
 * - attached (`attachPriority`): the pinned entry itself is modified (MODIFY_STRICT) to meter + its actions,
 *   and given its plain actions back before the meter is deleted;
 * - expiring (attached with `expiryS` > 0, BwE §6.5): the pinned entry writes its actions and goes on to
 *   the meter table, whose entry of the same match holds the meter with a hard timeout; re-adding that
 *   entry restarts its timeouts (OpenFlow 1.3.5 §6.4). Once the controller is gone they expire and the
 *   meter table's table-miss entry (no instructions) forwards the flow unmetered.
 */
import type { OutMessage } from '../../openflow/app-api.js';
import type { Action, Match } from '../../openflow/codec/index.js';
import {
  attachMeter, deleteEntryByCookie, deleteExpiringMeterEntry, detachMeter, expiringMeterEntry, gotoMeterTable, meteredEntry,
} from './meters.js';
import type { Attachment } from './meter-target.js';

/** A meter as placed: its id, the cookie of its entries, the pinned entry it polices and its attachments. */
export interface PlacedMeter {
  readonly meterId: number;
  readonly cookie: bigint;
  readonly match: Match;
  readonly actions: readonly Action[];
  readonly attachments: readonly Attachment[];
}

export interface MeterLayoutOptions {
  /** priority of metered entries of their own (routing.priority + 1) */
  readonly priority: number;
  /** default 0 */
  readonly tableId?: number;
  /** idle timeout of metered entries, s */
  readonly idleTimeoutS: number;
  /** attach meters to the pinned entries of this priority (routing's) */
  readonly attachPriority?: number;
  /** attached meters expire this long after their last refresh, s (0 or absent: never) */
  readonly expiryS?: number;
  /** the meter table of expiring meters (default tableId + 1) */
  readonly meterTableId?: number;
}

export class MeterLayout {
  readonly tableId: number;
  readonly meterTableId: number;
  readonly expiryS: number;

  /** @throws RangeError for an expiryS that is not an integer 0..65535, a meterTableId not after tableId or above 254 */
  constructor(private readonly opts: MeterLayoutOptions) {
    this.tableId = opts.tableId ?? 0;
    this.meterTableId = opts.meterTableId ?? this.tableId + 1;
    this.expiryS = opts.expiryS ?? 0;
    if (!Number.isInteger(this.expiryS) || this.expiryS < 0 || this.expiryS > 0xffff) throw new RangeError(`expiryS must be an integer 0..65535, got ${this.expiryS}`);
    if (this.expiryS > 0 && (this.meterTableId <= this.tableId || this.meterTableId > 0xfe)) {
      throw new RangeError(`meterTableId must be after table ${this.tableId} and ≤ 254, got ${this.meterTableId}`);
    }
  }

  /** Meters go on the pinned entries (MODIFY_STRICT) rather than on entries of their own. */
  get attached(): boolean {
    return this.opts.attachPriority !== undefined;
  }

  /** Metered entries expire unless refreshed (attached with expiryS > 0). */
  get expiring(): boolean {
    return this.attached && this.expiryS > 0;
  }

  /** How often to re-add expiring entries, ms: a third of `expiryS` (two refreshes may be lost), 0 when not expiring. */
  get refreshIntervalMs(): number {
    return this.expiring ? Math.max(100, Math.floor((this.expiryS * 1000) / 3)) : 0;
  }

  /** The messages that put `on`'s meter in place: one attach per attachment, or its own entry. */
  entries(on: PlacedMeter): OutMessage[] {
    if (!this.attached) return [this.ownEntry(on)];
    const priority = this.opts.attachPriority!;
    if (!this.expiring) return on.attachments.map((a) => attachMeter({ tableId: this.tableId, priority, match: a.match, actions: a.actions, meterId: on.meterId }));
    // the metered entry first, then the pinned entry that leads to it (no moment where a packet finds
    // the goto but not the meter… except the table-miss, which forwards unmetered)
    return on.attachments.flatMap((a) => [
      this.expiringEntry(on, a),
      gotoMeterTable({ tableId: this.tableId, priority, match: a.match, actions: a.actions, meterTableId: this.meterTableId }),
    ]);
  }

  /** The meter-table entry of attachment `a` (expiring layout): re-added to restart its hard timeout. */
  expiringEntry(on: PlacedMeter, a: Attachment): OutMessage {
    return expiringMeterEntry({
      cookie: on.cookie, meterTableId: this.meterTableId, priority: this.opts.attachPriority!, match: a.match, meterId: on.meterId,
      idleTimeoutS: this.opts.idleTimeoutS, hardTimeoutS: this.expiryS,
    });
  }

  /** The metered entry of its own (own-entry layout). */
  ownEntry(on: PlacedMeter): OutMessage {
    return meteredEntry({
      cookie: on.cookie, tableId: this.tableId, priority: this.opts.priority, idleTimeoutS: this.opts.idleTimeoutS,
      match: on.match, meterId: on.meterId, actions: on.actions,
    });
  }

  /** The pinned entry gets its plain apply-actions back (and, expiring, its meter-table entry goes). */
  detach(a: Attachment): OutMessage[] {
    const priority = this.opts.attachPriority!;
    const plain = detachMeter({ tableId: this.tableId, priority, match: a.match, actions: a.actions });
    return this.expiring ? [plain, deleteExpiringMeterEntry(this.meterTableId, priority, a.match)] : [plain];
  }

  /** What takes `on`'s meter off its entries before the meter is deleted (attached: detach; own entry: delete by cookie, and `extraCookies`). */
  removal(on: PlacedMeter, extraCookies: readonly bigint[]): OutMessage[] {
    return this.attached ? on.attachments.flatMap((a) => this.detach(a)) : [on.cookie, ...extraCookies].map((c) => deleteEntryByCookie(c, this.tableId));
  }
}
