/**
 * Flow keys (the 5-tuple for TCP/UDP, (src, dst, protocol) otherwise) and the exact OXM match
 * that pins one on one switch (OpenFlow 1.3.5 §7.2.3.8 prerequisites: eth_type before ip fields,
 * ip_proto before L4 ports).
 */
import type { Match } from '../../openflow/codec/index.js';
import type { FlowKey, RoutingFrame } from './types.js';

export const ETH_TYPE_IPV4 = 0x0800;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** The flow key of an IPv4 frame, or undefined for a frame without an IPv4 header. */
export function flowKeyOf(frame: RoutingFrame): FlowKey | undefined {
  const ip = frame.ipv4;
  if (!ip) return undefined;
  const hasPorts = (ip.proto === IPPROTO_TCP || ip.proto === IPPROTO_UDP) && ip.srcPort !== undefined && ip.dstPort !== undefined;
  return hasPorts
    ? { ipv4Src: ip.src, ipv4Dst: ip.dst, ipProto: ip.proto, srcPort: ip.srcPort, dstPort: ip.dstPort }
    : { ipv4Src: ip.src, ipv4Dst: ip.dst, ipProto: ip.proto };
}

/** A stable string form of a key, e.g. `10.0.0.1>10.0.1.2/6:1234>80` (state maps are keyed by it). */
export function flowKeyString(k: FlowKey): string {
  const ports = k.srcPort !== undefined ? `:${k.srcPort}>${k.dstPort}` : '';
  return `${k.ipv4Src}>${k.ipv4Dst}/${k.ipProto}${ports}`;
}

/** The exact match of a flow entering a switch on `inPort`. */
export function flowMatch(k: FlowKey, inPort: number): Match {
  // one array literal per shape (no push, no destructuring): the flow-setup path builds one per hop
  if (k.srcPort === undefined || k.dstPort === undefined) {
    return [
      { field: 'in_port', value: inPort }, { field: 'eth_type', value: ETH_TYPE_IPV4 }, { field: 'ip_proto', value: k.ipProto },
      { field: 'ipv4_src', value: k.ipv4Src }, { field: 'ipv4_dst', value: k.ipv4Dst },
    ];
  }
  const tcp = k.ipProto === IPPROTO_TCP;
  return [
    { field: 'in_port', value: inPort }, { field: 'eth_type', value: ETH_TYPE_IPV4 }, { field: 'ip_proto', value: k.ipProto },
    { field: 'ipv4_src', value: k.ipv4Src }, { field: 'ipv4_dst', value: k.ipv4Dst },
    { field: tcp ? 'tcp_src' : 'udp_src', value: k.srcPort }, { field: tcp ? 'tcp_dst' : 'udp_dst', value: k.dstPort },
  ];
}
