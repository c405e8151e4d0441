/**
 * The report of a run: the scheme × metric table (each value with its ratio to `ecmp`), and the plots —
 * vega-lite specs compiled and rendered to SVG by vega in Node (no browser), and to PNG by resvg:
 *  - slowdown-cdf-small: CDF of the FCT slowdown of the smallest size bin, one line per scheme;
 *  - slowdown-by-bin: mean and p99 slowdown per size bin per scheme;
 *  - tct-cdf: CDF of transfer completion times (when the workload has transfers);
 *  - tenant-shares: each tenant's share of the delivered bytes over time, per scheme (when it has tenants).
 */
import { Resvg } from '@resvg/resvg-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { sizeBins, tenantSharesOverTime, transferTimes, type FlowResult, type ReceivedSample, type SchemeSummary } from './metrics.js';

const fmt = (x: number, digits = 2): string =>
  (Number.isFinite(x) ? (Number.isInteger(x) || Math.abs(x) >= 1000 ? x.toFixed(0) : x.toFixed(digits)) : '–');

/** One table row: a metric, its value per scheme. */
export interface TableRow {
  readonly metric: string;
  readonly values: readonly number[];
}

/** The metric rows of the table from the summaries (in scheme order). */
export function tableRows(summaries: readonly SchemeSummary[]): TableRow[] {
  const rows: TableRow[] = [];
  const s0 = summaries[0];
  if (!s0) return rows;
  s0.bins.forEach((b, i) => {
    if (summaries.every((s) => s.bins[i]!.count === 0)) return;
    rows.push({ metric: `${b.label}: flows`, values: summaries.map((s) => s.bins[i]!.count) });
    rows.push({ metric: `${b.label}: mean FCT ms`, values: summaries.map((s) => s.bins[i]!.meanFctMs) });
    rows.push({ metric: `${b.label}: p99 FCT ms`, values: summaries.map((s) => s.bins[i]!.p99FctMs) });
    rows.push({ metric: `${b.label}: mean slowdown`, values: summaries.map((s) => s.bins[i]!.meanSlowdown) });
    rows.push({ metric: `${b.label}: p99 slowdown`, values: summaries.map((s) => s.bins[i]!.p99Slowdown) });
  });
  rows.push({ metric: 'all: mean slowdown', values: summaries.map((s) => s.meanSlowdown) });
  if (summaries.some((s) => s.transfers > 0)) {
    rows.push({ metric: 'TCT mean ms', values: summaries.map((s) => s.meanTctMs) });
    rows.push({ metric: 'TCT p99 ms', values: summaries.map((s) => s.p99TctMs) });
  }
  const tenants = [...new Set(summaries.flatMap((s) => s.tenants.map((t) => t.tenant)))];
  for (const t of tenants) {
    rows.push({ metric: `tenant ${t}: Mbit/s`, values: summaries.map((s) => (s.tenants.find((x) => x.tenant === t)?.throughputBps ?? NaN) / 1e6) });
    rows.push({ metric: `tenant ${t}: share`, values: summaries.map((s) => s.tenants.find((x) => x.tenant === t)?.share ?? NaN) });
    rows.push({ metric: `tenant ${t}: weighted share (target)`, values: summaries.map((s) => {
      const w = s.tenants.reduce((a, x) => a + x.weight, 0);
      const me = s.tenants.find((x) => x.tenant === t);
      return me && w > 0 ? me.weight / w : NaN;
    }) });
  }
  if (tenants.length >= 2) rows.push({ metric: "Jain's index (weighted)", values: summaries.map((s) => s.jain) });
  rows.push({ metric: 'not completed (censored)', values: summaries.map((s) => s.notCompleted) });
  return rows;
}

/** Extra per-scheme rows measured outside the flows (reaction, updates per flowlet, CPU). */
export type ExtraRows = readonly TableRow[];

/** The printed table: markdown, each value followed by its ratio to the `ecmp` column when there is one. */
export function formatTable(summaries: readonly SchemeSummary[], extra: ExtraRows = []): string {
  const names = summaries.map((s) => s.scheme);
  const base = names.indexOf('ecmp');
  const rows = [...tableRows(summaries), ...extra];
  const head = `| metric | ${names.join(' | ')} |`;
  const sep = `|---|${names.map(() => '---:').join('|')}|`;
  const body = rows.map((r) => {
    const cells = r.values.map((v, i) => {
      const b = base >= 0 ? r.values[base]! : NaN;
      const ratio = i !== base && base >= 0 && Number.isFinite(v) && Number.isFinite(b) && b !== 0 ? ` (${(v / b).toFixed(2)}×)` : '';
      return `${fmt(v)}${ratio}`;
    });
    return `| ${r.metric} | ${cells.join(' | ')} |`;
  });
  return [head, sep, ...body].join('\n') + '\n';
}

/** Renders a vega-lite spec to SVG text. */
export async function renderSvg(spec: vegaLite.TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** SVG → PNG (resvg, system fonts), at `scale`× the SVG's size. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return Buffer.from(r.render().asPng());
}

/** CDF points of xs: (x, fraction ≤ x), at most `max` points. */
export function cdfRows(xs: readonly number[], max = 400): { x: number; p: number }[] {
  const s = [...xs].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(s.length / max));
  const out: { x: number; p: number }[] = [];
  for (let i = 0; i < s.length; i += step) out.push({ x: s[i]!, p: (i + 1) / s.length });
  if (s.length > 0) out.push({ x: s[s.length - 1]!, p: 1 });
  return out;
}

/** The plots' vega-lite specs (name → spec); absent when there is nothing to plot. */
export function plotSpecs(flows: readonly FlowResult[], schemes: readonly string[], edgesBytes: readonly number[], title: string,
  shareBinMs = 1000, received: readonly ReceivedSample[] = []): Record<string, vegaLite.TopLevelSpec> {
  const out: Record<string, vegaLite.TopLevelSpec> = {};
  const bins = sizeBins(edgesBytes);
  const small = bins[0]!;
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 420, height: 260, config: { font: 'DejaVu Sans' } } as const;
  const color = { field: 'scheme', type: 'nominal', sort: [...schemes], title: 'scheme' } as const;
  const cdf = schemes.flatMap((scheme) => cdfRows(flows.filter((f) => f.scheme === scheme && f.nominalBytes <= small.hiBytes).map((f) => f.slowdown))
    .map((r) => ({ scheme, ...r })));
  if (cdf.length > 0) {
    out['slowdown-cdf-small'] = {
      ...base, title: `${title}: FCT slowdown of ${small.label} flows (CDF)`, data: { values: cdf }, mark: { type: 'line', interpolate: 'step-after' },
      encoding: { x: { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: 'slowdown (FCT ÷ ideal), log' },
        y: { field: 'p', type: 'quantitative', title: 'fraction of flows' }, color },
    };
  }
  const byBin = schemes.flatMap((scheme) => bins.flatMap((b) => {
    const sd = flows.filter((f) => f.scheme === scheme && f.nominalBytes > b.loBytes && f.nominalBytes <= b.hiBytes).map((f) => f.slowdown);
    if (sd.length === 0) return [];
    const sorted = [...sd].sort((a, c) => a - c);
    const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
    return [{ scheme, bin: b.label, stat: 'mean', value: sd.reduce((a, c) => a + c, 0) / sd.length }, { scheme, bin: b.label, stat: 'p99', value: p99 }];
  }));
  if (byBin.length > 0) {
    out['slowdown-by-bin'] = {
      $schema: base.$schema, config: base.config, title: `${title}: slowdown by size bin`, data: { values: byBin },
      facet: { column: { field: 'stat', type: 'nominal', title: null } },
      spec: { width: 260, height: 240, mark: 'bar', encoding: {
        x: { field: 'bin', type: 'nominal', sort: bins.map((b) => b.label), title: 'flow size (nominal)' },
        xOffset: { field: 'scheme', sort: [...schemes] },
        y: { field: 'value', type: 'quantitative', title: 'slowdown (FCT ÷ ideal)' }, color } },
      resolve: { scale: { y: 'independent' } },
    } as vegaLite.TopLevelSpec;
  }
  const tct = schemes.flatMap((scheme) => cdfRows([...transferTimes(flows.filter((f) => f.scheme === scheme)).values()]).map((r) => ({ scheme, ...r })));
  if (tct.length > 0) {
    out['tct-cdf'] = {
      ...base, title: `${title}: transfer completion time (CDF)`, data: { values: tct }, mark: { type: 'line', interpolate: 'step-after' },
      encoding: { x: { field: 'x', type: 'quantitative', title: 'TCT, ms' }, y: { field: 'p', type: 'quantitative', title: 'fraction of transfers' }, color },
    };
  }
  const shares = schemes.flatMap((scheme) => tenantSharesOverTime(flows.filter((f) => f.scheme === scheme), shareBinMs,
    received.filter((r) => r.scheme === scheme)).map((r) => ({ scheme, ...r })));
  if (shares.length > 0) {
    out['tenant-shares'] = {
      $schema: base.$schema, config: base.config, title: `${title}: tenant shares of delivered bytes over time`, data: { values: shares },
      facet: { row: { field: 'scheme', type: 'nominal', sort: [...schemes], title: null } },
      spec: { width: 480, height: 90, mark: { type: 'area' }, encoding: {
        x: { field: 'tS', type: 'quantitative', title: 's since the first flow' },
        y: { field: 'share', type: 'quantitative', stack: 'normalize', title: 'share' },
        color: { field: 'tenant', type: 'nominal' } } },
    } as vegaLite.TopLevelSpec;
  }
  return out;
}

/** Writes every plot as `<name>.svg` and `<name>.png` into `dir`; returns the file names. */
export async function writePlots(dir: string, specs: Record<string, vegaLite.TopLevelSpec>): Promise<string[]> {
  const files: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const svg = await renderSvg(spec);
    writeFileSync(join(dir, `${name}.svg`), svg);
    writeFileSync(join(dir, `${name}.png`), svgToPng(svg));
    files.push(`${name}.svg`, `${name}.png`);
  }
  return files;
}
