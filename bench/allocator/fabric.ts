/**
 * Two-tier (leaf-spine) benchmark fabrics for `npm run bench:allocator` (README.md "Allocator"): 48 servers
 * per leaf, 10 Gbit/s server links, 40 Gbit/s leaf↔spine links, 8 spines; every server starts 8 flowlets to
 * random other servers through a random spine (seeded, so every run measures the same instance).
 */
import { mulberry32 } from '../../testing/random.js';

/** One benchmark instance as plain arrays: links' capacities and flows' link-index paths. */
export interface BenchInstance {
  readonly servers: number;
  readonly capacities: Float64Array;
  readonly paths: Int32Array[];
  /** Source server of each flow (for the block choice). */
  readonly sources: Int32Array;
}

/** Servers per leaf and spines of the benchmark fabrics. */
export const SERVERS_PER_LEAF = 48;
export const SPINES = 8;

/** Builds an instance with `servers` servers and `perServer` flowlets per server. */
export function benchInstance(servers: number, perServer: number, seed = 1): BenchInstance {
  const leaves = Math.ceil(servers / SERVERS_PER_LEAF);
  const up = (h: number): number => 2 * h;
  const down = (h: number): number => 2 * h + 1;
  const base = 2 * servers;
  const leafUp = (leaf: number, s: number): number => base + 2 * (leaf * SPINES + s);
  const spineDown = (leaf: number, s: number): number => base + 2 * (leaf * SPINES + s) + 1;
  const capacities = new Float64Array(base + 2 * leaves * SPINES);
  capacities.fill(10e9, 0, base);
  capacities.fill(40e9, base);
  const r = mulberry32(seed);
  const paths: Int32Array[] = [];
  const sources = new Int32Array(servers * perServer);
  for (let h = 0; h < servers; h++) {
    for (let k = 0; k < perServer; k++) {
      let d = Math.floor(r() * (servers - 1));
      if (d >= h) d++;
      const ls = Math.floor(h / SERVERS_PER_LEAF);
      const ld = Math.floor(d / SERVERS_PER_LEAF);
      const sp = Math.floor(r() * SPINES);
      sources[paths.length] = h;
      paths.push(ls === ld ? Int32Array.of(up(h), down(d)) : Int32Array.of(up(h), leafUp(ls, sp), spineDown(ld, sp), down(d)));
    }
  }
  return { servers, capacities, paths, sources };
}

