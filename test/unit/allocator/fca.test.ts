/**
 * fca (FCA §4) through `rivulet simulate`: the paper's Fig. 5. The topology is
 * inferred from the figure's numbers, see fixtures/README.md: Ta = {a1 over the 5 Mbit/s link, a2 over the
 * 15 Mbit/s link}, Tb = {b1 over the 15 Mbit/s link, b2 over the 10 Mbit/s link}, every flow 30 Mbit.
 */
import { expect } from 'chai';
import { runSimulate } from '../../../cli/commands/simulate.js';
import type { SimResult } from '../../../apps/allocator/simulator/fluid.js';
import { parseProblem } from '../../../apps/allocator/problem.js';
import { simulate } from '../../../apps/allocator/simulator/fluid.js';
import { readFileSync } from 'node:fs';
import { Fabric } from '../../../apps/allocator/fabric.js';
import { fcaAllocate } from '../../../apps/allocator/fca.js';
import { FlowletTable } from '../../../apps/allocator/table.js';

const FIG5 = 'test/unit/allocator/fixtures/fca-fig5.json';
const FIG5_LATE = 'test/unit/allocator/fixtures/fca-fig5-late.json';

async function sim(input: string, policy: string): Promise<{ result: SimResult; summary: string }> {
  let out = '';
  let err = '';
  const code = await runSimulate({ input, policy }, (s) => { out += s; }, (s) => { err += s; });
  expect(code, err).to.equal(0);
  return { result: JSON.parse(out) as SimResult, summary: err.trim() };
}

function tct(r: SimResult, id: string): number {
  return r.transfers[id]!.tctS;
}

describe('allocator/fca: FCA Fig. 5 via rivulet simulate', () => {
  it('both transfers at t=0: FCA gives TCTs 6 s and 3 s, fair sharing 6 s and 4 s', async () => {
    const fca = await sim(FIG5, 'fca');
    const fair = await sim(FIG5, 'maxmin');
    console.log(`      ${fca.summary}\n      ${fair.summary}`);
    expect(tct(fca.result, 'Ta')).to.be.closeTo(6, 1e-5);
    expect(tct(fca.result, 'Tb')).to.be.closeTo(3, 1e-5);
    expect(tct(fair.result, 'Ta')).to.be.closeTo(6, 1e-9);
    expect(tct(fair.result, 'Tb')).to.be.closeTo(4, 1e-9);
  });

  it('Tb arriving at 2 s and the second link at 15 Mbit/s: FCA gives 6 s and 2 s', async () => {
    const fca = await sim(FIG5_LATE, 'fca');
    console.log(`      ${fca.summary}`);
    expect(tct(fca.result, 'Ta')).to.be.closeTo(6, 1e-5);
    expect(tct(fca.result, 'Tb')).to.be.closeTo(2, 1e-5);
    expect(fca.result.flows['a2']!.endS).to.be.closeTo(2, 1e-5); // work conservation let a2 finish early
  });

  it('without the work-conservation step (§4.3), the late Tb would take 3 s: the step is what gives 2 s', () => {
    const p = parseProblem(readFileSync(FIG5_LATE, 'utf8'));
    const r = simulate(p, { policy: 'fca', extra: { fca: { reserve: 0, workConserving: false } } });
    expect(r.transfers['Tb']!.tctS).to.be.closeTo(3, 1e-9);
    expect(r.transfers['Ta']!.tctS).to.be.closeTo(6, 1e-9);
  });

  it('with reserve 0 the paper rule is exact: 6 s and 3 s', () => {
    const r = simulate(parseProblem(readFileSync(FIG5, 'utf8')), { policy: 'fca', extra: { fca: { reserve: 0 } } });
    expect(r.transfers['Ta']!.tctS).to.be.closeTo(6, 1e-12);
    expect(r.transfers['Tb']!.tctS).to.be.closeTo(3, 1e-12);
  });

  it('simulate rejects a flow without size with exit 2 naming it', async () => {
    let err = '';
    const code = await runSimulate({ input: 'test/unit/allocator/fixtures/no-size.json' }, () => {}, (s) => { err += s; });
    expect(code).to.equal(2);
    expect(err.trim().split('\n')).to.have.length(1);
    expect(err).to.contain('"x1"');
  });

  it('minRateBps: a transfer waiting behind a smaller one keeps a floor instead of ~0 (a TCP flow keeps its ACK clock)', () => {
    const f = new Fabric(1);
    const host = f.addLink('h1-up', 20e6);
    const t = new FlowletTable(f, { maxHops: 2 });
    const small = t.add({ path: [host], weight: 1, sizeBits: 1e6, transfer: 0 });
    const big = t.add({ path: [host], weight: 1, sizeBits: 10e6, transfer: 1 });
    const rates = (o: Parameters<typeof fcaAllocate>[2]): [number, number] => {
      const out = new Float64Array(t.span);
      fcaAllocate(t, out, o);
      return [out[t.slotOf(small)]!, out[t.slotOf(big)]!];
    };
    const [s0, b0] = rates({ reserve: 0 });
    expect(s0).to.be.closeTo(20e6, 1e-6);
    expect(b0, 'the paper rule: the larger transfer waits at 0').to.equal(0);
    const [s1, b1] = rates({ reserve: 0, minRateBps: 250e3 });
    expect(b1).to.be.closeTo(250e3, 1e-6);
    expect(s1, 'the smaller transfer takes the rest: 20 Mbit/s less the floor').to.be.closeTo(19.75e6, 1e-6);
    // floors never overbook a link: 100 flows at 250 kbit/s on 20 Mbit/s get 200 kbit/s each
    const many = Array.from({ length: 98 }, (_, i) => t.add({ path: [host], weight: 1, sizeBits: 1e7 + i, transfer: 2 + i }));
    const out = new Float64Array(t.span);
    fcaAllocate(t, out, { reserve: 0, minRateBps: 250e3, workConserving: false });
    expect(out[t.slotOf(many[97]!)]).to.be.closeTo(200e3, 1e-6);
    let sum = 0;
    t.forEachSlot((sl) => { sum += out[sl]!; });
    expect(sum).to.be.closeTo(20e6, 1e-3);
  });
});
