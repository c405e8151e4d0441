/**
 * An in-memory wired fabric for topology-app tests: fake switch handles on an AppHost; packet-outs on
 * wired ports become packet-ins at the peer port (a test may add "wires" of its own to `peers`, e.g. a
 * relay between two host ports), port status changes, and a ManualClock.
 */
import { OFPPR, type Port } from '../openflow/codec/index.js';
import type { AppEvents, OutMessage, SwitchHandle } from '../openflow/app-api.js';
import { AppHost } from '../openflow/app-host.js';
import { ManualClock } from '../lib/clock.js';
import { quietLogger } from '../lib/log.js';
import { createTopologyApp, type TopologyApp, type TopologyAppConfig } from '../topology/app.js';
import type { FabricEvent } from '../topology/types.js';
import { leafSpine, type FabricSpec } from './leaf-spine.js';
import { dpidHex } from '../lib/dpid.js';

export const log = quietLogger();

export function codecPort(portNo: number, hwAddr: string, up = true): Port {
  return { portNo, hwAddr, name: `p${portNo}`, config: 0, state: up ? 0 : 1, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0 };
}

/** A fabric of fake switch handles; packet-outs on wired ports become packet-ins at the peer. */
export class Sim {
  readonly host: AppHost;
  readonly handles = new Map<bigint, SwitchHandle>();
  readonly sent: { dpid: bigint; msg: OutMessage }[] = [];
  readonly cut = new Set<string>();
  readonly peers = new Map<string, { dpid: bigint; portNo: number }>();

  constructor(readonly spec: FabricSpec) {
    this.host = new AppHost({ get: (d) => this.handles.get(d), values: () => this.handles.values() }, log);
    for (const w of spec.wires) {
      this.peers.set(`${w.a.dpid}:${w.a.portNo}`, w.b);
      this.peers.set(`${w.b.dpid}:${w.b.portNo}`, w.a);
    }
  }

  ports(dpid: bigint): Port[] {
    return this.spec.switches.find((s) => s.dpid === dpid)!.ports.map((p) => codecPort(p.portNo, p.hwAddr));
  }

  up(dpid: bigint): void {
    const handle = {
      dpid, dpidHex: dpidHex(dpid), peer: 'sim', alive: true, ports: new Map(),
      features: { datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0, reserved: 0 },
      send: (msg: OutMessage) => {
        this.deliver(dpid, msg);
        return 0;
      },
    } as unknown as SwitchHandle;
    this.handles.set(dpid, handle);
    this.host.dispatch('switchUp', { dpid, features: handle.features, ports: this.ports(dpid), sw: handle });
  }

  down(dpid: bigint): void {
    this.handles.delete(dpid);
    this.host.dispatch('switchDown', { dpid, reason: 'test' });
  }

  packetIn(dpid: bigint, inPort: number, data: Buffer): void {
    const msg = { type: 'OFPT_PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: data.length, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: inPort }], data } as AppEvents['packetIn']['msg'];
    this.host.dispatch('packetIn', { dpid, msg });
  }

  portStatus(dpid: bigint, portNo: number, up: boolean): void {
    const desc = codecPort(portNo, this.ports(dpid).find((p) => p.portNo === portNo)!.hwAddr, up);
    this.host.dispatch('portStatus', { dpid, msg: { type: 'OFPT_PORT_STATUS', xid: 0, reason: OFPPR.MODIFY, desc } });
  }

  private deliver(dpid: bigint, msg: OutMessage): void {
    this.sent.push({ dpid, msg });
    if (msg.type !== 'OFPT_PACKET_OUT') return;
    const out = msg.actions[0];
    if (out?.type !== 'OFPAT_OUTPUT') return;
    const key = `${dpid}:${out.port}`;
    const peer = this.peers.get(key);
    if (!peer || this.cut.has(key) || !this.handles.has(peer.dpid)) return;
    this.packetIn(peer.dpid, peer.portNo, msg.data);
  }
}

export function setup(shape: [number, number, number], config: TopologyAppConfig = {}): { sim: Sim; topo: TopologyApp; clock: ManualClock; events: FabricEvent[] } {
  const clock = new ManualClock(1000);
  const topo = createTopologyApp({ clock, log, config });
  const sim = new Sim(leafSpine(...shape));
  sim.host.register(topo.app);
  const events: FabricEvent[] = [];
  topo.view.subscribe((ev) => events.push(...ev));
  return { sim, topo, clock, events };
}

