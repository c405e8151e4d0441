/**
 * A fake fabric data plane for the routing tests (Faucet's fakeoftable idea): per-switch flow tables that
 * the emitted FLOW_MODs are applied to (the test fabric's flow-table fake, testing/fabric/flow-table.ts),
 * and a tracer that answers "where does a packet of this flow, sent by this host,
 * come out?". Plus a runner that performs a core's effects the way the shell does, in order, recording
 * every message per switch.
 */
import type { Action, Match } from '../../../openflow/codec/index.js';
import { FlowTables, type FlowEntry, type FlowMod } from '../../../testing/fabric/flow-table.js';
import type { PacketFields } from '../../../testing/fabric/frames.js';
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

/**
 * The switches' flow tables, one {@link FlowTables} (the test fabric's one flow-table fake,
 * testing/fabric/flow-table.ts: OpenFlow 1.3.5 §6.4 ADD/MODIFY/DELETE, §5.3 matching) per dpid.
 */
export class TableSim {
  readonly tables = new Map<bigint, FlowTables>();

  apply(dpid: bigint, m: OutMessage): void {
    if (m.type !== 'OFPT_FLOW_MOD') return;
    this.table(dpid).apply(m as FlowMod, 0);
  }

  /** Forgets every entry of a switch (it lost its flows). */
  wipe(dpid: bigint): void {
    this.tables.set(dpid, new FlowTables());
  }

  /** Entries on a switch. */
  entries(dpid: bigint): readonly Entry[] {
    const t = this.tables.get(dpid);
    return t ? [...t.entries()].map(asEntry) : [];
  }

  /** All entries in the fabric. */
  count(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.size;
    return n;
  }

  /** The highest-priority entry of table 0 matching a packet of `flow` entering `dpid` on `inPort`. */
  lookup(dpid: bigint, inPort: number, flow: FlowKey): Entry | undefined {
    const e = this.tables.get(dpid)?.lookup(0, packetFields(flow, inPort));
    return e && asEntry(e);
  }

  private table(dpid: bigint): FlowTables {
    let t = this.tables.get(dpid);
    if (!t) this.tables.set(dpid, (t = new FlowTables()));
    return t;
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

function asEntry(e: FlowEntry): Entry {
  const ins = e.instructions.find((i) => i.type === 'OFPIT_APPLY_ACTIONS');
  const actions = ins && ins.type === 'OFPIT_APPLY_ACTIONS' ? ins.actions : [];
  return { cookie: e.cookie, priority: e.priority, match: e.match, actions };
}

function packetFields(k: FlowKey, inPort: number): PacketFields {
  const f: PacketFields = { in_port: inPort, eth_type: 0x0800, ip_proto: k.ipProto, ipv4_src: k.ipv4Src, ipv4_dst: k.ipv4Dst };
  if (k.srcPort !== undefined && k.dstPort !== undefined) {
    if (k.ipProto === 6) Object.assign(f, { tcp_src: k.srcPort, tcp_dst: k.dstPort });
    else Object.assign(f, { udp_src: k.srcPort, udp_dst: k.dstPort });
  }
  return f;
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
