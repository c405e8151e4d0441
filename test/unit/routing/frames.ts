/**
 * Frames and packet-ins for the routing tests: real bytes (ARP via lib/packet/frame.ts buildArp, IPv4 with
 * a TCP / UDP / ICMP header built here), parsed back with the real parser so the core sees what it would
 * see from a switch.
 */
import { OFP_NO_BUFFER } from '../../../openflow/codec/index.js';
import type { PacketInput } from '../../../apps/routing/types.js';
import { buildArp, buildEthernet, parseFrame } from '../../../lib/packet/frame.js';

export interface Ipv4Spec {
  readonly ethSrc: string;
  readonly ethDst: string;
  readonly src: string;
  readonly dst: string;
  /** 6 TCP, 17 UDP, 1 ICMP (default 6) */
  readonly proto?: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** distinguishes otherwise identical packets (IPv4 identification) */
  readonly id?: number;
}

function ipBytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** An Ethernet / IPv4 / (TCP | UDP | ICMP) frame. */
export function ipv4Frame(s: Ipv4Spec): Buffer {
  const proto = s.proto ?? 6;
  const l4 =
    proto === 6 ? Buffer.alloc(20) : proto === 17 ? Buffer.alloc(8) : Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]);
  if (proto === 6 || proto === 17) {
    l4.writeUInt16BE(s.srcPort ?? 40000, 0);
    l4.writeUInt16BE(s.dstPort ?? 5201, 2);
    if (proto === 6) l4[12] = 0x50;
    else l4.writeUInt16BE(8, 4);
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(s.id ?? 1, 4);
  ip[8] = 64;
  ip[9] = proto;
  Buffer.from(ipBytes(s.src)).copy(ip, 12);
  Buffer.from(ipBytes(s.dst)).copy(ip, 16);
  return buildEthernet(s.ethDst, s.ethSrc, 0x0800, Buffer.concat([ip, l4]));
}

export function arpRequest(sha: string, spa: string, tpa: string): Buffer {
  return buildArp({ op: 1, ethSrc: sha, ethDst: 'ff:ff:ff:ff:ff:ff', sha, spa, tha: '00:00:00:00:00:00', tpa });
}

export function arpReply(sha: string, spa: string, tha: string, tpa: string): Buffer {
  return buildArp({ op: 2, ethSrc: sha, ethDst: tha, sha, spa, tha, tpa });
}

/** A packet-in of `data` at (`dpid`, `inPort`), parsed like the shell does. */
export function packetIn(dpid: bigint, inPort: number, data: Buffer): PacketInput {
  const r = parseFrame(data);
  if (!r.ok) throw r.error;
  return { dpid, inPort, frame: r.value, data, bufferId: OFP_NO_BUFFER };
}
