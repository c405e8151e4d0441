/**
 * Broadcast without storms (ARCHITECTURE.md "Commitments" 6). The controller walks the loop-free flood tree itself
 * (TopologyView.floodPorts, switch by switch, across the tree's fabric links) and emits one packet-out per
 * switch on that switch's tree *edge* ports only. The frame never crosses a fabric link, so no switch
 * sends it back, and a tree that changes mid-walk cannot make a loop (each switch is visited once).
 */
import { OFP_NO_BUFFER, OFPP } from '../../openflow/codec/index.js';
import type { TopologyView } from '../../topology/types.js';
import { packetOut } from './builders.js';
import type { PacketInput, RoutingEffect } from './types.js';

/** Edge ports to deliver a broadcast on, per switch, starting at (`dpid`, `inPort`). */
export function floodTargets(view: TopologyView, dpid: bigint, inPort: number): Map<bigint, number[]> {
  const peer = new Map<string, { dpid: bigint; portNo: number }>();
  for (const l of view.links()) peer.set(`${l.src.dpid}/${l.src.portNo}`, l.dst);
  const out = new Map<bigint, number[]>();
  const queue: { dpid: bigint; inPort: number }[] = [{ dpid, inPort }];
  while (queue.length > 0) {
    const at = queue.shift()!;
    if (out.has(at.dpid)) continue;
    const edge: number[] = [];
    out.set(at.dpid, edge);
    const sw = view.switch(at.dpid);
    for (const p of view.floodPorts(at.dpid, at.inPort)) {
      if (p === at.inPort || sw?.ports.get(p)?.up === false) continue;
      const ref = { dpid: at.dpid, portNo: p };
      if (view.isFabricPort(ref)) {
        const next = peer.get(`${at.dpid}/${p}`);
        if (next && !out.has(next.dpid)) queue.push({ dpid: next.dpid, inPort: next.portNo });
      } else {
        edge.push(p);
      }
    }
  }
  return out;
}

/**
 * The packet-outs that flood `data` to every host edge port of the tree except the one it came from.
 * The switch it entered keeps its real in port; the others get OFPP_CONTROLLER.
 */
export function floodEffects(view: TopologyView, dpid: bigint, inPort: number, data: Buffer): RoutingEffect[] {
  const effects: RoutingEffect[] = [];
  for (const [sw, ports] of floodTargets(view, dpid, inPort)) {
    if (ports.length === 0) continue;
    const from = sw === dpid ? inPort : OFPP.CONTROLLER;
    const actions = ports.map((p) => ({ type: 'OFPAT_OUTPUT' as const, port: p, maxLen: 0 }));
    effects.push({ kind: 'send', dpid: sw, msgs: [packetOut(from, actions, data)] });
  }
  return effects;
}

/** Identical broadcast frames seen again within this window are copies looping back. */
export const FLOOD_DEDUP_MS = 200;
const MAX_REMEMBERED = 1024;

/**
 * Remembers recently flooded frames by their bytes, so that a copy coming back (through a port the
 * topology does not yet know to be a fabric port, e.g. before discovery settled) is not flooded again.
 * A host's own retransmission (ARP retries are a second apart) is outside the window.
 */
export class FloodDedup {
  private readonly seen = new Map<string, number>();

  /** False for a frame flooded less than {@link FLOOD_DEDUP_MS} ago: drop it. */
  firstCopy(p: PacketInput, now: number): boolean {
    if (p.bufferId !== OFP_NO_BUFFER) return true;
    const sig = p.data.toString('base64');
    const at = this.seen.get(sig);
    if (at !== undefined && now - at < FLOOD_DEDUP_MS) return false;
    if (this.seen.size >= MAX_REMEMBERED) {
      for (const [k, t] of this.seen) if (now - t >= FLOOD_DEDUP_MS) this.seen.delete(k);
    }
    this.seen.set(sig, now);
    return true;
  }
}
