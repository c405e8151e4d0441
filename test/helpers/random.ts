/** The seeded PRNG lives in testing/random.ts (benchmarks use it too); re-exported for the tests. */
export { mulberry32 } from '../../testing/random.js';
