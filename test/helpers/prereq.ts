/**
 * Missing prerequisites (root, Open vSwitch, the mininet module, iperf3, tcpdump, tshark): a skip on a
 * developer's machine, a failure under CI (`CI=true`), so a CI run can never pass by skipping the tests
 * that need them. (The mocha configuration also sets --forbid-pending under CI, which catches any other
 * skip.)
 */

/** True when the environment says this is a CI run (CI=true, 1 or yes). */
export function underCi(): boolean {
  return /^(1|true|yes)$/i.test(process.env['CI'] ?? '');
}

/**
 * Skips the current test or hook's tests when `missing` names a missing prerequisite, with that reason
 * printed; under CI throws instead. Does nothing when `missing` is undefined.
 * @throws Error "missing prerequisite under CI: …" under CI
 */
export function requirePrerequisite(ctx: Mocha.Context, missing: string | undefined): void {
  if (missing === undefined) return;
  if (underCi()) throw new Error(`missing prerequisite under CI: ${missing}`);
  console.log(`      SKIPPED: ${missing}`);
  ctx.skip();
}
