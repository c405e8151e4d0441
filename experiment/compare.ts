/**
 * Several runs of one spec side by side (pure): whether their flow lists are identical, and the spread of
 * each headline metric per scheme across runs — min, median, max and (max − min) ÷ median.
 */
import { createHash } from 'node:crypto';
import type { SchemeSummary } from './metrics.js';
import { tableRows } from './report.js';

export interface RunForCompare {
  readonly dir: string;
  /** plan.json text */
  readonly plan: string;
  readonly summaries: readonly SchemeSummary[];
}

export interface Spread {
  readonly scheme: string;
  readonly metric: string;
  readonly values: readonly number[];
  readonly min: number;
  readonly median: number;
  readonly max: number;
  /** (max − min) ÷ median */
  readonly relSpread: number;
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The spread of every table metric per scheme across runs (schemes present in every run). */
export function spreads(runs: readonly RunForCompare[]): Spread[] {
  const out: Spread[] = [];
  const schemes = runs[0]?.summaries.map((s) => s.scheme).filter((s) => runs.every((r) => r.summaries.some((x) => x.scheme === s))) ?? [];
  for (const scheme of schemes) {
    const rowsPerRun = runs.map((r) => tableRows([r.summaries.find((s) => s.scheme === scheme)!]));
    for (const row of rowsPerRun[0]!) {
      const values = rowsPerRun.map((rows) => rows.find((x) => x.metric === row.metric)?.values[0] ?? NaN);
      const sorted = [...values].sort((a, b) => a - b);
      const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
      const min = sorted[0]!;
      const max = sorted[sorted.length - 1]!;
      out.push({ scheme, metric: row.metric, values, min, median, max, relSpread: median !== 0 ? (max - min) / median : NaN });
    }
  }
  return out;
}

/** Markdown: the plan hashes, then one row per (scheme, metric) with each run's value and the spread. */
export function formatCompare(runs: readonly RunForCompare[], metricFilter: (m: string) => boolean = () => true): string {
  const hashes = runs.map((r) => sha256(r.plan));
  const same = hashes.every((h) => h === hashes[0]);
  const lines = [`flow lists (plan.json sha256): ${same ? `identical in all ${runs.length} runs (${hashes[0]!.slice(0, 16)}…)` : `DIFFER: ${hashes.map((h) => h.slice(0, 12)).join(', ')}`}`, ''];
  lines.push(`| scheme | metric | ${runs.map((_, i) => `run ${i + 1}`).join(' | ')} | (max − min) ÷ median |`);
  lines.push(`|---|---|${runs.map(() => '---:').join('|')}|---:|`);
  const f = (x: number): string => (Number.isFinite(x) ? (Number.isInteger(x) || Math.abs(x) >= 1000 ? x.toFixed(0) : x.toFixed(2)) : '–');
  for (const s of spreads(runs)) {
    if (!metricFilter(s.metric) || s.metric.endsWith(': flows')) continue;
    lines.push(`| ${s.scheme} | ${s.metric} | ${s.values.map(f).join(' | ')} | ${Number.isFinite(s.relSpread) ? `${(s.relSpread * 100).toFixed(0)}%` : '–'} |`);
  }
  return lines.join('\n') + '\n';
}
