/**
 * The traffic process's receiver-side counts (cli/commands/traffic.ts, `rx` lines): on loopback, one
 * process sends two tenants' flows to itself; the counts it logs add up, per tenant, to exactly the bytes of
 * that tenant's flows, on the clock of the flows' ends.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraffic, type TrafficPlan } from '../../../cli/commands/traffic.js';
import { collectReceived, parseEvents } from '../../../experiment/collect.js';

const freePort = (): Promise<number> => new Promise((res, rej) => {
  const s = createServer();
  s.once('error', rej);
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => res(port));
  });
});

function readIfThere(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

describe('experiment traffic: receiver-side per-tenant counts', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'rivulet-traffic-rx-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("logs rx counts whose per-tenant sums equal the bytes of that tenant's flows", async function () {
    this.timeout(20000);
    const out = join(dir, 'h1.jsonl');
    const plan: TrafficPlan = {
      startAtMs: Date.now() + 100, port: await freePort(), connections: 'kept', hosts: { h1: '127.0.0.1' }, receivedBinMs: 20,
      flows: [
        { id: 0, src: 'h1', dst: 'h1', startUs: 0, sizeBytes: 3_000_000, tenant: 'a' },
        { id: 1, src: 'h1', dst: 'h1', startUs: 1000, sizeBytes: 1_000_000, tenant: 'b' },
        { id: 2, src: 'h1', dst: 'h1', startUs: 2000, sizeBytes: 500_000, tenant: 'a' },
        { id: 3, src: 'h1', dst: 'h1', startUs: 3000, sizeBytes: 200_000 }, // no tenant: not counted
      ],
    };
    const ended = async (): Promise<void> => {
      for (;;) {
        if (parseEvents(readIfThere(out)).filter((e) => e.ev === 'end').length === plan.flows.length) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    expect(await runTraffic({ plan, host: 'h1', out }, ended())).to.equal(0);
    const events = parseEvents(readFileSync(out, 'utf8'));
    const samples = collectReceived('ecmp', events);
    const sum = (t: string): number => samples.filter((s) => s.tenant === t).reduce((a, s) => a + s.bytes, 0);
    expect(sum('a')).to.equal(3_500_000);
    expect(sum('b')).to.equal(1_000_000);
    expect(new Set(samples.map((s) => s.tenant))).to.deep.equal(new Set(['a', 'b']));
    // every count was logged after the plan's start, on the same clock as the flows' ends
    expect(Math.min(...samples.map((s) => s.atUs))).to.be.at.least(plan.startAtMs * 1000);
    const lastEnd = Math.max(...events.filter((e) => e.ev === 'end').map((e) => e.atUs!));
    expect(Math.max(...samples.map((s) => s.atUs))).to.be.at.least(lastEnd - 100_000);
  });
});
