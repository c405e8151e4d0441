/**
 * The control-plane meters' configuration: the `packetIn.controllerMeter` and `packetIn.portMeter` keys
 * (their schemas, composed into the `packetIn` section by controller/config) and what the apps read of
 * that section — the controller meter's rate (the per-switch packet-in budget of all classes together,
 * packets per second; 0: the app does nothing) and the per-port meters' settings.
 */
import { Type } from '@sinclair/typebox';
import { oneOf } from '../../lib/config-schema.js';
import { PORT_METER_MODES, portMeterPriority, portMeterRatePps, type PortMeterMode } from './port-meter-plan.js';

/** `packetIn.controllerMeter`: whether OFPM_CONTROLLER is set on each switch (OpenFlow 1.3.5 §7.3.4.4). */
export const ControllerMeterKey = Type.Boolean({ default: true, description: "set OpenFlow's controller meter (OFPM_CONTROLLER) on each switch at the per-switch budget (all classes), where the switch supports it (probed, reported in /api/v1/packet-ins)" });

/** What the meter reads of the `packetIn` section. */
export interface ControllerMeterConfig {
  readonly controllerMeter: boolean;
  /** packet-ins per second per switch, by class */
  readonly perSwitchPps: { readonly lldp: number; readonly arp: number; readonly ipv4: number; readonly other: number };
}

/** The OFPM_CONTROLLER rate, packets/s: the per-switch budget of every class, or 0 when the key is off. */
export function controllerMeterRatePps(c: ControllerMeterConfig): number {
  const sw = c.perSwitchPps;
  return c.controllerMeter ? sw.lldp + sw.arp + sw.ipv4 + sw.other : 0;
}

/**
 * `packetIn.portMeter`: per-port packet-in meters at the switch (port-meter-plan.ts). When a host-facing
 * port overspends its IPv4 budget, the switch meters that port's IPv4 packets-to-controller at the budget
 * plus `headroomPct` percent, so the excess is dropped in the switch.
 */
export const PortMeterKey = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'meter the IPv4 packet-ins of a host port at the switch once it overspends its budget (where the switch can meter packets/s)' }),
    mode: oneOf(PORT_METER_MODES, 'port', "port: while it overspends, every IPv4 packet of the port goes through the meter to the controller (entry above the pinned routes; the switch's datapath drops the flood without a lookup miss per new flow; the port's established flows are released by the controller within its budget); new-flows: only packets no pinned route forwards (entry at priority 1; established flows keep their fast path, the switch still handles one miss per new flow)"),
    releaseAfterMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 2000, description: "a port's meter and entry are removed once its band dropped nothing for this long, ms" }),
    headroomPct: Type.Integer({ minimum: 0, maximum: 1000, default: 20, description: "the meter's rate above the port's IPv4 budget, percent (the controller's bucket still decides what is admitted)" }),
    maxPortsPerSwitch: Type.Integer({ minimum: 1, maximum: 4096, default: 64, description: 'metered ports per switch at most; their meter ids are the top of the switch range, kept from rate enforcement' }),
    statsIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000, description: "the meters' band counts (drops at the switch) read every this many ms" }),
  },
  { additionalProperties: false, default: {}, description: 'per-port packet-in meters at the switch' },
);

/** What the per-port meters read of the `packetIn` section. */
export interface PortMeterConfig {
  readonly portMeter: {
    readonly enabled: boolean; readonly mode: PortMeterMode; readonly headroomPct: number; readonly maxPortsPerSwitch: number;
    readonly statsIntervalMs: number; readonly releaseAfterMs: number;
  };
  readonly perPortPps: { readonly ipv4: number };
  /** bucket depth, s */
  readonly burstS: number;
}

/** The per-port meters' settings from the `packetIn` section and routing's priority of pinned entries: rate 0 when off or the IPv4 class is not limited. */
export function portMeterSettings(c: PortMeterConfig, routingPriority: number): {
  ratePps: number; burstPkts: number; maxPortsPerSwitch: number; statsIntervalMs: number; priority: number; releaseAfterMs: number;
} {
  const pm = c.portMeter;
  const ratePps = pm.enabled ? portMeterRatePps(c.perPortPps.ipv4, pm.headroomPct) : 0;
  return {
    ratePps, burstPkts: Math.max(1, Math.ceil(ratePps * c.burstS)), maxPortsPerSwitch: pm.maxPortsPerSwitch,
    statsIntervalMs: pm.statsIntervalMs, priority: portMeterPriority(pm.mode, routingPriority), releaseAfterMs: pm.releaseAfterMs,
  };
}
