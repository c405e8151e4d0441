/**
 * The routing core's flow index (RouteTable: open addressing over the flow key's numbers, deletion by
 * backward shift, a recency list through the routes) against a plain Map, under random inserts, look-ups
 * and deletions that grow the table and leave long probe runs; and the per-serial table through the core.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { RouteTable, type FlowNumbers } from '../../../apps/routing/core.js';

type Fake = { id: number; listed: boolean; slot: number; older: Fake | undefined; newer: Fake | undefined };

/** Keys that collide a lot: few distinct hashes' low bits would not tell them apart. */
function numbers(id: number): FlowNumbers {
  return { k0: 0x0a000000 | (id >> 4), k1: 0x0a000001, k2: ((id & 15) << 16) | 80, k3: 6 | 0x100 };
}

describe('routing: the flow index', () => {
  it('finds exactly what a Map holds through random inserts and deletes; the recency list stays in step', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.boolean()), { minLength: 1, maxLength: 4000 }), (ops) => {
        const t = new RouteTable();
        const ref = new Map<number, Fake>();
        const order: number[] = [];
        for (const [id, del] of ops) {
          const n = numbers(id);
          const got = t.get(n.k0, n.k1, n.k2, n.k3) as unknown as Fake | undefined;
          expect(got).to.equal(ref.get(id));
          if (got && del) {
            t.delete(got as never);
            ref.delete(id);
            order.splice(order.indexOf(id), 1);
            expect(got.listed).to.equal(false);
          } else if (!got) {
            const r: Fake = { id, listed: false, slot: -1, older: undefined, newer: undefined };
            t.set(n, r as never);
            ref.set(id, r);
            order.push(id);
          }
          expect(t.size).to.equal(ref.size);
        }
        for (const [id, r] of ref) {
          const n = numbers(id);
          expect(t.get(n.k0, n.k1, n.k2, n.k3)).to.equal(r as never);
        }
        expect((t.values() as unknown as Fake[]).map((r) => r.id)).to.deep.equal(order);
      }),
      { numRuns: 30, seed: 14 },
    );
  });
});
