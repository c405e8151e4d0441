/**
 * CPU accounting from /proc (Linux): per-process-tree CPU time (a process and all its descendants, the
 * ones that ran during the interval and the ones it reaped — cutime/cstime) and the machine's busy
 * fraction (/proc/stat). Times in clock ticks (USER_HZ, 100 on Linux).
 */
import { readdirSync, readFileSync } from 'node:fs';

export const TICKS_PER_S = 100;

export interface ProcSample {
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime + cutime + cstime, ticks */
  readonly ticks: number;
}

/** Every process's (ppid, own + reaped-children ticks). */
export function sampleProcs(): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const rest = stat.slice(close + 2).split(' ');
      const n = (i: number): number => Number(rest[i]);
      out.set(Number(d), { ppid: n(1), comm: stat.slice(stat.indexOf('(') + 1, close), ticks: n(11) + n(12) + n(13) + n(14) });
    } catch {
      // exited while we read
    }
  }
  return out;
}

/** Pids of `root` and its descendants in `s`. */
export function tree(s: ReadonlyMap<number, ProcSample>, root: number): Set<number> {
  const kids = new Map<number, number[]>();
  for (const [pid, p] of s) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), pid]);
  const out = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (out.has(p) || !s.has(p)) continue;
    out.add(p);
    stack.push(...(kids.get(p) ?? []));
  }
  return out;
}

/** CPU seconds used by `root`'s tree between two samples. */
export function treeCpuS(before: ReadonlyMap<number, ProcSample>, after: ReadonlyMap<number, ProcSample>, root: number): number {
  let ticks = 0;
  for (const pid of tree(after, root)) {
    const a = after.get(pid)!;
    const b = before.get(pid);
    ticks += a.ticks - (b && b.comm === a.comm ? b.ticks : 0);
  }
  return ticks / TICKS_PER_S;
}

/** Machine CPU counters: [busy, total] ticks over all cores. */
export function machineTicks(): [number, number] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return [total - idle, total];
}
