/**
 * Worker thread of the multicore allocator: owns block `k` of the flowlet table and runs, on request, the
 * rate pass into its block's partial link sums or the F-NORM pass over its block — the same functions
 * the single-threaded optimizer calls, so results are bit-identical. Synchronous: waits on the control
 * words with Atomics, receives new array views through `receiveMessageOnPort`.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { normalizePass, ratePass } from '../ned.js';
import {
  DONE, PHASE, PHASE_EXIT, PHASE_NORM, PHASE_RATE, PHASE_REINIT, READY, SEQ, type WorkerViews,
} from './protocol.js';

const { control, port, k } = workerData as { control: Int32Array; port: MessagePort; k: number };
let v: WorkerViews | undefined;

function run(phase: number): boolean {
  if (phase === PHASE_REINIT) {
    v = receiveMessageOnPort(port)?.message as WorkerViews;
    return true;
  }
  if (phase === PHASE_EXIT || !v) return false;
  const from = k * v.blockCap;
  const to = from + v.count[k]!;
  if (phase === PHASE_RATE) {
    const o = k * 2 * v.linkCapacity;
    v.parts.fill(0, o, o + 2 * v.linkCapacity);
    ratePass(v, v.links, v.rate, v.sens, v.parts, 2, o, from, to, v.alpha);
  } else if (phase === PHASE_NORM) {
    normalizePass(v, v.links, v.rate, v.out, from, to, v.uniform[0]!);
  }
  return true;
}

Atomics.add(control, READY, 1);
Atomics.notify(control, READY);
let seen = 0;
for (;;) {
  Atomics.wait(control, SEQ, seen);
  seen = Atomics.load(control, SEQ);
  const more = run(Atomics.load(control, PHASE));
  Atomics.add(control, DONE, 1);
  Atomics.notify(control, DONE);
  if (!more) break;
}
port.close();
