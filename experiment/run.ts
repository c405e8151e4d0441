/**
 * `rivulet experiment run` (the I/O shell): runs one workload under each scheme, one after another, on a
 * fresh Mininet fabric of the same shape with a fresh controller (and fresh agents) per scheme, then
 * writes the results directory:
 *
 *   manifest.json   git commit, spec, seed, shape, rates, machine (cores, kernel, OVS, Node), start/end,
 *                   per-scheme: controller config, base RTT, CPU per process tree, machine busy fraction,
 *                   `comparable` (false with a reason when the machine was > 85% busy)
 *   plan.json       the generated flows (the same for every scheme)
 *   flows.csv       one row a flow and scheme (experiment/collect.ts)
 *   received.csv    the receivers' per-tenant byte counts over time, one row a count (runs with tenants)
 *   summary.json    the metrics per scheme (experiment/metrics.ts) and the extra rows
 *   table.md, *.svg, *.png
 *   <scheme>/       traffic logs (JSON lines per host), flowlets.jsonl (the controller's ended flowlets,
 *                   streamed during the run), snapshots of /qos, /allocator, /agents, /metrics and of the interfaces' drop
 *                   counters (interfaces.json: OVS, switch-side veths, each host's link),
 *                   controller.log, agents/
 *
 * Link shaping is the same in every scheme: every switch port is shaped by the controller's QoS (OVS
 * linux-htb at the link rate, strict-priority queues, `bufferPackets` deep), the host end of every host
 * link by an HTB root at the link rate (the agent's own in agent schemes, the same `tc` lines installed
 * here for `ecmp`) over a `bufferPackets`-deep interface queue.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { fromCdfPoints, cdfPoints, formatCdf } from '../apps/qos/thresholds/index.js';
import { rootLines } from '../agent/tc.js';
import { startAgents, waitRegistered, type AgentSet } from '../testing/agents.js';
import { freePort, getJson, MininetFabric, repoRoot, startControllerCli, type CliController, type OvsTxBuffer } from '../testing/mininet.js';
import { waitUntil } from '../testing/until.js';
import { collectFlows, collectReceived, parseEvents, receivedToCsv, timeoutUs, toCsv, type TrafficEvent } from './collect.js';
import { machineTicks, sampleProcs, treeCpuS } from './cpu.js';
import { idealFctUs, percentile, summarize, type FlowResult, type ReceivedSample, type SchemeSummary } from './metrics.js';
import { formatTable, plotSpecs, writePlots, type TableRow } from './report.js';
import { declares, usesAgents, type ExperimentSpec, type Scheme } from './spec.js';
import { generateFlows, loadCdf, type FlowSpec, type WorkloadHost } from './workload.js';

export const BUSY_LIMIT = 0.85;
export const TRAFFIC_PORT = 5001;

export interface RunOptions {
  readonly spec: ExperimentSpec;
  readonly specFile: string;
  readonly outDir: string;
  readonly schemes: readonly Scheme[];
  readonly seed: number;
  /** keep only flows arriving in the first durationS seconds */
  readonly durationS?: number;
  /** progress: flows done so far of all schemes' flows, and a label */
  readonly onProgress?: (done: number, total: number, label: string) => void;
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface SchemeRun {
  readonly scheme: Scheme;
  readonly baseRttUs: number;
  readonly startAtMs: number;
  readonly endAtMs: number;
  readonly cpuS: Readonly<Record<string, number>>;
  readonly wallS: number;
  readonly machineBusy: number;
  readonly comparable: boolean;
  readonly reason?: string;
  readonly flowletsStreamed: number;
  /** the agents' report latency (first packet → reported to the controller) of the streamed flowlets, µs */
  readonly reportLatencyUs?: { readonly p50: number; readonly p99: number; readonly count: number };
  readonly config: Record<string, unknown>;
  readonly allocator?: Record<string, unknown>;
  /** ovs-vswitchd's transmit socket send buffer during the run (fabric.py raises it; undefined: not reported) */
  readonly ovsTxBuffer?: OvsTxBuffer;
}

/** The hosts of a leaf-spine fabric as fabric.py names them (h1.. leaf by leaf). */
export function fabricHosts(leaves: number, hostsPerLeaf: number): WorkloadHost[] {
  const out: WorkloadHost[] = [];
  for (let j = 1; j <= leaves; j++) for (let h = 1; h <= hostsPerLeaf; h++) out.push({ name: `h${(j - 1) * hostsPerLeaf + h}`, rack: j });
  return out;
}

/** The flows of a run (deterministic in spec and seed). */
export function planFlows(spec: ExperimentSpec, seed: number, durationS?: number): FlowSpec[] {
  const dist = loadCdf(readFileSync(spec.workload.cdf, 'utf8'));
  const hosts = fabricHosts(spec.fabric.leaves, spec.fabric.hostsPerLeaf);
  const flows = generateFlows({ ...spec.workload }, hosts, dist, spec.fabric.linkMbps * 1e6, seed);
  return durationS === undefined ? flows : flows.filter((f) => f.startUs <= durationS * 1e6);
}

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return '';
  }
};

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** The controller configuration of a scheme. */
export function schemeConfig(spec: ExperimentSpec, scheme: Scheme, seed: number, socketPath: string, scaledCdf: string): Record<string, unknown> {
  const linkBps = spec.fabric.linkMbps * 1e6;
  const cfg: Record<string, unknown> = {
    topology: { defaultCapacityBps: linkBps },
    routing: { seed },
    // ECN off: this kernel has no sch_red and no DCTCP (README "Limits"); its thresholds would not fit a shallow buffer anyway
    qos: { enabled: true, bufferPackets: spec.fabric.bufferPackets, ecn: { enabled: false, bySpeed: { '1G': 20, '10G': 20 } },
      ...(scheme === 'priority' ? { priorityThresholds: { cdfFile: scaledCdf, load: spec.workload.load } } : {}) },
    agents: { socketPath },
    enforcement: { mode: scheme === 'ecmp' ? 'agents' : scheme === 'priority' ? 'mark' : spec.enforcementMode },
    ...(scheme === 'flowtune' || scheme === 'maxmin' || scheme === 'fca' ? { allocator: { policy: scheme } } : {}),
    // a tenant's sending hosts are its members (fabric.py's flat addressing: host n is 10.0.<n div 256>.<n mod 256>),
    // so every flowlet of theirs is weighted, not only the first flowlet of a declared flow
    ...(spec.workload.tenants?.length ? { tenants: spec.workload.tenants.map((t) => ({ name: t.name, weight: t.weight,
      members: (t.hosts ?? []).map((h) => { const n = Number(h.slice(1)); return `10.0.${n >> 8}.${n & 255}`; }) })) } : {}),
  };
  return deepMerge(cfg, (spec.controller ?? {}) as Record<string, unknown>);
}

/** Runs every scheme; writes the results directory; returns the summaries. */
export async function runExperiment(o: RunOptions): Promise<{ summaries: SchemeSummary[]; table: string }> {
  const { spec, outDir } = o;
  mkdirSync(outDir, { recursive: true });
  const startedAt = new Date();
  const flows = planFlows(spec, o.seed, o.durationS);
  writeFileSync(join(outDir, 'plan.json'), JSON.stringify(flows));
  const dist = loadCdf(readFileSync(spec.workload.cdf, 'utf8'));
  const scaled = fromCdfPoints(cdfPoints(dist, 1000).map((p) => ({ bytes: p.bytes * spec.workload.sizeScale, p: p.p })));
  const scaledCdf = join(outDir, 'workload-scaled.cdf');
  writeFileSync(scaledCdf, formatCdf(scaled, `${spec.workload.cdf} × ${spec.workload.sizeScale}`, 1000));
  const root = repoRoot();
  const manifest: Record<string, unknown> = {
    name: spec.name, claim: spec.claim, spec, specFile: o.specFile, seed: o.seed, schemes: o.schemes,
    durationS: o.durationS ?? null, flows: flows.length,
    git: { commit: sh('git', ['-C', root, 'rev-parse', 'HEAD']), dirty: sh('git', ['-C', root, 'status', '--porcelain']) !== '' },
    fabric: { ...spec.fabric, shaping: 'controller QoS on switch ports + HTB at the host end' },
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? '', kernel: release(), ovs: sh('ovs-vsctl', ['--version']).split('\n')[0] ?? '', node: process.version },
    startedAt: startedAt.toISOString(),
    runs: [] as SchemeRun[],
  };
  const writeManifest = (): void => writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeManifest();
  const total = flows.length * o.schemes.length;
  const runs: SchemeRun[] = [];
  for (const [i, scheme] of o.schemes.entries()) {
    if (o.signal?.aborted) break;
    const run = await runScheme(o, scheme, flows, scaledCdf, (done) => o.onProgress?.(i * flows.length + done, total, scheme));
    runs.push(run);
    (manifest['runs'] as SchemeRun[]).push(run);
    writeManifest();
  }
  const baseRttUs = Math.min(...runs.map((r) => r.baseRttUs).filter((x) => x > 0), Infinity);
  const all: FlowResult[] = [];
  const received: ReceivedSample[] = [];
  for (const r of runs) {
    const c = collectScheme(o, r, flows, Number.isFinite(baseRttUs) ? baseRttUs : 1000);
    all.push(...c.flows);
    received.push(...c.received);
  }
  manifest['baseRttUs'] = baseRttUs;
  manifest['endedAt'] = new Date().toISOString();
  const comparable = runs.every((r) => r.comparable);
  manifest['comparable'] = comparable;
  if (!comparable) manifest['reason'] = runs.filter((r) => !r.comparable).map((r) => `${r.scheme}: ${r.reason}`).join('; ');
  writeManifest();
  writeFileSync(join(outDir, 'flows.csv'), toCsv(all));
  if (received.length > 0) writeFileSync(join(outDir, 'received.csv'), receivedToCsv(received));
  return report(outDir, all, spec, runs, received);
}

/**
 * Writes summary.json, table.md and the plots from the flows, the receivers' per-tenant counts (empty
 * when the run has no tenants) and the scheme runs; returns the table.
 */
export async function report(outDir: string, all: readonly FlowResult[], spec: ExperimentSpec, runs: readonly SchemeRun[],
  received: readonly ReceivedSample[] = []): Promise<{ summaries: SchemeSummary[]; table: string }> {
  const schemes = runs.map((r) => r.scheme);
  const weights = Object.fromEntries((spec.workload.tenants ?? []).map((t) => [t.name, t.weight]));
  const summaries = schemes.map((s) => summarize(s, all.filter((f) => f.scheme === s), spec.metrics.sizeBinsBytes, weights,
    received.filter((r) => r.scheme === s)));
  const extra = extraRows(runs);
  const notComparable = runs.filter((r) => !r.comparable);
  const table = formatTable(summaries, extra) + (notComparable.length > 0
    ? `\nNOT COMPARABLE: ${notComparable.map((r) => `${r.scheme} (${r.reason})`).join('; ')} — the machine was above ${BUSY_LIMIT * 100}% busy; do not read the ratios as the schemes' effect.\n`
    : '');
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify({ name: spec.name, claim: spec.claim, summaries, extra, comparable: notComparable.length === 0 }, null, 2));
  writeFileSync(join(outDir, 'table.md'), table);
  await writePlots(outDir, plotSpecs(all, schemes, spec.metrics.sizeBinsBytes, spec.name, spec.metrics.shareBinMs, received));
  return { summaries, table };
}

/** Rows measured outside the flows: CPU, machine busy, reaction, updates per flowlet. */
export function extraRows(runs: readonly SchemeRun[]): TableRow[] {
  const cpu = (r: SchemeRun, k: (name: string) => boolean): number =>
    Object.entries(r.cpuS).filter(([n]) => k(n)).reduce((s, [, v]) => s + v, 0) / Math.max(1e-9, r.wallS) * 100;
  const reaction = (r: SchemeRun, q: 'p50Us' | 'p99Us'): number => {
    const a = (r.allocator?.['reaction'] as { agent?: { p50Us?: number; p99Us?: number; count?: number } } | undefined)?.agent;
    return a && (a.count ?? 0) > 0 ? (a[q] ?? NaN) / 1000 : NaN;
  };
  const updates = (r: SchemeRun, to: 'agents' | 'meters'): number => {
    const u = r.allocator?.['updatesSent'] as { agents?: number; meters?: number } | undefined;
    return u && r.flowletsStreamed > 0 ? (u[to] ?? 0) / r.flowletsStreamed : NaN;
  };
  return [
    { metric: 'machine busy %', values: runs.map((r) => r.machineBusy * 100) },
    { metric: 'controller CPU % of a core', values: runs.map((r) => cpu(r, (n) => n === 'controller')) },
    { metric: 'agents CPU % of a core (all)', values: runs.map((r) => cpu(r, (n) => n.startsWith('agent:'))) },
    { metric: 'agent CPU % of a core (mean per agent)', values: runs.map((r) => {
      const n = Object.keys(r.cpuS).filter((k) => k.startsWith('agent:')).length;
      return n > 0 ? cpu(r, (k) => k.startsWith('agent:')) / n : NaN;
    }) },
    { metric: 'traffic CPU % of a core (all)', values: runs.map((r) => cpu(r, (n) => n.startsWith('traffic:'))) },
    { metric: 'ovs-vswitchd CPU % of a core', values: runs.map((r) => cpu(r, (n) => n === 'ovs-vswitchd')) },
    { metric: 'reaction p50 ms (agent)', values: runs.map((r) => reaction(r, 'p50Us')) },
    { metric: 'reaction p99 ms (agent)', values: runs.map((r) => reaction(r, 'p99Us')) },
    { metric: 'flowlet report latency p50 ms', values: runs.map((r) => (r.reportLatencyUs?.p50 ?? NaN) / 1000) },
    { metric: 'flowlet report latency p99 ms', values: runs.map((r) => (r.reportLatencyUs?.p99 ?? NaN) / 1000) },
    { metric: 'rate updates to agents per flowlet', values: runs.map((r) => updates(r, 'agents')) },
    { metric: 'meter updates per flowlet', values: runs.map((r) => updates(r, 'meters')) },
    { metric: 'flowlets reported', values: runs.map((r) => r.flowletsStreamed) },
  ];
}

function collectScheme(o: RunOptions, r: SchemeRun, flows: readonly FlowSpec[], baseRttUs: number): { flows: FlowResult[]; received: ReceivedSample[] } {
  const dir = join(o.outDir, r.scheme, 'traffic');
  const events: TrafficEvent[] = [];
  for (const h of fabricHosts(o.spec.fabric.leaves, o.spec.fabric.hostsPerLeaf)) {
    const f = join(dir, `${h.name}.jsonl`);
    if (existsSync(f)) events.push(...parseEvents(readFileSync(f, 'utf8')));
  }
  return {
    flows: collectFlows(flows, events, {
      scheme: r.scheme, bottleneckBps: o.spec.fabric.linkMbps * 1e6, baseRttUs, fresh: o.spec.workload.connections === 'fresh',
      timeoutFactor: o.spec.metrics.timeoutFactor, minTimeoutMs: o.spec.metrics.minTimeoutMs, startAtUs: r.startAtMs * 1000,
    }),
    received: collectReceived(r.scheme, events),
  };
}

/**
 * The fabric's interface counters where packets can be lost outside the tc queues (the QoS snapshot has
 * those): OVS's per-interface statistics (rx/tx dropped and errors of the userspace datapath) and the kernel's
 * link counters of the switch-side veths, both for this run's interfaces only (names starting with `prefix`).
 */
export function interfaceCounters(prefix: string): { ovs: Record<string, Record<string, number>>; kernel: Record<string, unknown> } {
  const ovs: Record<string, Record<string, number>> = {};
  try {
    const t = JSON.parse(sh('ovs-vsctl', ['--format=json', '--columns=name,statistics', 'list', 'Interface'])) as { data: [string, [string, [string, number][]]][] };
    for (const [name, [, stats]] of t.data) if (name.startsWith(prefix)) ovs[name] = Object.fromEntries(stats);
  } catch { /* not available */ }
  const kernel: Record<string, unknown> = {};
  try {
    const links = JSON.parse(sh('ip', ['-s', '-j', 'link', 'show'])) as { ifname: string; stats64?: unknown }[];
    for (const l of links) if (l.ifname.startsWith(prefix)) kernel[l.ifname] = l.stats64;
  } catch { /* not available */ }
  return { ovs, kernel };
}

function letters(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + Math.floor(Math.random() * 26));
  return s;
}

async function runScheme(o: RunOptions, scheme: Scheme, flows: readonly FlowSpec[], scaledCdf: string,
  progress: (done: number) => void): Promise<SchemeRun> {
  const { spec } = o;
  const dir = join(o.outDir, scheme);
  const trafficDir = join(dir, 'traffic');
  const snapDir = join(dir, 'snapshots');
  for (const d of [dir, trafficDir, snapDir, join(dir, 'agents')]) mkdirSync(d, { recursive: true });
  const socketPath = `/tmp/rivulet-exp-${process.pid}-${scheme}.sock`;
  const config = schemeConfig(spec, scheme, o.seed, socketPath, scaledCdf);
  const cfgFile = join(dir, 'controller.json');
  writeFileSync(cfgFile, JSON.stringify(config, null, 2));
  const ctlLog = join(dir, 'controller.log');
  const linkBps = spec.fabric.linkMbps * 1e6;
  let ctl: CliController | undefined;
  let fabric: MininetFabric | undefined;
  let agents: AgentSet | undefined;
  const trafficPids: { host: string; pid: number }[] = [];
  try {
    const ofPort = await freePort();
    ctl = await startControllerCli({ config: cfgFile, ofPort, logLevel: 'warn', onOutput: (l) => appendFileSync(ctlLog, l + '\n') });
    const api = ctl.api;
    o.log(`${scheme}: building the fabric (${spec.fabric.spines}×${spec.fabric.leaves}×${spec.fabric.hostsPerLeaf}, ${spec.fabric.linkMbps} Mbit/s)`);
    fabric = await MininetFabric.start({ spines: spec.fabric.spines, leaves: spec.fabric.leaves, hostsPerLeaf: spec.fabric.hostsPerLeaf,
      bwMbps: spec.fabric.linkMbps, shaping: 'controller', ofPort, prefix: `rx${letters(3)}` });
    const linkCount = 2 * spec.fabric.spines * spec.fabric.leaves;
    await waitUntil(async () => {
      const t = await getJson<{ ready: boolean; links: unknown[] }>(api, '/topology').catch(() => undefined);
      return t && t.ready && t.links.length >= linkCount;
    }, 60_000, `${linkCount} links discovered`, 250);
    // the discovery's probes were OVS's first transmits: its transmit socket exists, and fabric.py raises its buffer
    const ovsTxBuffer = await fabric.ovsTxBuffer();
    if (ovsTxBuffer?.state !== 'set' && ovsTxBuffer?.state !== 'off') {
      o.log(`${scheme}: WARNING ovs-vswitchd's transmit socket buffer not raised (${ovsTxBuffer?.state ?? 'not reported'}${ovsTxBuffer?.error ? `: ${ovsTxBuffer.error}` : ''}): OVS may drop frames uncounted once its queues fill`);
    }
    const hosts = fabric.topology.hosts;
    for (const h of hosts) {
      const dev = `${h.name}-eth0`;
      const lines = [`ip link set dev ${dev} txqueuelen ${spec.fabric.bufferPackets}`,
        ...(usesAgents(scheme) ? [] : rootLines(dev, linkBps).map((l) => `tc ${l}`))];
      const r = await fabric.exec(h.name, ['sh', '-c', lines.join(' && ')]);
      if (r.exitCode !== 0) throw new Error(`${h.name}: host shaping failed: ${r.stderr}`);
    }
    const pa = await fabric.pingall({ parallel: true, timeoutS: 2 });
    if (pa.received < pa.sent) o.log(`${scheme}: pingall ${pa.received}/${pa.sent} (continuing)`);
    const a = hosts[0]!;
    const b = hosts.find((h) => h.leaf !== a.leaf)!;
    const ping = await fabric.ping(a.name, b.name, { count: 10, intervalS: 0.1 });
    const baseRttUs = (ping.rttAvgMs ?? 1) * 1000;
    if (usesAgents(scheme)) {
      agents = await startAgents(fabric, hosts, { socketPath, logDir: join(dir, 'agents'), logLevel: 'warn' });
      await waitRegistered(api, hosts.map((h) => h.name), 60_000);
    }
    const startAtMs = Date.now() + 3000 + 700 * hosts.length;
    const planFile = join(dir, 'traffic-plan.json');
    writeFileSync(planFile, JSON.stringify({
      startAtMs, port: TRAFFIC_PORT, connections: spec.workload.connections,
      ...(declares(spec, scheme) ? { agentApi: 'http://127.0.0.1:7070' } : {}),
      hosts: Object.fromEntries(hosts.map((h) => [h.name, h.ip])), flows,
    }));
    const cli = join(repoRoot(), 'bin', 'rivulet.js');
    for (const h of hosts) {
      const { pid } = await fabric.spawn(h.name, [process.execPath, cli, 'traffic', '--plan', planFile, '--host', h.name, '--out', join(trafficDir, `${h.name}.jsonl`)],
        join(trafficDir, `${h.name}.log`));
      trafficPids.push({ host: h.name, pid });
    }
    o.log(`${scheme}: ${flows.length} flows from ${new Date(startAtMs).toISOString()}`);
    while (Date.now() < startAtMs - 200) await sleep(100);
    const procs0 = sampleProcs();
    const m0 = machineTicks();
    const t0 = Date.now();
    // deadlines: each flow's start + its timeout (+ 1 s for the logs)
    const deadlineMs = new Map(flows.map((f) => {
      const ideal = idealFctUs({ sizeBytes: f.sizeBytes, bottleneckBps: linkBps, baseRttUs, fresh: spec.workload.connections === 'fresh' });
      return [f.id, startAtMs + (f.startUs + timeoutUs(ideal, spec.metrics)) / 1000 + 1000];
    }));
    const seenFlowlets = new Set<string>();
    const reportUs: number[] = [];
    const flowletsFile = join(dir, 'flowlets.jsonl');
    for (;;) {
      await sleep(1000);
      const ended = new Set<number>();
      for (const h of hosts) {
        const f = join(trafficDir, `${h.name}.jsonl`);
        if (!existsSync(f)) continue;
        for (const e of parseEvents(readFileSync(f, 'utf8'))) if (e.ev === 'end' && e.id !== undefined) ended.add(e.id);
      }
      progress(ended.size);
      if (usesAgents(scheme)) {
        const body = await getJson<{ flowlets: Record<string, unknown>[] }>(api, '/flowlets?state=ended').catch(() => ({ flowlets: [] }));
        const fresh = body.flowlets.filter((f) => {
          const k = `${String(f['agentId'] ?? f['agent'])}|${String(f['id'])}|${String(f['firstPacketEpochUs'])}`;
          if (seenFlowlets.has(k)) return false;
          seenFlowlets.add(k);
          const first = Number(f['firstPacketEpochUs']);
          const reported = Number(f['reportedEpochUs']);
          if (Number.isFinite(first) && Number.isFinite(reported) && reported >= first) reportUs.push(reported - first);
          return true;
        });
        if (fresh.length > 0) appendFileSync(flowletsFile, fresh.map((f) => JSON.stringify(f)).join('\n') + '\n');
      }
      const now = Date.now();
      if (o.signal?.aborted) break;
      if (flows.every((f) => ended.has(f.id) || now > deadlineMs.get(f.id)!)) break;
    }
    const wallS = (Date.now() - t0) / 1000;
    const procs1 = sampleProcs();
    const m1 = machineTicks();
    const machineBusy = (m1[0] - m0[0]) / Math.max(1, m1[1] - m0[1]);
    const cpuS: Record<string, number> = { controller: treeCpuS(procs0, procs1, ctl.child.pid!) };
    for (const t of trafficPids) cpuS[`traffic:${t.host}`] = treeCpuS(procs0, procs1, t.pid);
    for (const ag of agents?.agents ?? []) cpuS[`agent:${ag.host.name}`] = treeCpuS(procs0, procs1, ag.pid);
    const ovsPid = Number(sh('cat', ['/var/run/openvswitch/ovs-vswitchd.pid']));
    if (ovsPid > 0) cpuS['ovs-vswitchd'] = treeCpuS(procs0, procs1, ovsPid);
    let allocator: Record<string, unknown> | undefined;
    for (const [name, path] of [['qos', '/qos'], ['allocator', '/allocator'], ['agents', '/agents'], ['flowlets-active', '/flowlets']] as const) {
      const body = await getJson<Record<string, unknown>>(api, path).catch((e: Error) => ({ error: e.message }));
      writeFileSync(join(snapDir, `${name}.json`), JSON.stringify(body, null, 2));
      if (name === 'allocator') allocator = body;
    }
    const hostLinks: Record<string, unknown> = {};
    for (const h of hosts) {
      const r = await fabric.exec(h.name, ['ip', '-s', '-j', 'link', 'show', 'dev', `${h.name}-eth0`]).catch(() => undefined);
      try { hostLinks[h.name] = (JSON.parse(r?.stdout ?? '') as { stats64?: unknown }[])[0]?.stats64; } catch { /* not available */ }
    }
    writeFileSync(join(snapDir, 'interfaces.json'), JSON.stringify({ ...interfaceCounters(fabric.prefix), hosts: hostLinks }, null, 2));
    const metrics = await fetch(api.replace(/\/api\/v1$/, '') + '/metrics').then((r) => r.text(), (e: Error) => `# ${e.message}`);
    writeFileSync(join(snapDir, 'metrics.txt'), metrics);
    const comparable = machineBusy <= BUSY_LIMIT;
    o.log(`${scheme}: done in ${wallS.toFixed(1)} s, machine ${(machineBusy * 100).toFixed(0)}% busy`);
    return {
      scheme, baseRttUs, startAtMs, endAtMs: Date.now(), cpuS, wallS, machineBusy, comparable,
      ...(comparable ? {} : { reason: `machine ${(machineBusy * 100).toFixed(0)}% busy (> ${BUSY_LIMIT * 100}%)` }),
      flowletsStreamed: seenFlowlets.size, config, ...(ovsTxBuffer ? { ovsTxBuffer } : {}),
      ...(reportUs.length > 0 ? { reportLatencyUs: { p50: percentile(reportUs, 50), p99: percentile(reportUs, 99), count: reportUs.length } } : {}), ...(allocator ? { allocator } : {}),
    };
  } finally {
    if (fabric) for (const t of trafficPids) await fabric.signal(t.pid, 'TERM', 5).catch(() => undefined);
    await agents?.stop().catch(() => undefined);
    await fabric?.stop();
    await ctl?.stop();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
