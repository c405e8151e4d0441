/**
 * A fake fabric data plane for the routing tests (Faucet's fakeoftable idea): per-switch flow tables that
 * the emitted FLOW_MODs are applied to (ADD replaces an entry of equal match and priority; DELETE by
 * cookie / cookie mask), and a tracer that answers "where does a packet of this flow, sent by this host,
 * come out?". Plus a runner that performs a core's effects the way the shell does, in order, recording
 * every message per switch.
 */
import { OFPFC, type Action, type Match, type OxmValue } from '../../../openflow/codec/index.js';
import type { OutMessage } from '../../../openflow/app-api.js';
import type { RoutingCore } from '../../../apps/routing/core.js';
import type { FlowKey, RoutingEffect } from '../../../apps/routing/types.js';
import type { PortRef, TopologyView } from '../../../topology/types.js';

interface Entry {
  readonly cookie: bigint;
  readonly priority: number;
  readonly match: Match;
  readonly actions: readonly Action[];
}

type FlowMod = Extract<OutMessage, { type: 'OFPT_FLOW_MOD' }>;

export class TableSim {
  readonly tables = new Map<bigint, Entry[]>();

  apply(dpid: bigint, m: OutMessage): void {
    if (m.type !== 'OFPT_FLOW_MOD') return;
    const t = this.tables.get(dpid) ?? [];
    this.tables.set(dpid, t);
    if (m.command === OFPFC.ADD) {
      const i = t.findIndex((e) => e.priority === m.priority && sameMatch(e.match, m.match));
      const entry: Entry = { cookie: m.cookie, priority: m.priority, match: m.match, actions: applyActions(m) };
      if (i >= 0) t[i] = entry;
      else t.push(entry);
    } else if (m.command === OFPFC.DELETE) {
      this.tables.set(
        dpid,
        t.filter((e) => (e.cookie & m.cookieMask) !== (m.cookie & m.cookieMask)),
      );
    }
  }

  /** Entries on a switch. */
  entries(dpid: bigint): readonly Entry[] {
    return this.tables.get(dpid) ?? [];
  }

  /** All entries in the fabric. */
  count(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.length;
    return n;
  }

  /** The highest-priority entry matching a packet of `flow` entering `dpid` on `inPort`. */
  lookup(dpid: bigint, inPort: number, flow: FlowKey): Entry | undefined {
    const fields = packetFields(flow, inPort);
    let best: Entry | undefined;
    for (const e of this.entries(dpid)) {
      const hit = e.match.every((f) => f.field !== 'other' && fields.get(f.field) === f.value);
      if (hit && (!best || e.priority > best.priority)) best = e;
    }
    return best;
  }

  /**
   * Follows a packet of `flow` from the host port `from` through the tables and links of `view`.
   * Returns where it left the fabric on an edge port, or where it stopped (no entry: a packet-in).
   */
  trace(view: TopologyView, flow: FlowKey, from: PortRef): { delivered?: PortRef; missAt?: PortRef; switches: bigint[] } {
    let at = from;
    const switches: bigint[] = [];
    for (let steps = 0; steps < 16; steps++) {
      switches.push(at.dpid);
      const e = this.lookup(at.dpid, at.portNo, flow);
      if (!e) return { missAt: at, switches };
      const out = e.actions.find((a) => a.type === 'OFPAT_OUTPUT');
      if (!out || out.type !== 'OFPAT_OUTPUT') return { missAt: at, switches };
      const port = out.port === 0xfffffff8 ? at.portNo : out.port;
      const ref = { dpid: at.dpid, portNo: port };
      if (!view.isFabricPort(ref)) return { delivered: ref, switches };
      const link = view.links().find((l) => l.src.dpid === ref.dpid && l.src.portNo === ref.portNo)!;
      at = link.dst;
    }
    throw new Error('forwarding loop');
  }
}

function applyActions(m: FlowMod): readonly Action[] {
  const ins = m.instructions.find((i) => i.type === 'OFPIT_APPLY_ACTIONS');
  return ins && ins.type === 'OFPIT_APPLY_ACTIONS' ? ins.actions : [];
}

function sameMatch(a: Match, b: Match): boolean {
  const key = (m: Match): string =>
    m
      .map((f) => (f.field === 'other' ? 'other' : `${f.field}=${String(f.value)}`))
      .sort()
      .join(',');
  return key(a) === key(b);
}

function packetFields(k: FlowKey, inPort: number): Map<string, OxmValue> {
  const m = new Map<string, OxmValue>([
    ['in_port', inPort],
    ['eth_type', 0x0800],
    ['ip_proto', k.ipProto],
    ['ipv4_src', k.ipv4Src],
    ['ipv4_dst', k.ipv4Dst],
  ]);
  if (k.srcPort !== undefined && k.dstPort !== undefined) {
    const p = k.ipProto === 6 ? 'tcp' : 'udp';
    m.set(`${p}_src`, k.srcPort).set(`${p}_dst`, k.dstPort);
  }
  return m;
}

/** One message written to a switch, in global order. `viaTransact` for install stages. */
export interface Sent {
  readonly dpid: bigint;
  readonly msg: OutMessage;
  readonly viaTransact: boolean;
}

/**
 * Performs effects like the shell: sends are recorded (FLOW_MODs applied to `sim`); installs run stage by
 * stage (applied and recorded), then `core.installed` is called and its effects performed — unless
 * `defer` is set, in which case installs are queued in `pending` for the test to complete by hand.
 */
export class EffectRunner {
  readonly sent: Sent[] = [];
  readonly pending: Extract<RoutingEffect, { kind: 'install' }>[] = [];

  constructor(
    private readonly core: RoutingCore,
    readonly sim = new TableSim(),
    public defer = false,
  ) {}

  run(effects: readonly RoutingEffect[]): void {
    // Like the shell: sends go out at once, an install reports only after the whole batch was performed
    // (its barriers are answered later), so a packet-out that follows an install in one batch is written
    // before the install's success releases the packets it held.
    const done: Extract<RoutingEffect, { kind: 'install' }>[] = [];
    for (const e of effects) {
      if (e.kind === 'send') {
        for (const m of e.msgs) this.record(e.dpid, m, false);
      } else if (this.defer) {
        this.pending.push(e);
      } else {
        for (const stage of e.stages) for (const s of stage) for (const m of s.msgs) this.record(s.dpid, m, true);
        done.push(e);
      }
    }
    for (const e of done) this.run(this.core.installed(e.key, e.cookie));
  }

  /** Applies an install's stages and reports success to the core. */
  complete(e: Extract<RoutingEffect, { kind: 'install' }>): void {
    for (const stage of e.stages) for (const s of stage) for (const m of s.msgs) this.record(s.dpid, m, true);
    this.run(this.core.installed(e.key, e.cookie));
  }

  /** Completes every deferred install, oldest first. */
  flush(): void {
    while (this.pending.length > 0) this.complete(this.pending.shift()!);
  }

  packetOuts(): Sent[] {
    return this.sent.filter((s) => s.msg.type === 'OFPT_PACKET_OUT');
  }

  clear(): void {
    this.sent.length = 0;
  }

  private record(dpid: bigint, msg: OutMessage, viaTransact: boolean): void {
    this.sent.push({ dpid, msg, viaTransact });
    this.sim.apply(dpid, msg);
  }
}
