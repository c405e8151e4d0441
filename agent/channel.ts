/**
 * The agent's end of the agent channel (protocol/agent.ts): `unix:/path` (NDJSON over a unix stream
 * socket) or `ws://…` (the `ws` package, one message a text frame) behind one {@link Transport}.
 *
 * - Every (re)connect sends `hello` built at that moment (`hello()`: the active flowlets, so the
 *   controller resyncs); the channel is "up" once `welcome` arrives.
 * - Reconnect with exponential back-off: 100 ms doubling to 5 s, each delay drawn uniformly from
 *   [d/2, d] (jitter); reset by a welcome.
 * - Heartbeat: every `welcome.heartbeatMs` queued acknowledgements go out, and a `ping` when nothing was
 *   sent for half a period (the controller drops a channel silent for 3 periods); 3 periods without any
 *   message from the controller drop the channel (before the welcome, {@link DEFAULT_HEARTBEAT_MS} is
 *   the period).
 * - Events are batched into `events` messages: flushed at most every `flushMs` (20 ms), or at once when
 *   `maxBatch` items are queued; an event queued when the last flush is `flushMs` old goes out as soon as
 *   the current callback ends (a microtask, not a timer). `enforced` acknowledgements are not urgent (each
 *   carries the time it was enforced, which is what the controller records): they ride with the next
 *   flush of starts, progress or ends, or with the next heartbeat (at most one period later), so a
 *   `rates` message costs no write and no wake-up of its own. Ends the agent marks deferrable (small
 *   flowlets', which change no allocation; each carries its last packet's time) ride the same way, so a
 *   poll that only finds small flowlets ended sends nothing. Events queued while the channel is down are dropped at the next connect: the
 *   hello carries the state they described.
 * - A controller message that does not validate is answered with `error`, logged, and the channel is
 *   reconnected; nothing here throws to the caller.
 *
 * Timers go through the injected {@link Clock} (ms).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { systemClock, type Clock, type TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import {
  agentAuthMac,
  encodeLine,
  MAX_MESSAGE_BYTES,
  parseControllerMessage,
  ProtocolError,
  type AgentMessage,
  type ChannelAddress,
  type ControllerMessage,
  type Enforced,
  type EventsMsg,
  type FlowletEnd,
  type FlowletProgress,
  type FlowletStart,
  type HelloMsg,
  type WelcomeMsg,
} from '../protocol/agent.js';

/** Heartbeat period assumed until the welcome names one, ms. */
export const DEFAULT_HEARTBEAT_MS = 1000;
/** Heartbeat periods of silence that drop the channel. */
export const MISSED_HEARTBEATS = 3;

/** A connected message pipe (one per connection attempt). */
export interface Transport {
  send(text: string): void;
  close(): void;
}

export interface TransportHandlers {
  readonly onOpen: () => void;
  readonly onMessage: (text: string) => void;
  /** called once, when the connection failed or closed */
  readonly onClose: (reason: string) => void;
}

/** Splits a byte stream into NDJSON lines, at most MAX_MESSAGE_BYTES each. @throws ProtocolError for a longer line */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let from = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, from)) {
      if (this.parts.length === 0) out.push(chunk.toString('utf8', from, i));
      else {
        this.parts.push(chunk.subarray(from, i));
        out.push(Buffer.concat(this.parts).toString('utf8'));
        this.parts = [];
        this.size = 0;
      }
      from = i + 1;
    }
    if (from < chunk.length) {
      this.parts.push(chunk.subarray(from));
      this.size += chunk.length - from;
      if (this.size > MAX_MESSAGE_BYTES) throw new ProtocolError(`controller line exceeds ${MAX_MESSAGE_BYTES} bytes`);
    }
    return out;
  }
}

/** A unix-socket NDJSON transport. */
export function unixTransport(path: string, h: TransportHandlers): Transport {
  const sock: Socket = netConnect(path);
  const split = new LineSplitter();
  let closed = false;
  const close = (reason: string): void => {
    if (closed) return;
    closed = true;
    // end() lets a last line (an `error`) go out; the socket is destroyed shortly after in any case
    sock.end();
    setTimeout(() => sock.destroy(), 500).unref();
    h.onClose(reason);
  };
  sock.on('connect', h.onOpen);
  sock.on('data', (chunk: Buffer) => {
    let lines: string[];
    try {
      lines = split.push(chunk);
    } catch (err) {
      return close((err as Error).message);
    }
    for (const l of lines) if (!closed && l.trim() !== '') h.onMessage(l);
  });
  sock.on('error', (err) => close(err.message));
  sock.on('close', () => close('socket closed'));
  return {
    send: (text) => void (closed || sock.write(text.endsWith('\n') ? text : `${text}\n`)),
    close: () => close('closed by the agent'),
  };
}

/** A WebSocket transport (one message a text frame). */
export function wsTransport(url: string, h: TransportHandlers): Transport {
  const ws = new WebSocket(url, { maxPayload: MAX_MESSAGE_BYTES });
  let closed = false;
  const close = (reason: string): void => {
    if (closed) return;
    closed = true;
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    setTimeout(() => ws.terminate(), 500).unref();
    h.onClose(reason);
  };
  ws.on('open', h.onOpen);
  ws.on('message', (data, isBinary) => {
    if (closed) return;
    if (isBinary) return close('binary frame from the controller');
    h.onMessage(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
  });
  ws.on('error', (err) => close(err.message));
  ws.on('close', (code) => close(`websocket closed (${code})`));
  return {
    send: (text) => void (closed || ws.readyState !== WebSocket.OPEN || ws.send(text.replace(/\n$/, ''))),
    close: () => close('closed by the agent'),
  };
}

export interface ChannelOptions {
  readonly address: ChannelAddress;
  readonly log: Logger;
  /** builds the hello of each connect (the active flowlets at that moment) */
  readonly hello: () => HelloMsg;
  /** welcome, rates, thresholds (pings and errors are handled here) */
  readonly onMessage: (msg: ControllerMessage) => void;
  /** the channel is up (welcome received) */
  readonly onUp?: (welcome: WelcomeMsg) => void;
  /** the channel went down (only after it was up) */
  readonly onDown?: (reason: string) => void;
  readonly clock?: Clock;
  readonly nowEpochUs: () => number;
  /** [0,1) source for the back-off jitter (default Math.random) */
  readonly random?: () => number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** events are flushed at most this often, ms (default 20) */
  readonly flushMs?: number;
  /** queued items that flush at once (default 1000) */
  readonly maxBatch?: number;
  /**
   * The agent's secret (from the controller's config, per agent or shared): answers the controller's
   * `challenge` with an `auth` (protocol/agent.ts agentAuthMac). Absent: a challenge cannot be answered
   * and the controller will refuse the channel.
   */
  readonly secret?: string;
  /** transport factory (tests); default unix/ws by address */
  readonly transport?: (address: ChannelAddress, h: TransportHandlers) => Transport;
}

/** The back-off delay before attempt `attempt` (0-based), ms: uniform in [d/2, d], d = min(max, initial·2^attempt). */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random: number): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return d / 2 + (random * d) / 2;
}

/** The agent channel (see the file comment). */
export class AgentChannel {
  private readonly clock: Clock;
  private transport: Transport | undefined;
  private welcome: WelcomeMsg | undefined;
  private helloAgentId: string | undefined;
  private attempt = 0;
  private closing = false;
  private lastRxMs = 0;
  /** when a message was last sent, clock ms (a ping is sent only after a period without one) */
  private lastTxMs = -Infinity;
  private reconnectTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private flushTimer: TimerHandle | undefined;
  /** a flush is queued as a microtask (the flush period had already passed) */
  private flushSoon = false;
  private lastFlushMs = -Infinity;
  private seq = 0;
  private gen = 0;
  private starts: FlowletStart[] = [];
  private progress: FlowletProgress[] = [];
  private ends: FlowletEnd[] = [];
  private enforced: Enforced[] = [];
  /** connections made (hello sent) */
  connects = 0;

  constructor(private readonly opts: ChannelOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** True between a welcome and the loss of that connection. */
  get up(): boolean {
    return this.welcome !== undefined;
  }

  /** The welcome of the current connection. */
  get currentWelcome(): WelcomeMsg | undefined {
    return this.welcome;
  }

  /** Connects (and keeps reconnecting until close()). */
  start(): void {
    this.closing = false;
    this.connect();
  }

  /** Closes the channel for good (pending events are flushed first when up). */
  close(): void {
    if (this.up) this.flush();
    this.closing = true;
    for (const t of [this.reconnectTimer, this.heartbeatTimer, this.flushTimer]) if (t) this.clock.clearTimeout(t);
    this.reconnectTimer = this.heartbeatTimer = this.flushTimer = undefined;
    this.transport?.close();
    this.transport = undefined;
  }

  addStart(s: FlowletStart): void {
    this.starts.push(s);
    this.queued();
  }

  addProgress(p: FlowletProgress): void {
    this.progress.push(p);
    this.queued();
  }

  /**
   * Queues a flowlet's end. `deferrable` (a small flowlet's end, agent.ts EventSink): like an
   * acknowledgement it waits for the next flush or heartbeat instead of causing one.
   */
  addEnd(e: FlowletEnd, deferrable = false): void {
    this.ends.push(e);
    if (deferrable) this.rideAlong();
    else this.queued();
  }

  /** Queues an acknowledgement: it goes with the next flush or heartbeat (no timer of its own). */
  addEnforced(e: Enforced): void {
    this.enforced.push(e);
    this.rideAlong();
  }

  /** An item that waits for the next flush or heartbeat: flushed now only when the batch is full. */
  private rideAlong(): void {
    if (this.up && this.pendingCount() >= (this.opts.maxBatch ?? 1000)) this.flush();
  }

  /** Sends the queued events now (when up). */
  flush(): void {
    if (this.flushTimer) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.up || this.pendingCount() === 0) return;
    const msg: EventsMsg = { type: 'events', seq: this.seq++, starts: this.starts, progress: this.progress, ends: this.ends, enforced: this.enforced };
    this.clearQueue();
    this.lastFlushMs = this.clock.now();
    this.send(msg);
  }

  private pendingCount(): number {
    return this.starts.length + this.progress.length + this.ends.length + this.enforced.length;
  }

  private clearQueue(): void {
    this.starts = [];
    this.progress = [];
    this.ends = [];
    this.enforced = [];
  }

  private queued(): void {
    if (!this.up) return;
    if (this.pendingCount() >= (this.opts.maxBatch ?? 1000)) return this.flush();
    if (this.flushTimer || this.flushSoon) return;
    const wait = Math.max(0, this.lastFlushMs + (this.opts.flushMs ?? 20) - this.clock.now());
    if (wait === 0) {
      // due now: once the current callback is done (the events of one read still go out together),
      // without the ≥ 1 ms a 0 ms timer takes
      this.flushSoon = true;
      queueMicrotask(() => {
        this.flushSoon = false;
        this.flush();
      });
      return;
    }
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, wait);
  }

  private send(msg: AgentMessage): void {
    this.lastTxMs = this.clock.now();
    this.transport?.send(encodeLine(msg));
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closing) return;
    const where = this.opts.address.kind === 'unix' ? this.opts.address.path : this.opts.address.url;
    const make = this.opts.transport ?? ((a, h) => (a.kind === 'unix' ? unixTransport(a.path, h) : wsTransport(a.url, h)));
    // every connection attempt has its generation: events of an older transport are ignored
    const gen = ++this.gen;
    const handlers: TransportHandlers = {
      onOpen: () => {
        if (gen !== this.gen) return;
        this.connects++;
        this.clearQueue();
        this.lastRxMs = this.clock.now();
        this.opts.log.info({ event: 'channel_connected', controller: where }, `connected to the controller at ${where}`);
        const hello = this.opts.hello();
        this.helloAgentId = hello.agentId;
        this.send(hello);
        this.armHeartbeat();
      },
      onMessage: (text) => {
        if (gen === this.gen) this.received(text);
      },
      onClose: (reason) => {
        if (gen === this.gen) this.lost(reason);
      },
    };
    const t = make(this.opts.address, handlers);
    if (gen === this.gen) this.transport = t;
  }

  private received(text: string): void {
    this.lastRxMs = this.clock.now();
    let msg: ControllerMessage;
    try {
      msg = parseControllerMessage(text);
    } catch (err) {
      const message = (err as Error).message;
      this.opts.log.error({ event: 'channel_bad_message', message }, `invalid message from the controller: ${message}`);
      this.send({ type: 'error', message: message.slice(0, 4096) });
      this.transport?.close();
      return;
    }
    switch (msg.type) {
      case 'ping':
        return;
      case 'error':
        this.opts.log.warn({ event: 'channel_error_message', message: msg.message }, `controller error: ${msg.message}`);
        return;
      case 'challenge':
        if (this.opts.secret === undefined || this.helloAgentId === undefined) {
          this.opts.log.error({ event: 'channel_auth_required' }, 'the controller requires authentication and no secret is configured (--secret-file)');
          return;
        }
        this.send({ type: 'auth', agentId: this.helloAgentId, mac: agentAuthMac(this.opts.secret, this.helloAgentId, msg.nonce) });
        return;
      case 'welcome': {
        const first = this.welcome === undefined;
        this.welcome = msg;
        this.attempt = 0;
        this.armHeartbeat();
        if (first) this.opts.onUp?.(msg);
        this.opts.onMessage(msg);
        return;
      }
      default:
        this.opts.onMessage(msg);
    }
  }

  private heartbeatMs(): number {
    return this.welcome?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  private armHeartbeat(): void {
    if (this.heartbeatTimer) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.clock.setTimeout(() => this.beat(), this.heartbeatMs());
  }

  private beat(): void {
    this.heartbeatTimer = undefined;
    if (!this.transport) return;
    const silentMs = this.clock.now() - this.lastRxMs;
    if (silentMs >= MISSED_HEARTBEATS * this.heartbeatMs()) {
      this.opts.log.warn({ event: 'channel_silent', silentMs }, `no message from the controller for ${Math.round(silentMs)} ms: reconnecting`);
      this.transport.close();
      return;
    }
    // acknowledgements that found nothing to ride with go now (this wake-up serves both)
    if (this.up) this.flush();
    // anything sent within the last half period already told the controller that the agent lives (half:
    // a timer may fire a little early, and the message before the last ping must not count)
    if (this.clock.now() - this.lastTxMs >= this.heartbeatMs() / 2) this.send({ type: 'ping', atEpochUs: this.opts.nowEpochUs() });
    this.armHeartbeat();
  }

  private lost(reason: string): void {
    const wasUp = this.up;
    this.gen++;
    this.transport = undefined;
    this.welcome = undefined;
    for (const t of [this.heartbeatTimer, this.flushTimer]) if (t) this.clock.clearTimeout(t);
    this.heartbeatTimer = this.flushTimer = undefined;
    this.clearQueue();
    if (this.closing) return;
    const delay = backoffDelayMs(this.attempt++, this.opts.backoffInitialMs ?? 100, this.opts.backoffMaxMs ?? 5000, (this.opts.random ?? Math.random)());
    const level = wasUp ? 'warn' : 'debug';
    this.opts.log[level]({ event: 'channel_lost', reason, retryMs: Math.round(delay) }, `controller channel ${wasUp ? 'lost' : 'not connected'} (${reason}); retry in ${Math.round(delay)} ms`);
    if (wasUp) this.opts.onDown?.(reason);
    this.reconnectTimer = this.clock.setTimeout(() => this.connect(), delay);
  }
}
