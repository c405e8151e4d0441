/**
 * Worker mode (ARCHITECTURE.md "Principles", typed arrays; Flowtune §5): worker_threads over the table's blocks give rates bit-identical to the
 * single-threaded optimizer with the same blocks, through arrivals, departures and table growth.
 */
import { expect } from 'chai';
import { Fabric } from '../../../apps/allocator/fabric.js';
import { FlowtuneOptimizer } from '../../../apps/allocator/flowtune.js';
import { ParallelFlowtune } from '../../../apps/allocator/parallel/pool.js';
import { FlowletTable } from '../../../apps/allocator/table.js';
import { leafSpineLinks, randomPath, rng, type LeafSpineShape } from './helpers.js';

const SHAPE: LeafSpineShape = { spines: 2, leaves: 4, hostsPerLeaf: 6, hostBps: 1e9, fabricBps: 3e9 };

describe('allocator/parallel (worker_threads)', function () {
  this.timeout(60000);
  const pools: ParallelFlowtune[] = [];
  after(async () => { for (const p of pools) await p.close(); });

  for (const mainRunsBlock0 of [false, true]) {
  it(`${mainRunsBlock0 ? 'main thread + 1 worker' : '2 workers'}: rates bit-identical to single-threaded with the same 2 blocks, over 300 events`, () => {
    const links = leafSpineLinks(SHAPE);
    const make = (shared: boolean): { f: Fabric; t: FlowletTable } => {
      const f = new Fabric(links.length, shared);
      for (const l of links) f.addLink(l.id, l.capacityBps);
      return { f, t: new FlowletTable(f, { blocks: 2, blockCapacity: 8, shared }) };
    };
    const a = make(false);
    const b = make(true);
    const single = new FlowtuneOptimizer(a.t);
    const pool = new ParallelFlowtune(b.t, {}, mainRunsBlock0);
    pools.push(pool);
    const r = rng(3);
    const live: [number, number][] = [];
    for (let e = 0; e < 300; e++) {
      if (live.length < 5 || r() < 0.6) {
        const path = randomPath(SHAPE, r).map((id) => a.f.indexOf(id));
        const weight = 0.5 + r();
        live.push([a.t.add({ path, weight }), b.t.add({ path, weight })]);
      } else {
        const [ha, hb] = live.splice(Math.floor(r() * live.length), 1)[0]!;
        a.t.remove(ha);
        b.t.remove(hb);
      }
      const n = 1 + (e % 3);
      single.iterate(n);
      pool.iterate(n);
      for (const [ha, hb] of live) expect(pool.out[b.t.slotOf(hb)]).to.equal(single.out[a.t.slotOf(ha)]);
    }
    expect(live.length).to.be.above(16); // the blocks grew past their initial 8 slots
  });
  }
});
