/**
 * Polls `check` (sync or async) until it holds; rejects naming `what` after `timeoutMs`. The one wait
 * loop of the tests (Mininet tests with async probes use waitUntil in mininet.ts, which also returns a value).
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000, pollMs = 5): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
