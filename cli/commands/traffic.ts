/**
 * `rivulet traffic --plan FILE --host NAME --out FILE`: the experiment traffic process, one long-lived
 * process per Mininet host (never a process per flow). It serves (receives every flow sent to this host)
 * and sends (the plan's flows whose source is this host, each at the plan's common start + its arrival
 * time), and writes one JSON line per event to --out:
 *
 *   {"ev":"ready", "host", "port", "atUs"}
 *   {"ev":"start", "id", "atUs", "sport", "lagUs", "conn": "fresh"|"kept"}     sender: the flow starts
 *   {"ev":"declareError", "id", "message"}                                      sender: the declaration datagram failed
 *   {"ev":"connected", "id", "atUs"}                                            sender: a fresh connection is up
 *   {"ev":"tcp", "atUs", "final", "counters": {...}, "qdiscs"?: [...]}         this host's TCP counters (its network
 *                                                                              namespace's /proc/net/snmp and netstat:
 *                                                                              retransmissions, timeouts), at ready and at
 *                                                                              exit, then with every qdisc's packets and drops
 *   {"ev":"end", "id", "atUs", "bytes"}                                         receiver: all S bytes in
 *   {"ev":"rx", "atUs", "byTenant": {tenant: bytes}}                            receiver: bytes of each tenant's
 *                                                                              flows received in the last
 *                                                                              `receivedBinMs` (plans with tenants)
 *   {"ev":"error", "id", "message"}                                             sender: connect/write failed
 *
 * Times are µs since the epoch from performance.timeOrigin + performance.now() (Mininet hosts share the
 * machine's clock). A flow is a TCP transfer of exactly S bytes (experiment/traffic-protocol.ts). With
 * `connections: fresh` every flow opens its own connection (its handshake counts in the FCT) from a
 * source port fixed by the plan (20000 + the flow's rank among this host's flows), so the flow can be
 * declared by its 5-tuple and joined with the controller's flowlets; with `kept` each
 * (source, destination) pair keeps a pool of open connections and a flow takes an idle one (PIAS's
 * testbed generator), opening another only when all are busy; a connection is busy until the receiver's
 * one-byte answer says the flow is all in (so a flow never waits behind the unacknowledged tail of the
 * previous one). With `agentApi`, each flow is declared to the host agent's local API as it starts (a
 * UDP datagram to its port carrying the POST /api/v1/flows body: size, transfer id, tenant, source port),
 * sent before the first byte; there is no answer (a declaration the agent reads after the flow's first
 * packet attaches to its live flowlet, agent/detector.ts).
 * SIGTERM/SIGINT: closes every socket, flushes the log and exits 0.
 */
import type { Command } from 'commander';
import { createWriteStream, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeHeader, FlowReceiver, HEADER_BYTES } from '../../experiment/traffic-protocol.js';

/** The plan file the experiment runner writes (one for all hosts). */
export interface TrafficPlan {
  /** common start, ms since the epoch */
  readonly startAtMs: number;
  /** TCP port every host serves on */
  readonly port: number;
  readonly connections: 'fresh' | 'kept';
  /** declare flows to the agent's local API at this URL (absent: do not) */
  readonly agentApi?: string;
  /** host name → IPv4 */
  readonly hosts: Readonly<Record<string, string>>;
  readonly flows: readonly { id: number; src: string; dst: string; startUs: number; sizeBytes: number; transfer?: string; tenant?: string }[];
  /** period of the receiver's per-tenant byte counts (`rx` lines), ms (default 100; only when flows have tenants) */
  readonly receivedBinMs?: number;
}

/** Default period of the receiver's per-tenant byte counts, ms. */
export const DEFAULT_RECEIVED_BIN_MS = 100;

export const FIRST_SOURCE_PORT = 20000;

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);
const ZEROS = Buffer.alloc(64 * 1024);
/** The receiver's one-byte answer when a flow's last byte is in. */
const ACK = Buffer.from([1]);

/** TCP counters of this process's network namespace worth a look after a run (names as in /proc/net/{snmp,netstat}). */
export const TCP_COUNTERS = ['Tcp.RetransSegs', 'Tcp.OutSegs', 'TcpExt.TCPTimeouts', 'TcpExt.TCPSynRetrans', 'TcpExt.TCPLossProbes',
  'TcpExt.TCPFastRetrans', 'TcpExt.TCPSpuriousRTOs', 'TcpExt.TCPLostRetransmit', 'TcpExt.TCPDSACKRecv', 'TcpExt.TCPDSACKOldSent',
  'TcpExt.TCPSACKReorder', 'TcpExt.TCPTSReorder', 'TcpExt.TCPDSACKUndo', 'TcpExt.TCPLossUndo', 'TcpExt.TCPOFOQueue', 'TcpExt.TCPRcvQDrop',
  'TcpExt.TCPBacklogDrop', 'TcpExt.ListenDrops', 'TcpExt.TCPRenoReorder', 'TcpExt.TCPSlowStartRetrans'] as const;

/**
 * The {@link TCP_COUNTERS} from /proc/net/snmp and /proc/net/netstat text (pairs of lines: `Proto: names…` then
 * `Proto: values…`); absent counters are left out.
 */
export function tcpCounters(...texts: string[]): Record<string, number> {
  const all = new Map<string, number>();
  for (const text of texts) {
    const lines = text.split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.trim().split(/\s+/);
      const values = lines[i + 1]!.trim().split(/\s+/);
      const proto = names[0]?.replace(/:$/, '');
      if (!proto || values[0] !== names[0]) continue;
      for (let j = 1; j < names.length; j++) all.set(`${proto}.${names[j]}`, Number(values[j]));
    }
  }
  const out: Record<string, number> = {};
  for (const k of TCP_COUNTERS) {
    const v = all.get(k);
    if (v !== undefined && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** Every qdisc of this host with its counters (`tc -s -j qdisc show`: drops per band at the host's egress); [] without tc. */
function qdiscStats(): Promise<unknown[]> {
  return new Promise((res) => {
    execFile('tc', ['-s', '-j', 'qdisc', 'show'], { timeout: 2000 }, (err, stdout) => {
      if (err) return res([]);
      try {
        const all = JSON.parse(stdout) as { dev?: string; kind?: string; handle?: string; parent?: string; packets?: number; drops?: number; overlimits?: number; requeues?: number }[];
        res(all.filter((q) => q.dev !== 'lo').map((q) => ({ dev: q.dev, kind: q.kind, handle: q.handle, parent: q.parent, packets: q.packets, drops: q.drops })));
      } catch {
        res([]);
      }
    });
  });
}

function readTcpCounters(): Record<string, number> {
  try {
    return tcpCounters(readFileSync('/proc/net/snmp', 'utf8'), readFileSync('/proc/net/netstat', 'utf8'));
  } catch {
    return {};
  }
}

/** Runs the traffic process until `until` resolves (default: SIGTERM/SIGINT). */
export async function runTraffic(opts: { plan: TrafficPlan; host: string; out: string }, until?: Promise<unknown>): Promise<number> {
  const { plan, host } = opts;
  const log = createWriteStream(opts.out, { flags: 'a' });
  const emit = (o: Record<string, unknown>): void => void log.write(JSON.stringify(o) + '\n');
  const sockets = new Set<net.Socket>();
  // receiver-side bytes per tenant (what the link delivered when, not spread over a flow's lifetime)
  const tenantOf = new Map<number, string>();
  for (const f of plan.flows) if (f.dst === host && f.tenant !== undefined) tenantOf.set(f.id, f.tenant);
  const received = new Map<string, number>();
  const arrived = tenantOf.size === 0 ? undefined : (id: number, bytes: number): void => {
    const t = tenantOf.get(id);
    if (t !== undefined) received.set(t, (received.get(t) ?? 0) + bytes);
  };
  const flushReceived = (): void => {
    if (received.size === 0) return;
    emit({ ev: 'rx', atUs: nowUs(), byTenant: Object.fromEntries(received) });
    received.clear();
  };
  const rxTimer = arrived ? setInterval(flushReceived, plan.receivedBinMs ?? DEFAULT_RECEIVED_BIN_MS) : undefined;
  rxTimer?.unref();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    const rx = new FlowReceiver();
    sock.on('data', (chunk: Buffer) => {
      try {
        rx.push(chunk, (id, bytes) => {
          emit({ ev: 'end', id, atUs: nowUs(), bytes });
          if (!sock.destroyed) sock.write(ACK); // the sender may reuse the connection only now (no head-of-line blocking)
        }, arrived);
      } catch (e) {
        emit({ ev: 'error', message: `receiver: ${(e as Error).message}` });
        sock.destroy();
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(plan.port, '0.0.0.0', () => res());
  });
  emit({ ev: 'ready', host, port: plan.port, atUs: nowUs() });
  emit({ ev: 'tcp', atUs: nowUs(), final: false, counters: readTcpCounters() });

  // kept-alive pools: dst → idle connections
  const idle = new Map<string, net.Socket[]>();
  let stopped = false;
  const mine = plan.flows.filter((f) => f.src === host).sort((a, b) => a.startUs - b.startUs || a.id - b.id);
  let nextPort = FIRST_SOURCE_PORT;

  const connect = (dst: string, sport: number): Promise<net.Socket> => new Promise((res, rej) => {
    const tryPort = (port: number): void => {
      const s = net.connect({ host: plan.hosts[dst]!, port: plan.port, ...(port ? { localPort: port } : {}) });
      s.setNoDelay(true);
      s.once('connect', () => {
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        res(s);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        if (port && e.code === 'EADDRINUSE') tryPort(0);
        else rej(e);
      });
    };
    tryPort(sport);
  });

  const write = (s: net.Socket, id: number, size: number): Promise<void> => new Promise((res, rej) => {
    let left = size - HEADER_BYTES;
    const onErr = (e: Error): void => rej(e);
    s.once('error', onErr);
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, ZEROS.length);
        left -= n;
        if (!s.write(n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n))) {
          s.once('drain', pump);
          return;
        }
      }
      s.removeListener('error', onErr);
      res();
    };
    s.write(encodeHeader(id, size));
    pump();
  });

  /** Resolves when the receiver acknowledged the flow (one byte), or the connection closed. */
  const ackOf = (s: net.Socket): Promise<void> => new Promise((res) => {
    const done = (): void => {
      s.removeListener('data', done);
      s.removeListener('close', done);
      res();
    };
    s.on('data', done);
    s.on('close', done);
  });

  /**
   * Declares `f` (source port `sport`) to the agent: one UDP datagram to the local API's port (agent/local-api.ts),
   * no answer; resolves once the datagram is handed to the kernel, so the agent usually reads it before the
   * flow's first packet (one read late attaches to the live flowlet). An HTTP request per flow cost the
   * agent a fastify request and response each (its answer p50 7.8 ms on the shuffle's busy hosts).
   */
  const declareTo = plan.agentApi ? new URL(plan.agentApi) : undefined;
  const declareSock = declareTo ? dgram.createSocket('udp4') : undefined;
  declareSock?.on('error', () => undefined);
  declareSock?.unref();
  const declare = (f: TrafficPlan['flows'][number], sport: number): Promise<void> => new Promise((sent) => {
    if (!declareSock || !declareTo) return sent();
    const body = JSON.stringify({ dst: plan.hosts[f.dst], dport: plan.port, sport, sizeBytes: f.sizeBytes,
      ...(f.transfer ? { transferId: f.transfer } : {}), ...(f.tenant ? { tenant: f.tenant } : {}) });
    declareSock.send(body, Number(declareTo.port), declareTo.hostname, (err) => {
      if (err) emit({ ev: 'declareError', id: f.id, message: err.message });
      sent();
    });
  });

  const startFlow = async (f: TrafficPlan['flows'][number], scheduledUs: number): Promise<void> => {
    const atUs = nowUs();
    try {
      if (plan.connections === 'fresh') {
        const sport = nextPort++;
        emit({ ev: 'start', id: f.id, atUs, sport, lagUs: atUs - scheduledUs, conn: 'fresh' });
        await declare(f, sport); // written, not answered: a declaration read late attaches to the live flowlet
        const s = await connect(f.dst, sport);
        emit({ ev: 'connected', id: f.id, atUs: nowUs() });
        if (s.localPort !== sport) emit({ ev: 'sport', id: f.id, sport: s.localPort });
        await write(s, f.id, f.sizeBytes);
        s.end();
        s.resume(); // read (and drop) the receiver's answer so the connection closes
      } else {
        const pool = idle.get(f.dst) ?? [];
        idle.set(f.dst, pool);
        // the connection idle the longest: a message on a kept-alive connection is a new flow for PIAS
        // marking only after the connection's message gap, so the freshest connection is the worst choice
        let s = pool.shift();
        while (s && s.destroyed) s = pool.shift();
        const sport = s?.localPort ?? nextPort++;
        emit({ ev: 'start', id: f.id, atUs, sport, lagUs: atUs - scheduledUs, conn: s ? 'kept' : 'fresh' });
        await declare(f, sport); // written, not answered: a declaration read late attaches to the live flowlet
        if (!s) {
          s = await connect(f.dst, sport);
          emit({ ev: 'connected', id: f.id, atUs: nowUs() });
        }
        const acked = ackOf(s);
        await write(s, f.id, f.sizeBytes);
        await acked;
        if (!stopped && !s.destroyed) pool.push(s);
      }
    } catch (e) {
      emit({ ev: 'error', id: f.id, message: (e as Error).message });
    }
  };

  const sending = (async () => {
    for (const f of mine) {
      if (stopped) return;
      const dueUs = plan.startAtMs * 1000 + f.startUs;
      const waitMs = (dueUs - nowUs()) / 1000;
      if (waitMs > 1) await new Promise((r) => setTimeout(r, waitMs));
      if (stopped) return;
      void startFlow(f, dueUs);
    }
  })();

  await (until ?? new Promise<void>((res) => {
    process.once('SIGTERM', () => res());
    process.once('SIGINT', () => res());
  }));
  stopped = true;
  await sending;
  if (rxTimer) clearInterval(rxTimer);
  flushReceived();
  emit({ ev: 'tcp', atUs: nowUs(), final: true, counters: readTcpCounters(), qdiscs: await qdiscStats() });
  server.close();
  declareSock?.close();
  for (const s of sockets) s.destroy();
  await new Promise<void>((res) => log.end(() => res()));
  return 0;
}

/** Registers `rivulet traffic` on the program. */
export function register(program: Command): void {
  program
    .command('traffic')
    .description('experiment traffic in one host: serves every flow sent to it and sends its own flows from the plan; JSON lines to --out')
    .requiredOption('--plan <file>', 'the plan JSON written by `rivulet experiment run`')
    .requiredOption('--host <name>', 'this host\'s name in the plan')
    .requiredOption('--out <file>', 'JSON-lines log of flow starts and ends (appended)')
    .action(async (o: { plan: string; host: string; out: string }) => {
      const plan = JSON.parse(readFileSync(o.plan, 'utf8')) as TrafficPlan;
      if (!plan.hosts[o.host]) {
        process.stderr.write(`rivulet traffic: host ${o.host} is not in the plan\n`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await runTraffic({ plan, host: o.host, out: o.out });
    });
}
