/**
 * Path choice (FCA §5.2 random explicit routing, ARCHITECTURE.md "Commitments" 8): uniform over the equal-cost paths
 * (χ² against uniform), repeatable under a fixed seed, independent of the order the view lists paths in;
 * and the PRNG itself.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { RoutingCore } from '../../../apps/routing/core.js';
import { Prng } from '../../../apps/routing/prng.js';
import type { FabricPath } from '../../../topology/types.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid } from '../../../testing/fake-leaf-spine.js';
import { ipv4Frame, packetIn } from './frames.js';

const SHAPE = { spines: 4, leaves: 4, hostsPerLeaf: 2 };
const hostPort = (h: number): number => SHAPE.spines + h;
/** χ² critical values at p = 0.01 by degrees of freedom */
const CHI2_01: Record<number, number> = { 1: 6.635, 2: 9.21, 3: 11.345, 4: 13.277 };

function chi2(counts: readonly number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  const e = n / counts.length;
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}

/** Pins `n` TCP flows between hosts of different leaves; returns the spine (hex) of each. */
function spines(core: RoutingCore, n: number): string[] {
  for (let i = 0; i < n; i++) {
    const sl = 1 + (i % 4);
    const dl = 1 + ((i + 1 + ((i >> 2) % 3)) % 4);
    const frame = ipv4Frame({ ethSrc: hostMac(sl, 1), ethDst: hostMac(dl, 2), src: hostIp(sl, 1), dst: hostIp(dl, 2), srcPort: 1024 + i, dstPort: 80 });
    core.packetIn(packetIn(leafDpid(sl), hostPort(1), frame), i);
  }
  return core.routes().map((r) => r.spine!);
}

describe('routing core: path choice', () => {
  it('spreads flows uniformly over the spines (χ², p > 0.01) for several seeds', () => {
    for (const seed of [1, 2, 3, 1234, 0xdeadbeef]) {
      const core = new RoutingCore(FakeLeafSpine.leafSpine(SHAPE), { seed });
      const chosen = spines(core, 2000);
      expect(chosen).to.have.length(2000);
      const counts = [...new Set(chosen)].sort().map((s) => chosen.filter((x) => x === s).length);
      expect(counts).to.have.length(4);
      expect(chi2(counts), `seed ${seed}: ${counts.join(' ')}`).to.be.lessThan(CHI2_01[3]!);
      for (const r of core.routes()) expect(r.choice.of).to.equal(4);
    }
  });

  it('is repeatable under a fixed seed and differs between seeds', () => {
    const run = (seed: number): string[] => spines(new RoutingCore(FakeLeafSpine.leafSpine(SHAPE), { seed }), 200);
    expect(run(99)).to.deep.equal(run(99));
    expect(run(99)).to.not.deep.equal(run(100));
  });

  it('does not depend on the order in which the view lists the paths', () => {
    const a = FakeLeafSpine.leafSpine(SHAPE);
    const b = FakeLeafSpine.leafSpine(SHAPE);
    const original = b.paths.bind(b);
    b.paths = (src: bigint, dst: bigint): readonly FabricPath[] => [...original(src, dst)].reverse();
    expect(spines(new RoutingCore(a, { seed: 5 }), 100)).to.deep.equal(spines(new RoutingCore(b, { seed: 5 }), 100));
  });

  it('Prng.below is uniform-ish and always in range', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 1000 }), (seed, n) => {
        const p = new Prng(seed);
        for (let i = 0; i < 50; i++) {
          const x = p.below(n);
          if (!Number.isInteger(x) || x < 0 || x >= n) return false;
        }
        return true;
      }),
    );
    const p = new Prng(17);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30000; i++) counts[p.below(3)]!++;
    expect(chi2(counts)).to.be.lessThan(CHI2_01[2]!);
    expect(() => p.below(0)).to.throw(RangeError);
  });
});
