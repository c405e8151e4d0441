/**
 * What one host agent costs, measured with real traffic in network namespaces (root):
 *
 *   npm run bench:agent -- [--seconds 30] [--warmup-seconds 0] [--offered 20M] [--link-rate 100M] [--seed 1] [--size-scale 1] [--json]
 *                          [--agent-args "--detector packets"] [--rivulet path/to/bin/rivulet.js]
 *                          [--node-args "--single-threaded-gc --cpu-prof --cpu-prof-dir=/tmp/prof"] (default: agent/node-flags.ts)
 *
 * Two namespaces joined by a veth pair (offloads off, as in Mininet hosts); `rivulet agent` runs in the
 * first (its HTB root at `--link-rate`) and reports to a minimal controller in this process over a unix
 * socket: it answers the hello with a welcome carrying PIAS thresholds and sends a flowlet past the
 * small-flowlet threshold a rate (half the link) with each of its progress reports, nothing at its end
 * (as the controller: the agent removes a limit at its flowlet's end by itself) — the agent shapes and
 * marks as it would in a run. bench/agent-traffic.ts sends web-search flows (one TCP connection each,
 * Poisson arrivals, `--offered` bit/s on average) from the first namespace to a sink in the second.
 *
 * Printed: CPU of the agent and every process it started (tcpdump, tc, nft: utime + stime of the live
 * tree plus the children it reaped), in % of one core over the traffic window, in all and by process name, and
 * the agent's own process split into user and system time, and by thread, with its main thread's context
 * switches per second (/proc/PID/status), all and voluntary only (how often it woke); flows sent, flowlet starts reported,
 * events messages (in all, and by what they carry: starts; else progress; else ends only; else acknowledgements only); first packet → reported at the controller, p50/p99, where "first packet" is the sender's
 * first write() of the flow (the connection is already open, so this write's first segment is the
 * flowlet's first packet) — independent of the agent's own timestamps; and the agent's own
 * firstPacketEpochUs → reported. With `--warmup-seconds W` the traffic runs W seconds before the measured
 * `--seconds` (the agent's start-up work — V8 compiling its hot code, its memory reducer's collections a
 * few seconds after start — then falls outside the window; flows and starts of the warm-up are not
 * counted). Namespaces, veths and processes are removed by name / pid at the end.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { AGENT_NODE_FLAGS } from '../agent/node-flags.js';
import { encodeLine, nowEpochUs, parseAgentMessage, type RatesMsg, type WelcomeMsg } from '../protocol/agent.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}
const SECONDS = Number(arg('seconds', '30'));
/** traffic before the measured window, s */
const WARMUP_SECONDS = Number(arg('warmup-seconds', '0'));
const OFFERED = arg('offered', '20M');
const LINK = arg('link-rate', '100M');
const SEED = arg('seed', '1');
/** flow sizes × this (0.1: the experiment kit's websearch scaling, ten times the flows) */
const SIZE_SCALE = arg('size-scale', '1');
const AGENT_ARGS = arg('agent-args', '').split(/\s+/).filter((s) => s !== '');
/**
 * Node options of the agent's process: by default agent/node-flags.ts's, as the experiment kit starts
 * agents (testing/agents.ts); `--node-args ""` for none, `"--single-threaded-gc --cpu-prof --cpu-prof-dir=/tmp/prof"`
 * for a profile of the agent
 */
const NODE_ARGS = arg('node-args', AGENT_NODE_FLAGS.join(' ')).split(/\s+/).filter((s) => s !== '');
const JSON_OUT = process.argv.includes('--json');
/** the `rivulet` entry point of the agent under test (default this checkout's; another build for a before/after) */
const RIVULET = arg('rivulet', new URL('../../bin/rivulet.js', import.meta.url).pathname);

const TAG = `rvb${process.pid % 100000}`;
const NSA = `${TAG}a`;
const NSB = `${TAG}b`;
const DEVA = `${TAG}x`;
const DEVB = `${TAG}y`;
const SOCK = `/tmp/${TAG}.sock`;
const ROOT = new URL('../..', import.meta.url).pathname;
const CLK_TCK = 100;

const sh = (...argv: string[]): string => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function setupNetns(): void {
  sh('ip', 'netns', 'add', NSA);
  sh('ip', 'netns', 'add', NSB);
  sh('ip', 'link', 'add', DEVA, 'netns', NSA, 'type', 'veth', 'peer', 'name', DEVB, 'netns', NSB);
  sh('ip', '-n', NSA, 'addr', 'add', '10.98.0.1/24', 'dev', DEVA);
  sh('ip', '-n', NSB, 'addr', 'add', '10.98.0.2/24', 'dev', DEVB);
  for (const [ns, dev] of [[NSA, DEVA], [NSB, DEVB]] as const) {
    sh('ip', '-n', ns, 'link', 'set', dev, 'up');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', 'netns', 'exec', ns, 'ethtool', '-K', dev, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off');
  }
}

function teardownNetns(): void {
  for (const ns of [NSA, NSB]) {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {
      // not created
    }
  }
  rmSync(SOCK, { force: true });
}

/** utime+stime+cutime+cstime of a pid, ticks (0 when gone). */
function ticksOf(pid: number): number {
  const t = userSysOf(pid);
  return t.user + t.sys;
}

/** User (utime+cutime) and system (stime+cstime) ticks of a pid, /proc/PID/stat fields 14–17 (0 when gone). */
function userSysOf(pid: number): { user: number; sys: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) + Number(f[13]), sys: Number(f[12]) + Number(f[14]) };
  } catch {
    return { user: 0, sys: 0 };
  }
}

/** User + system ticks of each thread of a pid by thread name (/proc/PID/task/TID/stat): `main` (the event loop, JavaScript), `node` (Node's other threads: V8's compiler and GC helpers, libuv's pool), … */
function threadTicksOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]));
    } catch {
      // exited
    }
  }
  return out;
}

/**
 * Context switches of a pid's main thread so far, /proc/PID/status (0 when gone): voluntary (it slept:
 * its wake-ups) and involuntary (it was preempted, e.g. by a process its write woke on the same core).
 */
function switchesOf(pid: number): { voluntary: number; involuntary: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (re: RegExp): number => Number(re.exec(status)?.[1] ?? 0);
    return { voluntary: get(/^voluntary_ctxt_switches:\s+(\d+)$/m), involuntary: get(/^nonvoluntary_ctxt_switches:\s+(\d+)$/m) };
  } catch {
    return { voluntary: 0, involuntary: 0 };
  }
}

/** The pid and all its live descendants. */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p);
  return out;
}

/** The command name of a pid ('' when gone). */
function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * CPU ticks of the tree: live processes' own + reaped children (cutime/cstime of the root covers exited
 * ones), and the same by command name (`node` is the agent, with the children it reaped; `ip` is the
 * `ip netns exec` wrapper).
 */
function treeTicks(root: number): { ticks: number; procs: number; byComm: Map<string, number> } {
  const pids = tree(root);
  const byComm = new Map<string, number>();
  for (const p of pids) {
    const c = commOf(p);
    byComm.set(c, (byComm.get(c) ?? 0) + ticksOf(p));
  }
  return { ticks: pids.reduce((s, p) => s + ticksOf(p), 0), procs: pids.length, byComm };
}

function pct(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Start {
  readonly sport: number;
  readonly firstPacketEpochUs: number;
  readonly reportedUs: number;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:agent needs root (network namespaces)');
  teardownNetns();
  setupNetns();
  const children: ChildProcess[] = [];
  const starts: Start[] = [];
  let events = 0;
  /** events messages by what they carry: a start; else progress; else ends only; else acknowledgements only */
  const eventsBy = { starts: 0, progress: 0, ends: 0, enforced: 0 };
  let agentSock: Socket | undefined;
  let seq = 0;
  const server = createServer((s) => {
    agentSock = s;
    const rl = createInterface({ input: s });
    rl.on('line', (line) => {
      const now = nowEpochUs();
      const msg = parseAgentMessage(line);
      if (msg.type === 'hello') {
        const w: WelcomeMsg = {
          type: 'welcome', agentId: msg.agentId, heartbeatMs: 1000, smallFlowletBytes: 50_000,
          thresholds: { thresholdsBytes: [100_000, 1_000_000, 10_000_000], dscpByPriority: [46, 26, 10, 0] },
        };
        s.write(encodeLine(w));
      } else if (msg.type === 'events') {
        events++;
        eventsBy[msg.starts.length > 0 ? 'starts' : msg.progress.length > 0 ? 'progress' : msg.ends.length > 0 ? 'ends' : 'enforced']++;
        for (const st of msg.starts) starts.push({ sport: st.flow.sport, firstPacketEpochUs: st.firstPacketEpochUs, reportedUs: now });
        // as the controller does: a rate for each flowlet past the threshold, none at an end (the agent
        // removed the limit itself)
        const rates: RatesMsg = { type: 'rates', seq: seq++, set: msg.progress.map((p) => ({ id: p.id, rateBps: 50e6 })), clear: [] };
        if (rates.set.length > 0) s.write(encodeLine(rates));
      } else if (msg.type === 'ping') s.write(encodeLine({ type: 'ping', atEpochUs: now }));
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((res) => server.listen(SOCK, res));
  try {
    const node = process.execPath;
    const agent = spawn('ip', ['netns', 'exec', NSA, node, ...NODE_ARGS, RIVULET, 'agent', '--controller', `unix:${SOCK}`, '--interface', DEVA,
      '--api-port', '0', '--link-rate', LINK, '--log-level', 'warn', ...AGENT_ARGS], { stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(agent);
    const sinkP = spawn('ip', ['netns', 'exec', NSB, node, `${ROOT}dist/bench/agent-traffic.js`, 'sink', '--port', '5001'], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(sinkP);
    for (let i = 0; i < 100 && !agentSock; i++) await new Promise((r) => setTimeout(r, 100));
    if (!agentSock) throw new Error('the agent did not connect');
    await new Promise((r) => setTimeout(r, 1500)); // agent set up (qdisc, nft), sink listening
    const idle0 = treeTicks(agent.pid!);
    await new Promise((r) => setTimeout(r, 3000));
    const idle1 = treeTicks(agent.pid!);
    const flows = new Map<number, { sizeBytes: number; firstWriteUs: number }>();
    const gen = spawn('ip', ['netns', 'exec', NSA, node, `${ROOT}dist/bench/agent-traffic.js`, 'send', '--dst', '10.98.0.2', '--port', '5001',
      '--offered', OFFERED, '--seconds', String(WARMUP_SECONDS + SECONDS), '--seed', SEED, '--size-scale', SIZE_SCALE], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(gen);
    /** the measured window's start, µs since the epoch (flows from then on are counted) */
    let windowUs = Infinity;
    createInterface({ input: gen.stdout! }).on('line', (l) => {
      const f = JSON.parse(l) as { sport: number; sizeBytes: number; firstWriteUs: number };
      if (f.firstWriteUs >= windowUs) flows.set(f.sport, f);
    });
    if (WARMUP_SECONDS > 0) await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
    windowUs = nowEpochUs();
    const startsBefore = starts.length;
    const eventsBefore = events;
    const eventsBy0 = { ...eventsBy };
    const t0 = performance.now();
    const c0 = treeTicks(agent.pid!);
    const us0 = userSysOf(agent.pid!);
    const sw0 = switchesOf(agent.pid!);
    const th0 = threadTicksOf(agent.pid!);
    let peakProcs = 0;
    const sampler = setInterval(() => (peakProcs = Math.max(peakProcs, tree(agent.pid!).length)), 500);
    await new Promise((r) => gen.once('exit', r));
    clearInterval(sampler);
    const c1 = treeTicks(agent.pid!);
    const us1 = userSysOf(agent.pid!);
    const sw1 = switchesOf(agent.pid!);
    const th1 = threadTicksOf(agent.pid!);
    const wallS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 500));
    const bytes = [...flows.values()].reduce((s, f) => s + f.sizeBytes, 0);
    const lat: number[] = [];
    const own: number[] = [];
    const seen = new Set<number>();
    const windowStarts = starts.slice(startsBefore);
    for (const st of windowStarts) {
      const f = flows.get(st.sport);
      if (!f || seen.has(st.sport)) continue;
      seen.add(st.sport);
      lat.push((st.reportedUs - f.firstWriteUs) / 1000);
      own.push((st.reportedUs - st.firstPacketEpochUs) / 1000);
    }
    lat.sort((a, b) => a - b);
    own.sort((a, b) => a - b);
    const r = {
      agentArgs: AGENT_ARGS.join(' '), nodeArgs: NODE_ARGS.join(' '), rivulet: RIVULET, loadAvg1: loadavg()[0], seconds: SECONDS, offered: OFFERED, linkRate: LINK, seed: Number(SEED), sizeScale: Number(SIZE_SCALE),
      cpuPctOfCore: (((c1.ticks - c0.ticks) / CLK_TCK) / wallS) * 100,
      cpuPctOfCoreByProcess: Object.fromEntries([...c1.byComm].map(([k, v]) => [k, Math.round(((((v - (c0.byComm.get(k) ?? 0)) / CLK_TCK) / wallS) * 100) * 100) / 100])),
      agentUserSysPctOfCore: { user: (((us1.user - us0.user) / CLK_TCK) / wallS) * 100, sys: (((us1.sys - us0.sys) / CLK_TCK) / wallS) * 100 },
      agentThreadsPctOfCore: Object.fromEntries([...th1].map(([k, v]) => [k, Math.round(((((v - (th0.get(k) ?? 0)) / CLK_TCK) / wallS) * 100) * 100) / 100])),
      agentSwitchesPerS: (sw1.voluntary + sw1.involuntary - sw0.voluntary - sw0.involuntary) / wallS,
      agentWakeupsPerS: (sw1.voluntary - sw0.voluntary) / wallS,
      idleCpuPctOfCore: (((idle1.ticks - idle0.ticks) / CLK_TCK) / 3) * 100,
      peakProcesses: peakProcs,
      flows: flows.size, sentMbit: (bytes * 8) / 1e6, sentMbps: (bytes * 8) / 1e6 / wallS,
      warmupSeconds: WARMUP_SECONDS, flowletStarts: windowStarts.length, eventsMessages: events - eventsBefore,
      eventsMessagesBy: Object.fromEntries(Object.entries(eventsBy).map(([k, v]) => [k, v - eventsBy0[k as keyof typeof eventsBy]])), flowsReported: seen.size,
      firstWriteToReportedMs: { p50: pct(lat, 0.5), p99: pct(lat, 0.99) },
      agentFirstPacketToReportedMs: { p50: pct(own, 0.5), p99: pct(own, 0.99) },
    };
    if (JSON_OUT) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      const f = (x: number | null): string => (x === null ? '—' : x.toFixed(2));
      process.stdout.write(
        `agent ${r.agentArgs || '(default)'} [node ${r.nodeArgs || '(no flags)'}] [load ${r.loadAvg1.toFixed(1)}]: ${r.cpuPctOfCore.toFixed(2)}% of a core over ${wallS.toFixed(1)} s (idle ${r.idleCpuPctOfCore.toFixed(2)}%), ` +
        `peak ${r.peakProcesses} processes; ${r.flows} flows (sizes × ${r.sizeScale}), ${r.sentMbps.toFixed(1)} Mbit/s offered on average; ` +
        `by process ${JSON.stringify(r.cpuPctOfCoreByProcess)} (agent's node: user ${f(r.agentUserSysPctOfCore.user)}, system ${f(r.agentUserSysPctOfCore.sys)}, ` +
        `by thread ${JSON.stringify(r.agentThreadsPctOfCore)}, main thread ${r.agentSwitchesPerS.toFixed(0)} context switches/s, ${r.agentWakeupsPerS.toFixed(0)} of them voluntary: wake-ups); ${r.flowletStarts} flowlet starts (${r.eventsMessages} events messages: with starts / else progress / else ends / acknowledgements only ${Object.values(r.eventsMessagesBy).join(' / ')}), ${r.flowsReported} flows reported; first write → reported p50 ${f(r.firstWriteToReportedMs.p50)} ms, ` +
        `p99 ${f(r.firstWriteToReportedMs.p99)} ms (agent's own stamp → reported p50 ${f(r.agentFirstPacketToReportedMs.p50)}, p99 ${f(r.agentFirstPacketToReportedMs.p99)})\n`,
      );
    }
  } finally {
    for (const c of children.reverse()) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        const exited = new Promise((r) => c.once('exit', r));
        try {
          process.kill(c.pid, 'SIGTERM');
        } catch {
          // gone
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
    }
    server.close();
    teardownNetns();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench:agent failed: ${(err as Error).stack ?? String(err)}\n`);
  teardownNetns();
  process.exit(1);
});
