/**
 * `rivulet experiment run` end to end (Mininet, root): a tiny experiment — two schemes (ecmp, priority),
 * 20 flows — run through the CLI as a user would. Checks that every planned flow is accounted for in
 * flows.csv under each scheme (completed, or censored with a reason), that manifest.json, summary.json,
 * the plots (SVG and PNG) and the streamed flowlets are valid and joinable by source port, that
 * `experiment report` prints the same table again, and that the fabric is gone afterwards.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fromCsv } from '../../experiment/collect.js';
import { mininetUnavailable, repoRoot } from '../../testing/mininet.js';

const run = promisify(execFile);

async function bridges(): Promise<string[]> {
  return (await run('ovs-vsctl', ['--timeout=10', 'list-br'])).stdout.split('\n').filter((b) => b.startsWith('rx'));
}

describe('rivulet experiment: a tiny run end to end (Mininet) @slow', function () {
  this.timeout(180_000);
  let out = '';
  let stdout = '';
  let bridgesBefore: string[] = [];

  before(async function () {
    const why = mininetUnavailable();
    if (why) {
      if (process.env['CI'] === 'true') throw new Error(`experiment e2e cannot run: ${why}`);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    bridgesBefore = await bridges();
    out = join(mkdtempSync(join(tmpdir(), 'rivulet-exp-e2e-')), 'results');
    const cli = join(repoRoot(), 'bin', 'rivulet.js');
    const t0 = Date.now();
    const r = await run(process.execPath, [cli, 'experiment', 'run', join(repoRoot(), 'test', 'fixtures', 'experiments', 'tiny.yaml'), '--out', out],
      { maxBuffer: 16 << 20, timeout: 170_000 });
    stdout = r.stdout;
    console.log(`      ran in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  after(() => {
    if (out) rmSync(join(out, '..'), { recursive: true, force: true });
  });

  it('accounts for every planned flow under each scheme, completed or censored with a reason', () => {
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { id: number; sizeBytes: number }[];
    expect(plan).to.have.length(20);
    const rows = fromCsv(readFileSync(join(out, 'flows.csv'), 'utf8'));
    for (const scheme of ['ecmp', 'priority']) {
      const mine = rows.filter((r) => r.scheme === scheme);
      expect(mine.map((r) => r.id).sort((a, b) => a - b), scheme).to.deep.equal(plan.map((f) => f.id).sort((a, b) => a - b));
      for (const r of mine) {
        expect(r.fctUs, `${scheme} flow ${r.id}`).to.be.above(0);
        expect(r.idealUs).to.be.above(0);
        expect(r.slowdown).to.be.closeTo(r.fctUs / r.idealUs, 1e-3 * r.slowdown);
        if (!r.completed) expect(r.reason, `${scheme} flow ${r.id}`).to.not.equal('');
        expect(r.sizeBytes).to.equal(plan.find((f) => f.id === r.id)!.sizeBytes);
      }
      // a quiet fabric at load 0.3: nearly every flow completes
      expect(mine.filter((r) => r.completed).length, scheme).to.be.at.least(18);
    }
  });

  it('writes a complete manifest and summary, and the printed table', () => {
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Record<string, any>;
    expect(m['git']['commit']).to.match(/^[0-9a-f]{40}$/);
    expect(m['seed']).to.equal(3);
    expect(m['machine']['cores']).to.be.a('number');
    expect(m['machine']['ovs']).to.match(/Open vSwitch/);
    expect(m['runs'].map((r: { scheme: string }) => r.scheme)).to.deep.equal(['ecmp', 'priority']);
    for (const r of m['runs']) {
      expect(r['baseRttUs']).to.be.above(0);
      expect(r['cpuS']['controller']).to.be.a('number');
      expect(r['comparable']).to.be.a('boolean');
      if (!r['comparable']) expect(r['reason']).to.match(/busy/);
      // fabric.py raised ovs-vswitchd's transmit socket buffer for the run (read back from the kernel) ...
      expect(r['ovsTxBuffer'], r['scheme']).to.include({ state: 'set', bytes: 16 << 20 });
      expect(r['ovsTxBuffer']['beforeBytes']).to.be.below(16 << 20);
    }
    // ... and put it back at teardown
    const ss = execFileSync('ss', ['-0', '-m', '-p', '-n'], { encoding: 'utf8' });
    const tx = ss.split('\n').findIndex((l) => l.includes('[0]:*') && l.includes('"ovs-vswitchd"'));
    expect(tx, 'ovs-vswitchd transmit socket in ss -0').to.be.at.least(0);
    const tb = /tb(\d+)/.exec(ss.split('\n').slice(tx, tx + 2).join(' '));
    expect(Number(tb?.[1])).to.equal(m['runs'][0]['ovsTxBuffer']['beforeBytes']);
    expect(m['runs'][1]['cpuS']).to.have.property('agent:h1');
    expect(typeof m['comparable']).to.equal('boolean');
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { summaries: { scheme: string; flows: number }[] };
    expect(s.summaries.map((x) => [x.scheme, x.flows])).to.deep.equal([['ecmp', 20], ['priority', 20]]);
    expect(stdout).to.match(/\| metric \| ecmp \| priority \|/);
    expect(stdout).to.include('≤ 100 KB: p99 slowdown');
  });

  it('renders the plots as SVG and PNG', () => {
    for (const name of ['slowdown-cdf-small', 'slowdown-by-bin']) {
      expect(readFileSync(join(out, `${name}.svg`), 'utf8')).to.match(/^<svg[\s\S]*<\/svg>\s*$/);
      const png = readFileSync(join(out, `${name}.png`));
      expect(png.subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
      expect(png.length).to.be.above(5000);
    }
  });

  it('streams the controller\'s ended flowlets; they join the flows by source port', () => {
    const flowlets = readFileSync(join(out, 'priority', 'flowlets.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { flow: { sport: number; dport: number } });
    const rows = fromCsv(readFileSync(join(out, 'flows.csv'), 'utf8')).filter((r) => r.scheme === 'priority');
    const sports = new Set(flowlets.filter((f) => f.flow.dport === 5001).map((f) => f.flow.sport));
    const joined = rows.filter((r) => sports.has(r.sport)).length;
    expect(joined, `${joined} of ${rows.length} flows have a flowlet`).to.be.at.least(rows.length - 2);
    for (const f of ['qos.json', 'allocator.json', 'agents.json']) JSON.parse(readFileSync(join(out, 'priority', 'snapshots', f), 'utf8'));
    expect(readFileSync(join(out, 'priority', 'snapshots', 'metrics.txt'), 'utf8')).to.match(/^# HELP/m);
  });

  it('`experiment report` prints the same table from the saved results', async () => {
    const r = await run(process.execPath, [join(repoRoot(), 'bin', 'rivulet.js'), 'experiment', 'report', out]);
    expect(r.stdout).to.include(readFileSync(join(out, 'table.md'), 'utf8'));
  });

  it('leaves no fabric behind', async () => {
    expect(await bridges()).to.deep.equal(bridgesBefore);
  });
});
