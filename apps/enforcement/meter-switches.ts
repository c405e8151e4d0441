/**
 * The meter enforcer's per-switch state: at switch-up (or at a switch's first set()) the capability probe
 * (OFPMP_METER_FEATURES, OpenFlow 1.3.5 §7.3.5.13: probe before you promise, ARCHITECTURE.md
 * "Commitments" 1), the meter id pool sized by it (meter-id-pool.ts), and the clean slate — every
 * entry of the enforcement cookie prefix and every meter left by an earlier controller run deleted, after
 * giving the entries of other apps an earlier run metered their plain instructions back. A switch that
 * goes down or comes up again gets a fresh state; work begun under the old one sees it is no longer
 * current and stops.
 */
import type { OutMessage, SwitchHandle } from '../../openflow/app-api.js';
import { flowMod, highestMeterId, OFPFC, OFPG, OFPP, OFPTT_ALL } from '../../openflow/codec/index.js';
import { dpidHex, type Logger } from '../../lib/log.js';
import type { MeterLayout } from './meter-layout.js';
import { MeterEnforcerError, type MeterSupport } from './meter-target.js';
import { MeterIdPool } from './meter-id-pool.js';
import { deleteEnforcementEntries, isEnforcementCookie, judgeMeterFeatures, meterDeleteAll, meterTableMiss } from './meters.js';

/** One connected switch as the enforcer knows it. */
export interface SwitchState {
  readonly dpid: bigint;
  support?: MeterSupport;
  pool: MeterIdPool;
  /** the probe and the clean slate (never rejects) */
  ready: Promise<void>;
}

export class MeterSwitches {
  private readonly sws = new Map<bigint, SwitchState>();

  constructor(
    private readonly switches: (dpid: bigint) => SwitchHandle | undefined,
    private readonly log: Logger,
    private readonly layout: MeterLayout,
    /** ids at the top of the switch's range kept for other apps (the per-port packet-in meters) */
    private readonly reservedTopIds = 0,
  ) {}

  /** The current state of `dpid`, if any. */
  get(dpid: bigint): SwitchState | undefined {
    return this.sws.get(dpid);
  }

  /** Whether `st` is still the state of its switch (not replaced by a switch-down or a new switch-up). */
  current(st: SwitchState): boolean {
    return this.sws.get(st.dpid) === st;
  }

  /** The switch went away. */
  delete(dpid: bigint): void {
    this.sws.delete(dpid);
  }

  /** The switch's session, when connected. */
  session(dpid: bigint): SwitchHandle | undefined {
    return this.switches(dpid);
  }

  /** The connected session of `dpid`. @throws MeterEnforcerError ENF_NO_SWITCH */
  handle(dpid: bigint): SwitchHandle {
    const sw = this.switches(dpid);
    if (!sw?.alive) throw new MeterEnforcerError('ENF_NO_SWITCH', `switch ${dpidHex(dpid)} is not connected`, dpid);
    return sw;
  }

  /**
   * A fresh state for `dpid` (replacing any other): once `inFlight` settled (their messages go out before
   * the clean slate), probe, then clean slate. `ready` never rejects.
   */
  start(dpid: bigint, inFlight: readonly Promise<void>[]): SwitchState {
    const st: SwitchState = { dpid, pool: new MeterIdPool(0), ready: Promise.resolve() };
    this.sws.set(dpid, st);
    st.ready = (async () => {
      await Promise.allSettled(inFlight);
      await this.probe(st);
      await this.cleanSlate(st);
    })();
    return st;
  }

  /**
   * The switch's state once probed (a switch never seen at switch-up gets its switch-up sequence now).
   * @throws MeterEnforcerError ENF_NO_SWITCH, ENF_SWITCH_RESET (replaced meanwhile), ENF_UNSUPPORTED
   */
  async ready(dpid: bigint): Promise<SwitchState> {
    let st = this.sws.get(dpid);
    if (!st) {
      this.handle(dpid);
      this.log.info({ event: 'meter_switch_lazy_up', dpid: dpidHex(dpid) }, 'set() on a switch not seen in switchUp: probing it now');
      st = this.start(dpid, []); // no keys of it can be installed yet: nothing to forget
    }
    await st.ready;
    if (this.sws.get(dpid) !== st) throw new MeterEnforcerError('ENF_SWITCH_RESET', `switch ${dpidHex(dpid)} went down or came up again`, dpid);
    if (!st.support?.supported) {
      throw new MeterEnforcerError('ENF_UNSUPPORTED', `switch ${dpidHex(dpid)} cannot meter: ${st.support?.reason ?? 'not probed'}`, dpid);
    }
    return st;
  }

  /** OFPMP_METER_FEATURES → st.support and the id pool. Never throws (a failed probe = unsupported). */
  private async probe(st: SwitchState): Promise<void> {
    const dpid = dpidHex(st.dpid);
    const sw = this.switches(st.dpid);
    let verdict: Omit<MeterSupport, 'dpid'>;
    if (!sw?.alive) verdict = { supported: false, maxMeter: 0, bandTypes: [], reason: 'switch not connected' };
    else {
      try {
        verdict = judgeMeterFeatures(await sw.multipart({ mpType: 'OFPMP_METER_FEATURES' }));
      } catch (err) {
        verdict = { supported: false, maxMeter: 0, bandTypes: [], reason: `OFPMP_METER_FEATURES failed: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    const meterTableId = this.layout.meterTableId;
    if (verdict.supported && this.layout.expiring && sw && sw.features.nTables <= meterTableId) {
      verdict = { ...verdict, supported: false, reason: `expiring meters need table ${meterTableId}; the switch has ${sw.features.nTables} tables` };
    }
    st.support = { dpid, ...verdict };
    st.pool = new MeterIdPool(verdict.supported ? Math.max(0, highestMeterId(verdict.maxMeter) - this.reservedTopIds) : 0);
    if (verdict.supported) this.log.info({ event: 'meter_probe', dpid, ...verdict }, 'meters supported');
    else this.log.warn({ event: 'meter_probe', dpid, ...verdict }, 'meters NOT supported: rates cannot be enforced on this switch');
  }

  /** Deletes the entries of the enforcement cookie prefix and (where meters work) every meter. Never throws. */
  private async cleanSlate(st: SwitchState): Promise<void> {
    const dpid = dpidHex(st.dpid);
    const sw = this.switches(st.dpid);
    if (!sw?.alive || this.sws.get(st.dpid) !== st) return;
    try {
      // Entries of other apps that an earlier run attached a meter to (routing's pinned entries) would be
      // removed with the meter (§7.3.4.5): give them their plain instructions back first, so the flows they
      // carry keep their path across a controller restart.
      const detach = st.support?.supported ? await this.attachedLeftovers(sw).catch((err: unknown) => {
        this.log.warn({ event: 'meter_leftovers_unread', dpid, err }, 'could not read the flow table; entries using old meters go with them');
        return [];
      }) : [];
      const miss = st.support?.supported && this.layout.expiring ? [meterTableMiss(this.layout.meterTableId)] : [];
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
    const { tableId, meterTableId } = this.layout;
    const toMeterTable = (i: { type: string; tableId?: number }): boolean => i.type === 'OFPIT_GOTO_TABLE' && i.tableId === meterTableId;
    return reply.flows
      .filter((f) => !isEnforcementCookie(f.cookie) && f.instructions.some((i) => i.type === 'OFPIT_METER' || (f.tableId === tableId && toMeterTable(i))))
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
}
