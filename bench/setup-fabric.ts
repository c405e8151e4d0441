/**
 * `npm run bench:setup-fabric` — flow-setup rate and latency of Rivulet on a fake leaf-spine fabric, with a
 * baseline measured in the same run.
 *
 * For each fabric shape: Rivulet (startRivulet, the same code as `rivulet controller`) runs in a worker
 * thread, so the controller has an event loop and a core of its own; a {@link FakeFabric} of real
 * OpenFlow 1.3 endpoints connects to it over loopback TCP. Once LLDP discovery has found every link and
 * every host has announced itself (gratuitous ARP), hosts send first packets of new TCP flows to hosts in
 * other racks as fast as the controller sets them up, with 1, 8 and 64 flows outstanding (closed loop,
 * see setup-load.ts). A flow is set up when its ADD FLOW_MODs have reached the ingress leaf, a spine
 * and the egress leaf, and the PACKET_OUT releasing its first packet has arrived.
 *
 * Baseline: ECHO_REQUEST round trips with the same number outstanding over the same switch sockets to
 * the same controller — a message the session answers without any app. "setups ÷ echo" is the flow
 * setup rate as a fraction of the bare round-trip rate (1 would mean routing is free; its inverse is how
 * many echo round trips one flow setup costs). These VMs are noisy: read the ratios.
 *
 * Also printed per level: event-loop utilization of the controller thread and of the fabric (this
 * process's main thread, the load generator), and the CPU time of the whole process in cores (both
 * threads, GC, kernel): on a 2-core VM a value near 2 means the machine, not Rivulet, is the limit.
 * The whole run is bounded (≈40 s, watchdog at 60 s) and stops everything it started.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { ConfigInput } from '../controller/config/index.js';
import { FakeFabric, type FabricShape } from '../testing/fake-fabric.js';
import { announceHosts, percentile, runEchoLoop, runFlowLoop, type EchoLoopResult, type FlowLoopResult } from './setup-load.js';
import type { ControllerStatus, WorkerReply } from './setup-controller.js';
import { pollUntil } from '../lib/until.js';


const SHAPES: readonly FabricShape[] = [
  { spines: 4, leaves: 8, hostsPerLeaf: 8 },
  { spines: 8, leaves: 24, hostsPerLeaf: 16 },
];
const LEVELS = [1, 8, 64] as const;
const FLOW_MS = 2500;
const ECHO_MS = 1000;
const WARMUP_MS = 800;
const SEED = 42;
const TOTAL_BUDGET_MS = 60_000;

/** The controller in its worker thread. */
class ControllerWorker {
  private readonly worker: Worker;
  private waiters: ((m: WorkerReply) => void)[] = [];
  private failure: string | undefined;

  constructor(config: ConfigInput) {
    this.worker = new Worker(new URL('./setup-controller.js', import.meta.url), { workerData: config });
    this.worker.on('message', (m: WorkerReply) => {
      if (m.type === 'failed') this.failure = m.message;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f(m);
    });
    this.worker.on('error', (err) => {
      this.failure = err.stack ?? err.message;
      for (const f of this.waiters.splice(0)) f({ type: 'failed', message: this.failure });
    });
  }

  private next(timeoutMs = 10_000): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(new Error(`controller worker failed: ${this.failure}`));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('controller worker did not answer')), timeoutMs);
      this.waiters.push((m) => {
        clearTimeout(t);
        if (m.type === 'failed') reject(new Error(`controller worker failed: ${m.message}`));
        else resolve(m);
      });
    });
  }

  async started(): Promise<number> {
    const m = await this.next(15_000);
    if (m.type !== 'started') throw new Error(`unexpected worker message ${m.type}`);
    return m.ofPort;
  }

  async status(): Promise<ControllerStatus> {
    const reply = this.next();
    this.worker.postMessage({ cmd: 'status' });
    const m = await reply;
    if (m.type !== 'status') throw new Error(`unexpected worker message ${m.type}`);
    return m;
  }

  async stop(): Promise<void> {
    const done = this.next(5000).catch(() => undefined);
    this.worker.postMessage({ cmd: 'stop' });
    await done;
    await this.worker.terminate();
  }
}

/** Waits for `cond` (lib/until.ts, the one wait loop); resolves with the ms it took. */
async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  return (await pollUntil(what, cond, { timeoutMs, everyMs: 20 })).elapsedMs;
}

interface LevelRow {
  readonly flows: FlowLoopResult;
  readonly echo: EchoLoopResult;
  /** event-loop utilization during the flow loop: controller thread, fabric (load generator) thread */
  readonly elu: number;
  readonly fabricElu: number;
  /** CPU time of the whole process (both threads, GC, kernel) ÷ wall time, in cores */
  readonly cores: number;
}

interface ShapeResult {
  readonly shape: FabricShape;
  /** anomalies worth a line under the table (links lost during a level, timed-out flows) */
  readonly notes: readonly string[];
  readonly switches: number;
  readonly discoveryMs: number;
  readonly hostsMs: number;
  readonly rows: readonly LevelRow[];
}

async function benchShape(shape: FabricShape): Promise<ShapeResult> {
  const ctl = new ControllerWorker({
    openflow: { port: 0, host: '127.0.0.1' },
    api: { port: 0, host: '127.0.0.1' },
    routing: { seed: SEED },
    log: { level: 'error' },
  });
  let fabric: FakeFabric | undefined;
  try {
    const ofPort = await ctl.started();
    fabric = await FakeFabric.connect(ofPort, { shape, record: false });
    const f = fabric;
    const links = f.directedLinks().length;
    const discoveryMs = await waitFor('discovery', async () => {
      const s = await ctl.status();
      return s.ready && s.links === links;
    }, 15_000);
    announceHosts(f);
    const hostsMs = await waitFor('hosts', async () => (await ctl.status()).hostsWithIp >= f.hosts.length, 5000);
    await runFlowLoop(f, { inFlight: 8, durationMs: WARMUP_MS, seed: SEED + 1 });
    const rows: LevelRow[] = [];
    const notes: string[] = [];
    for (const inFlight of LEVELS) {
      const echo = await runEchoLoop(f, inFlight, ECHO_MS, SEED + inFlight);
      await ctl.status(); // resets the ELU window
      const before = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      const flows = await runFlowLoop(f, { inFlight, durationMs: FLOW_MS, seed: SEED + 100 + inFlight });
      const cpu = process.cpuUsage(cpu0);
      const fabricElu = performance.eventLoopUtilization(before).utilization;
      const { elu, links: linksNow } = await ctl.status();
      if (linksNow !== links) notes.push(`${inFlight} in flight: the controller listed ${linksNow} of ${links} links after the level`);
      for (const t of flows.timeoutSamples) notes.push(`${inFlight} in flight: timed out: ${t}`);
      rows.push({ flows, echo, elu, fabricElu, cores: (cpu.user + cpu.system) / 1000 / flows.durationMs });
    }
    return { shape, notes, switches: f.switches.length, discoveryMs, hostsMs, rows };
  } finally {
    fabric?.close();
    await ctl.stop();
  }
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

function table(results: readonly ShapeResult[]): string[] {
  const header = [
    'fabric (S×L×H)', 'in flight', 'flow setups/s', 'echo RTT/s (baseline)', 'setups ÷ echo',
    'last flow-mod p50 / p99 ms', 'packet-out p50 / p99 ms', 'echo p50 / p99 ms', 'first pkt delivered', 'timeouts', 'loop busy: controller / fabric', 'CPU (cores)',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of results) {
    const name = `${r.shape.spines}×${r.shape.leaves}×${r.shape.hostsPerLeaf}`;
    for (const { flows, echo, elu, fabricElu, cores } of r.rows) {
      const setups = (flows.completed * 1000) / flows.durationMs;
      const echoes = (echo.completed * 1000) / echo.durationMs;
      lines.push(`| ${[
        name, String(flows.inFlight), int(setups), int(echoes), (setups / echoes).toFixed(3),
        `${ms(percentile(flows.flowModMs, 50))} / ${ms(percentile(flows.flowModMs, 99))}`,
        `${ms(percentile(flows.releaseMs, 50))} / ${ms(percentile(flows.releaseMs, 99))}`,
        `${ms(percentile(echo.rttMs, 50))} / ${ms(percentile(echo.rttMs, 99))}`,
        `${flows.delivered}/${flows.completed}`, String(flows.timedOut), `${Math.round(elu * 100)}% / ${Math.round(fabricElu * 100)}%`, cores.toFixed(2),
      ].join(' | ')} |`);
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const watchdog = setTimeout(() => {
    console.error(`bench:setup exceeded ${TOTAL_BUDGET_MS / 1000} s; exiting`);
    process.exit(1);
  }, TOTAL_BUDGET_MS);
  watchdog.unref();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`node ${process.version}, ${os.cpus().length} × ${cpu}, ${new Date().toISOString()}, load average ${load()}`);
  console.log(`controller: startRivulet in a worker thread; fabric: fake OpenFlow 1.3 switches on loopback TCP, same process`);
  console.log(`per level: ${ECHO_MS} ms echo baseline, then ${FLOW_MS} ms of new TCP flows between racks (seed ${SEED})\n`);
  const results: ShapeResult[] = [];
  for (const shape of SHAPES) {
    const r = await benchShape(shape);
    results.push(r);
    const links = 2 * shape.spines * shape.leaves;
    const hosts = shape.leaves * shape.hostsPerLeaf;
    console.log(`${shape.spines}×${shape.leaves}×${shape.hostsPerLeaf}: ${r.switches} switches, ${links} directed links discovered in ` +
      `${(r.discoveryMs / 1000).toFixed(2)} s after the last handshake; ${hosts} hosts learnt in ${(r.hostsMs / 1000).toFixed(2)} s`);
  }
  console.log('');
  for (const line of table(results)) console.log(line);
  for (const r of results) for (const n of r.notes) console.log(`- ${r.shape.spines}×${r.shape.leaves}×${r.shape.hostsPerLeaf}, ${n}`);
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s; load average at the end ${load()} (other work on the machine skews the figures)`);
  clearTimeout(watchdog);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
