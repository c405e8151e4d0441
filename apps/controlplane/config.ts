/**
 * The control-plane meter's configuration: the `packetIn.controllerMeter` key (its schema, composed into
 * the `packetIn` section by controller/config) and the meter's rate from that section — the per-switch
 * packet-in budget of all classes together, packets per second (0: the app does nothing).
 */
import { Type } from '@sinclair/typebox';
import { portMeterRatePps } from './port-meter-plan.js';

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
    headroomPct: Type.Integer({ minimum: 0, maximum: 1000, default: 20, description: "the meter's rate above the port's IPv4 budget, percent (the controller's bucket still decides what is admitted)" }),
    maxPortsPerSwitch: Type.Integer({ minimum: 1, maximum: 4096, default: 64, description: 'metered ports per switch at most; their meter ids are the top of the switch range, kept from rate enforcement' }),
    statsIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000, description: "the meters' band counts (drops at the switch) read every this many ms" }),
  },
  { additionalProperties: false, default: {}, description: 'per-port packet-in meters at the switch' },
);

/** What the per-port meters read of the `packetIn` section. */
export interface PortMeterConfig {
  readonly portMeter: { readonly enabled: boolean; readonly headroomPct: number; readonly maxPortsPerSwitch: number; readonly statsIntervalMs: number };
  readonly perPortPps: { readonly ipv4: number };
  /** bucket depth, s */
  readonly burstS: number;
}

/** The per-port meter's settings from the `packetIn` section: rate 0 when off or the IPv4 class is not limited. */
export function portMeterSettings(c: PortMeterConfig): { ratePps: number; burstPkts: number; maxPortsPerSwitch: number; statsIntervalMs: number } {
  const ratePps = c.portMeter.enabled ? portMeterRatePps(c.perPortPps.ipv4, c.portMeter.headroomPct) : 0;
  return { ratePps, burstPkts: Math.max(1, Math.ceil(ratePps * c.burstS)), maxPortsPerSwitch: c.portMeter.maxPortsPerSwitch, statsIntervalMs: c.portMeter.statsIntervalMs };
}
