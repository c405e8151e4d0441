/**
 * Experiment metrics (pure): flow completion time (FCT), ideal FCT, slowdown, size bins, transfer
 * completion time (TCT), per-tenant throughput and Jain's fairness index.
 *
 * Definitions (the README's "Experiments" section says the same):
 *  - FCT: from the moment the sender starts the flow (its scheduled start, before connecting) to the
 *    moment the receiver has all S bytes; µs on the machine's clock (Mininet hosts share it).
 *  - ideal FCT = S / goodput + base RTT (+ one more RTT for the TCP handshake of a fresh connection),
 *    where goodput is the bottleneck (host link) rate × 1448/1514 (TCP payload per full frame with
 *    timestamps) — what the flow would take alone on an idle fabric (pFabric/PIAS normalisation).
 *  - slowdown = FCT / ideal FCT.
 *  - A flow that did not complete within its timeout (≥ 20 × ideal) is censored: its FCT counts as the
 *    timeout in means and percentiles (never dropped), and it is counted as not completed with a reason.
 *  - TCT: a transfer's last flow end minus its first flow start.
 *  - Tenant throughput: bytes delivered in the window where all tenants are active, ÷ the window. The bytes
 *    are the receivers' own counts over time when the run has them (`rx` lines of the traffic process);
 *    else (simulation) each completed flow's bytes spread evenly over its lifetime — an estimate that
 *    credits a backlogged flow's late bytes to the time it waited.
 *  - Jain's index over weight-normalised tenant throughputs x_i / w_i: (Σ y)² / (n Σ y²), 1 = exactly weighted.
 */

/** TCP payload bytes per full Ethernet frame (1448 of 1514 with TCP timestamps). */
export const PAYLOAD_EFFICIENCY = 1448 / 1514;

export interface IdealInput {
  readonly sizeBytes: number;
  readonly bottleneckBps: number;
  readonly baseRttUs: number;
  /** a fresh connection pays the handshake's round trip */
  readonly fresh: boolean;
}

/** The ideal FCT, µs. */
export function idealFctUs(i: IdealInput): number {
  return (i.sizeBytes * 8 / (i.bottleneckBps * PAYLOAD_EFFICIENCY)) * 1e6 + i.baseRttUs * (i.fresh ? 2 : 1);
}

/** One flow's outcome, as flows.csv holds it. */
export interface FlowResult {
  readonly scheme: string;
  readonly id: number;
  readonly src: string;
  readonly dst: string;
  readonly sizeBytes: number;
  readonly nominalBytes: number;
  /** µs since the epoch */
  readonly startUs: number;
  /** µs; the timeout when not completed (censored) */
  readonly fctUs: number;
  readonly idealUs: number;
  readonly slowdown: number;
  readonly transfer: string;
  readonly tenant: string;
  readonly completed: boolean;
  /** why not completed ('' when completed) */
  readonly reason: string;
  /** the sender's source port (0 unknown): joins the controller's flowlets */
  readonly sport: number;
}

/** Quantile by the nearest-rank method (p in [0, 100]); NaN for no samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A size bin: nominal sizes in (loBytes, hiBytes]. */
export interface SizeBin {
  readonly label: string;
  readonly loBytes: number;
  readonly hiBytes: number;
}

/** Bins from ascending edges, e.g. [100e3, 10e6] → ≤ 100 KB, 100 KB–10 MB, > 10 MB. */
export function sizeBins(edgesBytes: readonly number[]): SizeBin[] {
  const fmt = (b: number): string => (b >= 1e6 ? `${b / 1e6} MB` : b >= 1e3 ? `${b / 1e3} KB` : `${b} B`);
  const out: SizeBin[] = [];
  let lo = 0;
  for (const e of edgesBytes) {
    out.push({ label: lo === 0 ? `≤ ${fmt(e)}` : `${fmt(lo)}–${fmt(e)}`, loBytes: lo, hiBytes: e });
    lo = e;
  }
  out.push({ label: `> ${fmt(lo)}`, loBytes: lo, hiBytes: Infinity });
  return out;
}

export interface BinStats {
  readonly label: string;
  readonly count: number;
  readonly notCompleted: number;
  readonly meanFctMs: number;
  readonly p99FctMs: number;
  readonly meanSlowdown: number;
  readonly p99Slowdown: number;
}

/** Bytes of one tenant's flows that arrived at a receiver in the count period ending at `atUs` (µs since the epoch). */
export interface ReceivedSample {
  readonly scheme: string;
  readonly atUs: number;
  readonly tenant: string;
  readonly bytes: number;
}

export interface TenantStats {
  readonly tenant: string;
  readonly weight: number;
  readonly flows: number;
  /** goodput in the window where every tenant is active (see {@link tenantStats}), bit/s */
  readonly throughputBps: number;
  /** how the bytes were counted: the receivers' counts over time, or each flow's bytes spread over its FCT */
  readonly measured: 'receiver' | 'spread';
  /** throughput ÷ all tenants' throughput */
  readonly share: number;
}

export interface SchemeSummary {
  readonly scheme: string;
  readonly flows: number;
  readonly completed: number;
  readonly notCompleted: number;
  /** reason → count of flows not completed */
  readonly reasons: Readonly<Record<string, number>>;
  readonly meanSlowdown: number;
  readonly p99Slowdown: number;
  readonly bins: readonly BinStats[];
  readonly transfers: number;
  readonly meanTctMs: number;
  readonly p99TctMs: number;
  readonly tenants: readonly TenantStats[];
  /** Jain's index over throughput ÷ weight; NaN with fewer than two tenants */
  readonly jain: number;
}

/** Jain's fairness index of `xs` (1 = all equal). */
export function jainIndex(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = xs.reduce((a, b) => a + b, 0);
  const s2 = xs.reduce((a, b) => a + b * b, 0);
  return s2 === 0 ? 1 : (s * s) / (xs.length * s2);
}

/** Transfer completion times, ms: transfer → last end − first start (censored ends count as they are). */
export function transferTimes(flows: readonly FlowResult[]): Map<string, number> {
  const span = new Map<string, { start: number; end: number }>();
  for (const f of flows) {
    if (f.transfer === '') continue;
    const s = span.get(f.transfer) ?? { start: Infinity, end: -Infinity };
    s.start = Math.min(s.start, f.startUs);
    s.end = Math.max(s.end, f.startUs + f.fctUs);
    span.set(f.transfer, s);
  }
  return new Map([...span].map(([k, v]) => [k, (v.end - v.start) / 1000]));
}

/**
 * Per-tenant goodput and shares over the window where every tenant is active — from the latest tenant's
 * first start to the earliest tenant's last end (the contended period; the whole span when that is
 * empty); weights by tenant (default 1). With `received` (the receivers' counts of this scheme) a tenant's
 * bytes are the counts whose period ends inside the window (lo, hi]; without, each completed flow's bytes
 * are spread evenly over its lifetime.
 */
export function tenantStats(flows: readonly FlowResult[], weights: Readonly<Record<string, number>> = {},
  received?: readonly ReceivedSample[]): TenantStats[] {
  const by = new Map<string, FlowResult[]>();
  for (const f of flows) {
    if (f.tenant === '') continue;
    const list = by.get(f.tenant) ?? [];
    list.push(f);
    by.set(f.tenant, list);
  }
  const spans = [...by.values()].map((fs) => {
    const done = fs.filter((f) => f.completed);
    const start = Math.min(...fs.map((f) => f.startUs));
    return { start, end: Math.max(...done.map((f) => f.startUs + f.fctUs), start + 1) };
  });
  let lo = Math.max(...spans.map((s) => s.start));
  let hi = Math.min(...spans.map((s) => s.end));
  if (!(hi > lo)) {
    lo = Math.min(...spans.map((s) => s.start));
    hi = Math.max(...spans.map((s) => s.end));
  }
  const useReceived = received !== undefined && received.length > 0;
  const rxBytes = new Map<string, number>();
  if (useReceived) {
    for (const r of received) if (r.atUs > lo && r.atUs <= hi) rxBytes.set(r.tenant, (rxBytes.get(r.tenant) ?? 0) + r.bytes);
  }
  const raw = [...by].sort(([a], [b]) => a.localeCompare(b)).map(([tenant, fs]) => {
    let bytes = useReceived ? rxBytes.get(tenant) ?? 0 : 0;
    if (!useReceived) for (const f of fs) {
      if (!f.completed) continue;
      const s = f.startUs;
      const e = f.startUs + Math.max(1, f.fctUs);
      const overlap = Math.min(e, hi) - Math.max(s, lo);
      if (overlap > 0) bytes += (f.sizeBytes * overlap) / (e - s);
    }
    return { tenant, weight: weights[tenant] ?? 1, flows: fs.length, throughputBps: (bytes * 8) / ((hi - lo) / 1e6),
      measured: useReceived ? 'receiver' as const : 'spread' as const };
  });
  const total = raw.reduce((s, t) => s + t.throughputBps, 0);
  return raw.map((t) => ({ ...t, share: total > 0 ? t.throughputBps / total : 0 }));
}

/** The summary of one scheme's flows. */
export function summarize(scheme: string, flows: readonly FlowResult[], edgesBytes: readonly number[],
  weights: Readonly<Record<string, number>> = {}, received?: readonly ReceivedSample[]): SchemeSummary {
  const reasons: Record<string, number> = {};
  for (const f of flows) if (!f.completed) reasons[f.reason || 'unknown'] = (reasons[f.reason || 'unknown'] ?? 0) + 1;
  const bins = sizeBins(edgesBytes).map((b): BinStats => {
    const fs = flows.filter((f) => f.nominalBytes > b.loBytes && f.nominalBytes <= b.hiBytes);
    const fct = fs.map((f) => f.fctUs / 1000);
    const sd = fs.map((f) => f.slowdown);
    return { label: b.label, count: fs.length, notCompleted: fs.filter((f) => !f.completed).length,
      meanFctMs: mean(fct), p99FctMs: percentile(fct, 99), meanSlowdown: mean(sd), p99Slowdown: percentile(sd, 99) };
  });
  const tct = [...transferTimes(flows).values()];
  const tenants = tenantStats(flows, weights, received);
  const completed = flows.filter((f) => f.completed).length;
  return {
    scheme, flows: flows.length, completed, notCompleted: flows.length - completed, reasons,
    meanSlowdown: mean(flows.map((f) => f.slowdown)), p99Slowdown: percentile(flows.map((f) => f.slowdown), 99),
    bins, transfers: tct.length, meanTctMs: mean(tct), p99TctMs: percentile(tct, 99), tenants,
    jain: tenants.length >= 2 ? jainIndex(tenants.map((t) => t.throughputBps / t.weight)) : NaN,
  };
}

/**
 * Per-tenant throughput over time in bins of `binMs`: from the receivers' counts when `received` has any
 * (each count in the bin where its period ends), else each completed flow's bytes spread evenly over
 * [start, start + FCT]. Returns rows {tS (bin start, s from the first flow's start), tenant, bps, share}.
 */
export function tenantSharesOverTime(flows: readonly FlowResult[], binMs: number,
  received?: readonly ReceivedSample[]): { tS: number; tenant: string; bps: number; share: number }[] {
  const fs = flows.filter((f) => f.tenant !== '' && f.completed);
  if (fs.length === 0) return [];
  const t0 = Math.min(...fs.map((f) => f.startUs));
  const binUs = binMs * 1000;
  const acc = new Map<string, Float64Array>();
  if (received !== undefined && received.length > 0) {
    const lastUs = received.reduce((m, r) => Math.max(m, r.atUs), t0);
    const nBins = Math.ceil((lastUs - t0) / binUs) + 1;
    for (const r of received) {
      const b = Math.floor((r.atUs - t0) / binUs);
      if (b < 0) continue;
      const a = acc.get(r.tenant) ?? new Float64Array(nBins);
      acc.set(r.tenant, a);
      a[b]! += r.bytes;
    }
    return shareRows(acc, nBins, binUs);
  }
  const nBins = Math.ceil((Math.max(...fs.map((f) => f.startUs + f.fctUs)) - t0) / binUs) + 1;
  for (const f of fs) {
    const a = acc.get(f.tenant) ?? new Float64Array(nBins);
    acc.set(f.tenant, a);
    const s = f.startUs - t0;
    const e = s + Math.max(1, f.fctUs);
    const perUs = f.sizeBytes / (e - s);
    for (let b = Math.floor(s / binUs); b * binUs < e; b++) {
      const lo = Math.max(s, b * binUs);
      const hi = Math.min(e, (b + 1) * binUs);
      if (hi > lo) a[b]! += perUs * (hi - lo);
    }
  }
  return shareRows(acc, nBins, binUs);
}

function shareRows(acc: Map<string, Float64Array>, nBins: number, binUs: number): { tS: number; tenant: string; bps: number; share: number }[] {
  const out: { tS: number; tenant: string; bps: number; share: number }[] = [];
  for (let b = 0; b < nBins; b++) {
    const total = [...acc.values()].reduce((s, a) => s + a[b]!, 0);
    for (const [tenant, a] of acc) {
      out.push({ tS: (b * binUs) / 1e6, tenant, bps: (a[b]! * 8) / (binUs / 1e6), share: total > 0 ? a[b]! / total : 0 });
    }
  }
  return out;
}
