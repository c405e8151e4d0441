/**
 * A small seedable pseudo-random generator for repeatable path choices (ARCHITECTURE.md "Commitments" 8: seeded choice,
 * exposed per flow). 32-bit state advanced by a Weyl sequence and finished with an integer hash
 * (a splitmix-style mixer); period 2^32, good enough for choosing among a handful of paths.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next value, uniform in [0, 2^32). */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /**
   * A uniform integer in [0, n) without modulo bias (rejection of the top partial block).
   * @throws RangeError unless 1 ≤ n ≤ 2^32
   */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) throw new RangeError(`Prng.below: n must be in [1, 2^32], got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }
}
