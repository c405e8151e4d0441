/**
 * From switch-level paths (TopologyView.paths) to per-switch hops, plus the predicates failure handling
 * needs. Pure functions over the shared fabric types (topology/types.ts).
 */
import type { FabricLink, FabricPath, Hop, PortRef, TopologyView } from '../../topology/types.js';

/**
 * The hops of a host-to-host path: the packet enters the first switch on the source host's port, crosses
 * `path` link by link, and leaves the last switch on the destination host's port. An empty path (both
 * hosts on one switch) gives one hop.
 * @throws RangeError if the path does not start at `src.dpid`, end at `dst.dpid`, or is not contiguous
 */
export function hopsOf(path: FabricPath, src: PortRef, dst: PortRef): Hop[] | undefined {
  if (path.length === 0) {
    if (src.dpid !== dst.dpid) return undefined;
    return [{ dpid: src.dpid, inPort: src.portNo, outPort: dst.portNo }];
  }
  const first = path[0]!;
  const last = path[path.length - 1]!;
  if (first.src.dpid !== src.dpid || last.dst.dpid !== dst.dpid) return undefined;
  const hops: Hop[] = [{ dpid: src.dpid, inPort: src.portNo, outPort: first.src.portNo }];
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1]!;
    const b = path[i]!;
    if (a.dst.dpid !== b.src.dpid) return undefined;
    hops.push({ dpid: a.dst.dpid, inPort: a.dst.portNo, outPort: b.src.portNo });
  }
  hops.push({ dpid: last.dst.dpid, inPort: last.dst.portNo, outPort: dst.portNo });
  return hops;
}

/** A canonical text of a path (dpid:port pairs), used to order path sets so choices do not depend on the view's order. */
export function pathSignature(path: FabricPath): string {
  return path.map((l) => `${l.src.dpid.toString(16)}:${l.src.portNo}-${l.dst.dpid.toString(16)}:${l.dst.portNo}`).join(',');
}

/**
 * Canonical orders already computed, by path set. TopologyView.paths hands out one array per switch pair
 * until the fabric changes (topology/graph.ts caches it), so a flow setup between two switches reuses
 * the order instead of building a signature per path and sorting; a new path set after a fabric change
 * is a new key, and the old one is collected with its entry.
 */
const canonicalCache = new WeakMap<readonly FabricPath[], readonly FabricPath[]>();

/** The path set in canonical order (by {@link pathSignature}); read-only, shared between calls. */
export function canonicalPaths(paths: readonly FabricPath[]): readonly FabricPath[] {
  if (paths.length < 2) return paths;
  let sorted = canonicalCache.get(paths);
  if (!sorted) {
    sorted = paths
      .map((path) => ({ path, sig: pathSignature(path) }))
      .sort((a, b) => (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0))
      .map((x) => x.path);
    canonicalCache.set(paths, sorted);
  }
  return sorted;
}

function samePort(a: PortRef, b: PortRef): boolean {
  return a.dpid === b.dpid && a.portNo === b.portNo;
}

/** True when `link` or its reverse (the same cable) is on `path`. */
export function pathUsesLink(path: FabricPath, link: FabricLink): boolean {
  return path.some(
    (l) => (samePort(l.src, link.src) && samePort(l.dst, link.dst)) || (samePort(l.src, link.dst) && samePort(l.dst, link.src)),
  );
}

/** True when a hop of the route sits on switch `dpid`. */
export function hopsUseSwitch(hops: readonly Hop[], dpid: bigint): boolean {
  return hops.some((h) => h.dpid === dpid);
}

/**
 * The spine of a path: the first hop on a switch the view calls a spine, else the middle switch of a
 * three-switch path (leaf → spine → leaf), else none.
 */
export function spineOf(hops: readonly Hop[], view: Pick<TopologyView, 'switch'>): bigint | undefined {
  const bySpineRole = hops.find((h) => view.switch(h.dpid)?.role === 'spine');
  if (bySpineRole) return bySpineRole.dpid;
  return hops.length === 3 ? hops[1]!.dpid : undefined;
}
