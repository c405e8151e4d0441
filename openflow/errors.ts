/**
 * Typed errors of switch sessions (ARCHITECTURE.md "Principles": classes with stable `code`s callers and tests branch on).
 * Codec errors (OfpDecodeError, OfpEncodeError) live in codec/errors.ts.
 */
import { errorNames, type MessageOf } from './codec/index.js';
import { dpidHex } from '../lib/log.js';

/** The switch answered a request (same xid) with OFPT_ERROR (OpenFlow 1.3.5 §7.4.4). */
export class SwitchError extends Error {
  readonly code = 'OFP_SWITCH_ERROR' as const;
  /** OFPET_* number and name, e.g. 5 / 'OFPET_FLOW_MOD_FAILED'. */
  readonly errType: number;
  readonly errTypeName: string;
  /** Code within the type, number and name, e.g. 6 / 'OFPFMFC_BAD_COMMAND'. */
  readonly errCode: number;
  readonly errCodeName: string;
  readonly xid: number;
  /** The error's data: the start of the offending request (or ASCII for HELLO_FAILED). */
  readonly data: Buffer;

  constructor(
    readonly dpid: bigint | undefined,
    readonly reply: MessageOf<'OFPT_ERROR'>,
    readonly request?: string,
  ) {
    const names = errorNames(reply.errType, reply.code);
    const where = dpid === undefined ? 'switch' : `switch ${dpidHex(dpid)}`;
    super(`OFP_SWITCH_ERROR: ${where} answered ${request ?? `xid ${reply.xid}`} with ${names.type}/${names.code}`);
    this.name = 'SwitchError';
    this.errType = reply.errType;
    this.errCode = reply.code;
    this.errTypeName = names.type;
    this.errCodeName = names.code;
    this.xid = reply.xid;
    this.data = reply.data;
  }
}

/** No reply within the request's timeout. `timeoutMs` in milliseconds. */
export class RequestTimeoutError extends Error {
  readonly code = 'OFP_REQUEST_TIMEOUT' as const;
  constructor(
    readonly xid: number,
    readonly request: string,
    readonly timeoutMs: number,
  ) {
    super(`OFP_REQUEST_TIMEOUT: no reply to ${request} (xid ${xid}) within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}

/** The session closed (or was closed) before the request completed, or a send on a dead session. */
export class SessionClosedError extends Error {
  readonly code = 'OFP_SESSION_CLOSED' as const;
  constructor(readonly reason: string) {
    super(`OFP_SESSION_CLOSED: ${reason}`);
    this.name = 'SessionClosedError';
  }
}

/** A request whose xid collides with one still pending (caller supplied a busy xid). */
export class XidInUseError extends Error {
  readonly code = 'OFP_XID_IN_USE' as const;
  constructor(readonly xid: number) {
    super(`OFP_XID_IN_USE: xid ${xid} already has a pending request`);
    this.name = 'XidInUseError';
  }
}

/**
 * The switch's reply to a request was well framed but its body could not be decoded (OpenFlow 1.3.5
 * §6.4: the receiver of a message it cannot parse answers with OFPT_ERROR; the connection goes on).
 * Only that request fails; `errType`/`errCode` are what the controller answered with.
 */
export class MalformedReplyError extends Error {
  readonly code = 'OFP_MALFORMED_REPLY' as const;
  constructor(
    readonly xid: number,
    readonly request: string,
    readonly decodeCode: string,
    readonly errType: number,
    readonly errCode: number,
    detail: string,
  ) {
    super(`OFP_MALFORMED_REPLY: the reply to ${request} (xid ${xid}) could not be decoded: ${detail}`);
    this.name = 'MalformedReplyError';
  }
}

export type SessionErrorCode =
  | MalformedReplyError['code']
  | SwitchError['code']
  | RequestTimeoutError['code']
  | SessionClosedError['code']
  | XidInUseError['code'];
