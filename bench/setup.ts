/**
 * `npm run bench:setup` — flow setups per second and setup latency, cbench style (see cbench.ts), for
 * three controllers in one run, so the figures share the machine's load of the moment:
 *
 * - Rivulet (startRivulet, the code of `rivulet controller`, in a worker thread of this process);
 * - os-ken with a `simple_switch_13`-equivalent learning switch (bench/osken/learning_switch_13.py),
 *   a separate Python process (`osken-manager`; Debian's python3-os-ken, installed here when missing and
 *   running as root — the bench installs it, the product set-up does not);
 * - a trivial responder (trivial-responder.ts, worker thread): one fixed FLOW_MOD + a PACKET_OUT per
 *   PACKET_IN, no state — the ceiling of the generator on this machine.
 *
 * For 1 and 16 switches × 1, 8 and 64 packet-ins outstanding per switch: setups/s, latency p50/p99, flow-mods
 * per setup, the generator thread's event-loop utilization (near 100%: the generator, not the controller,
 * is the limit), Rivulet's thread's event-loop utilization over the level and its warm-up with the busy µs
 * per setup it implies (utilization × 1 s ÷ setups/s: the controller's cost of one setup, less noisy than
 * the rate on a shared machine), and the ratios Rivulet ÷ os-ken and Rivulet ÷ trivial. The machine is shared: read the
 * ratios. Each controller gets CONTROLLER_WARMUP_MS of unrecorded load once it has started and every level
 * WARMUP_MS before it is recorded (cbench's `-w`: warm-up loops disregarded). Options: `--duration-ms N` per level (default 2000), `--only rivulet,trivial,osken`,
 * `--levels 16x64,1x1` (only these switches × window levels; default all six).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BENCH_RIVULET_CONFIG } from './setup-config.js';
import { connectSwitches, runLevel, sleep, type LevelResult } from './cbench.js';
import { percentile } from './setup-load.js';
import type { WorkerReply } from './setup-controller.js';

const SWITCHES = [1, 16] as const;
const WINDOWS = [1, 8, 64] as const;
/** unrecorded load before each level (the window of that level) */
const WARMUP_MS = 400;
/**
 * unrecorded load once a controller has started, before its first level, at that level's window (cbench's
 * `-w` warm-up loops, disregarded): JIT compilation and the tables filling up to their bounds happen here,
 * not in the first level (without it, Rivulet's 1 × 1 p99 over its first second is ~1.8 ms, then ~0.13 ms)
 */
const CONTROLLER_WARMUP_MS = 2000;

type Name = 'rivulet' | 'osken' | 'trivial';

interface Running {
  readonly port: number;
  stop(): Promise<void>;
  /** Rivulet only: the controller thread's event-loop utilization (0..1) since the previous call */
  busy?(): Promise<number>;
}

async function startRivulet(): Promise<Running> {
  const worker = new Worker(new URL('./setup-controller.js', import.meta.url), { workerData: BENCH_RIVULET_CONFIG });
  const port = await new Promise<number>((resolve, reject) => {
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'started') resolve(m.ofPort);
      if (m.type === 'failed') reject(new Error(m.message));
    });
    worker.once('error', reject);
  });
  return {
    port,
    busy: () => {
      const reply = new Promise<number>((resolve) => {
        const on = (m: WorkerReply): void => {
          if (m.type !== 'status') return;
          worker.off('message', on);
          resolve(m.elu);
        };
        worker.on('message', on);
      });
      worker.postMessage({ cmd: 'status' });
      return reply;
    },
    stop: async () => {
      const done = new Promise((r) => worker.once('message', r));
      worker.postMessage({ cmd: 'stop' });
      await Promise.race([done, sleep(3000)]);
      await worker.terminate();
    },
  };
}

async function startTrivial(): Promise<Running> {
  const worker = new Worker(new URL('./trivial-responder.js', import.meta.url));
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  return {
    port,
    stop: async () => {
      worker.postMessage('stop');
      await sleep(100);
      await worker.terminate();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Makes sure osken-manager exists (apt-get install python3-os-ken as root); returns why not otherwise. */
function ensureOsken(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v osken-manager']).status === 0) return undefined;
  if (process.getuid?.() !== 0) return 'osken-manager missing (install python3-os-ken, or run as root)';
  console.log('installing python3-os-ken (Debian) for the os-ken baseline…');
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-os-ken'], {
    stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0 ? undefined : `apt-get install python3-os-ken failed (${r.status})`;
}

async function startOsken(): Promise<Running> {
  const why = ensureOsken();
  if (why) throw new Error(why);
  const port = await freePort();
  const app = fileURLToPath(new URL('../../bench/osken/learning_switch_13.py', import.meta.url));
  const child: ChildProcess = spawn('osken-manager', ['--ofp-tcp-listen-port', String(port), '--default-log-level', '40', app], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-2000)));
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`osken-manager exited: ${stderr}`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() - t0 > 15_000) throw new Error(`osken-manager did not listen: ${stderr}`);
    await sleep(200);
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

const STARTERS: Record<Name, () => Promise<Running>> = { rivulet: startRivulet, osken: startOsken, trivial: startTrivial };

/** A level to run: `switches` fake switches × `window` packet-ins outstanding on each. */
interface Level {
  readonly switches: number;
  readonly window: number;
}

const ALL_LEVELS: readonly Level[] = SWITCHES.flatMap((switches) => WINDOWS.map((window) => ({ switches, window })));

/** Parses `--levels` ("16x64,1x1"); throws on a malformed entry. */
function parseLevels(text: string): Level[] {
  return text.split(',').map((part) => {
    const m = /^(\d+)x(\d+)$/.exec(part.trim());
    if (!m) throw new Error(`--levels: "${part}" is not SWITCHESxWINDOW`);
    return { switches: Number(m[1]), window: Number(m[2]) };
  });
}

/** A level's result; `controllerBusy`: Rivulet's thread event-loop utilization over warm-up and level (0..1). */
type Row = LevelResult & { readonly controllerBusy?: number };

async function benchController(name: Name, durationMs: number, levels: readonly Level[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of [...new Set(levels.map((l) => l.switches))]) {
    const ctl = await STARTERS[name]();
    try {
      const sws = await connectSwitches(ctl.port, n);
      try {
        const mine = levels.filter((l) => l.switches === n);
        await runLevel(sws, mine[0]!.window, CONTROLLER_WARMUP_MS, 0); // discarded
        for (const { window: w } of mine) {
          await ctl.busy?.();
          const r = await runLevel(sws, w, WARMUP_MS, durationMs);
          const busy = await ctl.busy?.();
          rows.push(busy === undefined ? r : { ...r, controllerBusy: busy });
        }
      } finally {
        for (const s of sws) s.close();
      }
    } finally {
      await ctl.stop();
    }
  }
  return rows;
}

const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '–');
const rate = (r: Row | undefined): number => (r ? (r.setups * 1000) / r.durationMs : NaN);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const durArg = args.indexOf('--duration-ms');
  const durationMs = durArg >= 0 ? Number(args[durArg + 1]) : 2000;
  const onlyArg = args.indexOf('--only');
  const names: Name[] = onlyArg >= 0 ? (args[onlyArg + 1]!.split(',') as Name[]) : ['trivial', 'rivulet', 'osken'];
  const levelsArg = args.indexOf('--levels');
  const levels = levelsArg >= 0 ? parseLevels(args[levelsArg + 1]!) : ALL_LEVELS;
  const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${new Date().toISOString()}, load average ${load()}`);
  console.log(`cbench-style OpenFlow 1.3 generator (bench/cbench.ts), ${durationMs} ms per level after ${WARMUP_MS} ms warm-up; ` +
    `each controller warmed up ${CONTROLLER_WARMUP_MS} ms after it starts, before its first level (discarded, as cbench's -w)\n`);
  const results = new Map<Name, Row[]>();
  const failures: string[] = [];
  for (const name of names) {
    try {
      results.set(name, await benchController(name, durationMs, levels));
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const header = ['controller', 'switches × window', 'setups/s', 'p50 / p99 ms', 'flow-mods per setup', 'generator busy', 'controller busy (µs per setup)'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const [name, rows] of results) {
    for (const r of rows) {
      console.log(`| ${[name, `${r.switches} × ${r.window}`, int(rate(r)), `${ms(percentile(r.latMs, 50))} / ${ms(percentile(r.latMs, 99))}`,
        r.setups ? (r.flowMods / r.setups).toFixed(2) : '–', `${Math.round(r.generatorElu * 100)}%`,
        r.controllerBusy === undefined ? '–' : `${Math.round(r.controllerBusy * 100)}% (${((r.controllerBusy * 1e6) / rate(r)).toFixed(1)})`].join(' | ')} |`);
    }
  }
  console.log('\nratios (same run):');
  const rh = ['switches × window', 'Rivulet setups/s', 'Rivulet ÷ os-ken', 'Rivulet ÷ trivial responder'];
  console.log(`| ${rh.join(' | ')} |`);
  console.log(`|${rh.map(() => '---').join('|')}|`);
  const find = (name: Name, n: number, w: number): LevelResult | undefined => results.get(name)?.find((r) => r.switches === n && r.window === w);
  for (const { switches: n, window: w } of levels) {
    const r = find('rivulet', n, w);
    console.log(`| ${n} × ${w} | ${int(rate(r))} | ${(rate(r) / rate(find('osken', n, w))).toFixed(1)}× | ${(rate(r) / rate(find('trivial', n, w))).toFixed(2)} |`);
  }
  for (const f of failures) console.log(`- failed: ${f}`);
  console.log(`\nload average at the end ${load()}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
