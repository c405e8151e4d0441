/**
 * `rivulet trace FILE.pcap [--gap-us 500] [--queues 4] [--load 0.6] [--sizes flows|flowlets] [--json]`
 * (README.md "CLI"): the flows of a capture (directional 5-tuples: payload bytes, packets, duration), their
 * flowlets (split where the sender is idle longer than the gap, PIAS's 500 µs by default), the flow-size
 * distribution (percentiles and CDF points) and the PIAS demotion thresholds it implies for K queues at
 * load ρ (apps/qos/thresholds). A human-readable report by default, one JSON object with --json.
 *
 * A flow's size is its payload: for TCP the bytes of the reassembled stream (each sequence number once —
 * retransmissions do not count; bytes the capture missed do, from the sequence numbers), for UDP the sum of
 * datagram payloads. Exit status 2 with one line on stderr for an unreadable file or a bad option.
 */
import type { Command } from 'commander';
import { loadCapture, flowKeyString, type Capture, type FlowRecord } from '../../lib/packet/pcap.js';
import {
  cdfPoints, checkOptions, DEFAULT_FLOWLET_GAP_US, fromSamples, optimizeThresholds, quantile, splitFlowlets,
  ThresholdError, type CdfPoint, type Flowlet, type ThresholdResult,
} from '../../apps/qos/thresholds/index.js';

export interface TraceOptions {
  /** idle gap that ends a flowlet, µs */
  readonly gapUs: number;
  readonly queues: number;
  readonly load: number;
  /** the sizes the distribution and thresholds are computed from */
  readonly sizes: 'flows' | 'flowlets';
}

export const DEFAULT_TRACE_OPTIONS: TraceOptions = { gapUs: DEFAULT_FLOWLET_GAP_US, queues: 4, load: 0.6, sizes: 'flows' };

/** One direction of one flow. Times in µs since the epoch. */
export interface TraceFlow {
  readonly proto: number;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** the flow's size: payload bytes, retransmissions counted once (see the file comment) */
  readonly bytes: number;
  /** payload bytes of every captured packet, retransmissions included */
  readonly capturedPayloadBytes: number;
  /** IP bytes of every captured packet */
  readonly ipBytes: number;
  readonly packets: number;
  readonly firstTsUs: number;
  readonly durationUs: number;
  readonly flowlets: readonly Flowlet[];
}

/** Summary of a set of sizes (bytes). */
export interface SizeSummary {
  readonly of: 'flows' | 'flowlets';
  readonly count: number;
  readonly meanBytes: number;
  /** nearest-rank percentiles: p10 … p99, max */
  readonly percentiles: Readonly<Record<string, number>>;
  /** (bytes, P(size ≤ bytes)); a repeated size is a jump */
  readonly cdf: readonly CdfPoint[];
}

export interface TraceReport {
  readonly records: number;
  readonly ipPackets: number;
  readonly firstTsUs: number | null;
  readonly durationUs: number;
  readonly options: TraceOptions;
  readonly flows: readonly TraceFlow[];
  readonly flowlets: { readonly count: number; readonly sizes: SizeSummary | null; readonly durationUsP50: number | null };
  readonly distribution: SizeSummary | null;
  readonly thresholds: ThresholdResult | null;
  readonly warnings: readonly string[];
}

const PERCENTILES = [10, 25, 50, 75, 90, 95, 99];

/** The trace report of a parsed capture (pure). Options are checked by the caller ({@link checkTraceOptions}). */
export function analyzeTrace(capture: Capture, opts: TraceOptions = DEFAULT_TRACE_OPTIONS): TraceReport {
  const payloads = payloadsByFlow(capture);
  const streamBytes = tcpStreamBytes(capture);
  const flows = capture.flows.map((f) => traceFlow(f, payloads.get(flowKeyString(f.key)) ?? [], streamBytes, opts.gapUs));
  const flowlets = flows.flatMap((f) => f.flowlets);
  const flowSizes = flows.map((f) => f.bytes).filter((b) => b > 0);
  const flowletSizes = flowlets.map((f) => f.bytes);
  const sizes = opts.sizes === 'flows' ? flowSizes : flowletSizes;
  const distribution = summarize(opts.sizes, sizes);
  let first: number | null = null;
  let last = 0;
  for (const p of capture.packets) {
    first = first === null ? p.tsUs : Math.min(first, p.tsUs);
    last = Math.max(last, p.tsUs);
  }
  const warnings = capture.errors.map((e) => e.message);
  let thresholds: ThresholdResult | null = null;
  if (sizes.length > 0) thresholds = optimizeThresholds(fromSamples(sizes), { queues: opts.queues, load: opts.load });
  else warnings.push(`no ${opts.sizes} with payload: no distribution and no thresholds`);
  return {
    records: capture.recordCount,
    ipPackets: capture.packets.filter((p) => p.ip).length,
    firstTsUs: first,
    durationUs: first === null ? 0 : last - first,
    options: opts,
    flows,
    flowlets: {
      count: flowlets.length,
      sizes: summarize('flowlets', flowletSizes),
      durationUsP50: flowlets.length ? nearestRank(flowlets.map((f) => f.endUs - f.startUs), 50) : null,
    },
    distribution,
    thresholds,
    warnings,
  };
}

function traceFlow(f: FlowRecord, payloads: readonly number[], streamBytes: ReadonlyMap<string, number>, gapUs: number): TraceFlow {
  const captured = payloads.reduce((s, b) => s + b, 0);
  const k = f.key;
  return {
    proto: k.proto,
    src: k.src,
    srcPort: k.srcPort,
    dst: k.dst,
    dstPort: k.dstPort,
    bytes: k.proto === 6 ? (streamBytes.get(flowKeyString(k)) ?? captured) : captured,
    capturedPayloadBytes: captured,
    ipBytes: f.bytes,
    packets: f.packets,
    firstTsUs: f.firstTsUs,
    durationUs: f.lastTsUs - f.firstTsUs,
    flowlets: splitFlowlets(f.timesUs, payloads, gapUs),
  };
}

/** Per flow key, each IP packet's transport payload length, in capture order (aligned with FlowRecord.timesUs). */
function payloadsByFlow(capture: Capture): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of capture.packets) {
    if (!p.ip) continue;
    const l4 = p.tcp ?? p.udp;
    const key = flowKeyString({ proto: p.ip.proto, src: p.ip.src, srcPort: l4?.srcPort ?? 0, dst: p.ip.dst, dstPort: l4?.dstPort ?? 0 });
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(l4?.payloadLen ?? 0);
  }
  return out;
}

/** Per TCP flow key, the stream's length (reassembled bytes plus uncaptured gaps), summed over connections. */
function tcpStreamBytes(capture: Capture): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of capture.connections) {
    for (const s of [c.toServer, c.toClient]) {
      const len = s.runs.reduce((n, r) => n + r.data.length, 0) + s.gaps.reduce((n, g) => n + g.length, 0);
      const key = flowKeyString({ proto: 6, src: s.src.ip, srcPort: s.src.port, dst: s.dst.ip, dstPort: s.dst.port });
      out.set(key, (out.get(key) ?? 0) + len);
    }
  }
  return out;
}

function nearestRank(values: readonly number[], pct: number): number {
  const xs = [...values].sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((pct / 100) * xs.length) - 1))]!;
}

function summarize(of: 'flows' | 'flowlets', sizes: readonly number[]): SizeSummary | null {
  const xs = sizes.filter((s) => s > 0);
  if (xs.length === 0) return null;
  const d = fromSamples(xs);
  const percentiles: Record<string, number> = {};
  for (const p of PERCENTILES) percentiles[`p${p}`] = quantile(d, p / 100);
  percentiles['max'] = d.maxBytes;
  return { of, count: xs.length, meanBytes: d.meanBytes, percentiles, cdf: cdfPoints(d, 100) };
}

// ----------------------------------------------------------------------------------------------- edge

/** Registers the `trace` sub-command on the `rivulet` program. */
export function register(program: Command): void {
  program
    .command('trace')
    .description('flows, flowlets, the flow-size distribution and the PIAS priority thresholds of a pcap capture')
    .argument('<file>', 'a libpcap capture (tcpdump -w)')
    .option('--gap-us <us>', 'idle gap that ends a flowlet, µs', String(DEFAULT_TRACE_OPTIONS.gapUs))
    .option('--queues <k>', 'priority queues K (1-8)', String(DEFAULT_TRACE_OPTIONS.queues))
    .option('--load <rho>', 'bottleneck load ρ in (0, 1)', String(DEFAULT_TRACE_OPTIONS.load))
    .option('--sizes <what>', 'distribution of "flows" or "flowlets"', DEFAULT_TRACE_OPTIONS.sizes)
    .option('--json', 'one JSON object instead of the report')
    .action(async (file: string, o: { gapUs: string; queues: string; load: string; sizes: string; json?: boolean }) => {
      const code = await runTrace(file, o, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
      if (!process.exitCode) process.exitCode = code;
    });
}

/** Parses and checks the command's options; a one-line reason when they are bad. */
export function checkTraceOptions(o: { gapUs?: string; queues?: string; load?: string; sizes?: string }): TraceOptions | string {
  const num = (v: string | undefined, dflt: number): number => (v === undefined ? dflt : v.trim() === '' ? NaN : Number(v));
  const gapUs = num(o.gapUs, DEFAULT_TRACE_OPTIONS.gapUs);
  if (!(gapUs >= 0) || !Number.isFinite(gapUs)) return `bad --gap-us "${o.gapUs}": expected microseconds ≥ 0`;
  const sizes = o.sizes ?? DEFAULT_TRACE_OPTIONS.sizes;
  if (sizes !== 'flows' && sizes !== 'flowlets') return `bad --sizes "${o.sizes}": expected flows or flowlets`;
  const opts: TraceOptions = { gapUs, queues: num(o.queues, DEFAULT_TRACE_OPTIONS.queues), load: num(o.load, DEFAULT_TRACE_OPTIONS.load), sizes };
  try {
    checkOptions(opts);
  } catch (e) {
    if (e instanceof ThresholdError) return e.code === 'BAD_QUEUE_COUNT' ? `bad --queues "${o.queues}": expected an integer in 1..8` : `bad --load "${o.load}": expected a number in (0, 1)`;
    throw e;
  }
  return opts;
}

/**
 * The command's body with its outputs injected (for tests).
 * @returns the exit status: 0 on success, 2 for an unreadable file or a bad option
 */
export async function runTrace(
  file: string,
  rawOpts: { gapUs?: string; queues?: string; load?: string; sizes?: string; json?: boolean },
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const opts = checkTraceOptions(rawOpts);
  if (typeof opts === 'string') {
    err(`rivulet trace: ${opts}\n`);
    return 2;
  }
  const loaded = await loadCapture(file);
  if (!loaded.ok) {
    err(`rivulet trace: cannot read ${file}: ${loaded.error.message.split('\n')[0]}\n`);
    return 2;
  }
  const report = analyzeTrace(loaded.value, opts);
  for (const w of report.warnings) err(`rivulet trace: warning: ${w}\n`);
  out(rawOpts.json ? JSON.stringify({ file, ...report }) + '\n' : formatReport(file, report));
  return 0;
}

const PROTO: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6' };
const MAX_TABLE_FLOWS = 50;

/** The human-readable report. */
export function formatReport(file: string, r: TraceReport): string {
  const o = r.options;
  const L: string[] = [];
  const ep = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]` : ip) + (port ? `:${port}` : '');
  L.push(`${file}: ${r.records} records, ${r.ipPackets} IP packets over ${(r.durationUs / 1e6).toFixed(6)} s; ` +
    `${r.flows.length} directional flows, ${r.flowlets.count} flowlets (idle gap ${o.gapUs} µs)`);
  L.push('');
  L.push('flows (bytes = payload, each TCP byte once):');
  L.push(row(['#', 'proto', 'source', 'destination', 'bytes', 'packets', 'duration s', 'flowlets']));
  r.flows.slice(0, MAX_TABLE_FLOWS).forEach((f, i) => {
    L.push(row([String(i + 1), PROTO[f.proto] ?? String(f.proto), ep(f.src, f.srcPort), ep(f.dst, f.dstPort), String(f.bytes),
      String(f.packets), (f.durationUs / 1e6).toFixed(6), String(f.flowlets.length)]));
  });
  if (r.flows.length > MAX_TABLE_FLOWS) L.push(`  … ${r.flows.length - MAX_TABLE_FLOWS} more flows (all of them with --json)`);
  L.push('');
  if (r.flowlets.sizes) L.push(`flowlets: ${r.flowlets.count}; ${summaryLine(r.flowlets.sizes)}; median duration ${r.flowlets.durationUsP50} µs`);
  const d = r.distribution;
  if (d) {
    L.push(`${o.sizes === 'flows' ? 'flow' : 'flowlet'}-size distribution (${d.count} ${o.sizes} with payload): ${summaryLine(d)}`);
    L.push('  CDF (bytes  P(size ≤ bytes)):');
    for (const p of thinned(d.cdf, 20)) L.push(`    ${String(p.bytes).padStart(12)}  ${p.p.toFixed(4)}`);
  }
  const t = r.thresholds;
  if (t) {
    L.push('');
    L.push(`PIAS demotion thresholds for ${t.queues} queue${t.queues > 1 ? 's' : ''} at load ${t.load} (M/G/1 multi-level queue, minimum mean FCT):`);
    L.push(`  thresholds (bytes): ${t.thresholds.length ? t.thresholds.join(', ') : t.queues === 1 ? 'none (one queue)' : 'none (a single queue is best)'}`);
    for (const s of t.shares) {
      const range = `${s.fromBytes === 0 ? '0' : s.fromBytes} < size ≤ ${s.toBytes ?? '∞'}`;
      L.push(`  queue ${s.queue}: ${range.padEnd(28)} ${(100 * s.flowFraction).toFixed(1).padStart(5)}% of ${o.sizes}, ${(100 * s.byteFraction).toFixed(1).padStart(5)}% of bytes`);
    }
    L.push(`  expected FCT ${(t.objective / t.meanFlowBytes).toFixed(4)} × the mean size's transmission time (FIFO: ${(t.fifoObjective / t.meanFlowBytes).toFixed(4)})`);
  }
  return L.join('\n') + '\n';
}

function summaryLine(s: SizeSummary): string {
  const p = s.percentiles;
  return `mean ${Math.round(s.meanBytes)} B, p10 ${p['p10']}, p50 ${p['p50']}, p90 ${p['p90']}, p99 ${p['p99']}, max ${p['max']}`;
}

function thinned<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(xs[Math.round((i * (xs.length - 1)) / (n - 1))]!);
  return out;
}

function row(cells: readonly string[]): string {
  const widths = [4, 6, 24, 24, 12, 8, 12, 8];
  return '  ' + cells.map((c, i) => (i >= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' ');
}
