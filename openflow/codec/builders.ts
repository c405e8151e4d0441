/**
 * Small named builders for the messages apps send most (ARCHITECTURE.md "Principles": small named builders). Each returns a fresh
 * object without an xid (the session assigns one); callers never mutate what they get back.
 */
import { OFP_NO_BUFFER, OFPCML_NO_BUFFER, OFPFC, OFPG, OFPP } from './constants.js';
import type { Action, MessageOf } from './types.js';

/** A FLOW_MOD without its xid. */
export type FlowModOut = Omit<MessageOf<'OFPT_FLOW_MOD'>, 'xid'>;

/**
 * OFPT_FLOW_MOD (OpenFlow 1.3.5 §7.3.4.2) with the defaults of a plain add: table 0, OFPFC_ADD, no
 * timeouts, priority 0, cookie 0 (mask 0), no buffer, out_port/out_group ANY, no flags, empty match, no
 * instructions. Any field given overrides its default.
 */
export function flowMod(fields: Partial<FlowModOut> = {}): FlowModOut {
  return {
    type: 'OFPT_FLOW_MOD', cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC.ADD, idleTimeout: 0,
    hardTimeout: 0, priority: 0, bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY, flags: 0,
    match: [], instructions: [], ...fields,
  };
}

/** Apply-actions output to the controller with the whole packet (max_len OFPCML_NO_BUFFER). */
export const TO_CONTROLLER: readonly Action[] = Object.freeze([
  Object.freeze({ type: 'OFPAT_OUTPUT', port: OFPP.CONTROLLER, maxLen: OFPCML_NO_BUFFER } as const),
]);
