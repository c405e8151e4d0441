/**
 * The TypeScript side of mininet/fabric.py: starts the leaf-spine fabric (as root, Debian's Python),
 * reads the topology line, and offers one async method per command of the script's JSON line protocol.
 *
 * Teardown is guaranteed: `stop()` sends `stop`, closes stdin and waits for the script to exit; after a
 * timeout the script is killed by its pid (SIGTERM, then SIGKILL), and whatever it could not remove is
 * deleted here by name (bridges and interfaces starting with this run's prefix — never anything else).
 * Call `stop()` from a mocha `after` hook; `stopAllFabrics()` stops every fabric still running (for
 * process exit handlers). If this process dies, the script sees stdin EOF and tears down by itself.
 *
 * Also: `startTestController` (the controller in-process on free ports, via controller/main.ts) and
 * `startControllerCli` (the `rivulet controller` CLI as a child), both returning the REST base URL.
 */
import { removeQosRowsByPrefix } from './ovsdb-rows.js';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { pollUntil, waitUntil } from './until.js';
import { WaitTimeoutError } from '../lib/until.js';

const run = promisify(execFile);

/** Debian's Python: the one with the mininet module (a python3 earlier on PATH may not have it). */
export const MININET_PYTHON = '/usr/bin/python3';

/** The repository root (the directory with package.json), from this file's place in src or dist. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (package.json) not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export const FABRIC_SCRIPT = (): string => join(repoRoot(), 'mininet', 'fabric.py');

/** Why Mininet end-to-end tests cannot run here, or undefined when they can (root, OVS, Mininet, iperf3). */
export function mininetUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('ovs-vsctl', ['--timeout=5', 'show'], { stdio: 'ignore' });
  } catch {
    return 'Open vSwitch is not running (ovs-vsctl show failed)';
  }
  try {
    execFileSync(MININET_PYTHON, ['-c', 'import mininet.net'], { stdio: 'ignore' });
  } catch {
    return `${MININET_PYTHON} has no mininet module`;
  }
  try {
    execFileSync('iperf3', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'iperf3 is not installed';
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------- shapes

export interface FabricOptions {
  readonly spines: number;
  readonly leaves: number;
  readonly hostsPerLeaf: number;
  /** OpenFlow port of the controller on 127.0.0.1 (or give `controller`) */
  readonly ofPort?: number;
  /** full OVS controller target, e.g. tcp:127.0.0.1:6653 */
  readonly controller?: string;
  /** link rate, Mbit/s (Mininet TCLink); absent: unshaped */
  readonly bwMbps?: number;
  /**
   * Who shapes the links at bwMbps: 'tclink' (default, Mininet's TCLink) or 'controller' (no qdisc from the
   * builder; the controller's QoS app owns each switch interface's qdisc — one owner per qdisc).
   */
  readonly shaping?: 'tclink' | 'controller' | 'agents';
  /** rate of the leaf-spine links, Mbit/s (default bwMbps) */
  readonly fabricBwMbps?: number;
  /** rates of single links, Mbit/s: `lJ-sI` (leaf J – spine I) or `hN` (host N's link) → Mbit/s */
  readonly linkBwMbps?: Readonly<Record<string, number>>;
  readonly addressing?: 'flat' | 'per-leaf';
  /** 2–6 lowercase letters; default rv + 3 random letters */
  readonly prefix?: string;
  /** ms to wait for the topology line (default 120 s) */
  readonly startTimeoutMs?: number;
  /** gets every stderr line of the script (default: kept, the last 50 shown in errors) */
  readonly onStderr?: (line: string) => void;
}

export interface NodeRef {
  readonly name: string;
  /** 16 hex digits */
  readonly dpid: string;
  readonly port: number;
}

export interface MnSwitch {
  readonly name: string;
  readonly dpid: string;
  readonly role: 'spine' | 'leaf';
  /** 1-based index among the spines or the leaves */
  readonly index: number;
}

/** An undirected spine-leaf link; `a` is the leaf end, `b` the spine end. */
export interface MnLink {
  readonly a: NodeRef;
  readonly b: NodeRef;
  /** the link's rate, Mbit/s (null/absent: unshaped) */
  readonly bwMbps?: number | null;
}

export interface MnHost {
  readonly name: string;
  readonly mac: string;
  readonly ip: string;
  readonly prefixLen: number;
  /** the leaf's name */
  readonly leaf: string;
  readonly attachment: NodeRef;
  /** the host link's rate, Mbit/s (null/absent: unshaped) */
  readonly bwMbps?: number | null;
}

export interface MnTopology {
  readonly prefix: string;
  readonly spines: number;
  readonly leaves: number;
  readonly hostsPerLeaf: number;
  readonly addressing: 'flat' | 'per-leaf';
  readonly bwMbps: number | null;
  /** who shapes the links (absent from older builders: tclink) */
  readonly shaping?: 'tclink' | 'controller' | 'agents';
  readonly controller: string;
  readonly switches: readonly MnSwitch[];
  readonly links: readonly MnLink[];
  readonly hosts: readonly MnHost[];
  /** seconds fabric.py took to build the network */
  readonly buildSeconds: number;
  /** ovs-vswitchd's transmit socket send buffer as the builder left it (see {@link OvsTxBuffer}) */
  readonly ovsTxBuffer?: OvsTxBuffer;
}

/**
 * The send buffer of ovs-vswitchd's one userspace-datapath transmit socket, which fabric.py raises while the
 * fabric runs (ARCHITECTURE.md "Platform facts": frames queued in the ports' qdiscs count against it, and once
 * it is full OVS drops frames on every port, uncounted). `state`: 'pending' until OVS's first transmit opens
 * the socket, 'set', 'failed' (with `error`), 'off' (`--ovs-tx-buffer 0`), 'restored' after teardown.
 * Bytes are SO_SNDBUF as the kernel reads it back.
 */
export interface OvsTxBuffer {
  readonly state: 'pending' | 'set' | 'failed' | 'off' | 'restored';
  readonly requestedBytes: number;
  readonly bytes?: number;
  readonly beforeBytes?: number;
  readonly error?: string;
}

export interface PingallResult {
  readonly sent: number;
  readonly received: number;
  readonly lossPct: number;
  readonly failed: readonly { src: string; dst: string }[];
}

export interface PingResult {
  readonly sent: number;
  readonly received: number;
  readonly lossPct: number;
  readonly rttAvgMs: number | null;
}

export interface Iperf3Options {
  readonly client: string;
  readonly server: string;
  /** whole seconds (-t); ignored when `bytes` is given */
  readonly seconds?: number;
  /** -n */
  readonly bytes?: number | string;
  /** report interval, s (0.1 … ; default 0.5) */
  readonly interval?: number;
  /** server port (default: the script allocates 5201, 5202, …) */
  readonly port?: number;
  /** client data port (--cport), to know the flow's 5-tuple before the run ends */
  readonly cport?: number;
  /** -P */
  readonly parallel?: number;
  /** -b, e.g. "20M" */
  readonly bandwidth?: string;
  /** --dscp */
  readonly dscp?: number;
}

export interface Iperf3Interval {
  readonly start: number;
  readonly end: number;
  readonly bytes: number;
  readonly bps: number;
}

export interface Iperf3Summary {
  readonly seconds: number;
  readonly bytes: number;
  readonly bps: number;
  readonly retransmits: number | null;
}

export interface Iperf3Result {
  readonly client: string;
  readonly server: string;
  readonly port: number;
  /** when the client process was spawned, s since the epoch (the interval times count from about then) */
  readonly clientStartedAt: number;
  /** the data connections (iperf3 -J start.connected); the control connection is not listed */
  readonly streams: readonly { localIp: string; localPort: number; remoteIp: string; remotePort: number }[];
  /** the client's (sender's) interval reports */
  readonly intervals: readonly Iperf3Interval[];
  /** the server's (receiver's) interval reports */
  readonly serverIntervals: readonly Iperf3Interval[];
  readonly sent: Iperf3Summary | null;
  readonly received: Iperf3Summary | null;
}

export interface OfctlFlow {
  readonly cookie: string;
  readonly table: number;
  readonly priority: number;
  readonly nPackets: number;
  readonly nBytes: number;
  readonly idleTimeout: number | null;
  /** ovs-ofctl's match fields: `{tcp: true, in_port: "1", nw_src: "10.0.0.1", …}` */
  readonly match: Readonly<Record<string, string | true>>;
  readonly actions: string;
}

export interface OfctlPort {
  /** number, or "LOCAL" */
  readonly port: number | string;
  readonly rxPackets: number | null;
  readonly rxBytes: number | null;
  readonly rxDropped: number | null;
  readonly txPackets: number | null;
  readonly txBytes: number | null;
  readonly txDropped: number | null;
}

export interface TeardownReport {
  readonly processes: readonly number[];
  readonly bridges: readonly string[];
  readonly interfaces: readonly string[];
}

export class FabricCommandError extends Error {
  readonly code = 'FABRIC_COMMAND_FAILED';
  constructor(readonly command: string, message: string) {
    super(`fabric.py ${command}: ${message}`);
    this.name = 'FabricCommandError';
  }
}

// ------------------------------------------------------------------------------------------- fabric

interface Pending {
  readonly cmd: string;
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

const running = new Set<MininetFabric>();

/** A running fabric.py. Create with {@link MininetFabric.start}; always `stop()` it. */
export class MininetFabric {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly stderrTail: string[] = [];
  private exited: Promise<number | null>;
  private stopping: Promise<TeardownReport | null> | undefined;
  /** the script's own teardown report, once it printed it */
  teardown: TeardownReport | null = null;
  /** what this harness removed by name after the script (normally nothing) */
  leftovers: { bridges: string[]; interfaces: string[] } = { bridges: [], interfaces: [] };
  topology!: MnTopology;

  private constructor(
    private readonly child: ChildProcess,
    readonly prefix: string,
  ) {
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
  }

  /** Builds the fabric; resolves once the script printed the topology (switches told to connect). */
  static async start(opts: FabricOptions): Promise<MininetFabric> {
    const prefix = opts.prefix ?? `rv${randomLetters(3)}`;
    const target = opts.controller ?? `tcp:127.0.0.1:${opts.ofPort ?? 6653}`;
    const args = [FABRIC_SCRIPT(), '--spines', String(opts.spines), '--leaves', String(opts.leaves),
      '--hosts-per-leaf', String(opts.hostsPerLeaf), '--controller', target, '--prefix', prefix,
      '--addressing', opts.addressing ?? 'flat'];
    if (opts.bwMbps !== undefined) args.push('--bw', String(opts.bwMbps));
    if (opts.shaping !== undefined) args.push('--shaping', opts.shaping);
    if (opts.fabricBwMbps !== undefined) args.push('--fabric-bw', String(opts.fabricBwMbps));
    for (const [name, mbps] of Object.entries(opts.linkBwMbps ?? {})) args.push('--link-bw', `${name}=${mbps}`);
    const [cmd, argv] = process.getuid?.() === 0 ? [MININET_PYTHON, args] : ['sudo', ['-n', MININET_PYTHON, ...args]];
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const fabric = new MininetFabric(child, prefix);
    running.add(fabric);
    try {
      fabric.topology = await fabric.attach(opts);
    } catch (err) {
      await fabric.stop();
      throw err;
    }
    return fabric;
  }

  private attach(opts: FabricOptions): Promise<MnTopology> {
    const child = this.child;
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 50) this.stderrTail.shift();
      opts.onStderr?.(line);
    });
    child.stdin!.on('error', () => undefined); // EPIPE once the script has gone; exit is handled below
    return new Promise<MnTopology>((resolveTopo, rejectTopo) => {
      const timeoutMs = opts.startTimeoutMs ?? 120_000;
      const timer = setTimeout(() => rejectTopo(this.failure(`no topology within ${timeoutMs} ms`)), timeoutMs);
      let gotTopology = false;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return; // not protocol (the script routes everything else to stderr, but be lenient)
        }
        if (msg['event'] === 'topology' && !gotTopology) {
          gotTopology = true;
          clearTimeout(timer);
          resolveTopo(msg as unknown as MnTopology);
        } else if (msg['event'] === 'error') {
          clearTimeout(timer);
          rejectTopo(this.failure(String(msg['error'])));
        } else if (msg['event'] === 'teardown') {
          this.teardown = (msg['removed'] as TeardownReport | null) ?? null;
        } else if (typeof msg['id'] === 'number') {
          const p = this.pending.get(msg['id']);
          if (!p) return;
          this.pending.delete(msg['id']);
          if (msg['ok'] === true) p.resolve(msg);
          else p.reject(new FabricCommandError(p.cmd, String(msg['error'])));
        }
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        const err = this.failure(`exited with code ${code}`);
        rejectTopo(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        running.delete(this);
      });
    });
  }

  private failure(what: string): Error {
    return new Error(`fabric.py (prefix ${this.prefix}) ${what}; stderr tail:\n${this.stderrTail.slice(-20).join('\n')}`);
  }

  /** Sends one command; resolves with the answer (fields besides id/ok), rejects with FabricCommandError. */
  command(cmd: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.stopping || this.child.exitCode !== null) return Promise.reject(new Error(`fabric ${this.prefix} is stopped`));
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(id, { cmd, resolve: res, reject: rej });
      this.child.stdin!.write(JSON.stringify({ ...fields, id, cmd }) + '\n');
    });
  }

  /** The transmit socket's send buffer now (the `topology` command); waits while it is 'pending', up to `timeoutMs`. */
  async ovsTxBuffer(timeoutMs = 30_000): Promise<OvsTxBuffer | undefined> {
    let last: OvsTxBuffer | undefined;
    const settled = async (): Promise<boolean> => {
      last = ((await this.command('topology')) as unknown as MnTopology).ovsTxBuffer;
      return last?.state !== 'pending';
    };
    await pollUntil('ovs-vswitchd transmit buffer no longer pending', settled, { timeoutMs, everyMs: 200 }).catch((err: unknown) => {
      if (!(err instanceof WaitTimeoutError)) throw err; // still pending: the caller gets that state
    });
    return last;
  }

  /** Every host pings every other host once (ping -c1 -W timeout); sources one after the other unless parallel. */
  async pingall(opts: { timeoutS?: number; parallel?: boolean } = {}): Promise<PingallResult> {
    return (await this.command('pingall', { timeout: opts.timeoutS ?? 2, parallel: opts.parallel ?? false })) as unknown as PingallResult;
  }

  async ping(src: string, dst: string, opts: { count?: number; timeoutS?: number; intervalS?: number } = {}): Promise<PingResult> {
    return (await this.command('ping', { src, dst, count: opts.count ?? 3, timeout: opts.timeoutS ?? 2, interval: opts.intervalS ?? 0.2 })) as unknown as PingResult;
  }

  /** One iperf3 test (TCP): server started and stopped by pid in the server host, results from -J. */
  async iperf3(o: Iperf3Options): Promise<Iperf3Result> {
    return (await this.command('iperf3', { ...o })) as unknown as Iperf3Result;
  }

  /** Takes the link between two switches (Mininet names) down or up (both veth ends). */
  async link(a: string, b: string, state: 'up' | 'down'): Promise<{ at: number }> {
    return (await this.command('link', { a, b, state })) as unknown as { at: number };
  }

  /** `ovs-ofctl -O OpenFlow13 dump-flows <switch> [filter]`, parsed. */
  async dumpFlows(sw: string, filter?: string): Promise<OfctlFlow[]> {
    return ((await this.command('dump-flows', { switch: sw, filter })) as unknown as { flows: OfctlFlow[] }).flows;
  }

  /** `ovs-ofctl -O OpenFlow13 dump-ports <switch>`, parsed. */
  async portStats(sw: string): Promise<OfctlPort[]> {
    return ((await this.command('port-stats', { switch: sw })) as unknown as { ports: OfctlPort[] }).ports;
  }

  /** Starts a long-running process in a host (stdout+stderr to `log`); resolves with its pid. */
  async spawn(host: string, argv: readonly string[], log?: string): Promise<{ pid: number; at: number }> {
    const r = await this.command('spawn', { host, argv, ...(log ? { log } : {}) });
    return { pid: r['pid'] as number, at: r['at'] as number };
  }

  /** Signals a spawned process; with `waitS`, waits for its exit and resolves with the exit code. */
  async signal(pid: number, signal: 'TERM' | 'KILL' | 'INT' | 'STOP' | 'CONT' = 'TERM', waitS?: number): Promise<{ exitCode: number | null }> {
    const r = await this.command('signal', { pid, signal, ...(waitS ? { wait: waitS } : {}) });
    return { exitCode: (r['exitCode'] as number | null) ?? null };
  }

  /** Runs a short command in a host. */
  async exec(host: string, argv: readonly string[], timeoutS = 10): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
    const r = await this.command('exec', { host, argv, timeout: timeoutS });
    return { exitCode: (r['exitCode'] as number | null) ?? null, stdout: String(r['stdout']), stderr: String(r['stderr']) };
  }

  switchByDpid(dpid: string): MnSwitch | undefined {
    return this.topology.switches.find((s) => s.dpid === dpid);
  }

  switchByName(name: string): MnSwitch | undefined {
    return this.topology.switches.find((s) => s.name === name);
  }

  host(name: string): MnHost {
    const h = this.topology.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name} in fabric ${this.prefix}`);
    return h;
  }

  /**
   * Tears the fabric down and resolves with the script's teardown report (null if it had to be killed).
   * Idempotent. Never throws: a failure to clean up is reported on stderr and in `leftovers`.
   */
  stop(timeoutMs = 90_000): Promise<TeardownReport | null> {
    this.stopping ??= this.doStop(timeoutMs);
    return this.stopping;
  }

  private async doStop(timeoutMs: number): Promise<TeardownReport | null> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.stdin!.write(JSON.stringify({ id: 0, cmd: 'stop' }) + '\n');
        child.stdin!.end();
      } catch {
        // stdin already closed: the script is exiting
      }
      if (!(await waitExit(this.exited, timeoutMs)) && child.pid !== undefined) {
        process.stderr.write(`fabric.py ${this.prefix} (pid ${child.pid}) did not stop within ${timeoutMs} ms: SIGTERM\n`);
        child.kill('SIGTERM');
        if (!(await waitExit(this.exited, 30_000))) {
          process.stderr.write(`fabric.py ${this.prefix} (pid ${child.pid}): SIGKILL\n`);
          child.kill('SIGKILL');
          await waitExit(this.exited, 10_000);
        }
      }
    }
    this.leftovers = await removeByPrefix(this.prefix);
    await removeQosRowsByPrefix(this.prefix).catch(() => undefined); // the QoS app's rows of this run's ports
    if (this.leftovers.bridges.length + this.leftovers.interfaces.length > 0) {
      process.stderr.write(`fabric ${this.prefix}: removed leftovers ${JSON.stringify(this.leftovers)}\n`);
    }
    running.delete(this);
    return this.teardown;
  }
}

/** Stops every fabric this process started and has not stopped yet. */
export async function stopAllFabrics(): Promise<void> {
  await Promise.all([...running].map((f) => f.stop()));
}

async function waitExit(exited: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const done = await Promise.race([exited.then(() => true), timeout]);
  clearTimeout(timer);
  return done;
}

/** Deletes OVS bridges and network interfaces whose names start with `prefix` (2+ letters), by name. */
export async function removeByPrefix(prefix: string): Promise<{ bridges: string[]; interfaces: string[] }> {
  if (!/^[a-z]{2,6}$/.test(prefix)) throw new RangeError(`refusing to remove by prefix "${prefix}"`);
  const bridges: string[] = [];
  const interfaces: string[] = [];
  const brs = (await run('ovs-vsctl', ['--timeout=10', 'list-br']).catch(() => ({ stdout: '' }))).stdout.split('\n');
  for (const br of brs.map((s) => s.trim()).filter((s) => s.startsWith(prefix))) {
    await run('ovs-vsctl', ['--timeout=10', '--if-exists', 'del-br', br]).catch(() => undefined);
    bridges.push(br);
  }
  const links = (await run('ip', ['-o', 'link', 'show']).catch(() => ({ stdout: '' }))).stdout.split('\n');
  for (const line of links) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    if (name?.startsWith(prefix)) {
      await run('ip', ['link', 'del', name]).catch(() => undefined);
      interfaces.push(name);
    }
  }
  return { bridges, interfaces };
}

function randomLetters(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + Math.floor(Math.random() * 26));
  return s;
}

// --------------------------------------------------------------------------------------- controller

/** A free TCP port on 127.0.0.1 (bound and released; a small race is possible, fine for tests). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(port));
    });
  });
}

/** GET `${base}${path}` and parse JSON; throws with the status and body on a non-2xx answer. */
export async function getJson<T = unknown>(base: string, path: string): Promise<T> {
  const res = await fetch(base + path);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** The `rivulet controller` CLI as a child process on free ports. */
export interface CliController {
  readonly ofPort: number;
  readonly apiPort: number;
  /** http://127.0.0.1:<apiPort>/api/v1 */
  readonly api: string;
  readonly child: ChildProcess;
  /** SIGTERM by pid, SIGKILL after 10 s; resolves with the exit code */
  stop(): Promise<number | null>;
  /** SIGKILL by pid (a crash: nothing is cleaned up); resolves when it exited */
  kill(): Promise<void>;
}

/** Starts `node bin/rivulet.js controller` and waits until /api/v1/health answers. */
export async function startControllerCli(opts: {
  config?: string; logLevel?: string; onOutput?: (line: string) => void;
  /** fixed ports (a restart on the same ports, so switches and agents come back); default free ones */
  ofPort?: number; apiPort?: number;
} = {}): Promise<CliController> {
  const ofPort = opts.ofPort ?? await freePort();
  const apiPort = opts.apiPort ?? await freePort();
  const args = [join(repoRoot(), 'bin', 'rivulet.js'), 'controller', '--of-port', String(ofPort), '--api-port', String(apiPort),
    '--log-level', opts.logLevel ?? 'warn'];
  if (opts.config) args.push('--config', resolve(opts.config));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  for (const s of [child.stdout!, child.stderr!]) {
    createInterface({ input: s }).on('line', (l) => {
      tail.push(l);
      if (tail.length > 30) tail.shift();
      opts.onOutput?.(l);
    });
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const api = `http://127.0.0.1:${apiPort}/api/v1`;
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitExit(exited, 10_000))) child.kill('SIGKILL');
    }
    return exited;
  };
  try {
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`rivulet controller exited (${child.exitCode}):\n${tail.join('\n')}`);
      return fetch(`${api}/health`).then((r) => r.ok, () => false);
    }, 20_000, 'the controller CLI to serve /api/v1/health');
  } catch (err) {
    await stop();
    throw err;
  }
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return { ofPort, apiPort, api, child, stop, kill };
}
