/**
 * A fixed 2 spines × 2 leaves TopologyView and switch / route fixtures for the REST tests.
 * (Reconstructed from its compiled output after the routing helper overwrote it by mistake; the routing
 * tests' leaf-spine fake of any shape is test/helpers/fake-leaf-spine.ts.)
 */
import type { RouteInfo } from '../../apps/routing/types.js';
import type { SwitchHandle } from '../../controller/api.js';
import type { Port } from '../../controller/codec/index.js';
import { dpidHex } from '../../controller/log.js';
import type {
  FabricEvent,
  FabricHost,
  FabricLink,
  FabricPath,
  FabricPort,
  FabricSwitch,
  PortRef,
  SwitchRole,
  TopologyView,
} from '../../topology/types.js';

export const SPINES = [0x101n, 0x102n];
export const LEAVES = [0x1n, 0x2n];

function fport(portNo: number, dpid: bigint, speedBps = 10_000_000_000): FabricPort {
  const hw = `02:00:00:00:${(Number(dpid) & 0xff).toString(16).padStart(2, '0')}:${portNo.toString(16).padStart(2, '0')}`;
  return { portNo, name: `s${dpid.toString(16)}-eth${portNo}`, hwAddr: hw, up: true, currSpeedBps: speedBps };
}

function fswitch(dpid: bigint, role: SwitchRole, nPorts: number): FabricSwitch {
  const ports = new Map<number, FabricPort>();
  for (let p = 1; p <= nPorts; p++) ports.set(p, fport(p, dpid));
  return { dpid, dpidHex: dpidHex(dpid), role, ports };
}

export class FakeTopology implements TopologyView {
  readySwitch = true;
  sw = new Map<bigint, FabricSwitch>();
  linkList: FabricLink[] = [];
  hostList: FabricHost[] = [];
  listeners = new Set<(events: readonly FabricEvent[]) => void>();

  constructor(nowMs = 1000) {
    for (const s of SPINES) this.sw.set(s, fswitch(s, 'spine', 2));
    for (const l of LEAVES) this.sw.set(l, fswitch(l, 'leaf', 3));
    for (const [i, leaf] of LEAVES.entries()) {
      for (const [j, spine] of SPINES.entries()) {
        const up = { dpid: leaf, portNo: j + 1 };
        const down = { dpid: spine, portNo: i + 1 };
        this.linkList.push({ src: up, dst: down, capacityBps: 100e6, lastSeenMs: nowMs - 200 });
        this.linkList.push({ src: down, dst: up, capacityBps: 100e6, lastSeenMs: nowMs - 300 });
      }
      this.hostList.push({
        mac: `00:00:00:00:00:0${i + 1}`,
        ...(i === 0 ? { ipv4: '10.0.0.1' } : {}),
        attachment: { dpid: leaf, portNo: 3 },
        lastSeenMs: nowMs - 500,
      });
    }
  }

  switches(): readonly FabricSwitch[] {
    return [...this.sw.values()];
  }

  switch(dpid: bigint): FabricSwitch | undefined {
    return this.sw.get(dpid);
  }

  links(): readonly FabricLink[] {
    return this.linkList;
  }

  hosts(): readonly FabricHost[] {
    return this.hostList;
  }

  hostByMac(mac: string): FabricHost | undefined {
    return this.hostList.find((h) => h.mac === mac);
  }

  hostByIpv4(ip: string): FabricHost | undefined {
    return this.hostList.find((h) => h.ipv4 === ip);
  }

  isFabricPort(ref: PortRef): boolean {
    return this.linkList.some((l) => l.src.dpid === ref.dpid && l.src.portNo === ref.portNo);
  }

  paths(): readonly FabricPath[] {
    return [];
  }

  floodPorts(): readonly number[] {
    return [];
  }

  ready(): boolean {
    return this.readySwitch;
  }

  subscribe(listener: (events: readonly FabricEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

function rawPort(portNo: number, maxSpeedKbps = 10_000_000): Port {
  return {
    portNo, hwAddr: '02:00:00:00:00:01', name: `p${portNo}`, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0,
    currSpeed: 1_000_000, maxSpeed: maxSpeedKbps,
  };
}

/** A connected switch as the controller exposes it (features as OVS reports them). */
export function fakeHandle(dpid: bigint, nPorts: number, peer = '127.0.0.1:40000'): Pick<SwitchHandle, 'dpid' | 'dpidHex' | 'peer' | 'features' | 'ports'> {
  const ports = new Map<number, Port>();
  for (let p = 1; p <= nPorts; p++) ports.set(p, rawPort(p));
  ports.set(0xfffffffe, rawPort(0xfffffffe)); // OFPP_LOCAL: not shown
  return {
    dpid,
    dpidHex: dpidHex(dpid),
    peer,
    features: { datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 },
    ports,
  };
}

export function fakeRoute(createdMs: number): RouteInfo {
  return {
    flowKey: { ipv4Src: '10.0.0.1', ipv4Dst: '10.0.0.2', ipProto: 6, srcPort: 40000, dstPort: 5201 },
    srcHost: '00:00:00:00:00:01',
    dstHost: '00:00:00:00:00:02',
    path: [
      { dpid: dpidHex(0x1n), inPort: 3, outPort: 2 },
      { dpid: dpidHex(0x102n), inPort: 1, outPort: 2 },
      { dpid: dpidHex(0x2n), inPort: 2, outPort: 3 },
    ],
    spine: dpidHex(0x102n),
    choice: { index: 1, of: 2 },
    cookie: '0000000000000001',
    installed: true,
    createdMs,
    repinned: 0,
  };
}
