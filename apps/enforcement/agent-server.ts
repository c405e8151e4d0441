/**
 * The controller's end of the agent channel (protocol/agent.ts): a unix stream socket server carrying
 * NDJSON (Mininet hosts share the file system, ARCHITECTURE.md "Platform facts") and WebSocket connections handed over by the
 * REST server's `/api/v1/agents/ws` route — both become {@link AgentChannel}s feeding one handler.
 *
 * Fairness: each channel is read one chunk (unix) or one message (WebSocket) per turn of the event
 * loop, so a flooding agent cannot hold the process while the REST API and the switches wait.
 *
 * Robustness: a line longer than MAX_MESSAGE_BYTES, a line that is not a valid agent message, or a
 * socket error answers `error` and closes THAT channel only; nothing here throws to the caller or
 * crashes the process. Heartbeat: every `heartbeatMs` each channel that was sent nothing for half a period
 * gets a `ping` (any message tells the agent that the controller lives: a channel busy with `rates` costs
 * its agent no wake-up for a ping, and the agent hears something at least every 1.5 periods); a channel
 * that sent nothing for 3 periods is dropped. Timers go through the injected clock (counted by the leak checks).
 *
 * The socket file: its directory is created (mkdir -p); a stale file (nobody answers on it) is removed
 * before listening; a file some live process still answers on is left alone and the unix listener is not
 * started (an error is logged; agents can still use the WebSocket). The file is removed at close.
 */
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { WebSocket } from 'ws';
import {
  encodeLine, MAX_MESSAGE_BYTES, parseAgentMessage, ProtocolError, nowEpochUs,
  type AgentMessage, type ControllerMessage,
} from '../../protocol/agent.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';

/** Missed heartbeat periods after which a silent channel is dropped. */
export const SILENT_PERIODS = 3;
/** A channel whose unsent output exceeds this is dropped (a stuck agent must not grow the heap), bytes. */
export const MAX_BUFFERED_OUTPUT = 64 * 1024 * 1024;

/** One connected agent channel (before or after its hello). */
export interface AgentChannel {
  readonly id: number;
  readonly kind: 'unix' | 'ws';
  readonly peer: string;
  /** the agent id of its hello, once registered */
  agentId?: string;
  readonly open: boolean;
  /** Writes one message (dropped when closed). */
  send(msg: ControllerMessage): void;
  /** Sends `error` (when given) and closes. */
  close(error?: string): void;
}

export interface AgentServerOptions {
  readonly log: Logger;
  readonly clock: Clock;
  readonly heartbeatMs: number;
  /** A valid message arrived on a channel. Exceptions are logged, the channel stays. */
  readonly onMessage: (ch: AgentChannel, msg: AgentMessage) => void;
  /** The channel closed (either side, or a protocol error). Called once. */
  readonly onClose: (ch: AgentChannel) => void;
}

abstract class BaseChannel implements AgentChannel {
  agentId?: string;
  lastHeardMs: number;
  /** when a message was last written to the agent, clock ms */
  lastSentMs = -Infinity;
  private closed = false;

  constructor(
    readonly id: number,
    readonly kind: 'unix' | 'ws',
    readonly peer: string,
    protected readonly server: AgentServer,
  ) {
    this.lastHeardMs = server.now();
  }

  get open(): boolean {
    return !this.closed;
  }

  send(msg: ControllerMessage): void {
    if (this.closed) return;
    if (this.buffered() > MAX_BUFFERED_OUTPUT) {
      this.close('controller output backlog exceeded: the agent does not read');
      return;
    }
    try {
      this.write(encodeLine(msg));
      this.lastSentMs = this.server.now();
    } catch (err) {
      this.server.log.warn({ event: 'agent_send_failed', channel: this.id, agentId: this.agentId, err }, 'write to agent failed');
      this.close();
    }
  }

  close(error?: string): void {
    if (this.closed) return;
    if (error !== undefined) {
      try {
        this.write(encodeLine({ type: 'error', message: error.slice(0, 4096) }));
      } catch {
        /* closing anyway */
      }
    }
    this.closed = true;
    this.end();
    this.server.closed(this);
  }

  /** Called by the transport when it went away by itself. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.closed(this);
  }

  /** One complete text message from the transport. */
  receive(text: string): void {
    if (this.closed) return;
    this.lastHeardMs = this.server.now();
    let msg: AgentMessage;
    try {
      msg = parseAgentMessage(text);
    } catch (err) {
      const why = err instanceof ProtocolError ? err.message : String(err);
      this.server.log.warn({ event: 'agent_bad_message', channel: this.id, agentId: this.agentId, peer: this.peer, why }, 'bad agent message; closing its channel');
      this.close(why);
      return;
    }
    this.server.deliver(this, msg);
  }

  protected abstract write(text: string): void;
  protected abstract end(): void;
  protected abstract buffered(): number;
}

class UnixChannel extends BaseChannel {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(id: number, private readonly socket: Socket, server: AgentServer) {
    super(id, 'unix', `unix#${id}`, server);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', (err) => {
      server.log.debug({ event: 'agent_socket_error', channel: id, err }, 'agent socket error');
      this.gone();
    });
    socket.on('close', () => this.gone());
  }

  private data(chunk: Buffer): void {
    // one chunk per turn of the event loop: a flooding agent must not starve the REST API and the
    // switches (libuv would otherwise read this socket dry before serving anything else)
    this.socket.pause();
    setImmediate(() => {
      if (!this.socket.destroyed) this.socket.resume(); // also once closed: the peer's FIN must still be read
    });
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const part = chunk.subarray(start, nl);
      const line = this.pending.length > 0 ? Buffer.concat([...this.pending, part]) : part;
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
      if (line.length > MAX_MESSAGE_BYTES) return this.close(`message of ${line.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
      const text = line.toString('utf8').trim();
      if (text.length > 0) this.receive(text);
      if (!this.open) return;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > MAX_MESSAGE_BYTES) this.close(`message exceeds ${MAX_MESSAGE_BYTES} bytes without a newline`);
    }
  }

  protected write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  protected end(): void {
    this.socket.end();
    this.socket.destroySoon();
  }

  protected buffered(): number {
    return this.socket.writableLength;
  }
}

class WsChannel extends BaseChannel {
  constructor(id: number, private readonly ws: WebSocket, peer: string, server: AgentServer) {
    super(id, 'ws', peer, server);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.close('binary frames are not part of the protocol: send JSON text');
      ws.pause(); // one message per turn of the event loop (see UnixChannel.data)
      setImmediate(() => ws.resume()); // also once closed: the closing handshake must still be read
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      this.receive(buf.toString('utf8'));
    });
    ws.on('error', (err) => {
      server.log.debug({ event: 'agent_ws_error', channel: id, err }, 'agent WebSocket error');
      this.gone();
    });
    ws.on('close', () => this.gone());
  }

  protected write(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text.endsWith('\n') ? text.slice(0, -1) : text);
  }

  protected end(): void {
    try {
      this.ws.close(1000);
    } catch {
      this.ws.terminate();
    }
  }

  protected buffered(): number {
    return this.ws.bufferedAmount;
  }
}

/** Unix-socket listener + WebSocket adoption + heartbeat for agent channels. */
export class AgentServer {
  readonly log: Logger;
  private readonly channels = new Set<BaseChannel>();
  private unix: Server | undefined;
  private socketPath: string | undefined;
  private timer: TimerHandle | undefined;
  private nextId = 1;
  private stopped = false;

  constructor(private readonly opts: AgentServerOptions) {
    this.log = opts.log;
    this.arm();
  }

  now(): number {
    return this.opts.clock.now();
  }

  /** Open channels. */
  get size(): number {
    return this.channels.size;
  }

  /** The unix socket path listened on, if any. */
  get listeningPath(): string | undefined {
    return this.unix ? this.socketPath : undefined;
  }

  /**
   * Listens on a unix socket at `path` (mkdir -p, a stale file removed, file mode `mode`, default 0600:
   * owner only). Never rejects: failures are logged and the server works without the unix listener (false).
   */
  async listenUnix(path: string, mode = 0o600): Promise<boolean> {
    if (this.stopped || path === '') return false;
    try {
      await mkdir(dirname(path), { recursive: true });
      if (await answers(path)) {
        this.log.error({ event: 'agent_socket_in_use', path }, 'another process listens on the agent socket; unix listener not started');
        return false;
      }
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      const server = createServer((socket) => this.adoptUnix(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.log.error({ event: 'agent_socket_error', path, err }, 'agent socket server error'));
      await chmod(path, mode); // the file mode is the unix channel's protection when agents need no secret on it
      if (this.stopped) {
        await closeServer(server);
        await unlink(path).catch(() => {});
        return false;
      }
      this.unix = server;
      this.socketPath = path;
      this.log.info({ event: 'agent_socket_listening', path }, `agents: unix socket ${path}`);
      return true;
    } catch (err) {
      this.log.error({ event: 'agent_socket_failed', path, err }, 'cannot listen on the agent socket; agents must use the WebSocket');
      return false;
    }
  }

  /** A WebSocket accepted by the REST server's agents route. */
  adoptWebSocket(ws: WebSocket, peer: string): void {
    if (this.stopped) {
      ws.close(1001);
      return;
    }
    this.add(new WsChannel(this.nextId++, ws, peer, this));
  }

  /** Closes every channel, the listener, the heartbeat; removes the socket file. Idempotent. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const ch of [...this.channels]) ch.close();
    const server = this.unix;
    this.unix = undefined;
    if (server) {
      await closeServer(server);
      if (this.socketPath !== undefined) await unlink(this.socketPath).catch(() => {});
    }
  }

  /** @internal a channel delivered a valid message */
  deliver(ch: BaseChannel, msg: AgentMessage): void {
    try {
      this.opts.onMessage(ch, msg);
    } catch (err) {
      this.log.error({ event: 'agent_handler_failed', channel: ch.id, agentId: ch.agentId, err }, 'agent message handler failed');
    }
  }

  /** @internal a channel closed */
  closed(ch: BaseChannel): void {
    if (!this.channels.delete(ch)) return;
    try {
      this.opts.onClose(ch);
    } catch (err) {
      this.log.error({ event: 'agent_handler_failed', channel: ch.id, agentId: ch.agentId, err }, 'agent close handler failed');
    }
  }

  private adoptUnix(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.add(new UnixChannel(this.nextId++, socket, this));
  }

  private add(ch: BaseChannel): void {
    this.channels.add(ch);
    this.log.debug({ event: 'agent_channel_open', channel: ch.id, kind: ch.kind, peer: ch.peer }, 'agent channel open');
  }

  /** Heartbeat: ping every channel sent nothing for half a period, drop the silent ones. */
  private beat(): void {
    this.timer = undefined;
    const now = this.now();
    const limit = SILENT_PERIODS * this.opts.heartbeatMs;
    for (const ch of [...this.channels]) {
      if (now - ch.lastHeardMs > limit) {
        this.log.warn({ event: 'agent_silent', channel: ch.id, agentId: ch.agentId, silentMs: Math.round(now - ch.lastHeardMs) }, 'agent silent for 3 heartbeats; dropping its channel');
        ch.close(`no message for ${SILENT_PERIODS} heartbeat periods`);
      } else if (now - ch.lastSentMs >= this.opts.heartbeatMs / 2) {
        // half: the message before the last ping must not count, and a timer may fire a little early
        ch.send({ type: 'ping', atEpochUs: nowEpochUs() });
      }
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => this.beat(), this.opts.heartbeatMs);
  }
}

/** True when something accepts connections on the unix socket `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
