/**
 * The shared-memory protocol between the allocator's main thread and its worker threads (ARCHITECTURE.md "Principles":
 * worker_threads + SharedArrayBuffer over Flowtune's blocks). One Int32Array of control words; the main
 * thread bumps SEQ to start a phase, each worker adds 1 to DONE when its block is finished.
 */

/** Control word indices. */
export const SEQ = 0;
export const PHASE = 1;
export const DONE = 2;
export const READY = 3;
/** Control words in the Int32Array. */
export const CONTROL_WORDS = 4;

/** Phases a worker runs on its own block k. */
export const PHASE_RATE = 1;
export const PHASE_NORM = 2;
export const PHASE_REINIT = 3;
export const PHASE_EXIT = 4;

/** The views a worker computes with (all on SharedArrayBuffers), re-sent whenever one is reallocated. */
export interface WorkerViews {
  readonly weight: Float64Array;
  readonly rateCap: Float64Array;
  readonly pathLen: Int32Array;
  readonly path: Int32Array;
  readonly maxHops: number;
  readonly count: Int32Array;
  readonly blockCap: number;
  readonly links: Float64Array;
  readonly rate: Float64Array;
  readonly sens: Float64Array;
  readonly out: Float64Array;
  readonly parts: Float64Array;
  readonly linkCapacity: number;
  readonly alpha: number;
  /** [maxRatio] for U-NORM (0 = F-NORM), written by the main thread before PHASE_NORM. */
  readonly uniform: Float64Array;
}
