import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulateSpec } from '../../../cli/commands/simulate.js';
import { Fabric } from '../../../apps/allocator/fabric.js';
import { FlowletTable } from '../../../apps/allocator/table.js';
import { leafSpineFor, simulateFluid, WaterFill, wireBits, type SimFlow, type SimScheme } from '../../../experiment/fluid.js';
import { fromCsv } from '../../../experiment/collect.js';
import { loadSpec } from '../../../experiment/spec.js';
import { planSimFlows, runSimulation } from '../../../experiment/simulate.js';
import { repoRoot } from '../../../testing/mininet.js';

const C = 10e9;
const flow = (src: number, dst: number, sizeBytes: number, startUs = 0): SimFlow =>
  ({ src, dst, startUs, sizeBytes, transfer: -1, tenant: -1, weight: 1 });
const TINY = join(repoRoot(), 'test', 'fixtures', 'experiments', 'tiny.yaml');

describe('simulate: the fluid engine against hand-computed cases', () => {
  // 2 racks of 1 server: both flows cross h1's uplink and h2's downlink
  const two = leafSpineFor(2, C);

  for (const scheme of ['ecmp', 'maxmin', 'flowtune', 'fca'] as SimScheme[]) {
    it(`${scheme}: two flows on one link finish at the computed times`, () => {
      const S = 1448 * 1000; // 12,112,000 wire bits: 1211.2 µs alone at 10 Gbit/s
      const W = wireBits(S);
      const r = simulateFluid([flow(0, 1, S), flow(0, 1, 2 * S)], { fabric: two, scheme, seed: 1, intervalUs: 0 });
      if (scheme === 'fca') {
        // FCA serves the smaller transfer first at line rate (smallest remaining volume first), then the other
        expect(r.transferUs[0]).to.be.closeTo((W / C) * 1e6, 1e-2); // within the 1e-6 reserve of each link
      } else {
        // fair: C/2 each until the first has sent W; then the second alone at C
        expect(r.transferUs[0]).to.be.closeTo((2 * W / C) * 1e6, 1e-6);
      }
      expect(r.transferUs[1]).to.be.closeTo((3 * W / C) * 1e6, 1e-2);
    });
  }

  it('tenant weights: maxmin gives a weight-3 flow 3/4 of the link, ecmp (TCP) shares per flow', () => {
    const S = 1448 * 1000;
    const W = wireBits(S);
    const weighted = (w: number): SimFlow => ({ ...flow(0, 1, S), tenant: w === 3 ? 1 : 0, weight: w });
    const mm = simulateFluid([weighted(1), weighted(3)], { fabric: two, scheme: 'maxmin', seed: 1, intervalUs: 0 });
    expect(mm.transferUs[1]).to.be.closeTo((4 * W / (3 * C)) * 1e6, 1e-6);
    expect(mm.transferUs[0]).to.be.closeTo((2 * W / C) * 1e6, 1e-6);
    const tcp = simulateFluid([weighted(1), weighted(3)], { fabric: two, scheme: 'ecmp', seed: 1, intervalUs: 0 });
    expect(tcp.transferUs[1]).to.be.closeTo((2 * W / C) * 1e6, 1e-6);
  });

  it('tenant groups: nested maxmin gives tenant a (weight 1) a quarter of the link against b\'s two flows (weight 3)', () => {
    const S = 1448 * 1000;
    const W = wireBits(S);
    const fs: SimFlow[] = [{ ...flow(0, 1, S), tenant: 0, weight: 1 }, { ...flow(0, 1, 10 * S), tenant: 1, weight: 3 }, { ...flow(0, 1, 10 * S), tenant: 1, weight: 3 }];
    const nested = simulateFluid(fs, { fabric: two, scheme: 'maxmin', seed: 1, intervalUs: 0, tenantGroups: [1, 3] });
    expect(nested.transferUs[0]).to.be.closeTo((4 * W / C) * 1e6, 1e-6); // C/4
    const perFlow = simulateFluid(fs, { fabric: two, scheme: 'maxmin', seed: 1, intervalUs: 0 });
    expect(perFlow.transferUs[0]).to.be.closeTo((7 * W / C) * 1e6, 1e-6); // 1 of 1 + 3 + 3
  });

  it('ecmp: max-min with two bottlenecks (h4\'s downlink for three flows, then h1\'s uplink for the fourth)', () => {
    // 2 racks × 2 servers (h1 h2 | h3 h4), one spine. A h1→h3, B h1→h4, C h2→h4, D h2→h4.
    // h4's downlink carries B, C, D: C/3 each; h1's uplink leaves A 2C/3.
    const f = leafSpineFor(4, C);
    const S = 1448 * 1000;
    const W = wireBits(S);
    const r = simulateFluid([flow(0, 2, S), flow(0, 3, S), flow(1, 3, S), flow(1, 3, S)], { fabric: f, scheme: 'ecmp', seed: 1, intervalUs: 0 });
    expect(r.transferUs[0]).to.be.closeTo((1.5 * W / C) * 1e6, 1e-6); // A at 2C/3
    for (const i of [1, 2, 3]) expect(r.transferUs[i]).to.be.closeTo((3 * W / C) * 1e6, 1e-6); // C/3 throughout
  });

  it('water-filling: weighted max-min rates on two bottlenecks', () => {
    const fabric = new Fabric(2);
    fabric.addLink('l0', 10);
    fabric.addLink('l1', 4);
    const t = new FlowletTable(fabric);
    const a = t.add({ path: [0] });
    const b = t.add({ path: [0, 1] });
    const c = t.add({ path: [1], weight: 3 });
    const out = new WaterFill(t).run(null, fabric.capacity);
    // l1: b (w 1) and c (w 3) share 4 → 1 and 3; l0 leaves a 10 − 1 = 9
    expect(out[t.slotOf(b)]).to.be.closeTo(1, 1e-12);
    expect(out[t.slotOf(c)]).to.be.closeTo(3, 1e-12);
    expect(out[t.slotOf(a)]).to.be.closeTo(9, 1e-12);
  });

  it('priority: a flow past the threshold yields to a new flow under it, then resumes', () => {
    // threshold 1448 × 100 bytes sent. A (big) starts at 0, passes the threshold at 121.12 µs; B (small, under the
    // threshold throughout) starts at 500 µs and takes the link alone; A resumes when B is done.
    const T = 1448 * 100;
    const big = 1448 * 1000;
    const small = 1448 * 50;
    const r = simulateFluid([flow(0, 1, big), flow(0, 1, small, 500)], { fabric: two, scheme: 'priority', seed: 1, intervalUs: 0, thresholdsBytes: [T] });
    const us = (bytes: number): number => (wireBits(bytes) / C) * 1e6;
    expect(r.transferUs[1]).to.be.closeTo(us(small), 1e-6);
    expect(r.transferUs[0]).to.be.closeTo(us(big) + us(small), 1e-6);
  });

  it('allocation interval: a flow arriving between computations waits for the next one', () => {
    const S = 1448 * 1000;
    const r = simulateFluid([flow(0, 1, S), flow(0, 1, S, 3)], { fabric: two, scheme: 'ecmp', seed: 1, intervalUs: 10 });
    // the second arrives at 3 µs, gets its rate at 10 µs: the first ran alone for 10 µs
    const W = wireBits(S);
    const first = 10 + ((W - C * 10e-6) * 2 / C) * 1e6;
    expect(r.transferUs[0]).to.be.closeTo(first, 1e-6);
    expect(r.computations).to.be.greaterThan(1);
  });
});

describe('simulate: specs at scale', () => {
  it('the generator is the experiment\'s: unscaled sizes, servers named h1.. rack by rack', () => {
    const { spec } = loadSpec(TINY, '.');
    const plan = planSimFlows(spec, leafSpineFor(96, C), 5, 300);
    expect(plan).to.have.length(300);
    expect(plan.every((f) => f.sizeBytes === Math.max(16, f.nominalBytes))).to.equal(true);
    expect(new Set(plan.map((f) => f.src)).size).to.be.greaterThan(50);
  });

  it('same seed → identical flows.csv; the CLI writes a valid simulated results directory', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'rivulet-sim-'));
    try {
      const { spec, file } = loadSpec(TINY, '.');
      const run = (out: string) => runSimulation({ spec, specFile: file, outDir: join(dir, out), schemes: ['ecmp', 'fca'], seed: 9, servers: 96, linkGbps: 10, flows: 400 });
      await run('a');
      await run('b');
      const csvA = readFileSync(join(dir, 'a', 'flows.csv'), 'utf8');
      expect(csvA).to.equal(readFileSync(join(dir, 'b', 'flows.csv'), 'utf8'));

      let out = '';
      let err = '';
      const code = await runSimulateSpec(TINY, { out: join(dir, 'cli'), schemes: 'ecmp,priority,flowtune', servers: '96', flows: '300', seed: '2' },
        (s) => { out += s; }, (s) => { err += s; });
      expect(code, err).to.equal(0);
      const d = join(dir, 'cli');
      const manifest = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as { simulated: boolean; fabric: { servers: number; racks: number; spines: number }; runs: unknown[] };
      expect(manifest.simulated).to.equal(true);
      expect(manifest.fabric).to.include({ servers: 96, racks: 2 });
      expect(manifest.runs).to.have.length(3);
      const rows = fromCsv(readFileSync(join(d, 'flows.csv'), 'utf8'));
      expect(rows).to.have.length(900);
      for (const s of ['ecmp', 'priority', 'flowtune']) {
        const mine = rows.filter((r) => r.scheme === s);
        expect(mine.map((r) => r.id)).to.deep.equal([...Array(300).keys()]);
        expect(mine.every((r) => r.completed && r.slowdown >= 1 - 1e-9)).to.equal(true);
      }
      const table = readFileSync(join(d, 'table.md'), 'utf8');
      expect(table.startsWith('SIMULATED')).to.equal(true);
      expect(out).to.contain('SIMULATED');
      expect(table).to.match(/\| metric \| ecmp \| priority \| flowtune \|/);
      const summary = JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')) as { simulated: boolean; summaries: { scheme: string; flows: number }[] };
      expect(summary.simulated).to.equal(true);
      expect(summary.summaries.map((x) => x.flows)).to.deep.equal([300, 300, 300]);
      for (const p of ['slowdown-cdf-small', 'slowdown-by-bin']) {
        expect(readFileSync(join(d, `${p}.svg`), 'utf8')).to.match(/^<svg/);
        expect(readFileSync(join(d, `${p}.png`)).subarray(1, 4).toString()).to.equal('PNG');
      }
      expect(existsSync(join(d, 'plan.json'))).to.equal(true);
      // `experiment report` renders a simulated directory again, still titled SIMULATED
      const again = execFileSync(process.execPath, [join(repoRoot(), 'bin', 'rivulet.js'), 'experiment', 'report', d], { encoding: 'utf8' });
      expect(again).to.equal(table);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad option exits 2 with one line', async () => {
    let err = '';
    expect(await runSimulateSpec(TINY, { servers: '97' }, () => {}, (s) => { err += s; })).to.equal(2);
    expect(err).to.match(/^rivulet simulate: 97 servers do not split/);
    err = '';
    expect(await runSimulateSpec(TINY, { schemes: 'ecmp,nope' }, () => {}, (s) => { err += s; })).to.equal(2);
    expect(err).to.contain('unknown scheme nope');
  });
});
