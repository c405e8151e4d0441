/**
 * The experiment workload generator (pure, deterministic): from a seed, a fabric (hosts by rack) and a
 * workload description, the complete list of flows of one run — arrival time, sender, receiver, size,
 * transfer (coflow) and tenant. The same seed gives the same list for every scheme and every run, so
 * schemes are compared on identical traffic.
 *
 * Arrivals are open-loop Poisson (exponential inter-arrival times). The rate is set so that each sending
 * host offers `load` × its link rate on average (pFabric/PIAS/Karuna evaluations: "load" is the offered
 * load of the host link): λ = load · linkRateBps / (8 · E[S]) flows per second per sender.
 * Flow sizes are drawn by inverse-transform sampling of the workload's CDF (the same parser and quantile
 * function the PIAS threshold model uses, apps/qos/thresholds/distribution.ts), then multiplied by
 * `sizeScale` (the stated scaling from the papers' 1–10 Gbit/s testbeds to Mininet's tens of Mbit/s).
 *
 * Patterns:
 *  - `all-to-all`: each flow's receiver is uniform among the hosts of the other racks;
 *  - `permutation`: each host sends only to one partner in another rack (a seeded derangement);
 *  - `incast`: queries arrive as a Poisson process; each query is a transfer of `fanIn` flows from
 *    distinct senders to one receiver, each flow of the drawn size;
 *  - `shuffle`: transfers (coflows) of `senders` × `receivers` flows (every sender → every receiver,
 *    senders and receivers in different racks), each flow of a size drawn independently; the transfer
 *    completes with its last flow (FCA §2).
 * Tenants: each tenant owns a set of sending hosts (or all) and a weight; with several tenants every
 * tenant generates its own Poisson stream at `load` × its share of the host link.
 */
import { parseCdf, quantile, type FlowSizeDistribution } from '../apps/qos/thresholds/index.js';
import { Prng } from '../apps/routing/prng.js';

export type Pattern = 'all-to-all' | 'permutation' | 'incast' | 'shuffle';

/** A host of the fabric as the generator sees it. */
export interface WorkloadHost {
  readonly name: string;
  /** rack (leaf) index, any integer; flows cross racks */
  readonly rack: number;
}

export interface TenantSpec {
  readonly name: string;
  readonly weight: number;
  /** sending hosts of this tenant (names); absent: every host */
  readonly hosts?: readonly string[];
  /** receivers this tenant sends to (names); absent: the pattern's choice */
  readonly receivers?: readonly string[];
  /** this tenant's own offered load per sender (fraction of the link); absent: the workload's load × its weight share */
  readonly load?: number;
}

export interface WorkloadSpec {
  readonly pattern: Pattern;
  /** offered load of each sender's host link, 0 < load < 1 (per tenant: its share of it) */
  readonly load: number;
  /** sizes from the CDF are multiplied by this (bytes; the result is rounded, at least minFlowBytes) */
  readonly sizeScale: number;
  /** stop after this many flows (all senders together) */
  readonly flows: number;
  /** incast: flows per query */
  readonly fanIn?: number;
  /** shuffle: senders and receivers per transfer */
  readonly senders?: number;
  readonly receivers?: number;
  readonly tenants?: readonly TenantSpec[];
}

/** One generated flow. Times are µs after the run's common start. */
export interface FlowSpec {
  /** 0-based, in order of arrival */
  readonly id: number;
  readonly src: string;
  readonly dst: string;
  readonly startUs: number;
  /** bytes the sender transfers (scaled) */
  readonly sizeBytes: number;
  /** the size drawn from the CDF, before scaling (used for the size bins) */
  readonly nominalBytes: number;
  readonly transfer?: string;
  readonly tenant?: string;
}

/** The smallest transfer: the traffic protocol's 16-byte header (cli/commands/traffic.ts). */
export const MIN_FLOW_BYTES = 16;

/** A seeded source of uniform doubles in (0, 1) with 53 random bits, on the routing PRNG. */
export class Uniform {
  private readonly prng: Prng;
  constructor(seed: number) {
    this.prng = new Prng(seed);
  }
  /** uniform in (0, 1) */
  next(): number {
    const hi = this.prng.nextU32() >>> 5; // 27 bits
    const lo = this.prng.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  }
  /** uniform integer in [0, n) */
  below(n: number): number {
    return this.prng.below(n);
  }
  /** exponential with the given mean */
  exponential(mean: number): number {
    return -Math.log(this.next()) * mean;
  }
}

/** A size drawn from `d` by inverse transform (bytes, unscaled). */
export function sampleSize(d: FlowSizeDistribution, u: Uniform): number {
  return quantile(d, u.next());
}

/** Loads a `.cdf` text (see distribution.ts). @throws ThresholdError naming the line */
export function loadCdf(text: string): FlowSizeDistribution {
  return parseCdf(text);
}

/**
 * Generates the flows of one run.
 * @param linkRateBps each sender's host link rate, bit/s (the load is a fraction of it)
 * @throws RangeError on an impossible spec (one rack, a load outside (0, 1), too few hosts for a transfer)
 */
export function generateFlows(spec: WorkloadSpec, hosts: readonly WorkloadHost[], dist: FlowSizeDistribution,
  linkRateBps: number, seed: number): FlowSpec[] {
  if (!(spec.load > 0 && spec.load < 1)) throw new RangeError(`load must be in (0, 1), got ${spec.load}`);
  if (!(spec.sizeScale > 0)) throw new RangeError(`sizeScale must be > 0, got ${spec.sizeScale}`);
  if (!(Number.isInteger(spec.flows) && spec.flows >= 1)) throw new RangeError(`flows must be a positive integer, got ${spec.flows}`);
  const racks = new Set(hosts.map((h) => h.rack));
  if (racks.size < 2) throw new RangeError('the workload needs hosts in at least two racks');
  const meanFlowBytes = dist.meanBytes * spec.sizeScale;
  const tenants: readonly TenantSpec[] = spec.tenants && spec.tenants.length > 0 ? spec.tenants : [{ name: '', weight: 1 }];
  const totalWeight = tenants.reduce((s, t) => s + t.weight, 0);
  const u = new Uniform(seed);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const others = (h: WorkloadHost): WorkloadHost[] => hosts.filter((x) => x.rack !== h.rack);
  const partner = permutationPartners(hosts, u);
  const flowsPerEvent = spec.pattern === 'incast' ? (spec.fanIn ?? 2) : spec.pattern === 'shuffle' ? (spec.senders ?? 2) * (spec.receivers ?? 2) : 1;

  // One Poisson stream per (tenant, sender) for flow patterns, one per tenant for transfer patterns.
  interface Stream { tenant: TenantSpec; sender?: WorkloadHost; nextUs: number; meanGapUs: number; pool: WorkloadHost[] }
  const streams: Stream[] = [];
  for (const t of tenants) {
    const pool = (t.hosts ?? hosts.map((h) => h.name)).map((n) => {
      const h = byName.get(n);
      if (!h) throw new RangeError(`tenant ${t.name}: unknown host ${n}`);
      return h;
    });
    const share = t.weight / totalWeight;
    const perSenderBps = (t.load ?? spec.load * (tenants.length > 1 ? share : 1)) * linkRateBps;
    if (spec.pattern === 'all-to-all' || spec.pattern === 'permutation') {
      for (const s of pool) {
        const meanGapUs = (meanFlowBytes * 8 / perSenderBps) * 1e6;
        streams.push({ tenant: t, sender: s, nextUs: u.exponential(meanGapUs), meanGapUs, pool });
      }
    } else {
      // a transfer puts flowsPerEvent flows on the senders of the pool: the event rate keeps each sender at the load
      const meanGapUs = (meanFlowBytes * 8 * flowsPerEvent / (perSenderBps * pool.length)) * 1e6;
      streams.push({ tenant: t, nextUs: u.exponential(meanGapUs), meanGapUs, pool });
    }
  }
  const out: Omit<FlowSpec, 'id'>[] = [];
  let transfers = 0;
  const draw = (): { sizeBytes: number; nominalBytes: number } => {
    const nominal = Math.max(1, Math.round(sampleSize(dist, u)));
    return { nominalBytes: nominal, sizeBytes: Math.max(MIN_FLOW_BYTES, Math.round(nominal * spec.sizeScale)) };
  };
  while (out.length < spec.flows) {
    let s = streams[0]!;
    for (const x of streams) if (x.nextUs < s.nextUs) s = x;
    const at = Math.round(s.nextUs);
    s.nextUs += s.meanGapUs > 0 ? u.exponential(s.meanGapUs) : 0;
    const tenant = s.tenant.name === '' ? {} : { tenant: s.tenant.name };
    if (s.sender) {
      const src = s.sender;
      let dst: WorkloadHost;
      if (s.tenant.receivers && s.tenant.receivers.length > 0) dst = byName.get(pick(s.tenant.receivers, u))!;
      else if (spec.pattern === 'permutation') dst = partner.get(src.name)!;
      else {
        const cands = others(src);
        dst = cands[u.below(cands.length)]!;
      }
      out.push({ src: src.name, dst: dst.name, startUs: at, ...draw(), ...tenant });
      continue;
    }
    const transfer = `t${transfers++}`;
    if (spec.pattern === 'incast') {
      const fanIn = spec.fanIn ?? 2;
      const rx = s.tenant.receivers?.length ? byName.get(pick(s.tenant.receivers, u))! : s.pool[u.below(s.pool.length)]!;
      const senders = choose(others(rx).filter((h) => s.pool.includes(h) || !s.tenant.hosts), fanIn, u);
      for (const tx of senders) out.push({ src: tx.name, dst: rx.name, startUs: at, ...draw(), transfer, ...tenant });
    } else {
      // shuffle: M senders in one set of racks, R receivers in the others
      const m = spec.senders ?? 2;
      const r = spec.receivers ?? 2;
      const rackList = [...new Set(s.pool.map((h) => h.rack))];
      if (rackList.length < 2 && !s.tenant.receivers) throw new RangeError('shuffle needs senders in two racks');
      const split = 1 + u.below(Math.max(1, rackList.length - 1));
      const order = choose(rackList.map((x) => ({ name: String(x), rack: x })), rackList.length, u).map((x) => x.rack);
      const txRacks = new Set(order.slice(0, split));
      const txs = choose(s.pool.filter((h) => txRacks.has(h.rack)), m, u);
      const rxs = choose(hosts.filter((h) => !txRacks.has(h.rack)), r, u);
      for (const tx of txs) for (const rx of rxs) out.push({ src: tx.name, dst: rx.name, startUs: at, ...draw(), transfer, ...tenant });
    }
  }
  return out.slice(0, Math.max(spec.flows, out.length)).map((f, id) => ({ id, ...f }));
}

function pick<T>(xs: readonly T[], u: Uniform): T {
  return xs[u.below(xs.length)]!;
}

/** `k` distinct elements of `xs` (all of them when k ≥ length), in a seeded random order. */
export function choose<T>(xs: readonly T[], k: number, u: Uniform): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = u.below(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, Math.min(k, a.length));
}

/** A seeded assignment of each host to a partner in another rack, every host receiving from one sender when possible. */
export function permutationPartners(hosts: readonly WorkloadHost[], u: Uniform): Map<string, WorkloadHost> {
  const out = new Map<string, WorkloadHost>();
  for (let attempt = 0; attempt < 100; attempt++) {
    const perm = choose(hosts, hosts.length, u);
    if (perm.every((p, i) => p.rack !== hosts[i]!.rack)) {
      hosts.forEach((h, i) => out.set(h.name, perm[i]!));
      return out;
    }
  }
  // racks of unequal size: any other-rack host
  for (const h of hosts) {
    const c = hosts.filter((x) => x.rack !== h.rack);
    out.set(h.name, c[u.below(c.length)]!);
  }
  return out;
}
