/**
 * The one polling wait loop (a utility of the bottom layer, ARCHITECTURE.md "Layers"): calls `check`
 * (sync or async) every `everyMs` until it returns a truthy value, and resolves with that value and the
 * time it took. Used where nothing raises an event to wait for: OVSDB's cur_cfg, a qdisc appearing, and
 * the tests' conditions.
 */

/** Thrown when the condition did not hold within the time allowed; `code` WAIT_TIMEOUT. */
export class WaitTimeoutError extends Error {
  readonly code = 'WAIT_TIMEOUT';
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms: ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

export interface PollOptions {
  /** give up after this many ms (default 5000) */
  readonly timeoutMs?: number;
  /** pause between two checks, ms (default 5) */
  readonly everyMs?: number;
}

/** A falsy result means "not yet". */
export type Check<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Polls `check` until it returns a truthy value. Checks at once, then every `everyMs`; a check that
 * throws rejects the wait with that error.
 * @returns the value and the time from the call to it, ms (performance.now resolution)
 * @throws WaitTimeoutError naming `what` after `timeoutMs`
 */
export async function pollUntil<T>(what: string, check: Check<T>, opts: PollOptions = {}): Promise<{ value: T; elapsedMs: number }> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const everyMs = opts.everyMs ?? 5;
  const t0 = performance.now();
  for (;;) {
    const value = await check();
    if (value) return { value, elapsedMs: performance.now() - t0 };
    if (performance.now() - t0 > timeoutMs) throw new WaitTimeoutError(what, timeoutMs);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
