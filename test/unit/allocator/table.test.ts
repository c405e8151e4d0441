/** The flowlet table (ARCHITECTURE.md "Principles"): handles, swap-remove, growth, incremental link aggregates, CSR. */
import { expect } from 'chai';
import fc from 'fast-check';
import { buildLinkFlows } from '../../../apps/allocator/csr.js';
import { Fabric } from '../../../apps/allocator/fabric.js';
import { FlowletTable } from '../../../apps/allocator/table.js';
import { AllocatorError } from '../../../apps/allocator/errors.js';

function fabric(n: number): Fabric {
  const f = new Fabric(2);
  for (let l = 0; l < n; l++) f.addLink(`l${l}`, 1e9 * (l + 1));
  return f;
}

describe('allocator/table', () => {
  it('random add/remove sequences keep handles, link counts, weights and CSR consistent', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }), fc.double({ min: 0, max: 5, noNaN: true })), { maxLength: 200 }),
      fc.integer({ min: 1, max: 3 }),
      (ops, blocks) => {
        const t = new FlowletTable(fabric(10), { blocks, blockCapacity: 2, maxHops: 4 });
        const live = new Map<number, { path: number[]; w: number }>();
        for (const [add, path, w] of ops) {
          if (add || live.size === 0) live.set(t.add({ path, weight: w }), { path, w });
          else {
            const h = [...live.keys()][Math.floor(w * 1000) % live.size]!;
            t.remove(h);
            live.delete(h);
          }
        }
        expect(t.size).to.equal(live.size);
        const count = new Array(10).fill(0);
        const weight = new Array(10).fill(0);
        for (const [h, { path, w }] of live) {
          const s = t.slotOf(h);
          expect(Array.from(t.path.subarray(s * 4, s * 4 + t.pathLen[s]!))).to.deep.equal(path);
          expect(t.weight[s]).to.equal(w);
          expect(t.handleOfSlot[s]).to.equal(h);
          expect(t.rateCap[s]).to.equal(Math.min(...path.map((l) => 1e9 * (l + 1))));
          for (const l of path) { count[l]++; weight[l] += w; }
        }
        const csr = buildLinkFlows(t);
        for (let l = 0; l < 10; l++) {
          expect(t.linkCount[l]).to.equal(count[l]);
          expect(t.linkWeight[l]).to.be.closeTo(weight[l], 1e-9);
          expect(csr.offsets[l + 1]! - csr.offsets[l]!).to.equal(count[l]);
        }
      }), { numRuns: 300 });
  });

  it('rejects bad flowlets with typed errors', () => {
    const t = new FlowletTable(fabric(2));
    const code = (fn: () => unknown): string => {
      try { fn(); } catch (e) { return (e as AllocatorError).code; }
      return 'none';
    };
    expect(code(() => t.add({ path: [] }))).to.equal('ALLOC_EMPTY_PATH');
    expect(code(() => t.add({ path: [7] }))).to.equal('ALLOC_UNKNOWN_LINK');
    expect(code(() => t.add({ path: [0], weight: NaN }))).to.equal('ALLOC_BAD_WEIGHT');
    expect(code(() => t.remove(42))).to.equal('ALLOC_UNKNOWN_FLOW');
    expect(code(() => new Fabric().addLink('x', 0))).to.equal('ALLOC_BAD_CAPACITY');
  });
});
