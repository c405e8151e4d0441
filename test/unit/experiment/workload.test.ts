import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cdfAt } from '../../../apps/qos/thresholds/index.js';
import { generateFlows, loadCdf, sampleSize, Uniform, type WorkloadHost, type WorkloadSpec } from '../../../experiment/workload.js';
import { repoRoot } from '../../../testing/mininet.js';

const websearch = loadCdf(readFileSync(join(repoRoot(), 'experiments', 'workloads', 'websearch.cdf'), 'utf8'));
const hosts: WorkloadHost[] = [
  { name: 'h1', rack: 1 }, { name: 'h2', rack: 1 }, { name: 'h3', rack: 2 }, { name: 'h4', rack: 2 },
];

/** Kolmogorov–Smirnov statistic of samples against a CDF. */
function ksD(xs: readonly number[], cdf: (x: number) => number): number {
  const s = [...xs].sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs((i + 1) / s.length - f));
  });
  return d;
}
/** The KS critical value at α = 0.01 for n samples (asymptotic, n > 35). */
const ksCritical01 = (n: number): number => 1.628 / Math.sqrt(n);

const base: WorkloadSpec = { pattern: 'all-to-all', load: 0.5, sizeScale: 0.1, flows: 4000 };

describe('experiment workload generator', () => {
  it('draws sizes that follow the CDF (Kolmogorov–Smirnov at α = 0.01)', () => {
    const u = new Uniform(7);
    const xs = Array.from({ length: 5000 }, () => sampleSize(websearch, u));
    const d = ksD(xs, (x) => cdfAt(websearch, x));
    expect(d).to.be.below(ksCritical01(xs.length));
  });

  it('rejects a wrong distribution with the same test (the test has power)', () => {
    const u = new Uniform(7);
    const xs = Array.from({ length: 5000 }, () => sampleSize(websearch, u) * 1.3);
    expect(ksD(xs, (x) => cdfAt(websearch, x))).to.be.above(ksCritical01(xs.length));
  });

  it('spaces each sender\'s arrivals exponentially with the mean that gives the offered load', () => {
    const linkBps = 20e6;
    const flows = generateFlows(base, hosts, websearch, linkBps, 42);
    const meanGapUs = (websearch.meanBytes * base.sizeScale * 8 / (base.load * linkBps)) * 1e6;
    for (const h of hosts) {
      const starts = flows.filter((f) => f.src === h.name).map((f) => f.startUs);
      const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
      expect(gaps.length).to.be.above(800);
      const d = ksD(gaps, (x) => 1 - Math.exp(-x / meanGapUs));
      expect(d, h.name).to.be.below(ksCritical01(gaps.length));
    }
    // offered bytes ÷ (senders × link × span) ≈ load
    const span = Math.max(...flows.map((f) => f.startUs)) / 1e6;
    const offered = flows.reduce((s, f) => s + f.sizeBytes * 8, 0) / (hosts.length * linkBps * span);
    expect(offered).to.be.within(0.4, 0.6);
  });

  it('sends all-to-all flows only across racks, scaled sizes, ids in arrival order', () => {
    const flows = generateFlows(base, hosts, websearch, 20e6, 1);
    expect(flows).to.have.length(4000);
    const rack = new Map(hosts.map((h) => [h.name, h.rack]));
    for (const [i, f] of flows.entries()) {
      expect(f.id).to.equal(i);
      expect(rack.get(f.src)).to.not.equal(rack.get(f.dst));
      expect(f.sizeBytes).to.equal(Math.max(16, Math.round(f.nominalBytes * 0.1)));
      if (i > 0) expect(f.startUs).to.be.at.least(flows[i - 1]!.startUs);
    }
  });

  it('gives the same flow list for the same seed and a different one for another seed', () => {
    for (const spec of [base, { ...base, pattern: 'shuffle', senders: 2, receivers: 2, flows: 400 } as WorkloadSpec,
      { ...base, pattern: 'incast', fanIn: 3, flows: 300 } as WorkloadSpec, { ...base, pattern: 'permutation', flows: 300 } as WorkloadSpec]) {
      const a = generateFlows(spec, hosts, websearch, 20e6, 9);
      const b = generateFlows(spec, hosts, websearch, 20e6, 9);
      const c = generateFlows(spec, hosts, websearch, 20e6, 10);
      expect(JSON.stringify(a), spec.pattern).to.equal(JSON.stringify(b));
      expect(JSON.stringify(a), spec.pattern).to.not.equal(JSON.stringify(c));
    }
  });

  it('makes shuffles of M × R flows across racks, one transfer each', () => {
    const flows = generateFlows({ ...base, pattern: 'shuffle', senders: 2, receivers: 2, flows: 200 }, hosts, websearch, 20e6, 3);
    const byTransfer = new Map<string, typeof flows>();
    for (const f of flows) byTransfer.set(f.transfer!, [...(byTransfer.get(f.transfer!) ?? []), f]);
    for (const fs of byTransfer.values()) {
      expect(fs).to.have.length(4);
      expect(new Set(fs.map((f) => f.startUs)).size).to.equal(1);
      expect(new Set(fs.map((f) => f.src)).size).to.equal(2);
      expect(new Set(fs.map((f) => f.dst)).size).to.equal(2);
      for (const f of fs) expect(hosts.find((h) => h.name === f.src)!.rack).to.not.equal(hosts.find((h) => h.name === f.dst)!.rack);
    }
  });

  it('makes incast queries of N senders into one receiver', () => {
    const six = [...hosts, { name: 'h5', rack: 3 }, { name: 'h6', rack: 3 }];
    const flows = generateFlows({ ...base, pattern: 'incast', fanIn: 4, flows: 100 }, six, websearch, 20e6, 3);
    const byTransfer = new Map<string, typeof flows>();
    for (const f of flows) byTransfer.set(f.transfer!, [...(byTransfer.get(f.transfer!) ?? []), f]);
    for (const fs of byTransfer.values()) {
      expect(fs).to.have.length(4);
      expect(new Set(fs.map((f) => f.dst)).size).to.equal(1);
      expect(new Set(fs.map((f) => f.src)).size).to.equal(4);
    }
  });

  it('splits the offered load between tenants by weight and tags their flows', () => {
    const spec: WorkloadSpec = { ...base, flows: 4000, tenants: [{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }] };
    const flows = generateFlows(spec, hosts, websearch, 20e6, 5);
    const bytes = (t: string): number => flows.filter((f) => f.tenant === t).reduce((s, f) => s + f.sizeBytes, 0);
    const ratio = bytes('b') / bytes('a');
    expect(ratio).to.be.within(2.2, 3.9);
    const perm = generateFlows({ ...base, pattern: 'permutation', flows: 400 }, hosts, websearch, 20e6, 5);
    const partners = new Map<string, Set<string>>();
    for (const f of perm) partners.set(f.src, (partners.get(f.src) ?? new Set()).add(f.dst));
    for (const s of partners.values()) expect(s.size).to.equal(1);
    expect(new Set([...partners.values()].map((s) => [...s][0])).size).to.equal(4);
  });
});
