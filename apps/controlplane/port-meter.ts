/**
 * Per-port packet-in meters, the shell (the plan and the book: port-meter-plan.ts). The controller's
 * packet-in gate calls {@link PortMeterApp.overBudget} when a host-facing port overspends its IPv4
 * budget; the first time for a port, the switch is probed (OFPMP_METER_FEATURES, OpenFlow 1.3.5
 * §7.3.5.13: probe before you promise, ARCHITECTURE.md "Commitments" 1), then gets the port's meter and
 * entry with a barrier (METER_MOD ADD, or MODIFY over a meter left by an earlier run). The band counts
 * are read every `statsIntervalMs` (OFPMP_METER, §7.3.5.12) for GET /api/v1/packet-ins and /metrics
 * ("dropped at the switch", apart from the controller's own drops). A port whose band dropped nothing
 * for `releaseAfterMs`, or that is deleted or down, loses its meter and entry; at switch-up every entry
 * of an earlier connection is deleted (by cookie) and the book of the switch starts empty.
 */
import type { App, SwitchHandle } from '../../openflow/app-api.js';
import { OFPM, OFPMF, OFPPR, OFPPS } from '../../openflow/codec/index.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { addOrModifyMeter } from './controller-meter.js';
import { dpidHex, type Logger } from '../../lib/log.js';
import {
  PortMeterBook, portMeterDelete, portMeterEntriesDeleteAll, portMeterEntry, portMeterEntryDelete, portMeterMod,
  type PortMeter, type PortMeterState,
} from './port-meter-plan.js';

/** What GET /api/v1/packet-ins lists per metered port. */
export interface PortMeterStatus {
  readonly dpid: string;
  readonly port: number;
  readonly meterId: number;
  readonly state: PortMeterState;
  readonly ratePps: number;
  /** IPv4 packet-ins dropped by the meter's band (at the switch), as last read */
  readonly droppedAtSwitch: number;
  readonly reason?: string;
}

export interface PortMeterApp {
  readonly app: App;
  /** The gate dropped a charged IPv4 packet-in of (dpid, port): meter the port if it has no meter yet. */
  overBudget(dpid: bigint, port: number): void;
  statuses(): PortMeterStatus[];
  /** IPv4 packet-ins dropped at the switches by the per-port meters since start */
  droppedAtSwitch(): number;
  /** Stops the statistics timer. */
  stop(): void;
}

export interface PortMeterOptions {
  /** meter rate, packets/s (0: the app does nothing) */
  readonly ratePps: number;
  /** meter burst, packets */
  readonly burstPkts: number;
  /** metered ports per switch at most */
  readonly maxPortsPerSwitch: number;
  /** band counts read every this many ms */
  readonly statsIntervalMs: number;
  /** priority of the per-port entries (port-meter-plan.ts portMeterPriority) */
  readonly priority: number;
  /** a meter whose band dropped nothing for this long is removed, ms */
  readonly releaseAfterMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export function createPortMeterApp(opts: PortMeterOptions): PortMeterApp {
  const log = opts.log.child({ app: 'port-meter' });
  const book = new PortMeterBook(opts.maxPortsPerSwitch);
  const probing = new Map<bigint, Promise<void>>();
  let ctx: { switch(dpid: bigint): SwitchHandle | undefined } | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;

  const probe = (sw: SwitchHandle): Promise<void> => {
    const dpid = sw.dpid;
    let p = probing.get(dpid);
    if (!p) {
      p = (async () => {
        let max = 0;
        try {
          const f = await sw.multipart({ mpType: 'OFPMP_METER_FEATURES' });
          const drop = (f.bandTypes >>> 1) & 1;
          const pktps = (f.capabilities & OFPMF.PKTPS) !== 0;
          max = drop && pktps ? f.maxMeter : 0;
          if (!max) log.warn({ event: 'port_meter_unsupported', dpid: dpidHex(dpid), maxMeter: f.maxMeter, bandTypes: f.bandTypes, capabilities: f.capabilities }, 'switch cannot meter packet-ins per port (needs a drop band in packets/s)');
        } catch (err) {
          log.warn({ event: 'port_meter_unsupported', dpid: dpidHex(dpid), err }, 'OFPMP_METER_FEATURES failed: no per-port packet-in meters on this switch');
        }
        if (ctx?.switch(dpid) === sw) book.setMaxMeter(dpid, max);
      })();
      probing.set(dpid, p);
    }
    return p;
  };

  const install = async (sw: SwitchHandle, m: PortMeter): Promise<void> => {
    const entry = portMeterEntry(m.port, m.meterId, opts.priority);
    try {
      await addOrModifyMeter(sw, (command) => [portMeterMod(command, m.meterId, opts.ratePps, opts.burstPkts), entry]);
      if (!book.current(m)) return;
      m.state = 'applied';
      m.lastDropMs = opts.clock.now();
      log.info({ event: 'port_meter_applied', dpid: dpidHex(m.dpid), port: m.port, meterId: m.meterId, ratePps: opts.ratePps }, 'IPv4 packet-ins of the port metered at the switch');
      schedule();
    } catch (err) {
      if (!book.current(m)) return;
      m.state = 'failed';
      m.reason = err instanceof Error ? err.message : String(err);
      log.warn({ event: 'port_meter_failed', dpid: dpidHex(m.dpid), port: m.port, meterId: m.meterId, reason: m.reason }, 'per-port packet-in meter refused by the switch');
    }
  };

  const overBudget = (dpid: bigint, port: number): void => {
    if (opts.ratePps <= 0 || stopped) return;
    const sw = ctx?.switch(dpid);
    if (!sw?.alive) return;
    if (!book.probed(dpid)) {
      void probe(sw).then(() => overBudget(dpid, port));
      return;
    }
    try {
      const v = book.overBudget(dpid, port);
      if (v.kind === 'install') void install(sw, v.meter);
    } catch (err) {
      // called from the packet-in path: a failure here is logged, never thrown into the session
      log.warn({ event: 'port_meter_error', dpid: dpidHex(dpid), port, err }, 'per-port packet-in meter not installed');
    }
  };

  const removePort = (dpid: bigint, port: number, why: string): void => {
    const m = book.remove(dpid, port);
    if (!m || m.state === 'failed') return;
    const sw = ctx?.switch(dpid);
    if (sw?.alive) {
      sw.transact([portMeterEntryDelete(port, opts.priority), portMeterDelete(m.meterId)]).catch((err: unknown) => {
        log.warn({ event: 'port_meter_remove_failed', dpid: dpidHex(dpid), port, err }, 'could not remove a per-port packet-in meter');
      });
    }
    log.info({ event: 'port_meter_removed', dpid: dpidHex(dpid), port, meterId: m.meterId, why, droppedAtSwitch: m.droppedAtSwitch }, 'per-port packet-in meter removed');
  };

  const poll = async (): Promise<void> => {
    for (const dpid of book.meteredSwitches()) {
      const sw = ctx?.switch(dpid);
      if (!sw?.alive) continue;
      try {
        const r = await sw.multipart({ mpType: 'OFPMP_METER', meterId: OFPM.ALL });
        const stats = new Map(r.meters.map((s) => [s.meterId, {
          dropped: Number(s.bandStats[0]?.packetBandCount ?? 0n), packetsIn: Number(s.packetInCount),
        }]));
        for (const lost of book.readStats(dpid, stats, opts.clock.now())) {
          log.warn({ event: 'port_meter_lost', dpid: dpidHex(dpid), port: lost.port, meterId: lost.meterId }, 'a per-port packet-in meter is gone from the switch: installed again at the next overspend');
          book.remove(dpid, lost.port);
        }
      } catch (err) {
        log.debug({ event: 'port_meter_stats_failed', dpid: dpidHex(dpid), err }, 'OFPMP_METER failed');
      }
    }
    for (const m of book.quiet(opts.clock.now(), opts.releaseAfterMs)) removePort(m.dpid, m.port, 'the port stopped overspending');
  };

  function schedule(): void {
    if (timer !== undefined || stopped) return;
    timer = opts.clock.setTimeout(() => {
      timer = undefined;
      void poll().finally(() => {
        if (book.meteredSwitches().length > 0) schedule();
      });
    }, opts.statsIntervalMs);
  }

  const app: App = {
    name: 'port-meter',
    attach: (c) => { ctx = c; },
    handlers: {
      switchUp: (e) => {
        probing.delete(e.dpid);
        book.switchUp(e.dpid);
        // entries of an earlier connection or run (their meters are replaced by ADD-or-MODIFY when needed)
        return opts.ratePps > 0 ? [portMeterEntriesDeleteAll()] : undefined;
      },
      switchDown: (e) => {
        probing.delete(e.dpid);
        book.switchDown(e.dpid);
      },
      portStatus: (e) => {
        const gone = e.msg.reason === OFPPR.DELETE || (e.msg.desc.state & OFPPS.LINK_DOWN) !== 0;
        if (gone && book.get(e.dpid, e.msg.desc.portNo)) removePort(e.dpid, e.msg.desc.portNo, 'the port went down or away');
      },
    },
  };

  return {
    app,
    overBudget,
    statuses: () => book.meters().map((m) => ({
      dpid: dpidHex(m.dpid), port: m.port, meterId: m.meterId, state: m.state, ratePps: opts.ratePps,
      droppedAtSwitch: m.droppedAtSwitch, ...(m.reason ? { reason: m.reason } : {}),
    })),
    droppedAtSwitch: () => book.droppedTotal(),
    stop: () => {
      stopped = true;
      if (timer !== undefined) opts.clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
