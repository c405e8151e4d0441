/**
 * The switch side of packet-in protection: OpenFlow 1.3's virtual meter for the controller connection
 * (OFPM_CONTROLLER, OpenFlow 1.3.5 §7.3.4.5, "meter for controller connection") set on every switch at
 * start, so a switch that supports it drops the excess of packets-to-controller before they cost a
 * socket write. Probed, not assumed: the METER_MOD goes out with a barrier; the switch's answer is kept
 * per switch and reported (`applied`, or `unsupported` with the switch's error), like the data meters.
 * One drop band in packets per second; the rate is the switch's whole packet-in budget (all classes).
 */
import type { App, OutMessage, SwitchHandle } from '../../openflow/app-api.js';
import { OFPET, OFPM, OFPMC, OFPMF } from '../../openflow/codec/index.js';
import { SwitchError } from '../../openflow/errors.js';
import { dpidHex, type Logger } from '../../lib/log.js';

/**
 * Installs a meter whatever an earlier connection or run left: `mods(OFPMC_ADD)` in one transaction and,
 * when the switch answers OFPMMFC_METER_EXISTS (OpenFlow 1.3.5 §7.3.4.5), `mods(OFPMC_MODIFY)` in another.
 * @param mods the METER_MOD for the command, with whatever goes in the same transaction
 * @throws the error of the transaction that failed (a SwitchError, or the session's)
 */
export async function addOrModifyMeter(sw: SwitchHandle, mods: (command: number) => OutMessage[]): Promise<void> {
  try {
    await sw.transact(mods(OFPMC.ADD));
  } catch (err) {
    if (!(err instanceof SwitchError && err.errType === OFPET.METER_MOD_FAILED && err.errCodeName === 'OFPMMFC_METER_EXISTS')) throw err;
    await sw.transact(mods(OFPMC.MODIFY));
  }
}

export interface ControllerMeterStatus {
  readonly dpid: string;
  readonly state: 'pending' | 'applied' | 'unsupported';
  readonly ratePps: number;
  /** the switch's error when unsupported */
  readonly reason?: string;
}

export interface ControllerMeterApp {
  readonly app: App;
  statuses(): ControllerMeterStatus[];
}

/** METER_MOD for OFPM_CONTROLLER: flags PKTPS|BURST, one drop band at `ratePps` with a one-second burst. */
export function controllerMeterMod(command: number, ratePps: number): OutMessage {
  return {
    type: 'OFPT_METER_MOD', command, flags: OFPMF.PKTPS | OFPMF.BURST, meterId: OFPM.CONTROLLER,
    bands: [{ type: 'OFPMBT_DROP', rate: ratePps, burstSize: ratePps }],
  };
}

/** @param ratePps packets per second to the controller per switch (0: the app does nothing) */
export function createControllerMeterApp(opts: { ratePps: number; log: Logger }): ControllerMeterApp {
  const status = new Map<bigint, ControllerMeterStatus>();
  const log = opts.log.child({ app: 'controller-meter' });

  const apply = async (sw: SwitchHandle): Promise<void> => {
    const dpid = sw.dpid;
    status.set(dpid, { dpid: dpidHex(dpid), state: 'pending', ratePps: opts.ratePps });
    try {
      await addOrModifyMeter(sw, (command) => [controllerMeterMod(command, opts.ratePps)]);
      status.set(dpid, { dpid: dpidHex(dpid), state: 'applied', ratePps: opts.ratePps });
      log.info({ event: 'controller_meter', dpid: dpidHex(dpid), ratePps: opts.ratePps }, 'OFPM_CONTROLLER meter applied');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      status.set(dpid, { dpid: dpidHex(dpid), state: 'unsupported', ratePps: opts.ratePps, reason });
      log.info({ event: 'controller_meter_unsupported', dpid: dpidHex(dpid), reason }, 'OFPM_CONTROLLER meter not supported by the switch');
    }
  };

  const app: App = {
    name: 'controller-meter',
    handlers: {
      switchUp: (e) => {
        if (opts.ratePps > 0) void apply(e.sw);
      },
      switchDown: (e) => {
        status.delete(e.dpid);
      },
    },
  };
  return { app, statuses: () => [...status.values()] };
}
