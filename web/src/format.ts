/** Formatting for the page: rates in SI bit/s (1000-based), durations, escaping. */

/** `12.5 Mbit/s`; null → `—`. */
export function rate(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return '—';
  const units: [number, string][] = [[1e12, 'Tbit/s'], [1e9, 'Gbit/s'], [1e6, 'Mbit/s'], [1e3, 'kbit/s']];
  for (const [f, u] of units) if (Math.abs(bps) >= f) return `${(bps / f).toFixed(bps / f >= 100 ? 0 : 1)} ${u}`;
  return `${Math.round(bps)} bit/s`;
}

/** Short rate for graph labels: `12.5M`. */
export function rateShort(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(1)}G`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)}M`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)}k`;
  return `${Math.round(bps)}`;
}

/** µs → `4.0 ms` / `850 µs`. */
export function micros(us: number | null | undefined): string {
  if (us === null || us === undefined) return '—';
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 100_000 ? 0 : 1)} ms`;
  return `${Math.round(us)} µs`;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(x >= 0.1 ? 0 : 1)}%`;
}

export function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

export function ago(epochMs: number, nowMs: number): string {
  const s = Math.max(0, (nowMs - epochMs) / 1000);
  if (s < 1) return 'now';
  if (s < 120) return `${s.toFixed(0)} s ago`;
  return `${(s / 60).toFixed(0)} min ago`;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** Colour of a utilisation 0–1: grey when idle, then green → yellow → red. */
export function loadColor(util: number): string {
  if (!(util > 0.001)) return '#b8c2cc';
  const u = Math.min(1, util);
  return `hsl(${Math.round(120 * (1 - u))}, 78%, 44%)`;
}

/** Edge width in px for a utilisation 0–1. */
export function loadWidth(util: number): number {
  return 1.5 + 7 * Math.min(1, Math.max(0, util));
}
