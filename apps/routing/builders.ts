/**
 * Named builders for the OpenFlow messages routing sends (small builders, never mutated after: ARCHITECTURE.md "Principles"):
 * the pinned entry (FLOW_MOD ADD), the delete-by-cookie, and packet-outs. Also the cookie scheme.
 *
 * Cookie scheme (64 bits): `0x5256` ("RV", Rivulet) in bits 63–48, app id `0x01` (routing) in bits
 * 47–40, a pin serial in bits 39–0. Every pin and every re-pin gets a fresh serial, so entries of an
 * old path can be deleted by exact cookie without touching the new ones, and FLOW_REMOVED of stale
 * entries is recognised and ignored.
 */
import {
  OFP_NO_BUFFER,
  OFPFC,
  OFPFF,
  OFPG,
  OFPP,
  OFPTT_ALL,
  type Action,
  type Instruction,
  type Match,
} from '../../openflow/codec/index.js';
import type { OutMessage } from '../../openflow/app-api.js';
import { ALL_ONES_64, APP_COOKIE_PREFIX_MASK, appCookie, appCookiePrefix, isAppCookie } from '../../lib/cookies.js';

const ROUTING_APP_ID = 0x01;
export const ROUTING_COOKIE_PREFIX = appCookiePrefix(ROUTING_APP_ID);
/** Mask selecting the prefix (tag + app id) of a cookie. */
export const ROUTING_COOKIE_PREFIX_MASK = APP_COOKIE_PREFIX_MASK;

/** The cookie of pin number `serial`. */
export function routingCookie(serial: number): bigint {
  return appCookie(ROUTING_APP_ID, serial);
}

/** True for cookies of Rivulet routing entries. */
export function isRoutingCookie(cookie: bigint): boolean {
  return isAppCookie(ROUTING_APP_ID, cookie);
}

/** Output action; a port equal to the in port must be written OFPP_IN_PORT (§7.2.5 / A.2.1). */
export function outputTo(port: number, inPort: number): Action {
  return { type: 'OFPAT_OUTPUT', port: port === inPort ? OFPP.IN_PORT : port, maxLen: 0 };
}

export interface PinEntryOptions {
  readonly cookie: bigint;
  readonly tableId: number;
  readonly priority: number;
  readonly idleTimeoutS: number;
  readonly match: Match;
  readonly actions: readonly Action[];
  /** apply-actions of `actions`, when the caller holds one already (shared: never mutated) */
  readonly instructions?: readonly Instruction[] | undefined;
}

/** The instructions of an entry that applies `actions` (OFPIT_APPLY_ACTIONS, §7.2.4). */
export function applyActions(actions: readonly Action[]): readonly Instruction[] {
  return [{ type: 'OFPIT_APPLY_ACTIONS', actions }];
}

/** A match and instructions of none (a delete by cookie): shared, never mutated. */
const NO_MATCH: Match = Object.freeze([]);
const NO_INSTRUCTIONS: readonly Instruction[] = Object.freeze([]);

/** FLOW_MOD ADD of one pinned hop: idle timeout, no hard timeout, OFPFF_SEND_FLOW_REM. */
export function pinEntry(o: PinEntryOptions): OutMessage {
  // written out in full (not flowMod's defaults spread over): one object literal, one shape — the flow-setup path
  return {
    type: 'OFPT_FLOW_MOD', cookie: o.cookie, cookieMask: 0n, tableId: o.tableId, command: OFPFC.ADD, idleTimeout: o.idleTimeoutS,
    hardTimeout: 0, priority: o.priority, bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY, flags: OFPFF.SEND_FLOW_REM,
    match: o.match, instructions: o.instructions ?? applyActions(o.actions),
  };
}

/** FLOW_MOD DELETE of every entry carrying exactly `cookie`, in all tables. */
export function deleteByCookie(cookie: bigint): OutMessage {
  return {
    type: 'OFPT_FLOW_MOD', cookie, cookieMask: ALL_ONES_64, tableId: OFPTT_ALL, command: OFPFC.DELETE, idleTimeout: 0,
    hardTimeout: 0, priority: 0, bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY, flags: 0, match: NO_MATCH, instructions: NO_INSTRUCTIONS,
  };
}

/**
 * PACKET_OUT of a frame: with the switch's buffer when it has one (then no data), else the bytes.
 * `inPort` is the port the frame entered on (OFPP_CONTROLLER for frames the controller made).
 */
export function packetOut(inPort: number, actions: readonly Action[], data: Buffer, bufferId: number = OFP_NO_BUFFER): OutMessage {
  const buffered = bufferId !== OFP_NO_BUFFER;
  return { type: 'OFPT_PACKET_OUT', bufferId, inPort, actions, data: buffered ? Buffer.alloc(0) : data };
}

/** Predicates (tests, the ordering pass). */
export function isFlowAdd(m: OutMessage): boolean {
  return m.type === 'OFPT_FLOW_MOD' && m.command === OFPFC.ADD;
}
export function isFlowDelete(m: OutMessage): boolean {
  return m.type === 'OFPT_FLOW_MOD' && (m.command === OFPFC.DELETE || m.command === OFPFC.DELETE_STRICT);
}
