/**
 * The tests' forms of the one wait loop, lib/until.ts ({@link pollUntil}: also returns the value and the
 * time taken): {@link until} waits for a condition, {@link waitUntil} for a value (Mininet and e2e tests).
 */
import { pollUntil } from '../lib/until.js';

export { pollUntil } from '../lib/until.js';

/** Polls `check` (sync or async) until it holds; rejects naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000, pollMs = 5): Promise<void> {
  await pollUntil(what, check, { timeoutMs, everyMs: pollMs });
}

/** Polls `cond` every `everyMs` until it returns a truthy value and resolves with it; rejects naming `what` after `timeoutMs`. */
export async function waitUntil<T>(cond: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number,
  what: string, everyMs = 50): Promise<T> {
  return (await pollUntil(what, cond, { timeoutMs, everyMs })).value;
}
