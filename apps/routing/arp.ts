/**
 * ARP without storms (ARCHITECTURE.md "Commitments" 6): requests for known hosts are answered by the controller itself
 * (proxy ARP, the reply sent out of the port the request came in on); requests for unknown targets and
 * gratuitous ARP are flooded along the tree (flood.ts); replies go straight to the target host's port
 * when it is known, else along the tree. RFC 826 packet format; RFC 5227 for probes and announcements.
 */
import { OFPP } from '../../openflow/codec/index.js';
import { buildArp, isGroupMac } from '../../lib/packet/frame.js';
import type { TopologyView } from '../../topology/types.js';
import { packetOut } from './builders.js';
import { floodEffects } from './flood.js';
import type { PacketInput, RoutingEffect } from './types.js';

export const ETH_TYPE_ARP = 0x0806;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

/** Gratuitous ARP (an announcement): sender and target protocol addresses are the same. */
export function isGratuitous(arp: { readonly spa: string; readonly tpa: string }): boolean {
  return arp.spa === arp.tpa;
}

/** Packet-out of a frame made by the controller on one switch port. */
export function sendOnPort(dpid: bigint, port: number, data: Buffer): RoutingEffect {
  return { kind: 'send', dpid, msgs: [packetOut(OFPP.CONTROLLER, [{ type: 'OFPAT_OUTPUT', port, maxLen: 0 }], data)] };
}

/** The proxy reply to `req` on behalf of `owner` (the host that holds `req.tpa`). */
export function proxyReply(req: { readonly sha: string; readonly spa: string; readonly tpa: string }, ownerMac: string): Buffer {
  return buildArp({ op: ARP_REPLY, ethSrc: ownerMac, ethDst: req.sha, sha: ownerMac, spa: req.tpa, tha: req.sha, tpa: req.spa });
}

/**
 * What to do with an ARP packet-in that entered on an edge port (the core drops ARP seen on fabric
 * ports: the controller never lets ARP cross the fabric, so such a frame is not a host's).
 */
export function arpEffects(view: TopologyView, p: PacketInput): RoutingEffect[] {
  const arp = p.frame.arp;
  if (!arp) return [];
  if (arp.op === ARP_REQUEST && !isGratuitous(arp)) {
    const owner = view.hostByIpv4(arp.tpa);
    if (owner && owner.mac !== arp.sha) return [sendOnPort(p.dpid, p.inPort, proxyReply(arp, owner.mac))];
    return floodEffects(view, p.dpid, p.inPort, p.data);
  }
  if (arp.op === ARP_REPLY && p.frame.ethDst === PROBE_MAC) return []; // an answer to our probe: learnt, consumed
  if (arp.op === ARP_REPLY && !isGratuitous(arp) && !isGroupMac(p.frame.ethDst)) {
    const to = view.hostByMac(p.frame.ethDst) ?? view.hostByIpv4(arp.tpa);
    if (to) {
      const at = to.attachment;
      if (at.dpid === p.dpid && at.portNo === p.inPort) return [];
      return [sendOnPort(at.dpid, at.portNo, p.data)];
    }
    return floodEffects(view, p.dpid, p.inPort, p.data);
  }
  if (arp.op === ARP_REQUEST || arp.op === ARP_REPLY) return floodEffects(view, p.dpid, p.inPort, p.data);
  return [];
}

/**
 * Source MAC of the controller's own ARP probes (locally administered, Rivulet's 02-52-56 prefix). No host
 * has it, so no unicast-ARP entry (arp-unicast.ts) forwards a reply to it: the reply is a packet-in on the
 * target's edge port, which teaches the topology app where the target is.
 */
export const PROBE_MAC = '02:52:56:00:00:01';

/**
 * An ARP probe for `targetIp` (RFC 5227: sender address 0.0.0.0, so no host's cache is touched; Linux
 * answers it when the address is its own), flooded along the tree from where the unroutable packet
 * entered: the reply comes back to the controller and the host's hostAdded releases the waiting packets.
 */
export function probeEffects(view: TopologyView, dpid: bigint, inPort: number, targetIp: string): RoutingEffect[] {
  const req = buildArp({ op: ARP_REQUEST, ethSrc: PROBE_MAC, ethDst: BROADCAST_MAC, sha: PROBE_MAC, spa: '0.0.0.0', tha: ZERO_MAC, tpa: targetIp });
  return floodEffects(view, dpid, inPort, req);
}
