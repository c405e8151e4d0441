/**
 * Unicast ARP forwarded by the switches themselves: for every known host, one entry per switch matching
 * `eth_type=ARP, eth_dst=<host MAC>` with an output toward the host. Hosts re-validate their neighbour
 * entries with unicast ARP (Linux: DELAY → PROBE, 3 unicast requests a second apart, then FAILED); without
 * these entries every such probe is a packet-in, so while the controller is down — or a restarted one has
 * not learnt the hosts yet — entries fail and flows stall. Broadcast ARP still goes to the controller
 * (proxy ARP, arp.ts). Pure: the core turns the result into `send` effects.
 *
 * Cookie: app id 0x03 of the scheme in lib/cookies.ts. Entries have no timeouts; they are re-sent (an ADD
 * of an identical match replaces the entry) when a host appears or moves and when links change, and
 * deleted when a host is forgotten.
 */
import { flowMod, OFPFC, OFPTT_ALL, type Match } from '../../openflow/codec/index.js';
import type { OutMessage } from '../../openflow/app-api.js';
import type { FabricHost, TopologyView } from '../../topology/types.js';
import { ALL_ONES_64, appCookie } from '../../lib/cookies.js';
import { ETH_TYPE_ARP } from './arp.js';
import type { RoutingEffect } from './types.js';

/** The cookie of every unicast-ARP entry. */
export const ARP_UNICAST_COOKIE = appCookie(0x03, 0);

/** The match of unicast ARP to `mac`. */
export function arpToMatch(mac: string): Match {
  return [{ field: 'eth_type', value: ETH_TYPE_ARP }, { field: 'eth_dst', value: mac }];
}

/**
 * The port of switch `dpid` toward `host`: its edge port on the host's switch, else the first link of one
 * of the equal-cost paths (chosen by the MAC, so the choice is stable). Undefined when no path exists.
 */
export function portToward(view: TopologyView, dpid: bigint, host: FabricHost): number | undefined {
  const at = host.attachment;
  if (at.dpid === dpid) return at.portNo;
  const paths = view.paths(dpid, at.dpid).filter((p) => p.length > 0);
  if (paths.length === 0) return undefined;
  return paths[macHash(host.mac) % paths.length]![0]!.src.portNo;
}

/** FLOW_MOD ADDs forwarding unicast ARP to each of `hosts` on every switch of the view, as send effects. */
export function arpUnicastEffects(view: TopologyView, hosts: readonly FabricHost[], priority: number, tableId: number): RoutingEffect[] {
  const bySwitch = new Map<bigint, OutMessage[]>();
  for (const sw of view.switches()) {
    for (const host of hosts) {
      const port = portToward(view, sw.dpid, host);
      if (port === undefined) continue;
      let msgs = bySwitch.get(sw.dpid);
      if (!msgs) bySwitch.set(sw.dpid, (msgs = []));
      msgs.push(flowMod({
        cookie: ARP_UNICAST_COOKIE, tableId, priority, match: arpToMatch(host.mac),
        instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port, maxLen: 0 }] }],
      }));
    }
  }
  return [...bySwitch].map(([dpid, msgs]) => ({ kind: 'send', dpid, msgs }));
}

/** FLOW_MOD DELETEs of the unicast-ARP entries of `mac` on every switch of the view. */
export function arpUnicastDeletes(view: TopologyView, mac: string): RoutingEffect[] {
  const del = flowMod({ command: OFPFC.DELETE, tableId: OFPTT_ALL, cookie: ARP_UNICAST_COOKIE, cookieMask: ALL_ONES_64, match: arpToMatch(mac) });
  return view.switches().map((sw) => ({ kind: 'send', dpid: sw.dpid, msgs: [del] }));
}

/** A small stable hash of a MAC address (FNV-1a over its text). */
function macHash(mac: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < mac.length; i++) h = Math.imul(h ^ mac.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
