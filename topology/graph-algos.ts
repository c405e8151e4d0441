/**
 * Pure graph algorithms over the fabric's directed links: all equal-cost shortest paths (BFS layering),
 * the flooding spanning tree (BFS from the lowest dpid of each connected component) and switch roles.
 * Inputs are plain arrays; outputs are fresh values; deterministic for a given input whatever its order.
 */
import type { FabricLink, FabricPath, SwitchRole } from './types.js';

/** Orders links by source dpid, source port, destination dpid, destination port. */
export function compareLinks(a: FabricLink, b: FabricLink): number {
  return (
    cmpBig(a.src.dpid, b.src.dpid) || a.src.portNo - b.src.portNo || cmpBig(a.dst.dpid, b.dst.dpid) || a.dst.portNo - b.dst.portNo
  );
}

export function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Outgoing links per source dpid, each list sorted by {@link compareLinks}. */
export function outLinks(links: readonly FabricLink[]): Map<bigint, FabricLink[]> {
  const out = new Map<bigint, FabricLink[]>();
  for (const l of [...links].sort(compareLinks)) {
    const list = out.get(l.src.dpid);
    if (list) list.push(l);
    else out.set(l.src.dpid, [l]);
  }
  return out;
}

/** Hop counts to `dst` over directed links (reverse BFS); switches that cannot reach `dst` are absent. */
function distancesTo(links: readonly FabricLink[], dst: bigint): Map<bigint, number> {
  const incoming = new Map<bigint, bigint[]>();
  for (const l of links) {
    const list = incoming.get(l.dst.dpid);
    if (list) list.push(l.src.dpid);
    else incoming.set(l.dst.dpid, [l.src.dpid]);
  }
  const dist = new Map<bigint, number>([[dst, 0]]);
  const queue = [dst];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const u of incoming.get(v) ?? []) {
      if (dist.has(u)) continue;
      dist.set(u, dist.get(v)! + 1);
      queue.push(u);
    }
  }
  return dist;
}

/**
 * All shortest directed paths from `src` to `dst` (each a list of links), in lexicographic order of
 * their links ({@link compareLinks}); at most `maxPaths` of them. One empty path when src == dst;
 * none when dst is unreachable. Parallel links give distinct paths. Cost O(V + E + paths × length).
 */
export function allShortestPaths(
  links: readonly FabricLink[],
  src: bigint,
  dst: bigint,
  maxPaths = 4096,
): FabricPath[] {
  if (src === dst) return [[]];
  const dist = distancesTo(links, dst);
  if (!dist.has(src)) return [];
  const out = outLinks(links);
  const result: FabricPath[] = [];
  const walk = (at: bigint, prefix: FabricLink[]): void => {
    if (result.length >= maxPaths) return;
    if (at === dst) {
      result.push([...prefix]);
      return;
    }
    const d = dist.get(at)!;
    for (const l of out.get(at) ?? []) {
      if (dist.get(l.dst.dpid) !== d - 1) continue;
      prefix.push(l);
      walk(l.dst.dpid, prefix);
      prefix.pop();
    }
  };
  walk(src, []);
  return result;
}

/** One cable seen from a switch: its local port and the peer's end. */
interface Cable {
  readonly port: number;
  readonly peer: bigint;
  readonly peerPort: number;
}

function cablesBySwitch(links: readonly FabricLink[]): Map<bigint, Cable[]> {
  const m = new Map<bigint, Cable[]>();
  const add = (at: bigint, c: Cable): void => {
    const list = m.get(at);
    if (list) list.push(c);
    else m.set(at, [c]);
  };
  for (const l of links) {
    if (l.src.dpid === l.dst.dpid) continue;
    add(l.src.dpid, { port: l.src.portNo, peer: l.dst.dpid, peerPort: l.dst.portNo });
    add(l.dst.dpid, { port: l.dst.portNo, peer: l.src.dpid, peerPort: l.src.portNo });
  }
  for (const list of m.values()) list.sort((a, b) => a.port - b.port || cmpBig(a.peer, b.peer) || a.peerPort - b.peerPort);
  return m;
}

/**
 * The flooding tree: for every switch, the ports of a spanning forest of the fabric (links taken as
 * undirected cables). Each connected component is spanned by a BFS tree rooted at its lowest dpid;
 * a switch's cables are tried in port order. Switches without links map to an empty set.
 */
export function floodTree(switchIds: readonly bigint[], links: readonly FabricLink[]): Map<bigint, Set<number>> {
  const cables = cablesBySwitch(links);
  const ports = new Map<bigint, Set<number>>(switchIds.map((d) => [d, new Set<number>()]));
  const visited = new Set<bigint>();
  for (const root of [...switchIds].sort(cmpBig)) {
    if (visited.has(root)) continue;
    visited.add(root);
    const queue = [root];
    for (let i = 0; i < queue.length; i++) {
      const u = queue[i]!;
      for (const c of cables.get(u) ?? []) {
        if (visited.has(c.peer) || !ports.has(c.peer)) continue;
        visited.add(c.peer);
        queue.push(c.peer);
        ports.get(u)!.add(c.port);
        ports.get(c.peer)!.add(c.peerPort);
      }
    }
  }
  return ports;
}

/** What role assignment needs per switch. */
export interface RoleInput {
  readonly dpid: bigint;
  /** hosts attached, count */
  readonly hosts: number;
  /** up ports without an LLDP neighbour, count */
  readonly edgePorts: number;
}

/**
 * Roles: leaf = has hosts or edge ports (ports up with no LLDP neighbour: towards servers); spine = not a
 * leaf, has at least one inter-switch link, and every neighbour is a leaf; everything else 'unknown'.
 */
export function assignRoles(inputs: readonly RoleInput[], links: readonly FabricLink[]): Map<bigint, SwitchRole> {
  const roles = new Map<bigint, SwitchRole>();
  for (const s of inputs) roles.set(s.dpid, s.hosts > 0 || s.edgePorts > 0 ? 'leaf' : 'unknown');
  const cables = cablesBySwitch(links);
  for (const s of inputs) {
    if (roles.get(s.dpid) === 'leaf') continue;
    const peers = cables.get(s.dpid) ?? [];
    if (peers.length > 0 && peers.every((c) => roles.get(c.peer) === 'leaf')) roles.set(s.dpid, 'spine');
  }
  return roles;
}
