/**
 * Joins the plan and the traffic processes' JSON-lines logs (cli/commands/traffic.ts) into one result
 * per flow (pure). Every planned flow gets a row: completed, or censored at its timeout with a reason
 * ("timeout", "not started", "error: …"). Nothing is dropped.
 */
import type { FlowSpec } from './workload.js';
import { idealFctUs, type FlowResult, type ReceivedSample } from './metrics.js';

export interface TrafficEvent {
  readonly ev: string;
  readonly id?: number;
  readonly atUs?: number;
  readonly sport?: number;
  readonly bytes?: number;
  readonly message?: string;
  readonly lagUs?: number;
  /** `rx` lines: bytes of each tenant's flows received since the previous `rx` line of that receiver */
  readonly byTenant?: Readonly<Record<string, number>>;
}

export interface CollectOptions {
  readonly scheme: string;
  readonly bottleneckBps: number;
  readonly baseRttUs: number;
  readonly fresh: boolean;
  readonly timeoutFactor: number;
  readonly minTimeoutMs: number;
  /** µs since the epoch of the plan's t = 0 */
  readonly startAtUs: number;
}

/** A flow's timeout, µs. */
export function timeoutUs(idealUs: number, o: Pick<CollectOptions, 'timeoutFactor' | 'minTimeoutMs'>): number {
  return Math.max(o.timeoutFactor * idealUs, o.minTimeoutMs * 1000);
}

/** Parses JSON lines, skipping torn or foreign lines. */
export function parseEvents(text: string): TrafficEvent[] {
  const out: TrafficEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as TrafficEvent);
    } catch {
      // a line cut by a kill: ignored
    }
  }
  return out;
}

export function collectFlows(plan: readonly FlowSpec[], events: readonly TrafficEvent[], o: CollectOptions): FlowResult[] {
  const starts = new Map<number, TrafficEvent>();
  const ends = new Map<number, TrafficEvent>();
  const errors = new Map<number, string>();
  const sports = new Map<number, number>();
  for (const e of events) {
    if (e.id === undefined) continue;
    if (e.ev === 'start') starts.set(e.id, e);
    else if (e.ev === 'end' && !ends.has(e.id)) ends.set(e.id, e);
    else if (e.ev === 'error') errors.set(e.id, e.message ?? 'error');
    else if (e.ev === 'sport' && e.sport) sports.set(e.id, e.sport);
  }
  return plan.map((f): FlowResult => {
    const idealUs = idealFctUs({ sizeBytes: f.sizeBytes, bottleneckBps: o.bottleneckBps, baseRttUs: o.baseRttUs, fresh: o.fresh });
    const limit = timeoutUs(idealUs, o);
    const s = starts.get(f.id);
    const e = ends.get(f.id);
    const startUs = s?.atUs ?? o.startAtUs + f.startUs;
    let fctUs = limit;
    let completed = false;
    let reason = '';
    if (!s) reason = 'not started';
    else if (e?.atUs !== undefined && e.atUs - startUs <= limit) {
      fctUs = Math.max(1, e.atUs - startUs);
      completed = true;
    } else reason = errors.has(f.id) ? `error: ${errors.get(f.id)}` : 'timeout';
    return {
      scheme: o.scheme, id: f.id, src: f.src, dst: f.dst, sizeBytes: f.sizeBytes, nominalBytes: f.nominalBytes, startUs,
      fctUs, idealUs, slowdown: fctUs / idealUs, transfer: f.transfer ?? '', tenant: f.tenant ?? '', completed, reason,
      sport: sports.get(f.id) ?? s?.sport ?? 0,
    };
  });
}

/**
 * The receivers' per-tenant byte counts (`rx` lines) of one scheme as samples sorted by time: each says
 * `bytes` of `tenant`'s flows arrived at a receiver in the receiver's last count period, ending at `atUs`.
 * Malformed counts (not a finite number ≥ 0) are skipped.
 */
export function collectReceived(scheme: string, events: readonly TrafficEvent[]): ReceivedSample[] {
  const out: ReceivedSample[] = [];
  for (const e of events) {
    if (e.ev !== 'rx' || typeof e.atUs !== 'number' || typeof e.byTenant !== 'object' || e.byTenant === null) continue;
    for (const [tenant, bytes] of Object.entries(e.byTenant)) {
      if (typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0) out.push({ scheme, atUs: e.atUs, tenant, bytes });
    }
  }
  return out.sort((a, b) => a.atUs - b.atUs || a.tenant.localeCompare(b.tenant));
}

export const RECEIVED_CSV_COLUMNS = ['scheme', 'atUs', 'tenant', 'bytes'] as const;

/** received.csv text: header + one row a sample. */
export function receivedToCsv(rows: readonly ReceivedSample[]): string {
  const q = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [RECEIVED_CSV_COLUMNS.join(','), ...rows.map((r) => `${q(r.scheme)},${r.atUs},${q(r.tenant)},${r.bytes}`)].join('\n') + '\n';
}

/** Parses received.csv back (for `experiment report`). */
export function receivedFromCsv(text: string): ReceivedSample[] {
  const lines = text.trim().split('\n');
  const head = splitCsv(lines[0] ?? '');
  const at = (name: string): number => head.indexOf(name);
  return lines.slice(1).filter((l) => l !== '').map((line) => {
    const c = splitCsv(line);
    return { scheme: c[at('scheme')] ?? '', atUs: Number(c[at('atUs')]), tenant: c[at('tenant')] ?? '', bytes: Number(c[at('bytes')]) };
  });
}

export const CSV_COLUMNS = ['scheme', 'id', 'src', 'dst', 'sizeBytes', 'nominalBytes', 'startUs', 'fctUs', 'idealUs', 'slowdown', 'transfer', 'tenant', 'completed', 'reason', 'sport'] as const;

/** flows.csv text (header + one row a flow; strings quoted when they hold a comma or quote). */
export function toCsv(rows: readonly FlowResult[]): string {
  const q = (v: unknown): string => {
    const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => q(r[c])).join(','))].join('\n') + '\n';
}

/** Parses flows.csv back (for `experiment report`). */
export function fromCsv(text: string): FlowResult[] {
  const lines = text.trim().split('\n');
  const head = splitCsv(lines[0] ?? '');
  return lines.slice(1).filter((l) => l !== '').map((line) => {
    const cells = splitCsv(line);
    const o: Record<string, unknown> = {};
    head.forEach((h, i) => {
      const v = cells[i] ?? '';
      o[h] = ['scheme', 'src', 'dst', 'transfer', 'tenant', 'reason'].includes(h) ? v : h === 'completed' ? v === 'true' : Number(v);
    });
    return o as unknown as FlowResult;
  });
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQ = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inQ) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') inQ = false; else cur += c;
    } else if (c === '"') inQ = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}
