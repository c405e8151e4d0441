/**
 * Path adoption after a controller restart: the switches still hold the pinned entries of
 * flows that were running, so their packets never reach the new controller and routing has no RouteInfo
 * for them. For such a flowlet the path is read from the switches: starting at the source host's
 * attachment, an OFPMP_FLOW request (non-strict, all tables) with in_port + the flow's 5-tuple returns the
 * entry the flow hits; its output port leads over the topology link to the next switch; repeat until the
 * destination host's port (at most `maxHops` switches).
 *
 * The new controller has usually not learnt the hosts yet either (their packets hit installed entries,
 * so no packet-in teaches it): then the ingress is found by asking every connected switch for entries of
 * the 5-tuple (no in_port in the request) and taking the one whose in_port is an edge port (not a fabric
 * link), and the walk ends at the first output to an edge port.
 */
import type { SwitchHandle } from '../../openflow/app-api.js';
import { flowMod } from '../../openflow/codec/builders.js';
import { matchInPort, OFPFC, OFPG, OFPP, OFPTT_ALL, type Action, type FlowStats } from '../../openflow/codec/index.js';
import { APP_COOKIE_PREFIX_MASK } from '../../lib/cookies.js';
import { ROUTING_COOKIE_PREFIX } from '../routing/builders.js';
import { dpidHex } from '../../lib/log.js';
import { flowMatch } from '../routing/flow-key.js';
import type { FlowKey } from '../routing/types.js';
import type { PortRef, TopologyView } from '../../topology/types.js';
import type { Hop } from './paths.js';

export const ADOPT_MAX_HOPS = 8;

export interface AdoptedPath {
  readonly hops: readonly Hop[];
  /** the ingress entry's apply-actions */
  readonly actions: readonly Action[];
}

/**
 * The actions of an entry: apply-actions, and written actions (a pinned entry leading to the meter table
 * writes its actions to the action set, meter-enforcer.ts); a meter instruction is not part of them.
 */
export function applyActions(e: FlowStats): Action[] {
  const out: Action[] = [];
  for (const i of e.instructions) if (i.type === 'OFPIT_APPLY_ACTIONS' || i.type === 'OFPIT_WRITE_ACTIONS') out.push(...i.actions);
  return out;
}

/** The output port of the highest-priority entry with one, OFPP_IN_PORT resolved to `inPort`. */
export function outputOf(flows: readonly FlowStats[], inPort: number): { port: number; entry: FlowStats } | undefined {
  const sorted = [...flows].sort((a, b) => b.priority - a.priority);
  for (const e of sorted) {
    const out = applyActions(e).find((a): a is Extract<Action, { type: 'OFPAT_OUTPUT' }> => a.type === 'OFPAT_OUTPUT');
    if (!out) continue;
    const port = out.port === OFPP.IN_PORT ? inPort : out.port;
    if (port > OFPP.MAX) return undefined; // controller, flood…: not a pinned path
    return { port, entry: e };
  }
  return undefined;
}

/**
 * The outcome of one attempt to read a flow's path from the switches: the path, or why not (a sentence
 * naming the switch and port where the walk stopped; GET /api/v1/flowlets shows it).
 */
export type AdoptionResult =
  | { readonly ok: true; readonly path: AdoptedPath }
  | { readonly ok: false; readonly reason: string };

/**
 * Follows the flow through the switches' tables: one OFPMP_FLOW request (OpenFlow 1.3.5 §7.3.5.2,
 * non-strict, all tables) per hop. Fails — with the reason — when discovery has not settled, the
 * ingress cannot be found, a switch is not connected, no entry matches, an output leads nowhere, or the
 * path is longer than `maxHops`. A failed request (timeout, error reply) rejects.
 */
export async function readPathFromSwitches(
  key: FlowKey,
  topology: TopologyView,
  switches: (dpid: bigint) => SwitchHandle | undefined,
  maxHops = ADOPT_MAX_HOPS,
): Promise<AdoptionResult> {
  const fail = (reason: string): AdoptionResult => ({ ok: false, reason });
  // Before discovery has settled every port looks like an edge port: the walk could start on a spine or
  // stop half-way.
  if (!topology.ready()) return fail('discovery has not settled');
  const src = topology.hostByIpv4(key.ipv4Src);
  const dst = topology.hostByIpv4(key.ipv4Dst);
  const start = src?.attachment ?? await findIngress(key, topology, switches);
  if (!start) return fail(`source ${key.ipv4Src} unknown and no switch has an entry of the flow on an edge port`);
  let at: PortRef = start;
  const hops: Hop[] = [];
  let actions: Action[] = [];
  for (let i = 0; i < maxHops; i++) {
    const sw = switches(at.dpid);
    if (!sw || !sw.alive) return fail(`switch ${dpidHex(at.dpid)} is not connected`);
    const reply = await sw.multipart({
      mpType: 'OFPMP_FLOW', tableId: OFPTT_ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n,
      match: flowMatch(key, at.portNo),
    });
    const out = outputOf(reply.flows, at.portNo);
    if (!out) return fail(`no entry of the flow with an output port on ${dpidHex(at.dpid)} in_port ${at.portNo}`);
    hops.push({ dpid: at.dpid, inPort: at.portNo, outPort: out.port });
    if (i === 0) actions = applyActions(out.entry);
    const here: PortRef = at;
    if (dst ? here.dpid === dst.attachment.dpid && out.port === dst.attachment.portNo
      : !topology.isFabricPort({ dpid: here.dpid, portNo: out.port })) return { ok: true, path: { hops, actions } };
    const link = topology.links().find((l) => l.src.dpid === here.dpid && l.src.portNo === out.port);
    if (!link) return fail(`output port ${out.port} of ${dpidHex(here.dpid)} leads to no known link or host`);
    at = link.dst;
  }
  return fail(`path longer than ${maxHops} switches`);
}

/**
 * The (switch, edge port) where the flow enters the fabric, from the switches' tables: the entry of the
 * 5-tuple whose in_port is not a fabric port. Undefined when no connected switch has one.
 */
export async function findIngress(
  key: FlowKey,
  topology: TopologyView,
  switches: (dpid: bigint) => SwitchHandle | undefined,
): Promise<PortRef | undefined> {
  const match = flowMatch(key, 0).filter((f) => f.field !== 'in_port');
  const found = await Promise.all(topology.switches().map(async (s) => {
    const sw = switches(s.dpid);
    if (!sw || !sw.alive) return undefined;
    const reply = await sw.multipart({
      mpType: 'OFPMP_FLOW', tableId: OFPTT_ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match,
    }).catch(() => undefined);
    for (const e of reply?.flows ?? []) {
      const inPort = matchInPort(e.match);
      if (typeof inPort === 'number' && !topology.isFabricPort({ dpid: s.dpid, portNo: inPort })) return { dpid: s.dpid, portNo: inPort };
    }
    return undefined;
  }));
  return found.find((x) => x !== undefined);
}

/**
 * The fallback when a path cannot be read back: deletes, on every connected switch, the routing entries
 * of the flow's 5-tuple (OFPFC_DELETE, non-strict, all tables, cookie = routing's prefix under the
 * app mask; OpenFlow 1.3.5 §6.4) and ends with a barrier. Call it only while routing has no route of
 * its own for the flow: every such entry is then a previous run's. The flow's next packet misses the
 * table and reaches the controller, which pins it afresh (the packet is held and released by routing,
 * so nothing is lost). Resolves with the number of switches written; a failed switch rejects.
 */
export async function removeStaleEntries(
  key: FlowKey,
  topology: TopologyView,
  switches: (dpid: bigint) => SwitchHandle | undefined,
): Promise<number> {
  const match = flowMatch(key, 0).filter((f) => f.field !== 'in_port');
  const del = flowMod({
    command: OFPFC.DELETE, tableId: OFPTT_ALL, cookie: ROUTING_COOKIE_PREFIX, cookieMask: APP_COOKIE_PREFIX_MASK, match,
  });
  const live = topology.switches().map((s) => switches(s.dpid)).filter((sw): sw is SwitchHandle => !!sw && sw.alive);
  await Promise.all(live.map((sw) => sw.transact([del])));
  return live.length;
}
