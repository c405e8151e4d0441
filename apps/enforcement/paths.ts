/**
 * A flowlet's path for the allocator and its meter: the links it crosses (ids and fabric indices) and
 * what its ingress entry does (the switch, the in port, the actions), from routing's RouteInfo or from
 * the switches' tables (adopted after a controller restart). Pure.
 */
import type { Action, Match } from '../../openflow/codec/index.js';
import { dpidHex, parseDpid } from '../../lib/dpid.js';
import { outputTo } from '../routing/builders.js';
import { ETH_TYPE_IPV4 } from '../routing/flow-key.js';
import type { RouteInfo } from '../routing/types.js';
import type { Hop, PortRef } from '../../topology/types.js';
import type { LinkRegistry } from './links.js';
import type { PathHop } from './types.js';

/** One switch of a path, dpid as bigint (the topology's Hop). */
export type { Hop } from '../../topology/types.js';

export interface ResolvedPath {
  readonly linkIds: readonly string[];
  readonly links: readonly number[];
  readonly hops: readonly PathHop[];
  readonly ingress: { readonly dpid: bigint; readonly inPort: number; readonly actions: readonly Action[] };
  readonly adopted: boolean;
  /** identity of the route it came from (hops, queue, rewrite): a change means a re-pin */
  readonly sig: string;
}

/** The routing entry's actions at the ingress hop (apps/routing/core.ts actionsAt, hop 0). */
export function ingressActions(route: RouteInfo): Action[] {
  const hop = route.path[0]!;
  const out = outputTo(hop.outPort, hop.inPort);
  const queue: Action[] = route.queue === undefined ? [] : [{ type: 'OFPAT_SET_QUEUE', queueId: route.queue }];
  if (route.path.length === 1 && route.rewriteDst !== undefined) {
    return [{ type: 'OFPAT_SET_FIELD', field: { field: 'eth_dst', value: route.rewriteDst } }, ...queue, out];
  }
  return [...queue, out];
}

/**
 * What identifies a route's forwarding: its hops, queue, destination rewrite — and its cookie, which
 * changes at every (re-)pin: a re-pin re-adds the ingress entry without the meter attached to it, so the
 * meter must be set again even when the path is the same.
 */
export function routeSig(route: RouteInfo): string {
  const hops = route.path.map((h) => `${h.dpid}:${h.inPort}>${h.outPort}`).join(',');
  return `${hops}|q${route.queue ?? '-'}|${route.rewriteDst ?? '-'}|${route.cookie}`;
}

/**
 * The path of a flowlet from `src` along `hops`: the source's uplink (measured at `srcAt`, default the
 * first hop's in port), then each hop's egress port.
 */
export function resolvePath(
  registry: LinkRegistry, src: string, srcAt: PortRef | undefined, hops: readonly Hop[],
  actions: readonly Action[], adopted: boolean, sig: string,
): ResolvedPath {
  const first = hops[0]!;
  const at = srcAt ?? { dpid: first.dpid, portNo: first.inPort };
  const links = [registry.hostLink(src, at), ...hops.map((h) => registry.portLink(h.dpid, h.outPort))];
  return {
    linkIds: links.map((l) => registry.fabric.ids[l]!),
    links,
    hops: hops.map((h) => ({ dpid: dpidHex(h.dpid), inPort: h.inPort, outPort: h.outPort })),
    ingress: { dpid: first.dpid, inPort: first.inPort, actions },
    adopted,
    sig,
  };
}

/** The hops of a RouteInfo with bigint dpids. */
export function routeHops(route: RouteInfo): Hop[] {
  return route.path.map((h) => ({ dpid: parseDpid(h.dpid), inPort: h.inPort, outPort: h.outPort }));
}

/** The match of a host-pair meter entry: in_port, eth_type IPv4, ipv4_src, ipv4_dst. */
export function pairMatch(src: string, dst: string, inPort: number): Match {
  return [
    { field: 'in_port', value: inPort },
    { field: 'eth_type', value: ETH_TYPE_IPV4 },
    { field: 'ipv4_src', value: src },
    { field: 'ipv4_dst', value: dst },
  ];
}

/** A stable text of matches and actions (bigints as decimal strings). */
export function stableText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}
