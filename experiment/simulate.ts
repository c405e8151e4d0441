/**
 * `rivulet simulate SPEC` (README.md "Experiments", "Simulation"): the experiment spec replayed by the fluid
 * simulator (experiment/fluid.ts) at Flowtune's scale — by default 4,608 servers at 10 Gbit/s (Flowtune §6)
 * — with the same generator (experiment/workload.ts: arrivals, sizes, pairs, transfers, tenants; sizes
 * unscaled, the spec's load), and the same results directory, metrics, table and plots as `experiment run`
 * (experiment/metrics.ts, experiment/report.ts), marked simulated:
 *
 *   manifest.json  `"simulated": true`, spec, seed, fabric (racks × servers, spines, rates), the model's
 *                  parameters (allocation interval, base RTT), per scheme events, rate computations, wall time
 *   plan.json, flows.csv, summary.json, table.md (titled SIMULATED), the plots
 *
 * FCT = the simulated transfer time + a fixed base RTT; ideal FCT = metrics.idealFctUs at the server link
 * rate with the same base RTT (the fluid flows carry the framing of full TCP segments, so a flow alone on
 * the fabric has slowdown 1).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { optimizeThresholds } from '../apps/qos/thresholds/index.js';
import { timeoutUs, toCsv } from './collect.js';
import { leafSpineFor, simulateFluid, type LeafSpine, type SimFlow, type SimScheme } from './fluid.js';
import { idealFctUs, summarize, type FlowResult, type SchemeSummary } from './metrics.js';
import { formatTable, plotSpecs, writePlots, type TableRow } from './report.js';
import type { ExperimentSpec } from './spec.js';
import { generateFlows, loadCdf, type FlowSpec, type WorkloadHost } from './workload.js';

/** Flowtune §6's scale. */
export const DEFAULT_SERVERS = 4608;
export const DEFAULT_LINK_GBPS = 10;
/** Base RTT of the two-tier 10 Gbit/s fabric, µs (added to every FCT and ideal FCT). */
export const DEFAULT_BASE_RTT_US = 10;
/** Rates are recomputed at most once per this much simulated time, µs. */
export const DEFAULT_INTERVAL_US = 10;
/** PIAS/Karuna queues of the `priority` scheme (the controller's default `qos.queues`). */
export const PRIORITY_QUEUES = 4;

export interface SimulateOptions {
  readonly spec: ExperimentSpec;
  readonly specFile: string;
  readonly outDir: string;
  readonly schemes: readonly SimScheme[];
  readonly seed: number;
  readonly servers: number;
  readonly linkGbps: number;
  /** flows of the run (default: the spec's) */
  readonly flows?: number;
  readonly intervalUs?: number;
  readonly baseRttUs?: number;
  /** maxmin nests flows under their tenant (fluid.ts `tenantGroups`) instead of weighting each flow */
  readonly tenantGroups?: boolean;
  /** progress: flows done so far of all schemes' flows, and the scheme */
  readonly onProgress?: (done: number, total: number, scheme: string) => void;
  readonly log?: (line: string) => void;
}

/** Per-scheme facts of a simulated run (manifest.json `runs`). */
export interface SimRun {
  readonly scheme: SimScheme;
  readonly events: number;
  readonly computations: number;
  readonly simulatedEndUs: number;
  readonly wallS: number;
  readonly thresholdsBytes?: readonly number[];
}

/** Servers named as experiment/run.ts names Mininet hosts (h1.., rack by rack), so specs naming hosts work unchanged. */
export function simHosts(f: LeafSpine): WorkloadHost[] {
  const out: WorkloadHost[] = [];
  for (let r = 0; r < f.racks; r++) for (let h = 0; h < f.serversPerRack; h++) out.push({ name: `h${r * f.serversPerRack + h + 1}`, rack: r + 1 });
  return out;
}

/** The generated flows of a simulated run: the spec's workload with unscaled sizes and `flows` flows. */
export function planSimFlows(spec: ExperimentSpec, fabric: LeafSpine, seed: number, flows = spec.workload.flows): FlowSpec[] {
  const dist = loadCdf(readFileSync(spec.workload.cdf, 'utf8'));
  return generateFlows({ ...spec.workload, sizeScale: 1, flows }, simHosts(fabric), dist, fabric.hostBps, seed);
}

/** The simulator's view of the plan: server indices, transfer and tenant indices, tenant weights. */
export function toSimFlows(plan: readonly FlowSpec[], spec: ExperimentSpec): SimFlow[] {
  const transfers = new Map<string, number>();
  const tenants = new Map((spec.workload.tenants ?? []).map((t, i) => [t.name, { index: i, weight: t.weight }]));
  const server = (name: string): number => Number(name.slice(1)) - 1;
  return plan.map((f) => {
    let transfer = -1;
    if (f.transfer !== undefined) {
      transfer = transfers.get(f.transfer) ?? transfers.size;
      transfers.set(f.transfer, transfer);
    }
    const t = f.tenant !== undefined ? tenants.get(f.tenant) : undefined;
    return { src: server(f.src), dst: server(f.dst), startUs: f.startUs, sizeBytes: f.sizeBytes, transfer, tenant: t?.index ?? -1, weight: t?.weight ?? 1 };
  });
}

/** The PIAS/Karuna demotion thresholds of the spec's (unscaled) distribution at its load. */
export function priorityThresholds(spec: ExperimentSpec): number[] {
  const dist = loadCdf(readFileSync(spec.workload.cdf, 'utf8'));
  return [...optimizeThresholds(dist, { queues: PRIORITY_QUEUES, load: spec.workload.load }).thresholds];
}

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return '';
  }
};

/** The title line of a simulated table. */
export function simTitle(spec: ExperimentSpec, seed: number,
  m: { fabric: LeafSpine; flows: number; intervalUs: number; baseRttUs: number; tenantGroups?: boolean }): string {
  const f = m.fabric;
  return `SIMULATED (fluid model, not measured) — ${spec.name} (seed ${seed}): ${f.racks * f.serversPerRack} servers ` +
    `(${f.racks} racks × ${f.serversPerRack}, ${f.spines} spines) at ${f.hostBps / 1e9} Gbit/s, uplinks ${f.uplinkBps / 1e9} Gbit/s, ` +
    `load ${spec.workload.load}, ${m.flows} flows, sizes unscaled, rates recomputed at most every ${m.intervalUs} µs, base RTT ${m.baseRttUs} µs; ` +
    'ecmp = idealised TCP (per-flow max-min on the pinned path)' + (m.tenantGroups ? '; maxmin nests flows under their tenant' : '');
}

/** Runs every scheme, writes the results directory, returns the summaries and the table. */
export async function runSimulation(o: SimulateOptions): Promise<{ summaries: SchemeSummary[]; table: string; title: string }> {
  const { spec } = o;
  const intervalUs = o.intervalUs ?? DEFAULT_INTERVAL_US;
  const baseRttUs = o.baseRttUs ?? DEFAULT_BASE_RTT_US;
  const fabric = leafSpineFor(o.servers, o.linkGbps * 1e9);
  mkdirSync(o.outDir, { recursive: true });
  const startedAt = new Date();
  const plan = planSimFlows(spec, fabric, o.seed, o.flows);
  const flows = toSimFlows(plan, spec);
  writeFileSync(join(o.outDir, 'plan.json'), JSON.stringify(plan));
  const thresholds = o.schemes.includes('priority') ? priorityThresholds(spec) : undefined;
  const runs: SimRun[] = [];
  const all: FlowResult[] = [];
  const total = flows.length * o.schemes.length;
  for (const [k, scheme] of o.schemes.entries()) {
    const t0 = process.hrtime.bigint();
    const r = simulateFluid(flows, {
      fabric, scheme, seed: o.seed, intervalUs, ...(scheme === 'priority' ? { thresholdsBytes: thresholds } : {}),
      ...(o.tenantGroups ? { tenantGroups: (spec.workload.tenants ?? []).map((t) => t.weight) } : {}),
      onProgress: (done) => o.onProgress?.(k * flows.length + done, total, scheme),
    });
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    runs.push({ scheme, events: r.events, computations: r.computations, simulatedEndUs: r.endUs, wallS,
      ...(scheme === 'priority' ? { thresholdsBytes: thresholds } : {}) });
    all.push(...simResults(scheme, plan, r.transferUs, fabric.hostBps, baseRttUs, spec));
    o.log?.(`${scheme}: ${r.events} events, ${r.computations} rate computations, ${(r.endUs / 1000).toFixed(1)} ms simulated in ${wallS.toFixed(1)} s`);
  }
  const title = simTitle(spec, o.seed, { fabric, flows: flows.length, intervalUs, baseRttUs, tenantGroups: o.tenantGroups === true });
  const manifest = {
    simulated: true, name: spec.name, claim: spec.claim, spec, specFile: o.specFile, seed: o.seed, schemes: o.schemes, flows: flows.length,
    fabric: { servers: fabric.racks * fabric.serversPerRack, ...fabric },
    model: {
      kind: 'fluid (flow-level) discrete-event simulation', intervalUs, baseRttUs, sizeScale: 1, tenantGroups: o.tenantGroups === true,
      ecmp: 'idealised TCP: per-flow max-min fair sharing on the pinned path',
      priority: `strict priority by the PIAS/Karuna demotion thresholds (${PRIORITY_QUEUES} queues), per-flow max-min within a class`,
      allocation: 'flowtune, maxmin, fca: Rivulet\'s policies (apps/allocator), one NED iteration per computation for flowtune',
      tenants: o.tenantGroups ? 'maxmin nests flows under their tenant (BwE hierarchy); flowtune and fca weight each flow by its tenant'
        : 'each flow weighs its tenant\'s weight (as the controller weights each flowlet)',
      paths: 'one seeded random equal-cost path (spine) per flow, the same in every scheme',
    },
    git: { commit: sh('git', ['rev-parse', 'HEAD']), dirty: sh('git', ['status', '--porcelain']) !== '' },
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? '', kernel: release(), node: process.version },
    startedAt: startedAt.toISOString(), endedAt: new Date().toISOString(), runs,
  };
  writeFileSync(join(o.outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(o.outDir, 'flows.csv'), toCsv(all));
  const r = await reportSimulation(o.outDir, all, spec, runs, title, fabric.hostBps);
  return { ...r, title };
}

/** The FlowResults of one scheme: FCT = transfer time + base RTT, censored like experiment/collect.ts when over the timeout. */
export function simResults(scheme: string, plan: readonly FlowSpec[], transferUs: Float64Array, hostBps: number, baseRttUs: number,
  spec: ExperimentSpec): FlowResult[] {
  return plan.map((f, i): FlowResult => {
    const idealUs = idealFctUs({ sizeBytes: f.sizeBytes, bottleneckBps: hostBps, baseRttUs, fresh: false });
    const limit = timeoutUs(idealUs, spec.metrics);
    const raw = transferUs[i]! + baseRttUs;
    const completed = Number.isFinite(raw) && raw <= limit;
    const fctUs = completed ? raw : limit;
    return {
      scheme, id: f.id, src: f.src, dst: f.dst, sizeBytes: f.sizeBytes, nominalBytes: f.nominalBytes, startUs: f.startUs,
      fctUs, idealUs, slowdown: fctUs / idealUs, transfer: f.transfer ?? '', tenant: f.tenant ?? '', completed,
      reason: completed ? '' : 'timeout', sport: 0,
    };
  });
}

/**
 * The tenant-shares plot bin: the spec's bin (chosen for Mininet's links and scaled sizes) shrunk by how much
 * faster a flow goes here (unscaled sizes at `hostBps` against scaled sizes at the spec's link rate).
 */
export function simShareBinMs(spec: ExperimentSpec, hostBps: number): number {
  return (spec.metrics.shareBinMs * spec.fabric.linkMbps * 1e6) / (spec.workload.sizeScale * hostBps);
}

/** Rows about the simulation itself. */
export function simExtraRows(runs: readonly SimRun[]): TableRow[] {
  return [
    { metric: 'simulated ms (to the last completion)', values: runs.map((r) => r.simulatedEndUs / 1000) },
    { metric: 'rate computations', values: runs.map((r) => r.computations) },
    { metric: 'simulator wall s', values: runs.map((r) => r.wallS) },
  ];
}

/** Writes summary.json, table.md (titled SIMULATED) and the plots; used by `simulate` and `experiment report` on a simulated directory. */
export async function reportSimulation(outDir: string, all: readonly FlowResult[], spec: ExperimentSpec, runs: readonly SimRun[],
  title: string, hostBps: number): Promise<{ summaries: SchemeSummary[]; table: string }> {
  const schemes = runs.map((r) => r.scheme);
  const weights = Object.fromEntries((spec.workload.tenants ?? []).map((t) => [t.name, t.weight]));
  const summaries = schemes.map((s) => summarize(s, all.filter((f) => f.scheme === s), spec.metrics.sizeBinsBytes, weights));
  const extra = simExtraRows(runs);
  const table = `${title}\n\n${formatTable(summaries, extra)}`;
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify({ simulated: true, name: spec.name, claim: spec.claim, title, summaries, extra }, null, 2));
  writeFileSync(join(outDir, 'table.md'), table);
  await writePlots(outDir, plotSpecs(all, schemes, spec.metrics.sizeBinsBytes, `${spec.name} (SIMULATED)`, simShareBinMs(spec, hostBps)));
  return { summaries, table };
}
