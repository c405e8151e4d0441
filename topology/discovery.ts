/**
 * The pure LLDP discovery core: which probes to send when, which links to expire, and what an LLDP
 * packet-in proves. No I/O and no clock: every call takes `nowMs`; the shell (app.ts) sends what it
 * returns and arms a timer for {@link DiscoveryCore.nextWakeMs}.
 *
 * Schedule (periodic work is a table of tasks, ARCHITECTURE.md "Principles"):
 * - task 'probe' every `periodMs / slotsPerPeriod` (default 1000 / 10 ms) sends the probes due: every
 *   up port gets one probe per period, ports of a switch are staggered across the period (round-robin in
 *   port order), so the load is spread and never floods;
 * - task 'expire' at the same cadence returns links not seen for `timeoutPeriods × periodMs`.
 * - a switch that connects has all its up ports probed AT ONCE, and every other switch's ports without a
 *   neighbour are re-probed at the next slot (so links towards the newcomer appear within a slot, not a
 *   period, once its LLDP entry is installed); a port that comes up is probed at once.
 *
 * Each task's next run is `now + intervalMs + jitter`, jitter uniform in [0, jitterMs) from the injected
 * `random` (seedable in tests).
 */
import { flowMod, OFP_NO_BUFFER, OFPP, TO_CONTROLLER } from '../openflow/codec/index.js';
import type { OutMessage } from '../openflow/app-api.js';
import { buildProbePdu, verifyProbe, type ProbeInfo } from './lldp-probe.js';
import { buildLldpFrame } from '../lib/packet/frame.js';
import { fail, ok, type PacketResult } from '../lib/packet/errors.js';
import type { LldpFrame } from '../lib/packet/lldp.js';
import type { FabricLink, PortRef } from './types.js';

export type DiscoveryTaskName = 'probe' | 'expire';

/** One periodic task (Faucet-style task table). */
export interface PeriodicTask {
  readonly task: DiscoveryTaskName;
  readonly intervalMs: number;
  readonly jitterMs: number;
}

export interface DiscoveryConfig {
  /** probe period per port, ms (default 1000) */
  readonly periodMs?: number;
  /** periods without a sighting before a link expires (default 3) */
  readonly timeoutPeriods?: number;
  /** scheduling slots per period (default 10) */
  readonly slotsPerPeriod?: number;
  /** jitter added to each task run, ms (default 0) */
  readonly jitterMs?: number;
  /** probes older than this are stale, ms (default 2 periods) */
  readonly maxProbeAgeMs?: number;
  /** HMAC key (default: none given → the caller must pass one; see newProbeKey) */
  readonly key: Buffer;
  /** uniform [0,1) source for jitter (default Math.random) */
  readonly random?: () => number;
}

/** One probe to send: a packet-out of `frame` on `portNo` of `dpid`. */
export interface Probe {
  readonly dpid: bigint;
  readonly portNo: number;
  readonly frame: Buffer;
}

/** What a tick produced. */
export interface TickResult {
  readonly probes: readonly Probe[];
  readonly expired: readonly FabricLink[];
}

/** The LLDP priority in table 0: above any table-miss (0) and routing entry. */
export const LLDP_FLOW_PRIORITY = 65000;

/**
 * The LLDP → controller flow entry for table 0: eth_type 0x88cc, priority {@link LLDP_FLOW_PRIORITY},
 * apply-actions output CONTROLLER with OFPCML_NO_BUFFER (the whole frame reaches the controller).
 */
export function lldpFlowMod(): OutMessage {
  return flowMod({
    priority: LLDP_FLOW_PRIORITY,
    match: [{ field: 'eth_type', value: 0x88cc }],
    instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: TO_CONTROLLER }],
  });
}

/** A probe as a PACKET_OUT (in_port CONTROLLER, output on the probed port). */
export function probePacketOut(p: Probe): OutMessage {
  return {
    type: 'OFPT_PACKET_OUT', bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER,
    actions: [{ type: 'OFPAT_OUTPUT', port: p.portNo, maxLen: 0 }], data: p.frame,
  };
}

interface PortSched {
  readonly hwAddr: string;
  /** next time a probe is due, ms */
  due: number;
  /** a host port (link-guard.ts): never probed until it goes down and up */
  host?: boolean;
}

export class DiscoveryCore {
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly maxProbeAgeMs: number;
  readonly tasks: readonly PeriodicTask[];
  private readonly key: Buffer;
  private readonly random: () => number;
  private readonly ports = new Map<bigint, Map<number, PortSched>>();
  private readonly probed = new Set<bigint>();
  private readonly nextRun = new Map<DiscoveryTaskName, number>();

  constructor(cfg: DiscoveryConfig) {
    this.periodMs = cfg.periodMs ?? 1000;
    this.timeoutMs = this.periodMs * (cfg.timeoutPeriods ?? 3);
    this.maxProbeAgeMs = cfg.maxProbeAgeMs ?? 2 * this.periodMs;
    const slot = this.periodMs / (cfg.slotsPerPeriod ?? 10);
    const jitterMs = cfg.jitterMs ?? 0;
    this.tasks = [
      { task: 'probe', intervalMs: slot, jitterMs },
      { task: 'expire', intervalMs: slot, jitterMs },
    ];
    this.key = cfg.key;
    this.random = cfg.random ?? Math.random;
  }

  /** Time of the earliest task run, ms; undefined when no switch is known (nothing to do). */
  nextWakeMs(): number | undefined {
    if (this.ports.size === 0) return undefined;
    return Math.min(...this.tasks.map((t) => this.nextRun.get(t.task) ?? 0));
  }

  /** True once every known switch has had all its up ports probed at least once. */
  allProbed(): boolean {
    return [...this.ports.keys()].every((d) => this.probed.has(d));
  }

  /**
   * A switch connected with its up ports (number + hwAddr for the frame's source MAC): probes for all of
   * them now; other switches' ports listed in `unlinked` are re-probed at the next slot.
   */
  switchUp(dpid: bigint, upPorts: readonly { portNo: number; hwAddr: string }[], unlinked: readonly PortRef[], nowMs: number): Probe[] {
    const sched = new Map<number, PortSched>(upPorts.map((p) => [p.portNo, { hwAddr: p.hwAddr, due: nowMs }]));
    this.ports.set(dpid, sched);
    this.reprobeSoon(unlinked.filter((r) => r.dpid !== dpid), nowMs);
    for (const t of this.tasks) if (!this.nextRun.has(t.task)) this.nextRun.set(t.task, nowMs + t.intervalMs);
    const probes = this.collect(dpid, nowMs, true);
    this.probed.add(dpid);
    return probes;
  }

  /**
   * Moves the next probe of the given ports to the next slot (not sooner: a newcomer's LLDP entry must be
   * installed before probes reach it). Used when a switch connects or a port comes up: its peer's ports
   * are among the ports without a neighbour.
   */
  reprobeSoon(refs: readonly PortRef[], nowMs: number): void {
    const soon = nowMs + this.tasks[0]!.intervalMs;
    for (const r of refs) {
      const s = this.ports.get(r.dpid)?.get(r.portNo);
      if (s) s.due = Math.min(s.due, soon);
    }
  }

  /** A switch disconnected: no more probes for it. */
  switchDown(dpid: bigint): void {
    this.ports.delete(dpid);
    this.probed.delete(dpid);
    if (this.ports.size === 0) this.nextRun.clear();
  }

  /** A port came up (probe now, returned) or went down / was deleted (no more probes). */
  portChanged(dpid: bigint, portNo: number, hwAddr: string, up: boolean, nowMs: number): Probe[] {
    const sched = this.ports.get(dpid);
    if (!sched) return [];
    if (!up) {
      sched.delete(portNo);
      return [];
    }
    const known = sched.get(portNo);
    if (known && known.hwAddr === hwAddr) return [];
    sched.set(portNo, { hwAddr, due: nowMs });
    return [this.probe(dpid, portNo, hwAddr, nowMs)];
  }

  /**
   * The port faces a host (it carried host traffic; see link-guard.ts): no more probes out of it until it
   * goes down and comes up again, or `host` false (probed again from `nowMs`) (TopoGuard, NDSS 2015 §5: a relay needs a probe sent out of a host port).
   */
  hostPort(dpid: bigint, portNo: number, host = true, nowMs = 0): void {
    const s = this.ports.get(dpid)?.get(portNo);
    if (!s) return;
    s.host = host;
    if (!host) s.due = Math.min(s.due, nowMs);
  }

  /** Runs the tasks due at `nowMs`: the probes now due and the links (from `links`) now expired. */
  tick(nowMs: number, links: readonly FabricLink[]): TickResult {
    let probes: Probe[] = [];
    let expired: FabricLink[] = [];
    for (const t of this.tasks) {
      const due = this.nextRun.get(t.task);
      if (due === undefined || due > nowMs) continue;
      this.nextRun.set(t.task, nowMs + t.intervalMs + (t.jitterMs > 0 ? this.random() * t.jitterMs : 0));
      if (t.task === 'probe') for (const dpid of this.ports.keys()) probes = probes.concat(this.collect(dpid, nowMs, false));
      else expired = links.filter((l) => l.lastSeenMs < nowMs - this.timeoutMs);
    }
    return { probes, expired };
  }

  /**
   * Checks an LLDP packet-in received on (dpid, inPort): a fresh probe signed by this controller →
   * the directed link it proves. Errors: the LLDP_* codes of lldp-probe.ts `verifyProbe`.
   */
  lldpIn(dpid: bigint, inPort: number, frame: LldpFrame, nowMs: number): PacketResult<{ src: PortRef; dst: PortRef; probe: ProbeInfo }> {
    const v = verifyProbe(frame, this.key, nowMs, this.maxProbeAgeMs);
    if (!v.ok) return v;
    if (v.value.dpid === dpid && v.value.portNo === inPort) return fail('LLDP_NOT_RIVULET', 'probe came back into the port it left');
    return ok({ src: { dpid: v.value.dpid, portNo: v.value.portNo }, dst: { dpid, portNo: inPort }, probe: v.value });
  }

  /**
   * Probes for the ports of `dpid` that are due (all of them when `all`). After the first probe, a
   * switch's ports are staggered: the i-th of n next goes at now + period × (i + 1) / n.
   */
  private collect(dpid: bigint, nowMs: number, all: boolean): Probe[] {
    const sched = this.ports.get(dpid);
    if (!sched) return [];
    const due = [...sched.entries()].filter(([, s]) => !s.host && (all || s.due <= nowMs)).sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
    const n = sched.size;
    return due.map(([portNo, s], i) => {
      s.due = all ? nowMs + (this.periodMs * (i + 1)) / n : nowMs + this.periodMs;
      return this.probe(dpid, portNo, s.hwAddr, nowMs);
    });
  }

  private probe(dpid: bigint, portNo: number, hwAddr: string, nowMs: number): Probe {
    const ttlSeconds = Math.min(0xffff, Math.ceil(this.timeoutMs / 1000));
    const pdu = buildProbePdu({ dpid, portNo, timestampMs: nowMs, ttlSeconds, key: this.key });
    return { dpid, portNo, frame: buildLldpFrame(hwAddr, pdu) };
  }
}
