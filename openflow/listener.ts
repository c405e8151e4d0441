/**
 * The controller shell: a TCP listener (OpenFlow 1.3.5 §6.3.1, default port 6653), one {@link Session}
 * per connection, the dpid → session map, and the {@link AppHost} that turns session callbacks into app
 * events. This is the I/O edge; the protocol logic lives in session.ts / handshake.ts.
 *
 * The dpid registry: without TLS a datapath id is only a claim, so a second connection that names a
 * datapath whose session is alive (up or still configuring) is refused (OFPBRC_EPERM, closed) and the
 * live session keeps running; the live one is asked at once for an ECHO_REPLY (within
 * `duplicateEchoTimeoutMs`), and if it does not answer it is declared dead, so a switch that really
 * restarted gets in on its next reconnect. Apps see 'switchDown' for the old session and 'switchUp' for
 * the new one, exactly once each.
 */
import net from 'node:net';
import tls from 'node:tls';
import { errorNames, matchInPort, type MessageOf } from './codec/index.js';
import type { App, AppEventName, AppHandler, ControllerStats, SwitchHandle } from './app-api.js';
import { AppHost } from './app-host.js';
import { CountingClock, systemClock, type Clock } from '../lib/clock.js';
import { createLogger, dpidHex, type Logger } from '../lib/log.js';
import { Session, type AsyncMessage, type SessionOptions } from './session.js';
import {
  DEFAULT_PACKET_IN_GATE, PacketInGate, PacketInQueue, classifyFrame,
  type PacketInClass, type PacketInGateConfig, type SwitchPacketIns,
} from './packet-in-gate.js';

export interface ControllerOptions {
  /** TCP port for switches (default 6653; 0 picks a free port, see `Controller.port`). */
  readonly port?: number;
  /** Address to listen on (default 0.0.0.0). */
  readonly host?: string;
  /** Logger to use; otherwise one is created at `logLevel`. */
  readonly logger?: Logger;
  /** Level when no logger is given (default RIVULET_LOG_LEVEL, else 'info'; 'silent' under mocha). */
  readonly logLevel?: string;
  /** Time source (default the system clock); wrapped to count live timers. */
  readonly clock?: Clock;
  /** Per-session tunables (echo, timeouts, queue limits, miss_send_len). */
  readonly session?: SessionOptions;
  /** Apps registered before the listener opens. */
  readonly apps?: readonly App[];
  /**
   * OpenFlow over TLS (OpenFlow 1.3.5 §6.3.3; OVS: `ovs-vsctl set-ssl` and an `ssl:` controller target):
   * the switch must present a certificate signed by `ca` (mutual TLS). `dpidsBySubject` (certificate
   * subject CN → the datapath ids that certificate may claim): when given, a certificate not listed, or a
   * dpid not in its list, is refused. Absent: plain TCP.
   */
  readonly tls?: ControllerTls;
  /**
   * When a connection claims the dpid of a live session, that session must answer an ECHO_REQUEST within
   * this many ms or be declared dead (default 1000).
   */
  readonly duplicateEchoTimeoutMs?: number;
  /** Packet-in protection (budgets per port / switch and class, the new-flow queue); default {@link DEFAULT_PACKET_IN_GATE}. */
  readonly packetIn?: PacketInOptions;
}

export interface PacketInOptions {
  readonly gate?: PacketInGateConfig;
  /** new-flow (IPv4, other) packet-ins waiting for dispatch at most (default 4096; beyond: dropped, counted) */
  readonly maxQueued?: number;
  /** new-flow packet-ins dispatched per event-loop turn (default 64) */
  readonly batch?: number;
  /**
   * True for a port that links two switches (the topology's fabric ports). A new flow is charged once,
   * at its ingress: IPv4 packet-ins arriving on such a port (a flow the controller admitted at its edge
   * and released, meeting a hop whose entry is not there yet) are counted as admitted without spending
   * the IPv4 budget. Absent: every port is charged.
   */
  readonly transitPort?: (dpid: bigint, portNo: number) => boolean;
  /**
   * Called when a charged IPv4 packet-in (one at its flow's ingress) is dropped for lack of budget: the
   * port overspends (the per-port meters at the switch are installed from here).
   */
  readonly overBudget?: (dpid: bigint, inPort: number) => void;
}

/** Packet-in accounting (REST `/api/v1/packet-ins`, `/metrics`). */
export interface PacketInStats {
  readonly admitted: Readonly<Record<PacketInClass, number>>;
  readonly dropped: Readonly<Record<PacketInClass, number>>;
  /** new-flow packet-ins dropped because the dispatch queue was full */
  readonly queueOverflow: number;
  /** new-flow packet-ins waiting now */
  readonly queued: number;
  readonly switches: readonly SwitchPacketIns[];
}

export interface ControllerTls {
  readonly key: Buffer | string;
  readonly cert: Buffer | string;
  readonly ca: Buffer | string;
  readonly dpidsBySubject?: Readonly<Record<string, readonly bigint[]>>;
}

/** A running controller. Every method is safe to call after close() (no-ops / empty results). */
export interface Controller {
  /** The port actually bound. */
  readonly port: number;
  readonly host: string;
  /** Connected datapaths (sessions in MAIN state), by dpid. */
  readonly switches: ReadonlyMap<bigint, SwitchHandle>;
  readonly log: Logger;
  /** Registers an app; returns its unregister function. */
  use(app: App): () => void;
  /** Shorthand: an anonymous one-handler app. Returns its unregister function. */
  on<E extends AppEventName>(event: E, handler: AppHandler<E>): () => void;
  /** Resolves once asynchronous app handlers started so far have finished. */
  idle(): Promise<void>;
  stats(): ControllerStats;
  /** Packet-ins admitted and dropped per class, per switch and per port. */
  packetIns(): PacketInStats;
  /** Stops listening, closes every session (apps see switchDown), releases timers and sockets. */
  close(): Promise<void>;
}

class RivuletController implements Controller {
  readonly switches = new Map<bigint, Session>();
  readonly apps: AppHost;
  private readonly sessions = new Set<Session>();
  private readonly sockets = new Set<net.Socket>();
  private readonly clock: CountingClock;
  private readonly server: net.Server | tls.Server;
  private anon = 0;
  private refused = 0;
  private closing: Promise<void> | undefined;
  private readonly gate: PacketInGate;
  private lastDropLogMs = -Infinity;
  private readonly newFlows: PacketInQueue<{ readonly s: Session; readonly msg: MessageOf<'OFPT_PACKET_IN'> }>;
  port = 0;

  constructor(
    readonly host: string,
    readonly log: Logger,
    clock: Clock,
    private readonly sessionOptions: SessionOptions,
    private readonly duplicateEchoTimeoutMs: number,
    private readonly packetIn: PacketInOptions = {},
    private readonly tlsOptions?: ControllerTls,
  ) {
    this.clock = new CountingClock(clock);
    this.apps = new AppHost(this.switches, log);
    this.gate = new PacketInGate(packetIn.gate ?? DEFAULT_PACKET_IN_GATE);
    this.newFlows = new PacketInQueue(({ s, msg }) => {
      if (s.alive && this.switches.get(s.dpid) === s) this.apps.dispatch('packetIn', { dpid: s.dpid, msg });
    }, packetIn.maxQueued ?? 4096, packetIn.batch ?? 64);
    this.server = tlsOptions
      ? tls.createServer({ key: tlsOptions.key, cert: tlsOptions.cert, ca: tlsOptions.ca, requestCert: true, rejectUnauthorized: true }, (socket) => this.accept(socket))
      : net.createServer((socket) => this.accept(socket));
    if (tlsOptions) {
      this.server.on('tlsClientError', (err: Error, socket: net.Socket) => {
        this.log.warn({ event: 'tls_refused', peer: `${socket.remoteAddress}:${socket.remotePort}`, err: err.message }, 'TLS handshake refused');
      });
    }
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, this.host, () => {
        this.server.removeListener('error', onError);
        this.server.on('error', (err) => this.log.error({ event: 'listener_error', err }, 'listener error'));
        this.port = (this.server.address() as net.AddressInfo).port;
        this.log.info({ event: 'listening', host: this.host, port: this.port }, `OpenFlow listener on ${this.host}:${this.port}`);
        resolve();
      });
    });
  }

  use(app: App): () => void {
    return this.apps.register(app);
  }

  on<E extends AppEventName>(event: E, handler: AppHandler<E>): () => void {
    const handlers = { [event]: handler } as App['handlers'];
    return this.apps.register({ name: `on:${event}#${++this.anon}`, handlers });
  }

  idle(): Promise<void> {
    return this.apps.idle();
  }

  stats(): ControllerStats {
    let listeners = 0;
    for (const s of this.sockets) for (const ev of s.eventNames()) listeners += s.listenerCount(ev);
    let pendingRequests = 0;
    for (const s of this.sessions) pendingRequests += s.pendingCount;
    return {
      switches: this.switches.size,
      sessions: this.sessions.size,
      sockets: this.sockets.size,
      timers: this.clock.active,
      listeners,
      pendingRequests,
      apps: this.apps.size,
      refusedDuplicates: this.refused,
    };
  }

  packetIns(): PacketInStats {
    return {
      admitted: { ...this.gate.admittedTotal },
      dropped: { ...this.gate.droppedTotal },
      queueOverflow: this.newFlows.overflowed,
      queued: this.newFlows.length,
      switches: this.gate.switches(),
    };
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.newFlows.clear();
      this.server.close(() => resolve());
      for (const s of [...this.sessions]) s.close('controller shutting down', { immediate: true });
      for (const sock of this.sockets) sock.destroy();
      this.log.info({ event: 'controller_closed' }, 'controller closed');
    });
    return this.closing;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const session = new Session(
      socket,
      {
        clock: this.clock,
        log: this.log,
        hooks: {
          admit: (s, dpid) => this.admit(s, dpid, socket),
          up: (s) => this.onUp(s),
          message: (s, m) => this.onMessage(s, m),
          closed: (s, reason, wasUp) => this.onClosed(s, reason, wasUp),
        },
      },
      this.sessionOptions,
    );
    if (session.alive) this.sessions.add(session);
  }

  /**
   * The dpid registry's check (see the module docs): with TLS and an allow-list, the certificate must be
   * listed and name this dpid; in any case a claim on a live session's dpid is refused.
   */
  private admit(s: Session, dpid: bigint, socket: net.Socket): string | undefined {
    const allow = this.tlsOptions?.dpidsBySubject;
    if (allow) {
      const cert = (socket as tls.TLSSocket).getPeerCertificate?.();
      const cn = cert?.subject?.CN;
      const subject = Array.isArray(cn) ? cn[0] : cn;
      const dpids = subject !== undefined && Object.hasOwn(allow, subject) ? allow[subject]! : undefined;
      if (!dpids) return `certificate subject ${subject ?? '(none)'} is not in the dpid allow-list`;
      if (!dpids.includes(dpid)) return `certificate ${subject} may not claim datapath ${dpidHex(dpid)}`;
    }
    let live: Session | undefined;
    for (const other of this.sessions) if (other !== s && other.alive && other.maybeDpid === dpid) live = other;
    if (!live) return undefined;
    this.refused++;
    live.checkAlive(this.duplicateEchoTimeoutMs, `a second connection (${s.peer}) claimed this datapath and this one`).catch(() => undefined);
    return `datapath ${dpidHex(dpid)} already has a live session from ${live.peer}`;
  }

  private onUp(s: Session): void {
    const old = this.switches.get(s.dpid);
    if (old && old !== s) old.close('replaced by a new connection from the same datapath');
    this.switches.set(s.dpid, s);
    this.apps.dispatch('switchUp', { dpid: s.dpid, features: s.features, ports: [...s.ports.values()], sw: s });
  }

  private onClosed(s: Session, reason: string, wasUp: boolean): void {
    this.sessions.delete(s);
    const dpid = s.maybeDpid;
    if (!wasUp || dpid === undefined || this.switches.get(dpid) !== s) return;
    this.switches.delete(dpid);
    this.gate.forget(dpid);
    this.log.info({ event: 'switch_down', dpid: dpidHex(dpid), reason }, 'switch down');
    this.apps.dispatch('switchDown', { dpid, reason });
  }

  /**
   * The packet-in gate: counted and dropped early when over budget; LLDP and ARP dispatched at once,
   * new-flow work (IPv4, other) through the batch queue.
   */
  private onPacketIn(s: Session, msg: MessageOf<'OFPT_PACKET_IN'>): void {
    const cls = classifyFrame(msg.data);
    const inPort = matchInPort(msg.match) ?? 0;
    const now = this.clock.now();
    const charge = cls !== 'ipv4' || !this.packetIn.transitPort?.(s.dpid, inPort);
    if (!this.gate.admit(s.dpid, inPort, cls, now, charge)) {
      if (cls === 'ipv4' && charge) this.packetIn.overBudget?.(s.dpid, inPort);
      if (now - this.lastDropLogMs >= 10_000) {
        this.lastDropLogMs = now;
        this.log.warn({ event: 'packet_in_dropped', dpid: dpidHex(s.dpid), inPort, class: cls, droppedTotal: this.gate.droppedTotal },
          'packet-in budget exceeded: dropping (counted per port and class in /api/v1/packet-ins; logged once per 10 s)');
      }
      return;
    }
    if (cls === 'lldp' || cls === 'arp') this.apps.dispatch('packetIn', { dpid: s.dpid, msg });
    else this.newFlows.push({ s, msg });
  }

  private onMessage(s: Session, msg: AsyncMessage): void {
    const dpid = s.dpid;
    switch (msg.type) {
      case 'OFPT_PACKET_IN':
        return this.onPacketIn(s, msg);
      case 'OFPT_PORT_STATUS':
        return this.apps.dispatch('portStatus', { dpid, msg });
      case 'OFPT_FLOW_REMOVED':
        return this.apps.dispatch('flowRemoved', { dpid, msg });
      case 'OFPT_ERROR': {
        const names = errorNames(msg.errType, msg.code);
        this.log.warn({ event: 'switch_error', dpid: dpidHex(dpid), errType: names.type, errCode: names.code, xid: msg.xid }, 'OFPT_ERROR from switch');
        return this.apps.dispatch('error', { dpid, msg, errTypeName: names.type, errCodeName: names.code });
      }
      default:
        this.log.debug({ event: 'unhandled_message', dpid: dpidHex(dpid), type: msg.type }, 'no app event for message');
    }
  }
}

/**
 * Starts a controller listening on `opts.port` (default 6653) at `opts.host` (default 0.0.0.0).
 * @throws the listen error (EADDRINUSE, EACCES…) as a rejection
 */
export async function startController(opts: ControllerOptions = {}): Promise<Controller> {
  const log = opts.logger ?? createLogger({ level: opts.logLevel });
  const ctl = new RivuletController(opts.host ?? '0.0.0.0', log, opts.clock ?? systemClock, opts.session ?? {}, opts.duplicateEchoTimeoutMs ?? 1000, opts.packetIn, opts.tls);
  for (const app of opts.apps ?? []) ctl.use(app);
  await ctl.listen(opts.port ?? 6653);
  return ctl;
}
