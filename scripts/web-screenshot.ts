/**
 * A screenshot of the live web view (`npm run demo` with RIVULET_DEMO_SCREENSHOT=FILE.png, and the
 * Mininet e2e test): opens the page in headless Chromium (Debian's, driven by playwright-core, a
 * development dependency loaded only here), waits until the flowlet table shows `minAllocated`
 * allocated flowlets, selects the most loaded host link (the detail panel then lists the flowlets
 * crossing it with their rates) and writes a PNG.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WebViewShot {
  /** flowlet rows in the state `allocated` when the screenshot was taken */
  readonly allocatedRows: number;
  /** nodes and edges in the graph */
  readonly nodes: number;
  readonly edges: number;
  /** the link selected for the detail panel */
  readonly selected: string | null;
  /** console errors of the page */
  readonly consoleErrors: readonly string[];
}

export interface WebViewSession {
  /** Waits for the allocated flowlets, selects the busiest host link, writes the PNG. */
  shoot(path: string, minAllocated: number, timeoutMs?: number): Promise<WebViewShot>;
  close(): Promise<void>;
}

/**
 * A wrapper that starts Chromium at the lowest CPU priority (nice 19), so that on a small machine the
 * browser does not take CPU from the switches, agents and iperf3 the demo measures.
 */
function niceChromium(chromiumPath: string): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-chromium-'));
  const path = join(dir, 'chromium');
  writeFileSync(path, `#!/bin/sh\nexec nice -n 19 ${JSON.stringify(chromiumPath)} "$@"\n`, { mode: 0o755 });
  return { path, dir };
}

/** Opens the page now (so the browser is up before the traffic starts). */
export async function openWebView(url: string, chromiumPath = process.env['RIVULET_CHROMIUM'] ?? '/usr/bin/chromium'): Promise<WebViewSession> {
  const { chromium } = await import('playwright-core');
  const wrapper = niceChromium(chromiumPath);
  const browser = await chromium.launch({ executablePath: wrapper.path, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], headless: true })
    .catch((err: unknown) => {
      rmSync(wrapper.dir, { recursive: true, force: true });
      throw err;
    });
  browser.on('disconnected', () => rmSync(wrapper.dir, { recursive: true, force: true }));
  const consoleErrors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 }, deviceScaleFactor: 1 });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(url);
    return {
      async shoot(path: string, minAllocated: number, timeoutMs = 15_000): Promise<WebViewShot> {
        await page.waitForFunction(
          (n) => document.querySelectorAll('#flowlets tbody tr .state-allocated').length >= n,
          minAllocated, { timeout: timeoutMs },
        );
        // let the measured rates and the chart catch up for a second
        await page.waitForTimeout(1500);
        const selected = await page.evaluate(() => {
          const cy = (window as unknown as { __rivulet: { graph: { cy: any } } }).__rivulet.graph.cy; // eslint-disable-line @typescript-eslint/no-explicit-any
          let best: any = null; // eslint-disable-line @typescript-eslint/no-explicit-any
          cy.edges('[id ^= "hd:"]').forEach((e: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
            if (!best || e.data('width') > best.data('width')) best = e;
          });
          if (!best) return null;
          best.select();
          best.emit('tap');
          return best.data('label') as string;
        });
        await page.waitForTimeout(300);
        const counts = await page.evaluate(() => {
          const cy = (window as unknown as { __rivulet: { graph: { cy: any } } }).__rivulet.graph.cy; // eslint-disable-line @typescript-eslint/no-explicit-any
          return {
            nodes: cy.nodes().length as number,
            edges: cy.edges().length as number,
            allocatedRows: document.querySelectorAll('#flowlets tbody tr .state-allocated').length,
          };
        });
        await page.screenshot({ path, fullPage: true });
        return { ...counts, selected, consoleErrors: [...consoleErrors] };
      },
      close: () => browser.close(),
    };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
