/**
 * xid → pending request table of one session (OpenFlow 1.3.5 §6.4: a reply carries its request's xid).
 *
 * - `expect(xid, …)` returns a promise settled by the reply with that xid, an OFPT_ERROR with that xid
 *   (rejects with SwitchError), the timeout (RequestTimeoutError) or `rejectAll` (session closed).
 *   Multipart replies are fed through a MultipartReassembler; the promise resolves with the merged
 *   reply once the part without OFPMPF_REPLY_MORE arrives (§7.3.5).
 * - `watch(xid)` records an OFPT_ERROR for a message that has no reply (flow-mod, meter-mod, …) so a
 *   later barrier can report it (`transact`).
 * All timers go through the injected clock and are cleared when an entry settles.
 */
import { MultipartReassembler, type MessageOf, type OfpMessage } from './codec/index.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { MalformedReplyError, RequestTimeoutError, SessionClosedError, SwitchError, XidInUseError } from './errors.js';
import type { OfpDecodeError } from './codec/index.js';

interface Entry {
  readonly what: string;
  readonly resolve: (msg: OfpMessage) => void;
  readonly reject: (err: Error) => void;
  readonly timer: TimerHandle;
}

/** Outcome of a watched message: `error` is set if the switch answered it with OFPT_ERROR. */
export interface Watch {
  readonly xid: number;
  error?: SwitchError;
}

export class PendingRequests {
  private readonly entries = new Map<number, Entry>();
  private readonly watches = new Map<number, Watch>();
  /** One per session: parts of REPLY_MORE sequences by xid (bounded by the codec's limits). */
  private readonly parts = new MultipartReassembler();

  constructor(
    private readonly clock: Clock,
    private readonly dpid: () => bigint | undefined,
  ) {}

  /** Requests awaiting replies. */
  get size(): number {
    return this.entries.size;
  }

  /** True if `xid` is used by a pending request or a watch. */
  busy(xid: number): boolean {
    return this.entries.has(xid) || this.watches.has(xid);
  }

  /**
   * Registers a request. `what` names it in errors (e.g. "OFPT_BARRIER_REQUEST").
   * @throws XidInUseError if `xid` is already pending
   */
  expect(xid: number, what: string, timeoutMs: number): Promise<OfpMessage> {
    if (this.busy(xid)) throw new XidInUseError(xid);
    return new Promise<OfpMessage>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.entries.delete(xid);
        this.parts.drop(xid);
        reject(new RequestTimeoutError(xid, what, timeoutMs));
      }, timeoutMs);
      this.entries.set(xid, { what, resolve, reject, timer });
    });
  }

  /** Starts recording errors for a message without a reply. */
  watch(xid: number): Watch {
    if (this.busy(xid)) throw new XidInUseError(xid);
    const w: Watch = { xid };
    this.watches.set(xid, w);
    return w;
  }

  unwatch(xid: number): void {
    this.watches.delete(xid);
  }

  /** Drops a request without settling it (its send failed; the caller rejects). */
  forget(xid: number): void {
    const e = this.entries.get(xid);
    if (!e) return;
    this.settle(xid, e);
  }

  /**
   * Offers a reply. Returns true if a pending request consumed it (a multipart part counts even when
   * more parts are still to come), false if nobody waits for this xid.
   */
  reply(msg: OfpMessage): boolean {
    const e = this.entries.get(msg.xid);
    if (!e) return false;
    if (msg.type === 'OFPT_MULTIPART_REPLY') {
      let merged: OfpMessage | undefined;
      try {
        merged = this.parts.add(msg);
      } catch (err) {
        // a sequence that does not fit together (OFP_ERR_BAD_MULTIPART): the request fails with it
        this.settle(msg.xid, e);
        e.reject(err as Error);
        return true;
      }
      if (!merged) return true;
      this.settle(msg.xid, e);
      e.resolve(merged);
      return true;
    }
    this.settle(msg.xid, e);
    e.resolve(msg);
    return true;
  }

  /** Offers an OFPT_ERROR. Returns true if a request or watch with its xid took it. */
  error(msg: MessageOf<'OFPT_ERROR'>): boolean {
    const e = this.entries.get(msg.xid);
    if (e) {
      this.settle(msg.xid, e);
      e.reject(new SwitchError(this.dpid(), msg, e.what));
      return true;
    }
    const w = this.watches.get(msg.xid);
    if (w) {
      w.error ??= new SwitchError(this.dpid(), msg);
      return true;
    }
    return false;
  }

  /**
   * A reply with this xid arrived but its body did not decode: the pending request (and any multipart
   * parts gathered for it) fails with MalformedReplyError. A watch with this xid records nothing (only
   * OFPT_ERROR is an answer to a watched message). Returns true if a request was waiting.
   */
  malformed(xid: number, err: OfpDecodeError): boolean {
    const e = this.entries.get(xid);
    if (!e) return false;
    this.settle(xid, e);
    e.reject(new MalformedReplyError(xid, e.what, err.code, err.errType, err.errCode, err.message));
    return true;
  }

  /** Rejects every pending request with SessionClosedError(reason) and forgets all watches. */
  rejectAll(reason: string): void {
    const all = [...this.entries.entries()];
    this.entries.clear();
    this.watches.clear();
    this.parts.clear();
    for (const [, e] of all) {
      this.clock.clearTimeout(e.timer);
      e.reject(new SessionClosedError(reason));
    }
  }

  private settle(xid: number, e: Entry): void {
    this.clock.clearTimeout(e.timer);
    this.entries.delete(xid);
    this.parts.drop(xid);
  }
}
