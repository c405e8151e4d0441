/**
 * Per-port packet-in meters, the pure part: the messages (bytes on the wire are the codec's) and the book
 * of which ingress port of which switch holds one. When a host-facing port overspends its IPv4 packet-in
 * budget in the controller's gate, the switch gets, in table 0, an entry `in_port=P, eth_type=IPv4 →
 * meter M_P, output CONTROLLER` (above the pinned routes or below them: {@link PortMeterMode}), and meter M_P is one
 * drop band in packets per second (OpenFlow 1.3.5 §7.3.4.5, OFPMF_PKTPS) a little above the port's
 * budget. The flooding host's excess new flows then die in the switch's datapath before they become
 * packet-ins, so neither the switch's connection to the controller nor the controller pays for them,
 * while the controller's own bucket still decides what is admitted (the meter passes more than the
 * budget). ARP and LLDP do not match the entry. The band's packet count (OFPMP_METER, §7.3.5.12) is the
 * count of packet-ins dropped at the switch; once it stops growing for a while the port is released
 * (entry and meter deleted).
 *
 * Meter ids: the top `maxPorts` ids of the switch's range (OFPMP_METER_FEATURES max_meter, §7.3.5.13),
 * max_meter, max_meter − 1, …; the data meters of rate enforcement take theirs from the bottom of what is
 * left (apps/enforcement/meter-id-pool.ts, sized max_meter − maxPorts), so the two never collide.
 */
import type { OutMessage } from '../../openflow/app-api.js';
import { flowMod, highestMeterId, OFPFC, OFPG, OFPMC, OFPMF, OFPP, OFPTT_ALL, TO_CONTROLLER } from '../../openflow/codec/index.js';
import { APP_COOKIE_PREFIX_MASK, appCookie, appCookiePrefix } from '../../lib/cookies.js';

/** The cookie app id of per-port meter entries (routing 0x01, enforcement 0x02, ARP unicast 0x03). */
export const PORT_METER_APP_ID = 0x04;
/** The prefix every per-port meter entry's cookie carries. */
export const PORT_METER_COOKIE_PREFIX = appCookiePrefix(PORT_METER_APP_ID);
/** The priority of the LLDP entry (topology/discovery.ts): a per-port entry stays below it. */
const BELOW_LLDP = 64_999;

/**
 * What a per-port entry catches: `new-flows` (priority 1, above the table-miss and below every pinned
 * route and ARP entry) only the port's IPv4 packets no entry forwards; `port` (above the pinned routes,
 * routing.priority + 2) every IPv4 packet of the port while it overspends — the datapath then handles
 * the flood with one wide cached flow (in_port, eth_type) instead of one lookup miss per new flow, at the
 * cost of the port's established flows going through the controller (released packet by packet, within
 * the budget) until the meter is released.
 */
export const PORT_METER_MODES = ['port', 'new-flows'] as const;
export type PortMeterMode = (typeof PORT_METER_MODES)[number];

/** The per-port entry's priority in `mode`, given routing's priority of pinned entries. */
export function portMeterPriority(mode: PortMeterMode, routingPriority: number): number {
  return mode === 'new-flows' ? 1 : Math.min(BELOW_LLDP, routingPriority + 2);
}
const ETH_TYPE_IPV4 = 0x0800;
/** Flags of a per-port meter: packets per second, burst given, statistics kept. */
export const PORT_METER_FLAGS = OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS;

/**
 * The meter's rate, packets/s: the port's IPv4 budget plus `headroomPct` percent, rounded up (so what the
 * switch passes always exceeds what the controller admits); 0 when the budget is 0 (class not limited:
 * no meter).
 */
export function portMeterRatePps(ipv4PerPortPps: number, headroomPct: number): number {
  if (ipv4PerPortPps <= 0) return 0;
  return Math.ceil(ipv4PerPortPps * (1 + headroomPct / 100));
}

/**
 * The meter id of slot `slot` (0-based) on a switch whose meters are 1..`maxMeter`: counted down from the
 * top of the range (`maxMeter` clamped below OFPM_MAX). @throws RangeError for a slot outside the range
 */
export function portMeterId(maxMeter: number, slot: number): number {
  const top = highestMeterId(maxMeter);
  const id = top - slot;
  if (!Number.isInteger(slot) || slot < 0 || id < 1) throw new RangeError(`no meter id for slot ${slot} below max_meter ${maxMeter}`);
  return id;
}

/** The cookie of the entry of `inPort` (the port number as serial). */
export function portMeterCookie(inPort: number): bigint {
  return appCookie(PORT_METER_APP_ID, inPort);
}

/**
 * METER_MOD `command` (OFPMC_ADD / MODIFY) of meter `meterId`: flags PKTPS|BURST|STATS, one drop band at
 * `ratePps` packets/s with a burst of `burstPkts` packets.
 */
export function portMeterMod(command: number, meterId: number, ratePps: number, burstPkts: number): OutMessage {
  return {
    type: 'OFPT_METER_MOD', command, flags: PORT_METER_FLAGS, meterId,
    bands: [{ type: 'OFPMBT_DROP', rate: ratePps, burstSize: Math.max(1, Math.ceil(burstPkts)) }],
  };
}

/** METER_MOD OFPMC_DELETE of meter `meterId` (§7.3.4.5: the switch also deletes entries using it). */
export function portMeterDelete(meterId: number): OutMessage {
  return { type: 'OFPT_METER_MOD', command: OFPMC.DELETE, flags: 0, meterId, bands: [] };
}

function portMatch(inPort: number) {
  return [{ field: 'in_port' as const, value: inPort }, { field: 'eth_type' as const, value: ETH_TYPE_IPV4 }];
}

/**
 * FLOW_MOD OFPFC_ADD, table 0, priority `priority` ({@link portMeterPriority}): `in_port=inPort,
 * eth_type=0x0800` → OFPIT_METER `meterId` (§7.2.4: the meter runs first), then apply-actions output
 * CONTROLLER whole (max_len OFPCML_NO_BUFFER, as the table-miss). No timeouts, cookie {@link portMeterCookie}.
 */
export function portMeterEntry(inPort: number, meterId: number, priority: number): OutMessage {
  return flowMod({
    cookie: portMeterCookie(inPort), tableId: 0, priority, match: portMatch(inPort),
    instructions: [{ type: 'OFPIT_METER', meterId }, { type: 'OFPIT_APPLY_ACTIONS', actions: TO_CONTROLLER }],
  });
}

/** FLOW_MOD OFPFC_DELETE_STRICT of the entry of `inPort` at `priority`. */
export function portMeterEntryDelete(inPort: number, priority: number): OutMessage {
  return flowMod({ command: OFPFC.DELETE_STRICT, tableId: 0, priority, match: portMatch(inPort), outPort: OFPP.ANY, outGroup: OFPG.ANY });
}

/** FLOW_MOD OFPFC_DELETE of every per-port meter entry (cookie prefix + mask, all tables): the clean slate at switch-up. */
export function portMeterEntriesDeleteAll(): OutMessage {
  return flowMod({ command: OFPFC.DELETE, tableId: OFPTT_ALL, cookie: PORT_METER_COOKIE_PREFIX, cookieMask: APP_COOKIE_PREFIX_MASK });
}

/* ------------------------------------------------------------------ the book */

export type PortMeterState = 'installing' | 'applied' | 'failed';

/** One port's meter as the book knows it. */
export interface PortMeter {
  readonly dpid: bigint;
  readonly port: number;
  readonly slot: number;
  readonly meterId: number;
  state: PortMeterState;
  /** packets the band dropped, as last read from the switch */
  droppedAtSwitch: number;
  /** packets the meter saw, as last read */
  packetsIn: number;
  /** when the band's count last grew (or the meter was applied), ms */
  lastDropMs: number;
  /** the switch's error, when failed */
  reason?: string;
}

/** What the book answers to a port over budget. */
export type OverBudgetVerdict =
  | { readonly kind: 'install'; readonly meter: PortMeter }
  | { readonly kind: 'none'; readonly why: 'present' | 'unsupported' | 'full' | 'unprobed' };

interface SwitchBook {
  /** max_meter, or undefined before the probe answered; 0: meters unsupported */
  maxMeter?: number;
  readonly ports: Map<number, PortMeter>;
  readonly freeSlots: number[];
  nextSlot: number;
}

/**
 * Which ports have a meter (pure). At most `maxPorts` per switch (the bound of the table outside input
 * grows); the dropped counts of meters that went away are kept in {@link retiredDropped} so totals never
 * go down.
 */
export class PortMeterBook {
  private readonly sws = new Map<bigint, SwitchBook>();
  /** switch-side drops of meters removed since start */
  retiredDropped = 0;

  constructor(readonly maxPorts: number) {
    if (!Number.isInteger(maxPorts) || maxPorts < 0) throw new RangeError(`maxPorts must be an integer ≥ 0, got ${maxPorts}`);
  }

  /** Starts (or restarts) the book of `dpid`: nothing installed, not probed. */
  switchUp(dpid: bigint): void {
    this.switchDown(dpid);
    this.sws.set(dpid, { ports: new Map(), freeSlots: [], nextSlot: 0 });
  }

  /** The switch went away: its meters go (their counts are kept in the total). */
  switchDown(dpid: bigint): void {
    const sw = this.sws.get(dpid);
    if (!sw) return;
    for (const m of sw.ports.values()) this.retiredDropped += m.droppedAtSwitch;
    this.sws.delete(dpid);
  }

  /** Whether `dpid`'s meter features are known. */
  probed(dpid: bigint): boolean {
    return this.sws.get(dpid)?.maxMeter !== undefined;
  }

  /** The probe's answer: max_meter, or 0 when the switch cannot meter packets per second with a drop band. */
  setMaxMeter(dpid: bigint, maxMeter: number): void {
    const sw = this.sws.get(dpid);
    if (sw) sw.maxMeter = highestMeterId(maxMeter);
  }

  /**
   * Port `port` of `dpid` overspent its IPv4 budget: a meter to install (slot taken, state installing), or
   * why not (already there or failed, the switch unprobed or unable, or `maxPorts` reached).
   */
  overBudget(dpid: bigint, port: number): OverBudgetVerdict {
    const sw = this.sws.get(dpid);
    if (!sw || sw.maxMeter === undefined) return { kind: 'none', why: 'unprobed' };
    if (sw.ports.has(port)) return { kind: 'none', why: 'present' };
    if (sw.maxMeter === 0) return { kind: 'none', why: 'unsupported' };
    const limit = Math.min(this.maxPorts, sw.maxMeter);
    let slot = sw.freeSlots.length ? Math.min(...sw.freeSlots) : sw.nextSlot;
    if (sw.freeSlots.length) sw.freeSlots.splice(sw.freeSlots.indexOf(slot), 1);
    else if (sw.nextSlot < limit) sw.nextSlot++;
    else slot = -1;
    if (slot < 0) return { kind: 'none', why: 'full' };
    const meter: PortMeter = { dpid, port, slot, meterId: portMeterId(sw.maxMeter, slot), state: 'installing', droppedAtSwitch: 0, packetsIn: 0, lastDropMs: -Infinity };
    sw.ports.set(port, meter);
    return { kind: 'install', meter };
  }

  /** The meter of (dpid, port), if any. */
  get(dpid: bigint, port: number): PortMeter | undefined {
    return this.sws.get(dpid)?.ports.get(port);
  }

  /** Whether `m` is still the book's meter of its port (not removed or replaced meanwhile). */
  current(m: PortMeter): boolean {
    return this.sws.get(m.dpid)?.ports.get(m.port) === m;
  }

  /** The port's meter goes (port deleted, link down, meter lost): its slot is free again, its count kept. */
  remove(dpid: bigint, port: number): PortMeter | undefined {
    const sw = this.sws.get(dpid);
    const m = sw?.ports.get(port);
    if (!sw || !m) return undefined;
    sw.ports.delete(port);
    sw.freeSlots.push(m.slot);
    this.retiredDropped += m.droppedAtSwitch;
    return m;
  }

  /**
   * OFPMP_METER band counts of `dpid` (meter id → packets dropped by the band, packets in): the applied
   * meters take theirs; an applied meter missing from the reply was deleted behind the book's back and is
   * returned (the caller removes it, so the next overspend installs it again).
   */
  readStats(dpid: bigint, stats: ReadonlyMap<number, { dropped: number; packetsIn: number }>, nowMs: number): PortMeter[] {
    const sw = this.sws.get(dpid);
    if (!sw) return [];
    const lost: PortMeter[] = [];
    for (const m of sw.ports.values()) {
      if (m.state !== 'applied') continue;
      const s = stats.get(m.meterId);
      if (!s) lost.push(m);
      else {
        if (s.dropped > m.droppedAtSwitch) m.lastDropMs = nowMs;
        m.droppedAtSwitch = Math.max(m.droppedAtSwitch, s.dropped);
        m.packetsIn = Math.max(m.packetsIn, s.packetsIn);
      }
    }
    return lost;
  }

  /** Applied meters whose band dropped nothing for `releaseAfterMs` (the port stopped overspending). */
  quiet(nowMs: number, releaseAfterMs: number): PortMeter[] {
    return this.meters().filter((m) => m.state === 'applied' && nowMs - m.lastDropMs >= releaseAfterMs);
  }

  /** Every meter, by switch then port. */
  meters(): PortMeter[] {
    return [...this.sws.values()].flatMap((s) => [...s.ports.values()]);
  }

  /** Switches with at least one applied meter. */
  meteredSwitches(): bigint[] {
    return [...this.sws].filter(([, s]) => [...s.ports.values()].some((m) => m.state === 'applied')).map(([d]) => d);
  }

  /** Packets dropped at the switches since start (applied and removed meters). */
  droppedTotal(): number {
    let n = this.retiredDropped;
    for (const s of this.sws.values()) for (const m of s.ports.values()) n += m.droppedAtSwitch;
    return n;
  }
}
