/**
 * The REST tests' fixtures: a fixed 2 spines × 2 leaves fabric (the one leaf-spine fake,
 * fake-leaf-spine.ts, with REST-specific ports, capacities, ages and hosts), switch handles and a route.
 */
import type { RouteInfo } from '../apps/routing/types.js';
import type { SwitchHandle } from '../openflow/app-api.js';
import type { Port } from '../openflow/codec/index.js';
import { dpidHex } from '../lib/dpid.js';
import type { FabricPort } from '../topology/types.js';
import { FakeLeafSpine } from './fake-leaf-spine.js';
import { leafDpid, spineDpid } from './leaf-spine.js';

export const SPINES = [spineDpid(1), spineDpid(2)];
export const LEAVES = [leafDpid(1), leafDpid(2)];

/** The REST fixtures' ports: up, 10 Gbit/s, named s<dpid hex>-eth<n>, MAC 02:00:00:00:<dpid low byte>:<n>. */
function fport(dpid: bigint, portNo: number): FabricPort {
  const hw = `02:00:00:00:${(Number(dpid) & 0xff).toString(16).padStart(2, '0')}:${portNo.toString(16).padStart(2, '0')}`;
  return { portNo, name: `s${dpid.toString(16)}-eth${portNo}`, hwAddr: hw, up: true, currSpeedBps: 10_000_000_000 };
}

/**
 * The fake leaf-spine fabric (FakeLeafSpine, its numbering: leaf i = dpid i, spine j = 0x100 + j, leaf
 * port j → spine j, spine port i → leaf i, hosts from port spines + 1) as the REST tests see it: 100 Mbit/s
 * links last seen 200 ms (up) / 300 ms (down) before `nowMs`, one host per leaf on port 3 (MAC
 * 00:00:00:00:00:0<i>, only the first with an IPv4 address), and a switchable ready flag.
 */
export class FakeTopology extends FakeLeafSpine {
  readySwitch = true;

  constructor(nowMs = 1000) {
    const shape = { spines: SPINES.length, leaves: LEAVES.length, hostsPerLeaf: 1 };
    super(shape);
    const spec = this.addFabric(shape, fport, { capacityBps: 100e6, lastSeenMs: [nowMs - 200, nowMs - 300] });
    for (const [i, attachment] of spec.hostPorts.entries()) {
      this.addHost({ mac: `00:00:00:00:00:0${i + 1}`, ...(i === 0 ? { ipv4: '10.0.0.1' } : {}), attachment, lastSeenMs: nowMs - 500 });
    }
  }

  override ready(): boolean {
    return this.readySwitch;
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
