/**
 * One switch connection as an explicit state machine (OpenFlow 1.3.5 §6.3 connection setup, §6.4
 * message handling, §7.5 symmetric messages):
 *
 *   HELLO_WAIT ──peer HELLO offers 1.3──▶ FEATURES_WAIT ──FEATURES_REPLY──▶ CONFIGURING ──barrier──▶ MAIN
 *        │ no 1.3: OFPT_ERROR HELLO_FAILED          SET_CONFIG, PORT_DESC, table-miss, BARRIER        │
 *        └──────────────▶ DEAD ◀──── framing error / echo timeout / queue overflow / socket closed ◀┘
 *
 * Our HELLO goes out at once; TCP_NODELAY is set. Frames are cut with the codec's FrameDecoder. Only a
 * framing error (header length < 8 or over the limit, a version other than 1.3 after HELLO) closes the
 * connection, after an OFPT_ERROR (the decode error's type/code, first 64 bytes of the message): the
 * stream cannot be trusted past it. A well-framed message whose body does not decode is answered with
 * OFPT_ERROR carrying the decode error's type/code and the session goes on (§6.4); if it was a reply
 * (or an OFPT_ERROR) to a pending request, that request alone fails with MalformedReplyError. An
 * unknown message type gets OFPBRC_BAD_TYPE and the connection stays. The switch's ECHO_REQUESTs are
 * answered; ours go out every `echoIntervalMs` and the session closes after `echoMaxUnanswered`
 * unanswered ones. Writes go through a bounded WriteQueue; with `batchWrites` (the default) the messages
 * of one event-loop turn are coalesced into one socket write at the end of the turn, and the `transact`
 * calls of one turn share one barrier written after them.
 * Time comes from the injected Clock; on close every timer, listener and pending promise is released.
 */
import {
  FrameDecoder, OfWriter, OfpDecodeError, appendMessage, decodeMessage, encodeMessage, encodeMessageAs,
  type MessageOf, type MultipartRequestBody, type OfpMessage, type Port,
} from './codec/index.js';
import type { MultipartReplyOf, OutMessage, ReplyOf, RequestOptions, SwitchFeatures, SwitchHandle } from './app-api.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { SessionClosedError, SwitchError } from './errors.js';
import { errorFor, helloFailed, helloMessage, negotiate, setConfigMessage, tableMissFlowMod } from './handshake.js';
import { dpidHex, type Logger } from '../lib/log.js';
import { PendingRequests, type Watch } from './pending.js';
import { WriteQueue } from './write-queue.js';
import {
  SESSION_DEFAULTS, type AsyncMessage, type SessionDeps, type SessionHooks, type SessionOptions, type SessionSocket,
  type SessionState,
} from './session-options.js';

export type { AsyncMessage, SessionDeps, SessionHooks, SessionOptions, SessionSocket, SessionState };

const REPLY_TYPES = new Set<string>([
  'OFPT_ECHO_REPLY', 'OFPT_FEATURES_REPLY', 'OFPT_GET_CONFIG_REPLY', 'OFPT_MULTIPART_REPLY', 'OFPT_BARRIER_REPLY',
  'OFPT_QUEUE_GET_CONFIG_REPLY', 'OFPT_ROLE_REPLY', 'OFPT_GET_ASYNC_REPLY',
]);
const OFPET_BAD_REQUEST = 1;
const OFPBRC_BAD_TYPE = 1;
/** Header type codes (§7.1) of the messages that answer a request by xid: ERROR and the *_REPLY types. */
const ANSWER_TYPE_CODES = new Set<number>([1, 3, 6, 8, 19, 21, 23, 25, 27]);
const OFPT_ECHO_REPLY_CODE = 3;
const OFPBRC_EPERM = 5;
/** Bad bodies logged at warn per session before logging only every 1000th (the counter keeps all). */
const BAD_BODY_WARNINGS = 10;

/** This turn's shared barrier and the transact calls waiting on it (parallel arrays: no object per call). */
interface TurnBarrier {
  readonly xid: number;
  readonly calls: ((err: Error | undefined) => void)[];
  readonly counts: number[];
  /** the xids of the calls' messages, flat in call order (watched here, not in the pending table) */
  readonly xids: number[];
  /** OFPT_ERRORs answering one of `xids`, by xid (created on the first) */
  errors: Map<number, SwitchError> | undefined;
}

export class Session implements SwitchHandle {
  private st: SessionState = 'HELLO_WAIT';
  private reason = '';
  private xid = 0;
  private datapathId: bigint | undefined;
  private feats: SwitchFeatures | undefined;
  private readonly portMap = new Map<number, Port>();
  private readonly opt: Required<SessionOptions>;
  private readonly frames: FrameDecoder;
  private readonly queue: WriteQueue;
  private readonly pending: PendingRequests;
  private readonly clock: Clock;
  private readonly hooks: SessionHooks;
  private log: Logger;
  private handshakeTimer: TimerHandle | undefined;
  private echoTimer: TimerHandle | undefined;
  private echoMissed = 0;
  private badBodies = 0;
  private livenessCheck: Promise<boolean> | undefined;
  private early: AsyncMessage[] = [];
  private lastChunk: Buffer = Buffer.alloc(0);
  /**
   * This turn's frames (batchWrites), encoded straight into this writer's current output one after the
   * other and written as one view of it when the turn ends: no buffer per message, no copy to join them.
   */
  private readonly turnOut = new OfWriter(0);
  /** the turn's output has been started (startOutput) and holds frames */
  private turnOpen = false;
  private flushQueued = false;
  /**
   * The barrier shared by this turn's transact calls: its xid, and per call its callback and how many of
   * `watches` (flat, in call order) are its messages'.
   */
  private turnBarrier: TurnBarrier | undefined;
  /** turn barriers sent (or about to be) and not yet answered: their xids may draw an OFPT_ERROR */
  private openTurns: TurnBarrier[] = [];
  /** highest xid a caller chose itself for a request or a watched message: the counter checks xids up to it */
  private xidHigh = 0;
  /** the xid counter wrapped at least once: xids it hands out may be in use */
  private xidWrapped = false;
  private readonly listeners: [string, (...args: any[]) => void][];
  readonly peer: string;

  constructor(private readonly socket: SessionSocket, deps: SessionDeps, options: SessionOptions = {}) {
    this.opt = { ...SESSION_DEFAULTS, ...options };
    this.clock = deps.clock;
    this.hooks = deps.hooks;
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.log = deps.log.child({ peer: this.peer });
    this.frames = new FrameDecoder({ maxFrameBytes: this.opt.maxFrameBytes });
    this.pending = new PendingRequests(this.clock, () => this.datapathId);
    this.queue = new WriteQueue(socket, this.opt.maxQueuedBytes, (n) => this.close(`write queue over limit: ${n} bytes held`));
    this.listeners = [
      ['data', (chunk: Buffer) => this.onData(chunk)],
      ['drain', () => this.queue.drain()],
      ['end', () => this.close('peer closed the connection')],
      ['close', () => this.close('socket closed')],
    ];
    socket.on('error', (err: Error) => this.close(`socket error: ${err.message}`));
    for (const [ev, fn] of this.listeners) socket.on(ev, fn);
    socket.setNoDelay?.(true);
    this.handshakeTimer = this.clock.setTimeout(() => {
      this.handshakeTimer = undefined;
      this.close(`handshake not complete within ${this.opt.handshakeTimeoutMs} ms (state ${this.st})`);
    }, this.opt.handshakeTimeoutMs);
    this.log.debug({ event: 'session_open' }, 'connection accepted');
    this.send(helloMessage());
  }

  /* ------------------------------------------------------------ SwitchHandle */

  get state(): SessionState {
    return this.st;
  }
  get alive(): boolean {
    return this.st !== 'DEAD';
  }
  /** Datapath id; throws before FEATURES_REPLY (handles are only given out in MAIN). */
  get dpid(): bigint {
    if (this.datapathId === undefined) throw new Error(`datapath id not known yet (state ${this.st})`);
    return this.datapathId;
  }
  /** Datapath id if known. */
  get maybeDpid(): bigint | undefined {
    return this.datapathId;
  }
  get dpidHex(): string {
    return dpidHex(this.dpid);
  }
  get features(): SwitchFeatures {
    if (!this.feats) throw new Error(`features not known yet (state ${this.st})`);
    return this.feats;
  }
  get ports(): ReadonlyMap<number, Port> {
    return this.portMap;
  }
  /** Why the session died ('' while alive). */
  get closeReason(): string {
    return this.reason;
  }
  /** Requests awaiting replies. */
  get pendingCount(): number {
    return this.pending.size;
  }
  /** Well-framed messages whose body did not decode (each answered with OFPT_ERROR; session kept). */
  get malformedBodies(): number {
    return this.badBodies;
  }
  /** Bytes held back by back-pressure. */
  get queuedBytes(): number {
    return this.queue.queuedBytes;
  }

  send(msg: OutMessage): number {
    if (this.st === 'DEAD') throw new SessionClosedError(this.reason);
    const xid = msg.xid ?? this.nextXid(); // not registered as pending: no noteXid
    this.write(msg, xid);
    return xid;
  }

  /**
   * `msg`, numbered `xid`, onto the wire: encoded into the turn's output and written at the end of this
   * event-loop turn (batchWrites), else encoded and written now. @throws OfpEncodeError (nothing written)
   */
  private write(msg: OutMessage, xid: number): void {
    if (!this.opt.batchWrites) return this.queue.push(encodeMessageAs(msg as OfpMessage, xid));
    this.appendToTurn(msg as OfpMessage, xid);
    this.scheduleFlush();
  }

  /**
   * `msg` encoded into the turn's output, opening it first if this is the turn's first message.
   * @throws OfpEncodeError (the output keeps what it had; a turn it would have opened stays closed)
   */
  private appendToTurn(msg: OfpMessage, xid: number): void {
    if (!this.turnOpen) this.turnOut.startOutput();
    appendMessage(this.turnOut, msg, xid);
    this.turnOpen = true;
  }

  /** The turn's output is written once the event loop has run this turn's other callbacks. */
  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(this.flushTurn);
  }

  /** End of the turn: the turn's shared barrier goes last, then everything is one write. */
  private readonly flushTurn = (): void => {
    this.flushQueued = false;
    const b = this.turnBarrier;
    this.turnBarrier = undefined;
    if (this.st === 'DEAD') {
      this.turnOpen = false;
      return;
    }
    if (b) this.appendToTurn({ type: 'OFPT_BARRIER_REQUEST', xid: b.xid } as OfpMessage, b.xid);
    this.flushNow();
  };

  /** Writes what this turn has sent so far at once (before a direct write or a close keeps the order). */
  private flushNow(): void {
    if (!this.turnOpen) return;
    this.turnOpen = false;
    this.queue.push(this.turnOut.takeOutput());
  }

  /**
   * This turn's shared barrier (created on first use; written when the turn ends). Its reply settles
   * every transact call of the turn in one promise reaction: each call's callback gets its first
   * SwitchError (an OFPT_ERROR for one of its messages), the barrier's own failure, or nothing.
   */
  private sharedBarrier(): TurnBarrier {
    if (this.turnBarrier) return this.turnBarrier;
    const xid = this.nextXid();
    const b: TurnBarrier = { xid, calls: [], counts: [], xids: [], errors: undefined };
    this.openTurns.push(b);
    this.pending.expect(xid, 'OFPT_BARRIER_REQUEST', this.opt.requestTimeoutMs).then(
      () => this.settleTurn(b, undefined),
      (err: unknown) => this.settleTurn(b, err instanceof Error ? err : new Error(String(err))),
    );
    this.turnBarrier = b;
    this.scheduleFlush();
    return b;
  }

  /** The turn's barrier answered (`err` undefined) or failed: every call of the turn is told. */
  private settleTurn(b: TurnBarrier, err: Error | undefined): void {
    const at = this.openTurns.indexOf(b);
    if (at >= 0) this.openTurns.splice(at, 1);
    const errors = b.errors;
    let w = 0;
    for (let i = 0; i < b.calls.length; i++) {
      let failed = err;
      const end = w + b.counts[i]!;
      if (errors) for (let x = w; x < end; x++) failed ??= errors.get(b.xids[x]!);
      w = end;
      try {
        b.calls[i]!(failed);
      } catch (hookErr) {
        this.log.error({ event: 'transact_callback_failed', err: hookErr }, 'a transact callback threw');
      }
    }
  }

  request<M extends OutMessage>(msg: M, opts: RequestOptions = {}): Promise<ReplyOf<M['type']>> {
    if (this.st === 'DEAD') return Promise.reject(new SessionClosedError(this.reason));
    const xid = msg.xid ?? this.nextXid();
    if (msg.xid !== undefined) this.noteXid(msg.xid);
    const what = msg.type === 'OFPT_MULTIPART_REQUEST' ? `${msg.type}/${msg.body.mpType}` : msg.type;
    let reply: Promise<OfpMessage>;
    try {
      reply = this.pending.expect(xid, what, opts.timeoutMs ?? this.opt.requestTimeoutMs);
      this.send({ ...msg, xid });
    } catch (err) {
      this.pending.forget(xid);
      return Promise.reject(err as Error);
    }
    return reply as Promise<ReplyOf<M['type']>>;
  }

  async multipart<B extends MultipartRequestBody>(body: B, opts?: RequestOptions): Promise<MultipartReplyOf<B['mpType']>> {
    const reply = await this.request({ type: 'OFPT_MULTIPART_REQUEST', flags: 0, body }, opts);
    return reply.body as MultipartReplyOf<B['mpType']>;
  }

  async barrier(opts?: RequestOptions): Promise<void> {
    await this.request({ type: 'OFPT_BARRIER_REQUEST' }, opts);
  }

  transact(msgs: readonly OutMessage[], opts?: RequestOptions): Promise<void> {
    if (this.st === 'DEAD') return Promise.reject(new SessionClosedError(this.reason));
    if (!this.opt.batchWrites || opts?.timeoutMs !== undefined) return this.transactAlone(msgs, opts);
    return new Promise<void>((resolve, reject) => this.transactThen(msgs, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * {@link transact} without a promise (the flow-setup path): `done` is called once, with nothing when
   * the turn's shared barrier came back and no message of `msgs` drew an OFPT_ERROR, else with the
   * first SwitchError, the barrier's failure, an encoding error or SessionClosedError. Never
   * synchronously: at the earliest in a microtask.
   */
  transactThen(msgs: readonly OutMessage[], done: (err: Error | undefined) => void): void {
    if (this.st === 'DEAD' || !this.opt.batchWrites) {
      this.transact(msgs).then(() => done(undefined), (err: Error) => done(err));
      return;
    }
    const b = this.sharedBarrier();
    const first = b.xids.length;
    try {
      for (let i = 0; i < msgs.length; i++) {
        const msg = msgs[i]!;
        const xid = msg.xid ?? this.nextXid();
        if (msg.xid !== undefined) this.noteXid(msg.xid);
        this.write(msg, xid);
        b.xids.push(xid);
      }
    } catch (err) {
      b.xids.length = first;
      queueMicrotask(() => done(err as Error));
      return;
    }
    b.calls.push(done);
    b.counts.push(msgs.length);
  }

  /** transact with a barrier of its own (a timeout of its own, or batching off). */
  private transactAlone(msgs: readonly OutMessage[], opts?: RequestOptions): Promise<void> {
    let watches: Watch[];
    try {
      watches = msgs.map((m) => this.sendWatched(m));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.barrier(opts).then(
      () => {
        let failed: Error | undefined;
        for (const w of watches) {
          this.pending.unwatch(w.xid);
          failed ??= w.error;
        }
        if (failed) throw failed;
      },
      (err: unknown) => {
        for (const w of watches) this.pending.unwatch(w.xid);
        throw err;
      },
    );
  }

  /**
   * Checks now that the peer still answers: one ECHO_REQUEST that must be answered within `timeoutMs`
   * (§7.5.2), else the session is closed with `reason` (it is declared dead at once instead of after
   * `echoMaxUnanswered` intervals). Resolves true if the peer answered. Concurrent calls share one echo.
   */
  checkAlive(timeoutMs: number, reason: string): Promise<boolean> {
    if (this.st === 'DEAD') return Promise.resolve(false);
    this.livenessCheck ??= this.request({ type: 'OFPT_ECHO_REQUEST', data: Buffer.alloc(0) }, { timeoutMs }).then(
      () => true,
      (err: Error & { code?: string }) => {
        if (err.code === 'OFP_REQUEST_TIMEOUT') this.close(`${reason}: no ECHO_REPLY within ${timeoutMs} ms`);
        return false;
      },
    ).finally(() => (this.livenessCheck = undefined));
    return this.livenessCheck;
  }

  /**
   * Ends the session: state DEAD, timers cleared, listeners removed, pending requests rejected with
   * SessionClosedError(reason), socket ended (destroyed after `lingerMs`, or at once if `immediate`).
   * Idempotent.
   */
  close(reason: string, opts: { immediate?: boolean } = {}): void {
    if (this.st === 'DEAD') return;
    const wasUp = this.st === 'MAIN';
    this.flushNow();
    this.st = 'DEAD';
    this.reason = reason;
    this.clearTimer('handshakeTimer');
    this.clearTimer('echoTimer');
    this.queue.stop();
    this.turnOpen = false;
    this.turnBarrier = undefined;
    this.openTurns = [];
    for (const [ev, fn] of this.listeners) this.socket.removeListener(ev, fn);
    this.pending.rejectAll(reason);
    this.early = [];
    this.shutdownSocket(opts.immediate ?? false);
    this.log.info({ event: 'session_closed', reason, wasUp }, `session closed: ${reason}`);
    this.safely('closed', () => this.hooks.closed(this, reason, wasUp));
  }

  /* ------------------------------------------------------------ input */

  private onData(chunk: Buffer): void {
    this.lastChunk = chunk;
    this.frames.push(chunk);
    while (this.st !== 'DEAD') {
      const buffered = this.frames.bufferedBytes;
      const next = this.frames.next();
      if (next === undefined) return;
      if (next instanceof OfpDecodeError) return this.malformed(next, this.unframed(buffered));
      this.onFrame(next);
    }
  }

  /**
   * The bytes that failed to frame (they start `buffered` bytes before the end of the stream so far): a
   * view of the last chunk when they lie in it, else that chunk as the best evidence at hand.
   */
  private unframed(buffered: number): Buffer {
    const c = this.lastChunk;
    return buffered <= c.length ? c.subarray(c.length - buffered) : c;
  }

  private onFrame(frame: Buffer): void {
    const decoded = decodeMessage(frame);
    if (this.st === 'HELLO_WAIT') return this.onFirstFrame(frame, decoded);
    if (decoded.ok) return this.dispatch(decoded.value, frame);
    // a framing-level fault: the stream itself is not OpenFlow 1.3 any more
    if (decoded.error.code === 'OFP_ERR_BAD_VERSION' || frame[0] !== 4) return this.malformed(decoded.error, frame);
    this.badBody(decoded.error, frame);
  }

  /**
   * A well-framed message whose body does not decode (§6.4): answer OFPT_ERROR with the decode error's
   * type/code and the first 64 bytes; if it answers a pending request, fail that request only. The
   * session stays up.
   */
  private badBody(err: OfpDecodeError, frame: Buffer): void {
    const xid = frame.readUInt32BE(4);
    const typeCode = frame[1]!;
    this.badBodies++;
    if (this.badBodies <= BAD_BODY_WARNINGS || this.badBodies % 1000 === 0) {
      this.log.warn(
        { event: 'bad_body', typeCode, xid, code: err.code, errType: err.errType, errCode: err.errCode, count: this.badBodies },
        `undecodable message body answered with OFPT_ERROR, session kept: ${err.message}`,
      );
    }
    this.send(errorFor(xid, err.errType, err.errCode, frame));
    if (!ANSWER_TYPE_CODES.has(typeCode)) return;
    if (typeCode === OFPT_ECHO_REPLY_CODE) this.echoMissed = 0; // the peer is alive, whatever it said
    this.pending.malformed(xid, err);
  }

  /** §6.3.1: the first message must be HELLO; versions below 1.3 need not decode, their header suffices. */
  private onFirstFrame(frame: Buffer, decoded: ReturnType<typeof decodeMessage>): void {
    const xid = frame.readUInt32BE(4);
    if (frame[1] !== 0) {
      this.flushNow();
      this.socket.write(encodeMessage({ ...helloFailed(xid, 'expected OFPT_HELLO first'), xid } as OfpMessage));
      return this.close(`first message was type ${frame[1]}, not HELLO`);
    }
    if (!decoded.ok && frame[0]! >= 4) return this.malformed(decoded.error, frame);
    const hello = decoded.ok && decoded.value.type === 'OFPT_HELLO' ? decoded.value : { version: frame[0]!, elements: [] };
    const verdict = negotiate(hello);
    if (!verdict.ok) {
      this.flushNow();
      this.socket.write(encodeMessage({ ...helloFailed(xid, verdict.reason), xid } as OfpMessage));
      return this.close(`version negotiation failed: ${verdict.reason}`);
    }
    this.st = 'FEATURES_WAIT';
    this.request({ type: 'OFPT_FEATURES_REQUEST' }).then(
      (f) => this.onFeatures(f),
      (err: Error) => this.close(`features request failed: ${err.message}`),
    );
  }

  private dispatch(msg: OfpMessage, frame: Buffer): void {
    switch (msg.type) {
      case 'OFPT_ECHO_REQUEST':
        this.send({ type: 'OFPT_ECHO_REPLY', xid: msg.xid, data: msg.data });
        return;
      case 'OFPT_ECHO_REPLY':
        this.echoMissed = 0;
        this.pending.reply(msg);
        return;
      case 'OFPT_HELLO':
        this.log.debug({ event: 'duplicate_hello' }, 'ignoring a second HELLO');
        return;
      case 'OFPT_ERROR':
        if (!this.pending.error(msg) && !this.turnError(msg)) this.deliver(msg);
        return;
      case 'OFPT_PORT_STATUS':
        this.updatePort(msg);
        return this.deliver(msg);
      case 'OFPT_PACKET_IN':
      case 'OFPT_FLOW_REMOVED':
      case 'OFPT_EXPERIMENTER':
        return this.deliver(msg);
      default:
        if (REPLY_TYPES.has(msg.type)) {
          if (!this.pending.reply(msg)) this.log.debug({ event: 'unsolicited_reply', type: msg.type, xid: msg.xid }, 'reply nobody waits for');
          return;
        }
        // unknown types, and controller-to-switch types a switch must not send (§7.4.4 OFPBRC_BAD_TYPE)
        this.log.warn({ event: 'bad_type', type: msg.type, typeCode: frame[1] }, 'answering OFPBRC_BAD_TYPE');
        this.send(errorFor(msg.xid, OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE, frame));
    }
  }

  /** A stream that cannot be framed (or is not 1.3): answer with its error type/code, then close (§7.4.4). */
  private malformed(err: OfpDecodeError, offending: Buffer): void {
    const xid = offending.length >= 8 ? offending.readUInt32BE(4) : 0;
    this.log.warn({ event: 'malformed', code: err.code, errType: err.errType, errCode: err.errCode }, err.message);
    try {
      this.flushNow();
      this.socket.write(encodeMessage({ ...errorFor(xid, err.errType, err.errCode, offending), xid } as OfpMessage));
    } catch (writeErr) {
      this.log.debug({ event: 'error_reply_failed', err: writeErr }, 'could not send OFPT_ERROR');
    }
    this.close(`malformed message from switch: ${err.code}`);
  }

  /* ------------------------------------------------------------ handshake */

  private onFeatures(f: MessageOf<'OFPT_FEATURES_REPLY'>): void {
    if (this.st !== 'FEATURES_WAIT') return;
    if (f.auxiliaryId !== 0) return this.close(`auxiliary connection ${f.auxiliaryId} not supported`);
    const { type: _t, xid: _x, ...features } = f;
    let refusal: string | undefined;
    try {
      refusal = this.hooks.admit?.(this, f.datapathId);
    } catch (err) {
      refusal = `admission check failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (refusal !== undefined) {
      this.log.warn({ event: 'switch_refused', dpid: dpidHex(f.datapathId), reason: refusal }, `connection refused: ${refusal}`);
      this.send(errorFor(f.xid, OFPET_BAD_REQUEST, OFPBRC_EPERM, Buffer.from(refusal.slice(0, 64), 'ascii')));
      return this.close(`refused: ${refusal}`);
    }
    this.datapathId = f.datapathId;
    this.feats = features;
    this.log = this.log.child({ dpid: dpidHex(f.datapathId) });
    this.st = 'CONFIGURING';
    this.log.debug({ event: 'features', nTables: f.nTables, nBuffers: f.nBuffers }, 'features received');
    const watches = [this.sendWatched(setConfigMessage(this.opt.missSendLen))];
    const ports = this.multipart({ mpType: 'OFPMP_PORT_DESC' });
    if (this.opt.installTableMiss) watches.push(this.sendWatched(tableMissFlowMod()));
    const barrier = this.barrier();
    Promise.all([ports, barrier]).then(
      ([desc]) => this.onConfigured(watches, desc.ports),
      (err: Error) => this.close(`switch configuration failed: ${err.message}`),
    );
  }

  private onConfigured(watches: Watch[], ports: readonly Port[]): void {
    for (const w of watches) this.pending.unwatch(w.xid);
    if (this.st !== 'CONFIGURING') return;
    const failed = watches.find((w) => w.error);
    if (failed?.error) return this.close(`switch configuration failed: ${failed.error.message}`);
    for (const p of ports) this.portMap.set(p.portNo, p);
    this.st = 'MAIN';
    this.clearTimer('handshakeTimer');
    this.armEcho();
    this.log.info({ event: 'switch_up', ports: ports.length }, 'switch up');
    this.safely('up', () => this.hooks.up(this));
    const early = this.early;
    this.early = [];
    for (const m of early) if (this.st === 'MAIN') this.safely('message', () => this.hooks.message(this, m));
  }

  private sendWatched(msg: OutMessage): Watch {
    const xid = msg.xid ?? this.nextXid();
    if (msg.xid !== undefined) this.noteXid(msg.xid);
    const w = this.pending.watch(xid);
    if (this.st === 'DEAD') throw new SessionClosedError(this.reason);
    this.write(msg, xid);
    return w;
  }

  /* ------------------------------------------------------------ helpers */

  private deliver(msg: AsyncMessage): void {
    if (this.st === 'MAIN') return this.safely('message', () => this.hooks.message(this, msg));
    if (this.early.length < this.opt.maxEarlyMessages) this.early.push(msg);
    else this.log.warn({ event: 'early_message_dropped', type: msg.type }, 'dropping message received during setup');
  }

  private updatePort(msg: MessageOf<'OFPT_PORT_STATUS'>): void {
    if (msg.reason === 1 /* OFPPR_DELETE */) this.portMap.delete(msg.desc.portNo);
    else this.portMap.set(msg.desc.portNo, msg.desc);
  }

  private armEcho(): void {
    this.echoTimer = this.clock.setTimeout(() => this.echoTick(), this.opt.echoIntervalMs);
  }

  /** Dead-peer detection: one ECHO_REQUEST per interval; close when too many are unanswered. */
  private echoTick(): void {
    this.echoTimer = undefined;
    if (this.echoMissed >= this.opt.echoMaxUnanswered) {
      return this.close(`echo timeout: ${this.echoMissed} ECHO_REQUESTs unanswered`);
    }
    this.echoMissed++;
    this.send({ type: 'OFPT_ECHO_REQUEST', data: Buffer.alloc(0) });
    this.armEcho();
  }

  /**
   * Next u32 xid, skipping 0 and xids still in use (wraps at 2^32). Until the counter wraps, an xid above
   * every caller-chosen one cannot be in use: no look-up then (one per message on the flow-setup path).
   */
  private nextXid(): number {
    do {
      this.xid = (this.xid + 1) >>> 0;
      if (this.xid === 0) this.xidWrapped = true;
    } while (this.xid === 0 || ((this.xidWrapped || this.xid <= this.xidHigh) && this.xidBusy(this.xid)));
    return this.xid;
  }

  /** An OFPT_ERROR answering a message of an open turn's transact call: recorded there (true), else false. */
  private turnError(msg: MessageOf<'OFPT_ERROR'>): boolean {
    for (const b of this.openTurns) {
      if (!b.xids.includes(msg.xid)) continue;
      b.errors ??= new Map();
      if (!b.errors.has(msg.xid)) b.errors.set(msg.xid, new SwitchError(this.datapathId, msg));
      return true;
    }
    return false;
  }

  /** True if `xid` is in use: a pending request, a watch, or a message of an open turn. */
  private xidBusy(xid: number): boolean {
    if (this.pending.busy(xid)) return true;
    for (const b of this.openTurns) if (b.xid === xid || b.xids.includes(xid)) return true;
    return false;
  }

  /** A caller chose `xid` itself: the counter checks xids up to it for use. */
  private noteXid(xid: number): void {
    if (xid > this.xidHigh) this.xidHigh = xid;
  }

  private clearTimer(which: 'handshakeTimer' | 'echoTimer'): void {
    const t = this[which];
    if (t !== undefined) this.clock.clearTimeout(t);
    this[which] = undefined;
  }

  private shutdownSocket(immediate: boolean): void {
    const s = this.socket;
    if (immediate || s.destroyed) {
      s.destroy();
      return;
    }
    s.end();
    const linger = this.clock.setTimeout(() => s.destroy(), this.opt.lingerMs);
    const onClose = (): void => {
      this.clock.clearTimeout(linger);
      s.removeListener('close', onClose);
    };
    s.on('close', onClose);
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ event: 'hook_failed', hook: what, err }, `session hook '${what}' threw`);
    }
  }
}
