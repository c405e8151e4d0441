/**
 * The baseline of `npm run bench:allocator`: a straightforward object-per-flow implementation of the same
 * iteration (NED price update + rate computation + F-NORM) — flows and links as objects, paths as arrays of
 * link references — the way one would first write it. Measured in the same run as the typed-array allocator.
 */

interface BLink { capacity: number; price: number; load: number; hess: number; weight: number }
interface BFlow { path: BLink[]; weight: number; cap: number; rate: number; out: number }

/** Object-per-flow allocator state. */
export class BaselineAllocator {
  readonly links: BLink[];
  readonly flows: BFlow[] = [];
  /** Set by add/remove: the next iterate() first recomputes rates at the current prices. */
  private changed = true;

  constructor(capacities: Float64Array, private readonly gamma = 0.85) {
    this.links = Array.from(capacities, (c) => ({ capacity: c, price: 0, load: 0, hess: 0, weight: 0 }));
  }

  /** Adds a flow over link indices. */
  add(path: ArrayLike<number>): BFlow {
    const links = Array.from(path, (l) => this.links[l]!);
    const f: BFlow = { path: links, weight: 1, cap: Math.min(...links.map((l) => l.capacity)), rate: 0, out: 0 };
    for (const l of links) {
      l.weight += 1;
      if (l.price === 0) l.price = l.weight / l.capacity;
    }
    this.flows.push(f);
    this.changed = true;
    return f;
  }

  /** Removes a flow. */
  remove(f: BFlow): void {
    const i = this.flows.indexOf(f);
    this.flows.splice(i, 1);
    for (const l of f.path) l.weight -= 1;
    this.changed = true;
  }

  /** One iteration, as the typed allocator's iterate(1): [rates after a change], price update, rates, F-NORM. */
  iterate(): void {
    if (this.changed) this.rates();
    this.changed = false;
    this.updatePrices();
    this.rates();
    this.normalize();
  }

  private rates(): void {
    for (const l of this.links) { l.load = 0; l.hess = 0; }
    for (const f of this.flows) {
      const q = f.path.reduce((a, l) => a + l.price, 0);
      f.rate = q * f.cap <= f.weight ? f.cap : f.weight / q;
      const h = f.rate < f.cap ? f.rate / q : (f.cap * f.cap) / f.weight;
      for (const l of f.path) { l.load += f.rate; l.hess += h; }
    }
  }

  private updatePrices(): void {
    for (const l of this.links) {
      if (l.weight <= 0) { l.price = 0; continue; }
      const rho = (this.gamma * (l.load - l.capacity)) / (l.price * l.hess);
      const pn = rho >= 0 ? l.price * (1 + rho) : l.price / (1 - rho);
      l.price = Number.isFinite(pn) ? Math.max(pn, 0.5 * l.price) : l.price;
    }
  }

  private normalize(): void {
    for (const f of this.flows) {
      const m = Math.max(...f.path.map((l) => l.load / l.capacity));
      f.out = Math.min(f.rate / m, f.cap);
    }
  }
}
