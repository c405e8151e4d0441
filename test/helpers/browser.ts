/**
 * Headless Chromium for the web view's tests: Debian's `chromium` (scripts/setup.sh installs it) driven
 * by playwright-core (Playwright's own browser download is not used). Under CI=true a missing browser
 * fails the suite; otherwise the caller skips.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['RIVULET_CHROMIUM'] ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. @throws under CI=true instead */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const why = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or run scripts/setup.sh as root)`;
  if (process.env['CI'] === 'true') throw new Error(why);
  return why;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], headless: true });
}
