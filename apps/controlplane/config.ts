/**
 * The control-plane meter's configuration: the `packetIn.controllerMeter` key (its schema, composed into
 * the `packetIn` section by controller/config) and the meter's rate from that section — the per-switch
 * packet-in budget of all classes together, packets per second (0: the app does nothing).
 */
import { Type } from '@sinclair/typebox';

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
