/**
 * Multicore flowtune (ARCHITECTURE.md "Principles"; Flowtune §5 splits flows into blocks so cores work without sharing):
 * K worker threads, worker k owns table block k. Per iteration the workers run their rate passes into
 * per-block partial link sums, the main thread reduces them in block order and updates prices (O(links)),
 * then the workers normalise their blocks. The single-threaded optimizer with the same block count runs the
 * same functions in the same order, so the rates are bit-identical (tested).
 *
 * Requires a table created with `shared: true` (its arrays live on SharedArrayBuffers).
 * `close()` ends the threads; the pool must be closed before the process can exit.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { AllocatorError } from '../errors.js';
import { FlowtuneOptimizer, type FlowtuneOptions } from '../flowtune.js';
import type { FlowletTable } from '../table.js';
import {
  CONTROL_WORDS, DONE, PHASE, PHASE_EXIT, PHASE_NORM, PHASE_RATE, PHASE_REINIT, READY, SEQ, type WorkerViews,
} from './protocol.js';

/** Longest a worker phase (or start-up) may take before the pool gives up, ms. */
export const WORKER_TIMEOUT_MS = 10_000;

/** The flowtune optimizer with its rate and normalisation passes run by worker threads. */
export class ParallelFlowtune {
  readonly opt: FlowtuneOptimizer;
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly uniform = new Float64Array(new SharedArrayBuffer(8));
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private viewsKey = '';
  private closed = false;

  /** First block run by a worker thread: 1 when the main thread runs block 0 itself, else 0. */
  private readonly firstWorkerBlock: number;

  /**
   * `mainRunsBlock0`: the main thread computes block 0 while K−1 worker threads compute the others (one
   * thread fewer to schedule; on a 2-core machine this avoids 3 runnable threads). Default: K workers.
   */
  constructor(readonly table: FlowletTable, opts: FlowtuneOptions = {}, mainRunsBlock0 = false) {
    if (!table.shared) throw new AllocatorError('ALLOC_BAD_OPTION', 'worker mode needs a table created with shared: true');
    this.opt = new FlowtuneOptimizer(table, opts);
    this.firstWorkerBlock = mainRunsBlock0 ? 1 : 0;
    const url = new URL('./worker.js', import.meta.url);
    for (let k = this.firstWorkerBlock; k < table.blocks; k++) {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      this.workers.push(new Worker(url, { workerData: { control: this.control, port: port2, k }, transferList: [port2] }));
    }
    this.waitFor(READY, this.workers.length, 'start');
  }

  /** Normalised rates by slot (bits/s), as FlowtuneOptimizer.out. */
  get out(): Float64Array {
    return this.opt.out;
  }

  /** `n` NED iterations then F-NORM, exactly as FlowtuneOptimizer.iterate(n) with the same blocks. */
  iterate(n = 1): void {
    if (this.closed) throw new AllocatorError('ALLOC_BAD_OPTION', 'worker pool is closed');
    const o = this.opt;
    o.ensureCapacity();
    this.shareViews();
    if (o.changed) {
      o.seed();
      this.ratePasses();
      o.changed = false;
    }
    for (let i = 0; i < n; i++) {
      o.updatePrices(i > 0);
      this.ratePasses();
      o.iterations++;
    }
    const maxRatio = o.computeRatios();
    this.uniform[0] = o.norm === 'u' ? maxRatio : 0;
    this.phase(PHASE_NORM);
  }

  /** Ends the worker threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.phase(PHASE_EXIT);
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const p of this.ports) p.close();
  }

  private ratePasses(): void {
    this.phase(PHASE_RATE);
    this.opt.reduce();
  }

  /** Starts a phase on every worker and blocks until all are done. */
  private phase(p: number): void {
    const c = this.control;
    const K = this.workers.length;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, PHASE, p);
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    if (this.firstWorkerBlock === 1) this.runBlock0(p);
    this.waitFor(DONE, K, `phase ${p}`);
  }

  /** The main thread's share of a phase when it runs block 0 (same functions as the workers). */
  private runBlock0(p: number): void {
    const o = this.opt;
    if (p === PHASE_RATE) {
      o.parts.fill(0, 0, 2 * o.linkCapacity);
      o.blockRatePass(0);
    } else if (p === PHASE_NORM) {
      o.normalizeBlock(0, this.uniform[0]!);
    }
  }

  /**
   * Blocks until control word `i` reaches `n`. A worker that died cannot report while this thread is
   * blocked, so the wait is bounded (WORKER_TIMEOUT_MS) and then fails with ALLOC_WORKER_FAILED.
   */
  private waitFor(i: number, n: number, what: string): void {
    const c = this.control;
    const deadline = Date.now() + WORKER_TIMEOUT_MS;
    for (let d; (d = Atomics.load(c, i)) < n;) {
      if (Date.now() > deadline) {
        this.closed = true;
        for (const w of this.workers) void w.terminate();
        throw new AllocatorError('ALLOC_WORKER_FAILED', `allocator workers did not finish (${what}) within ${WORKER_TIMEOUT_MS} ms`);
      }
      Atomics.wait(c, i, d, 100);
    }
  }

  /** Sends the current array views when any was reallocated (table or fabric growth). */
  private shareViews(): void {
    const t = this.table;
    const o = this.opt;
    const key = `${t.generation}/${t.blockCap}/${o.linkCapacity}/${o.rate.length}`;
    if (key === this.viewsKey) return;
    this.viewsKey = key;
    const views: WorkerViews = {
      weight: t.weight, rateCap: t.rateCap, pathLen: t.pathLen, path: t.path, maxHops: t.maxHops,
      count: t.count, blockCap: t.blockCap, links: o.links, rate: o.rate, sens: o.sens, out: o.out,
      parts: o.parts, linkCapacity: o.linkCapacity, alpha: o.alpha, uniform: this.uniform,
    };
    for (const p of this.ports) p.postMessage(views);
    this.phase(PHASE_REINIT);
  }
}
