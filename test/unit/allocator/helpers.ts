/**
 * Test helpers for the allocator: random leaf-spine instances and an independent exact solver for
 * weighted proportional fairness (dual coordinate descent with bisection, written separately from NED),
 * whose dual value is an upper bound on the optimum utility (weak duality).
 */
import { mulberry32 } from '../../../testing/random.js';
import type { LeafSpineShape as SwitchShape } from '../../../testing/leaf-spine.js';
import { Fabric } from '../../../apps/allocator/fabric.js';
import { FlowletTable } from '../../../apps/allocator/table.js';
import type { Problem } from '../../../apps/allocator/problem.js';

/** A deterministic PRNG so failures reproduce from the seed. */
export const rng = mulberry32;

/** Shape of a random leaf-spine fabric (testing/leaf-spine.ts) with its link capacities. */
export interface LeafSpineShape extends SwitchShape {
  /** Host link capacity, bits/s. */
  readonly hostBps: number;
  /** Leaf↔spine link capacity, bits/s. */
  readonly fabricBps: number;
}

/** Link ids of a leaf-spine fabric, in the order they are created. */
export function leafSpineLinks(sh: LeafSpineShape): { id: string; capacityBps: number }[] {
  const links: { id: string; capacityBps: number }[] = [];
  const H = sh.leaves * sh.hostsPerLeaf;
  for (let h = 0; h < H; h++) {
    links.push({ id: `h${h}>l`, capacityBps: sh.hostBps }, { id: `l>h${h}`, capacityBps: sh.hostBps });
  }
  for (let l = 0; l < sh.leaves; l++) {
    for (let s = 0; s < sh.spines; s++) {
      links.push({ id: `l${l}>s${s}`, capacityBps: sh.fabricBps }, { id: `s${s}>l${l}`, capacityBps: sh.fabricBps });
    }
  }
  return links;
}

/** A random src→dst path (via a random spine when the leaves differ), as link ids. */
export function randomPath(sh: LeafSpineShape, r: () => number): string[] {
  const H = sh.leaves * sh.hostsPerLeaf;
  const src = Math.floor(r() * H);
  let dst = Math.floor(r() * (H - 1));
  if (dst >= src) dst++;
  const ls = Math.floor(src / sh.hostsPerLeaf);
  const ld = Math.floor(dst / sh.hostsPerLeaf);
  if (ls === ld) return [`h${src}>l`, `l>h${dst}`];
  const sp = Math.floor(r() * sh.spines);
  return [`h${src}>l`, `l${ls}>s${sp}`, `s${sp}>l${ld}`, `l>h${dst}`];
}

/** A random leaf-spine problem with `flows` flows of random weights in [0.5, 4). */
export function randomProblem(seed: number, flows: number, sh?: Partial<LeafSpineShape>): Problem {
  const r = rng(seed);
  const shape: LeafSpineShape = {
    spines: 2, leaves: 3, hostsPerLeaf: 3, hostBps: 1e9, fabricBps: (1 + Math.floor(r() * 4)) * 1e9, ...sh,
  };
  const fl = [];
  for (let i = 0; i < flows; i++) {
    fl.push({ id: `f${i}`, path: randomPath(shape, r), weight: 0.5 + r() * 3.5, startS: 0 });
  }
  return { links: leafSpineLinks(shape), flows: fl, tenants: [], divisions: [] };
}

/** Fabric + table of a problem (every flow added, handle i = flow i). */
export function tableOf(p: Problem, blocks = 1): FlowletTable {
  const f = new Fabric(p.links.length);
  for (const l of p.links) f.addLink(l.id, l.capacityBps);
  const t = new FlowletTable(f, { blocks });
  for (const fl of p.flows) {
    t.add({ path: fl.path.map((id) => f.indexOf(id)), weight: fl.weight, demandBps: fl.demandBps });
  }
  return t;
}

/**
 * Independent exact solver for max Σ w_s log x_s s.t. Σ_{s∋l} x_s ≤ c_l: cyclic coordinate descent on the
 * dual D(p) = Σ_l p_l c_l + Σ_s (w_s log(w_s/q_s) − w_s), each coordinate minimised exactly by bisection.
 * Returns the prices and D(p), an upper bound on the optimum (weak duality) that is tight at convergence.
 */
export function dualSolve(p: Problem, sweeps = 3000, warm?: ReadonlyMap<string, number>): { prices: number[]; dual: number } {
  const idx = new Map(p.links.map((l, i) => [l.id, i]));
  const paths = p.flows.map((f) => f.path.map((id) => idx.get(id)!));
  const onLink: number[][] = p.links.map(() => []);
  paths.forEach((path, s) => { for (const l of path) onLink[l]!.push(s); });
  const price = p.links.map((l) => warm?.get(l.id) ?? 0);
  const q = paths.map((path) => path.reduce((a, l) => a + price[l]!, 0));
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let change = 0;
    for (let l = 0; l < p.links.length; l++) {
      const flows = onLink[l]!.filter((s) => p.flows[s]!.weight > 0);
      if (flows.length === 0) continue;
      const old = price[l]!;
      const best = minimiseCoordinate(flows.map((s) => [p.flows[s]!.weight, q[s]! - old] as const), p.links[l]!.capacityBps);
      for (const s of onLink[l]!) q[s] = q[s]! - old + best;
      price[l] = best;
      change = Math.max(change, Math.abs(best - old) / Math.max(best, 1e-300));
    }
    if (change < 1e-15) break;
  }
  return { prices: price, dual: dualValue(p, price) };
}

/** argmin_{p ≥ 0} p·c + Σ w log(w/(a+p)): the root of Σ w/(a+p) = c, by bisection to the last bit. */
function minimiseCoordinate(terms: readonly (readonly [number, number])[], c: number): number {
  const g = (x: number): number => terms.reduce((acc, [w, a]) => acc + w / Math.max(a + x, 0), 0);
  if (g(0) <= c) return 0;
  let lo = 0;
  let hi = terms.reduce((acc, [w]) => acc + w, 0) / c;
  for (let i = 0; i < 200 && hi > lo; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (g(mid) > c) lo = mid; else hi = mid;
  }
  return hi;
}

/** D(p): Σ_l p_l c_l + Σ_s (w_s log(w_s/q_s) − w_s). */
export function dualValue(p: Problem, price: readonly number[]): number {
  const idx = new Map(p.links.map((l, i) => [l.id, i]));
  let d = p.links.reduce((acc, l, i) => acc + price[i]! * l.capacityBps, 0);
  for (const f of p.flows) {
    if (!(f.weight > 0)) continue;
    const q = f.path.reduce((acc, id) => acc + price[idx.get(id)!]!, 0);
    d += f.weight * Math.log(f.weight / q) - f.weight;
  }
  return d;
}

/** Σ w log x over the problem's flows. */
export function utility(p: Problem, rate: (i: number) => number): number {
  return p.flows.reduce((acc, f, i) => acc + (f.weight > 0 ? f.weight * Math.log(rate(i)) : 0), 0);
}

/** Per-link load of rates given by flow index. */
export function linkLoads(p: Problem, rate: (i: number) => number): Map<string, number> {
  const m = new Map(p.links.map((l) => [l.id, 0]));
  p.flows.forEach((f, i) => { for (const id of f.path) m.set(id, m.get(id)! + rate(i)); });
  return m;
}
