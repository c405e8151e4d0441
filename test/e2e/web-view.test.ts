/**
 * The web view during `npm run demo` (Mininet, Open vSwitch, real agents and iperf3): the demo prints the
 * page's address, and with RIVULET_DEMO_SCREENSHOT it opens the page in headless Chromium during its
 * allocation step, waits until the flowlet table shows the competing flows as allocated, selects the
 * busiest host link and writes a PNG. Checked: the address is printed and serves the page while the demo
 * runs, the screenshot shows at least the three allocated flows and a full graph (2 × 4 × 2: 6 switches
 * and 8 hosts, 16 spine-leaf + 16 host directed links), the page logged no console errors, and the PNG is a real image.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserMissing } from '../helpers/browser.js';
import { mininetUnavailable, repoRoot } from '../../testing/mininet.js';

describe('e2e: the web view during npm run demo (Mininet, Chromium) @slow', function () {
  this.timeout(600_000);
  let dir: string;

  before(function () {
    const why = mininetUnavailable() ?? browserMissing();
    if (why) {
      if (process.env['CI'] === 'true') throw new Error(why);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'rivulet-web-e2e-'));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the address, serves the page during the run, and screenshots the three allocated flows', async () => {
    const png = join(dir, 'web-view.png');
    let out = '';
    let pageStatus = 0;
    let pageTitle = '';
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'scripts', 'demo.js')], {
        env: { ...process.env, RIVULET_DEMO_SCREENSHOT: png, RIVULET_DEMO_API_PORT: '0', RIVULET_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const onText = (d: Buffer): void => {
        const before = out;
        out += String(d);
        const m = /web view \(.*?\): (http:\/\/\S+\/)/.exec(out);
        if (m && !/web view \(.*?\): (http:\/\/\S+\/)/.test(before)) {
          void fetch(m[1]!).then(async (res) => {
            pageStatus = res.status;
            pageTitle = /<title>([^<]*)<\/title>/.exec(await res.text())?.[1] ?? '';
          }).catch(() => undefined);
        }
      };
      child.stdout.on('data', onText);
      child.stderr.on('data', onText);
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? -1));
    });
    expect(code, out.slice(-3000)).to.equal(0);
    expect(out).to.match(/web view \(.*?\): http:\/\/127\.0\.0\.1:\d+\//);
    expect(pageStatus, 'GET / while the demo ran').to.equal(200);
    expect(pageTitle).to.contain('Rivulet');
    const m = /web view screenshot: (\S+) \((\d+) allocated flowlets in the table, (\d+) nodes, (\d+) directed links in the graph, selected (.*?); (\d+) console errors\)/.exec(out);
    expect(m, out.slice(-3000)).to.not.equal(null);
    const [, path, allocated, nodes, edges, selected, errors] = m!;
    console.log(`      [measure] web view during the demo: ${allocated} allocated flowlets shown, ${nodes} nodes, ${edges} links, selected ${selected}`);
    expect(path).to.equal(png);
    expect(Number(allocated)).to.be.at.least(3);
    expect(Number(nodes)).to.equal(14); // 6 switches + 8 hosts
    expect(Number(edges)).to.equal(32);
    expect(selected).to.not.equal('no link');
    expect(Number(errors)).to.equal(0);
    expect(readFileSync(png).subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
    expect(statSync(png).size).to.be.above(50_000);
  });
});
