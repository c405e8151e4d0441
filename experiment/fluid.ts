/**
 * The flow-level (fluid) simulator behind `rivulet simulate SPEC` (README.md "Experiments", "Simulation"):
 * flows of an experiment plan cross a leaf-spine fabric pinned to one seeded random equal-cost path each,
 * and drain at the rates a scheme gives them; pure (no clock, no I/O), times in µs, rates in bits/s.
 *
 * Events — arrivals, completions (remaining bits reach 0) and, under `priority`, a flow crossing a
 * demotion threshold — come in time order from the plan and from the active flows' rates; rates are
 * recomputed after any event, at most once per `intervalUs` of simulated time (0: after every event).
 * Between two computations every rate stays fixed: a flow that arrives waits for the next computation,
 * the capacity a finished flow frees idles until then (an allocator that runs every `intervalUs`).
 *
 * Schemes:
 *  - `flowtune`, `maxmin`, `fca`: Rivulet's own policies (apps/allocator/policy.ts) over a FlowletTable
 *    that holds the active flows (weight = tenant weight, size and remaining bits, transfer, tenant), as
 *    the controller's enforcement core builds it; one NED iteration per computation for flowtune
 *    (Flowtune §4: one iteration per change, prices warm-started).
 *  - `ecmp`: idealised TCP — exact per-flow max-min fair sharing on the pinned paths, reached at once;
 *    tenant weights play no part (TCP shares per flow).
 *  - `priority`: strict priority by PIAS/Karuna demotion thresholds (PIAS §3: a flow drops one class each
 *    time its bytes sent pass a threshold); within a class per-flow max-min (unweighted), a class gets only what the
 *    classes above it leave on every link of its path.
 * Not modelled: packets, queues, loss, slow start, ECN/DCTCP, the controller's and agents' delays, the
 * small-flowlet bypass of the live controller (every flow here is allocated).
 */
import { buildLinkFlows, type LinkFlows } from '../apps/allocator/csr.js';
import { Fabric } from '../apps/allocator/fabric.js';
import { createPolicy, type Policy } from '../apps/allocator/policy.js';
import { FlowletTable } from '../apps/allocator/table.js';
import { Prng } from '../apps/routing/prng.js';
import { PAYLOAD_EFFICIENCY } from './metrics.js';

/** Schemes the simulator runs. */
export const SIM_SCHEMES = ['ecmp', 'priority', 'flowtune', 'maxmin', 'fca'] as const;
export type SimScheme = (typeof SIM_SCHEMES)[number];

/** A two-tier leaf-spine fabric: `racks` leaves of `serversPerRack` servers, every leaf linked to every spine. */
export interface LeafSpine {
  readonly racks: number;
  readonly serversPerRack: number;
  readonly spines: number;
  /** server ↔ leaf links, bits/s */
  readonly hostBps: number;
  /** leaf ↔ spine links, bits/s */
  readonly uplinkBps: number;
}

/** Servers per rack at scale: 48, Flowtune §6's rack (and the allocator benchmark's, bench/allocator/fabric.ts). */
export const SERVERS_PER_RACK = 48;
/** Leaf ↔ spine rate ÷ server link rate (40 Gbit/s uplinks over 10 Gbit/s servers, the pFabric/Flowtune leaf-spine). */
export const UPLINK_FACTOR = 4;

/**
 * The fabric for `servers` servers: racks of {@link SERVERS_PER_RACK} (at least two racks), and the fewest
 * spines at {@link UPLINK_FACTOR} × the server rate that make it non-blocking (every leaf's uplinks carry
 * what its servers can send), so the server link is the bottleneck the ideal FCT assumes.
 * @throws RangeError when `servers` does not split into equal racks
 */
export function leafSpineFor(servers: number, hostBps: number): LeafSpine {
  if (!(Number.isInteger(servers) && servers >= 2)) throw new RangeError(`servers must be an integer ≥ 2, got ${servers}`);
  if (!(hostBps > 0)) throw new RangeError(`link rate must be > 0, got ${hostBps}`);
  const racks = Math.max(2, Math.ceil(servers / SERVERS_PER_RACK));
  if (servers % racks !== 0) throw new RangeError(`${servers} servers do not split into ${racks} equal racks (use a multiple of ${racks})`);
  const serversPerRack = servers / racks;
  const spines = Math.max(1, Math.ceil(serversPerRack / UPLINK_FACTOR));
  return { racks, serversPerRack, spines, hostBps, uplinkBps: hostBps * UPLINK_FACTOR };
}

/** Link indices: server h's uplink 2h and downlink 2h+1, then leaf r → spine k and back per (r, k). */
export function buildFabric(f: LeafSpine): Fabric {
  const servers = f.racks * f.serversPerRack;
  const fabric = new Fabric(2 * servers + 2 * f.racks * f.spines);
  for (let h = 0; h < servers; h++) {
    fabric.addLink(`h${h + 1}>leaf`, f.hostBps);
    fabric.addLink(`leaf>h${h + 1}`, f.hostBps);
  }
  for (let r = 0; r < f.racks; r++) {
    for (let k = 0; k < f.spines; k++) {
      fabric.addLink(`leaf${r + 1}>spine${k + 1}`, f.uplinkBps);
      fabric.addLink(`spine${k + 1}>leaf${r + 1}`, f.uplinkBps);
    }
  }
  return fabric;
}

/**
 * The links of a path from server `src` to `dst` (0-based) through spine `spine` (ignored within a rack):
 * [src up, dst down] in one rack, else [src up, leaf → spine, spine → leaf, dst down].
 */
export function pathLinks(f: LeafSpine, src: number, dst: number, spine: number): number[] {
  const rs = Math.floor(src / f.serversPerRack);
  const rd = Math.floor(dst / f.serversPerRack);
  if (rs === rd) return [2 * src, 2 * dst + 1];
  const base = 2 * f.racks * f.serversPerRack;
  return [2 * src, base + 2 * (rs * f.spines + spine), base + 2 * (rd * f.spines + spine) + 1, 2 * dst + 1];
}

/** One flow as the simulator takes it (0-based servers, µs). */
export interface SimFlow {
  readonly src: number;
  readonly dst: number;
  readonly startUs: number;
  readonly sizeBytes: number;
  /** transfer index (-1: none) */
  readonly transfer: number;
  /** tenant index (-1: none) */
  readonly tenant: number;
  readonly weight: number;
}

/** Options of one simulated scheme. */
export interface FluidOptions {
  readonly fabric: LeafSpine;
  readonly scheme: SimScheme;
  /** seed of the path choice (the same for every scheme: same paths) */
  readonly seed: number;
  /** recompute rates at most once per this much simulated time, µs (0: after every event) */
  readonly intervalUs: number;
  /** priority: demotion thresholds, bytes sent, ascending */
  readonly thresholdsBytes?: readonly number[];
  /** flowtune: NED iterations per computation (default 1) */
  readonly iterations?: number;
  /**
   * maxmin: nest flows under their tenant with these weights (by tenant index; BwE §4's hierarchy, as
   * `rivulet allocate` does for a problem with tenants): a tenant's share is split among its flows, each of
   * weight 1. Absent: each flow weighs its tenant's weight, as the controller weights each flowlet.
   */
  readonly tenantGroups?: readonly number[];
  /** called now and then with the number of flows done */
  readonly onProgress?: (done: number) => void;
}

/** What the simulation measured. */
export interface FluidResult {
  /** per flow (plan order): completion time − arrival, µs, without the base RTT */
  readonly transferUs: Float64Array;
  /** the spine each flow was pinned to (-1 within a rack) */
  readonly spine: Int32Array;
  readonly events: number;
  readonly computations: number;
  readonly endUs: number;
}

/** Wire bits of a flow of `sizeBytes` payload: full TCP segments' framing included (metrics.PAYLOAD_EFFICIENCY). */
export const wireBits = (sizeBytes: number): number => (sizeBytes * 8) / PAYLOAD_EFFICIENCY;

/**
 * The seeded random equal-cost path choice of every flow: spine = a uniform draw per flow in plan order
 * (apps/routing/prng.ts, the routing app's generator), -1 within a rack.
 */
export function pinSpines(f: LeafSpine, flows: readonly SimFlow[], seed: number): Int32Array {
  // a stream apart from the generator's (experiment/workload.ts draws from Prng(seed) itself)
  const prng = new Prng((Math.imul(seed, 0x9e3779b1) ^ 0x7f4a7c15) >>> 0);
  const out = new Int32Array(flows.length);
  flows.forEach((x, i) => {
    const same = Math.floor(x.src / f.serversPerRack) === Math.floor(x.dst / f.serversPerRack);
    out[i] = same ? -1 : prng.below(f.spines);
  });
  return out;
}

/**
 * Runs `flows` (sorted by start) to completion under one scheme.
 * @throws RangeError for an unknown scheme, a flow outside the fabric, or a stall (a flow that can never progress)
 */
export function simulateFluid(flows: readonly SimFlow[], o: FluidOptions): FluidResult {
  const n = flows.length;
  const fabric = buildFabric(o.fabric);
  const servers = o.fabric.racks * o.fabric.serversPerRack;
  for (const f of flows) {
    if (!(f.src >= 0 && f.src < servers && f.dst >= 0 && f.dst < servers && f.src !== f.dst)) throw new RangeError(`flow ${f.src}→${f.dst} outside the fabric`);
  }
  const table = new FlowletTable(fabric, { maxHops: 4, blockCapacity: 1024 });
  const rates = makeRater(o, table);
  const nestTenants = o.scheme === 'maxmin' && o.tenantGroups !== undefined;
  const spine = pinSpines(o.fabric, flows, o.seed);
  const handle = new Int32Array(n).fill(-1);
  const remaining = new Float64Array(n);
  const sent = new Float64Array(n);
  const rate = new Float64Array(n);
  const klass = new Int32Array(n);
  const transferUs = new Float64Array(n).fill(NaN);
  const thresholds = (o.thresholdsBytes ?? []).map((b) => b * 8);
  let active: number[] = [];
  let next = 0;
  let now = 0;
  let lastCompute = -Infinity;
  let dirty = false;
  let events = 0;
  let computations = 0;
  let done = 0;
  while (next < n || active.length > 0) {
    // the next event: an arrival, a completion, a class change, or the pending computation
    let t = next < n ? flows[next]!.startUs : Infinity;
    for (const i of active) {
      const r = rate[i]! / 1e6; // bits per µs
      if (r <= 0) continue;
      const tc = now + remaining[i]! / r;
      if (tc < t) t = tc;
      const k = klass[i]!;
      if (k < thresholds.length) {
        const tk = now + (thresholds[k]! - sent[i]!) / r;
        if (tk < t) t = tk;
      }
    }
    if (dirty) t = Math.min(t, Math.max(now, lastCompute + o.intervalUs));
    if (!(t < Infinity)) throw new RangeError(`stalled at ${now} µs: ${active.length} active flows and none can progress`);
    const dt = t - now;
    now = t;
    let w = 0;
    for (const i of active) {
      const r = rate[i]! / 1e6;
      const moved = r * dt;
      remaining[i] = remaining[i]! - moved;
      sent[i] = sent[i]! + moved;
      // done: nothing left up to rounding, or so little that its completion time rounds to now
      if (remaining[i]! <= Math.max(1e-9 * wireBits(flows[i]!.sizeBytes), 1e-6) || (r > 0 && now + remaining[i]! / r <= now)) {
        transferUs[i] = now - flows[i]!.startUs;
        table.remove(handle[i]!);
        handle[i] = -1;
        done++;
        events++;
        dirty = true;
        continue;
      }
      const k = klass[i]!;
      if (k < thresholds.length && reached(thresholds[k]!, sent[i]!, r, now)) {
        let j = k;
        while (j < thresholds.length && reached(thresholds[j]!, sent[i]!, r, now)) j++;
        klass[i] = j;
        events++;
        dirty = true;
      }
      active[w++] = i;
    }
    active.length = w;
    while (next < n && flows[next]!.startUs <= now) {
      const i = next++;
      const f = flows[i]!;
      remaining[i] = wireBits(f.sizeBytes);
      rate[i] = 0;
      let k = 0;
      while (k < thresholds.length && thresholds[k]! <= 0) k++;
      klass[i] = k;
      handle[i] = table.add({
        path: pathLinks(o.fabric, f.src, f.dst, spine[i]!), weight: nestTenants ? 1 : f.weight, sizeBits: remaining[i]!,
        transfer: f.transfer, tenant: f.tenant,
      });
      active.push(i);
      events++;
      dirty = true;
    }
    if (dirty && now >= lastCompute + o.intervalUs) {
      rates(active, handle, remaining, klass, rate);
      computations++;
      lastCompute = now;
      dirty = false;
      if (computations % 64 === 0) o.onProgress?.(done);
    }
    if (active.length > 4 * table.size + 64) active = active.slice(); // keep the array compact
  }
  o.onProgress?.(done);
  return { transferUs, spine, events, computations, endUs: now };
}

/** Whether a flow that has sent `sentBits` at `ratePerUs` has reached `thrBits` (up to rounding of the time). */
function reached(thrBits: number, sentBits: number, ratePerUs: number, nowUs: number): boolean {
  return sentBits >= thrBits * (1 - 1e-12) || (ratePerUs > 0 && nowUs + (thrBits - sentBits) / ratePerUs <= nowUs);
}

type Rater = (active: readonly number[], handle: Int32Array, remaining: Float64Array, klass: Int32Array, rate: Float64Array) => void;

function makeRater(o: FluidOptions, table: FlowletTable): Rater {
  switch (o.scheme) {
    case 'flowtune':
    case 'maxmin':
    case 'fca': {
      const nested = o.scheme === 'maxmin' && o.tenantGroups !== undefined
        ? { groupWeights: { tenant: Float64Array.from(o.tenantGroups), division: new Float64Array(0) } } : {};
      const policy: Policy = createPolicy(o.scheme, table, { iterations: o.iterations ?? 1, ...nested });
      const needsRemaining = o.scheme === 'fca';
      return (active, handle, remaining, _klass, rate) => {
        if (needsRemaining) for (const i of active) table.setRemaining(handle[i]!, remaining[i]!);
        const out = table.size > 0 ? policy.compute() : new Float64Array(0);
        for (const i of active) {
          const x = out[table.slotOf(handle[i]!)]!;
          rate[i] = x > 0 && x < Infinity ? x : 0;
        }
      };
    }
    case 'ecmp': {
      const fill = new WaterFill(table, false);
      return (active, handle, _remaining, _klass, rate) => {
        const out = fill.run(null, table.fabric.capacity);
        for (const i of active) rate[i] = out[table.slotOf(handle[i]!)]!;
      };
    }
    case 'priority': {
      const fill = new WaterFill(table, false);
      const classes = (o.thresholdsBytes?.length ?? 0) + 1;
      return (active, handle, _remaining, klass, rate) => {
        const slotClass = new Int32Array(table.span).fill(-1);
        for (const i of active) slotClass[table.slotOf(handle[i]!)] = klass[i]!;
        const residual = Float64Array.from(table.fabric.capacity.subarray(0, table.fabric.size));
        for (let k = 0; k < classes; k++) {
          const out = fill.run((s) => slotClass[s] === k, residual);
          for (const i of active) {
            const s = table.slotOf(handle[i]!);
            if (slotClass[s] !== k) continue;
            rate[i] = out[s]!;
            const p = s * table.maxHops;
            for (let j = 0; j < table.pathLen[s]!; j++) {
              const l = table.path[p + j]!;
              residual[l] = Math.max(0, residual[l]! - out[s]!);
            }
          }
        }
      };
    }
    default:
      throw new RangeError(`unknown scheme ${String(o.scheme)}`);
  }
}

/**
 * Exact weighted max-min fair rates (the progressive filling of BwE §4.2 with linear functions w·s, as apps/allocator/maxmin.ts) of a table's flows on
 * link capacities, in O(flows × hops × log links): links in a min-heap by fair share (residual ÷ Σ weight of
 * their unfrozen flows); the link with the smallest share saturates and freezes its flows at weight × share.
 * A frozen flow only raises the shares of its other links, so stale heap entries are skipped, never updated.
 */
export class WaterFill {
  private out = new Float64Array(0);
  private frozen = new Uint8Array(0);
  private residual = new Float64Array(0);
  private weight = new Float64Array(0);
  private heapKey = new Float64Array(0);
  private heapLink = new Int32Array(0);
  private heapSize = 0;

  /** `weighted` false: every flow weighs 1 whatever the table says (TCP shares per flow, not per tenant weight). */
  constructor(private readonly table: FlowletTable, private readonly weighted = true) {}

  /**
   * Rates (bits/s) by slot of the flows `include` accepts (all when null) on `capacity[l]` bits/s;
   * other slots get 0. The returned array is reused by the next call.
   */
  run(include: ((slot: number) => boolean) | null, capacity: ArrayLike<number>): Float64Array {
    const t = this.table;
    const L = t.fabric.size;
    if (this.out.length < t.span) {
      this.out = new Float64Array(t.span);
      this.frozen = new Uint8Array(t.span);
    }
    if (this.residual.length < L) {
      this.residual = new Float64Array(L);
      this.weight = new Float64Array(L);
    }
    const { out, frozen, residual, weight } = this;
    const csr: LinkFlows = buildLinkFlows(t);
    for (let l = 0; l < L; l++) { residual[l] = capacity[l]!; weight[l] = 0; }
    t.forEachSlot((s) => {
      out[s] = 0;
      const inc = include === null || include(s);
      frozen[s] = inc ? 0 : 1;
      if (!inc) return;
      const p = s * t.maxHops;
      const w = this.weighted ? t.weight[s]! : 1;
      for (let j = 0; j < t.pathLen[s]!; j++) weight[t.path[p + j]!]! += w;
    });
    this.heapSize = 0;
    for (let l = 0; l < L; l++) if (weight[l]! > 0) this.push(Math.max(0, residual[l]!) / weight[l]!, l);
    while (this.heapSize > 0) {
      const share = this.heapKey[0]!;
      const l = this.heapLink[0]!;
      this.pop();
      if (!(weight[l]! > 0) || Math.max(0, residual[l]!) / weight[l]! !== share) continue; // stale
      for (let i = csr.offsets[l]!; i < csr.offsets[l + 1]!; i++) {
        const s = csr.flows[i]!;
        if (frozen[s]) continue;
        frozen[s] = 1;
        const w = this.weighted ? t.weight[s]! : 1;
        const x = w * share;
        out[s] = x;
        const p = s * t.maxHops;
        for (let j = 0; j < t.pathLen[s]!; j++) {
          const m = t.path[p + j]!;
          residual[m] = residual[m]! - x;
          weight[m] = weight[m]! - w;
          if (m !== l && weight[m]! > 1e-12) this.push(Math.max(0, residual[m]!) / weight[m]!, m);
          else if (weight[m]! <= 1e-12) weight[m] = 0;
        }
      }
      weight[l] = 0;
    }
    return out;
  }

  private push(key: number, link: number): void {
    if (this.heapSize >= this.heapKey.length) {
      const k = new Float64Array(Math.max(64, this.heapKey.length * 2));
      k.set(this.heapKey);
      const v = new Int32Array(k.length);
      v.set(this.heapLink);
      this.heapKey = k;
      this.heapLink = v;
    }
    const hk = this.heapKey;
    const hl = this.heapLink;
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (hk[parent]! <= key) break;
      hk[i] = hk[parent]!;
      hl[i] = hl[parent]!;
      i = parent;
    }
    hk[i] = key;
    hl[i] = link;
  }

  private pop(): void {
    const hk = this.heapKey;
    const hl = this.heapLink;
    const n = --this.heapSize;
    if (n === 0) return;
    const key = hk[n]!;
    const link = hl[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && hk[c + 1]! < hk[c]!) c++;
      if (hk[c]! >= key) break;
      hk[i] = hk[c]!;
      hl[i] = hl[c]!;
      i = c;
    }
    hk[i] = key;
    hl[i] = link;
  }
}
