/**
 * What a fake switch answers to multipart requests (OpenFlow 1.3.5 §7.3.5), pure: DESC, FLOW and
 * AGGREGATE from its flow tables, TABLE, PORT_STATS, PORT_DESC (with curr_speed), QUEUE (none),
 * METER_FEATURES (Open vSwitch userspace figures: 262144 meters, 8 bands, drop bands only unless
 * remark bands are enabled), METER_CONFIG, METER, GROUP_DESC, GROUP_FEATURES. Also the port state and
 * its ofp_port description shared with PORT_STATUS.
 */
import {
  OFPP, OFPPS, type MeterBand, type MultipartReplyBody, type MultipartRequestBody, type Port, type PortStats,
} from '../../openflow/codec/index.js';
import type { FlowTables } from './flow-table.js';
import type { GroupEntry } from './pipeline.js';

export interface FakePortSpec {
  readonly portNo: number;
  readonly name: string;
  readonly hwAddr: string;
  /** kbit/s (ofp_port.curr_speed) */
  readonly currSpeedKbps: number;
}

/** A port's mutable state: config bits (PORT_MOD), link state, counters. */
export interface PortState {
  readonly spec: FakePortSpec;
  config: number;
  linkUp: boolean;
  rxPackets: bigint;
  rxBytes: bigint;
  txPackets: bigint;
  txBytes: bigint;
}

export function newPortState(spec: FakePortSpec): PortState {
  return { spec, config: 0, linkUp: true, rxPackets: 0n, rxBytes: 0n, txPackets: 0n, txBytes: 0n };
}

/** ofp_port of a port: LIVE or LINK_DOWN, 10 Gbit/s fibre feature bits, curr/max speed from the spec. */
export function portDesc(p: PortState): Port {
  const tenGFd = 1 << 6;
  const fiber = 1 << 12;
  return {
    portNo: p.spec.portNo, hwAddr: p.spec.hwAddr, name: p.spec.name, config: p.config,
    state: p.linkUp ? OFPPS.LIVE : OFPPS.LINK_DOWN, curr: tenGFd | fiber, advertised: 0, supported: 0, peer: 0,
    currSpeed: p.spec.currSpeedKbps, maxSpeed: p.spec.currSpeedKbps,
  };
}

/** The parts of a switch a multipart reply reads. */
export interface SwitchSnapshot {
  readonly dpid: bigint;
  readonly name: string;
  readonly tables: FlowTables;
  readonly meters: ReadonlyMap<number, { readonly flags: number; readonly bands: readonly MeterBand[] }>;
  readonly groups: ReadonlyMap<number, GroupEntry>;
  readonly ports: ReadonlyMap<number, PortState>;
  readonly remarkBands: boolean;
  readonly startMs: number;
}

const FLOW_STATS_PER_PART = 100;
const ALL_METERS = 0xffffffff;

/**
 * The reply parts for a request (send each with OFPMPF_REPLY_MORE except the last), or undefined for a
 * multipart type the fake does not serve (answer OFPET_BAD_REQUEST / OFPBRC_BAD_MULTIPART).
 */
export function multipartReplies(sw: SwitchSnapshot, b: MultipartRequestBody, nowMs: number): MultipartReplyBody[] | undefined {
  switch (b.mpType) {
    case 'OFPMP_PORT_DESC':
      return [{ mpType: 'OFPMP_PORT_DESC', ports: [...sw.ports.values()].map(portDesc) }];
    case 'OFPMP_DESC':
      return [{
        mpType: 'OFPMP_DESC', mfrDesc: 'Rivulet test suite', hwDesc: 'fake fabric switch', swDesc: 'fake-fabric',
        serialNum: sw.dpid.toString(16), dpDesc: sw.name,
      }];
    case 'OFPMP_FLOW': {
      const flows = sw.tables.stats(b, nowMs);
      const parts: MultipartReplyBody[] = [];
      for (let i = 0; i < flows.length || i === 0; i += FLOW_STATS_PER_PART) {
        parts.push({ mpType: 'OFPMP_FLOW', flows: flows.slice(i, i + FLOW_STATS_PER_PART) });
      }
      return parts;
    }
    case 'OFPMP_AGGREGATE': {
      const flows = sw.tables.stats(b, nowMs);
      return [{
        mpType: 'OFPMP_AGGREGATE', flowCount: flows.length,
        packetCount: flows.reduce((s, f) => s + f.packetCount, 0n), byteCount: flows.reduce((s, f) => s + f.byteCount, 0n),
      }];
    }
    case 'OFPMP_TABLE':
      return [{ mpType: 'OFPMP_TABLE', tables: [{ tableId: 0, activeCount: [...sw.tables.entries(0)].length, lookupCount: 0n, matchedCount: 0n }] }];
    case 'OFPMP_PORT_STATS':
      return [{ mpType: 'OFPMP_PORT_STATS', ports: portStats(sw, b.portNo, nowMs) }];
    case 'OFPMP_QUEUE':
      return [{ mpType: 'OFPMP_QUEUE', queues: [] }];
    case 'OFPMP_METER_FEATURES':
      return [{
        mpType: 'OFPMP_METER_FEATURES', maxMeter: 262144, bandTypes: sw.remarkBands ? 0b110 : 0b10,
        capabilities: 0b1111, maxBands: 8, maxColor: 0,
      }];
    case 'OFPMP_METER_CONFIG':
      return [{
        mpType: 'OFPMP_METER_CONFIG',
        meters: [...sw.meters].filter(([id]) => b.meterId === ALL_METERS || id === b.meterId)
          .map(([meterId, v]) => ({ meterId, flags: v.flags, bands: v.bands })),
      }];
    case 'OFPMP_METER':
      return [{
        mpType: 'OFPMP_METER',
        meters: [...sw.meters].filter(([id]) => b.meterId === ALL_METERS || id === b.meterId).map(([meterId, v]) => ({
          meterId, flowCount: 0, packetInCount: 0n, byteInCount: 0n, durationSec: 0, durationNsec: 0,
          bandStats: v.bands.map(() => ({ packetBandCount: 0n, byteBandCount: 0n })),
        })),
      }];
    case 'OFPMP_GROUP_DESC':
      return [{ mpType: 'OFPMP_GROUP_DESC', groups: [...sw.groups].map(([groupId, g]) => ({ groupId, ...g })) }];
    case 'OFPMP_GROUP_FEATURES':
      return [{
        mpType: 'OFPMP_GROUP_FEATURES', types: 0b1111, capabilities: 0b0011,
        maxGroups: [4096, 4096, 4096, 4096], actions: [0x3ffffff, 0x3ffffff, 0x3ffffff, 0x3ffffff],
      }];
    default:
      return undefined;
  }
}

function portStats(sw: SwitchSnapshot, portNo: number, nowMs: number): PortStats[] {
  const ms = Math.max(0, nowMs - sw.startMs);
  return [...sw.ports.values()]
    .filter((p) => portNo === OFPP.ANY || p.spec.portNo === portNo)
    .map((p) => ({
      portNo: p.spec.portNo, rxPackets: p.rxPackets, txPackets: p.txPackets, rxBytes: p.rxBytes, txBytes: p.txBytes,
      rxDropped: 0n, txDropped: 0n, rxErrors: 0n, txErrors: 0n, rxFrameErr: 0n, rxOverErr: 0n, rxCrcErr: 0n,
      collisions: 0n, durationSec: Math.floor(ms / 1000), durationNsec: (ms % 1000) * 1e6,
    }));
}
