/**
 * Polls `check` (sync or async) until it holds; rejects naming `what` after `timeoutMs`. The tests' form
 * of the one wait loop, lib/until.ts ({@link pollUntil}: also returns the value and the time taken).
 */
import { pollUntil } from '../lib/until.js';

export { pollUntil } from '../lib/until.js';

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000, pollMs = 5): Promise<void> {
  await pollUntil(what, check, { timeoutMs, everyMs: pollMs });
}
