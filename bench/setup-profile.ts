/**
 * A CPU profile of Rivulet's flow-setup path under `npm run bench:setup`'s load, without start-up or
 * warm-up in it: Rivulet runs in this thread (the one profiled, through node:inspector), the cbench
 * generator (cbench.ts) in a worker thread; the profile covers only the measured level.
 *
 * `node dist/bench/setup-profile.js [--switches 16] [--window 64] [--duration-ms 3000] [--out FILE] [--heap]`
 * writes FILE (default `setup.cpuprofile`, open it in Chrome DevTools) and prints setups/s and the top
 * self-time functions with their share of the samples. With `--heap` it samples allocations instead
 * (node:inspector's HeapProfiler, one sample per 4 KiB allocated) and prints the allocation sites with
 * their bytes per setup; FILE then holds the `.heapprofile`.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startRivulet } from '../controller/main.js';
import { defaultConfig } from '../controller/config/index.js';
import { BENCH_RIVULET_CONFIG } from './setup-config.js';
import { connectSwitches, runLevel, sleep } from './cbench.js';

interface GenJob {
  readonly port: number;
  readonly switches: number;
  readonly window: number;
  readonly durationMs: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface HeapNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

/** Bytes allocated per site (function and line), largest first: [label, bytes]. */
export function topAllocations(head: HeapNode, n: number): [string, number][] {
  const bytes = new Map<string, number>();
  const walk = (node: HeapNode): void => {
    if (node.selfSize > 0) {
      const f = node.callFrame;
      const label = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
      bytes.set(label, (bytes.get(label) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c);
  };
  walk(head);
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** Self samples per function, largest first: [label, share 0..1]. */
export function topSelf(profile: { nodes: ProfileNode[]; samples: number[] }, n: number): [string, number][] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    const f = byId.get(id)!.callFrame;
    const label = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([l, c]) => [l, c / total]);
}

async function generator(job: GenJob): Promise<void> {
  const sws = await connectSwitches(job.port, job.switches);
  parentPort!.postMessage({ type: 'ready' });
  await sleep(400); // let the controller start its profiler
  const warm = await runLevel(sws, job.window, 400, 500);
  parentPort!.postMessage({ type: 'warm', setups: warm.setups });
  const r = await runLevel(sws, job.window, 0, job.durationMs);
  parentPort!.postMessage({ type: 'done', setups: r.setups, durationMs: r.durationMs });
  for (const s of sws) s.close();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1]! : dflt;
  };
  const switches = Number(arg('--switches', '16'));
  const window = Number(arg('--window', '64'));
  const durationMs = Number(arg('--duration-ms', '3000'));
  const heap = args.includes('--heap');
  const out = arg('--out', heap ? 'setup.heapprofile' : 'setup.cpuprofile');
  const rivulet = await startRivulet({ config: defaultConfig(BENCH_RIVULET_CONFIG) });
  const gen = new Worker(new URL(import.meta.url), { workerData: { port: rivulet.openflow.port, switches, window, durationMs } satisfies GenJob });
  const inspector = new Session();
  inspector.connect();
  await inspector.post(heap ? 'HeapProfiler.enable' : 'Profiler.enable');
  const result = await new Promise<{ setups: number; durationMs: number }>((resolve, reject) => {
    gen.on('message', (m: { type: string; setups: number; durationMs: number }) => {
      if (m.type === 'warm') void inspector.post(heap ? 'HeapProfiler.startSampling' : 'Profiler.start', heap ? { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } : undefined);
      if (m.type === 'done') resolve(m);
    });
    gen.once('error', reject);
  });
  const rate = `${switches} × ${window}: ${Math.round((result.setups * 1000) / result.durationMs).toLocaleString('en-US')} setups/s under the profiler`;
  if (heap) {
    const { profile } = await inspector.post('HeapProfiler.stopSampling');
    fs.writeFileSync(out, JSON.stringify(profile));
    console.log(`${rate}; allocation profile in ${out}; bytes allocated per setup by site:`);
    for (const [label, bytes] of topAllocations(profile.head as never, 30)) console.log(`${(bytes / result.setups).toFixed(0).padStart(6)} B  ${label}`);
  } else {
    const { profile } = await inspector.post('Profiler.stop');
    fs.writeFileSync(out, JSON.stringify(profile));
    console.log(`${rate}; profile in ${out}`);
    for (const [label, share] of topSelf(profile as never, 30)) console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${label}`);
  }
  await gen.terminate();
  await rivulet.close();
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exit(1);
    },
  );
} else {
  void generator(workerData as GenJob);
}
