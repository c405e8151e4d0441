/**
 * Karuna / PIAS priority marking at the sender (Karuna; PIAS demotion thresholds): a flowlet's priority is
 * decided by its declared size (Karuna: known size → queue by size), else by the bytes it has sent so far
 * (PIAS: demoted as it crosses the thresholds); a declared deadline puts it on top (Karuna: deadline
 * flows → highest queue). The DSCP of priority i is `dscpByPriority[i]` (0 = highest), unless the
 * controller's `rates` entry carries its own `dscp`.
 *
 * Marking is nftables (the pure text here, the shell in {@link NftShell}):
 *
 *   table ip rivulet
 *     chain dscpN   { ip dscp set N }                    one per DSCP in use
 *     map classes   { typeof ip saddr . ip daddr . meta l4proto . th sport . th dport : verdict }
 *     chain output  { type filter hook output priority mangle; policy accept;
 *                     ip saddr . ip daddr . meta l4proto . th sport . th dport vmap @classes }
 *   element per marked flowlet: `S . D . P . SP . DP : goto dscpN`
 *
 * Measured here (nft 1.0.6): `ip dscp set … map` is rejected, the vmap form works; an `nft -f -` batch
 * is atomic, so deleting an element that is not there fails the whole batch — the planner therefore
 * tracks exactly what it installed, and a failed batch is followed by {@link DscpPlanner.resyncLines}.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../controller/log.js';
import { flowKey } from './detector.js';
import type { FiveTuple, Thresholds } from './protocol.js';

export const NFT_TABLE = 'rivulet';
const T = `ip ${NFT_TABLE}`;

/** Priority of `bytes` (declared size or bytes sent) under ascending `thresholdsBytes`: how many it has reached, clamped. */
export function priorityOfBytes(bytes: number, t: Thresholds): number {
  let p = 0;
  for (const limit of t.thresholdsBytes) if (bytes >= limit) p++;
  return Math.min(p, t.dscpByPriority.length - 1);
}

/** What decides a flowlet's class. */
export interface ClassInput {
  readonly sizeBytes?: number | undefined;
  readonly deadlineMs?: number | undefined;
  /** IP bytes sent so far */
  readonly bytes: number;
}

/** Priority (0 = highest) of a flowlet: deadline → 0; declared size; else bytes sent. */
export function flowletPriority(f: ClassInput, t: Thresholds): number {
  if (f.deadlineMs !== undefined) return 0;
  return priorityOfBytes(f.sizeBytes ?? f.bytes, t);
}

/** DSCP of a priority (the lowest class's for an out-of-range priority). */
export function dscpOfPriority(priority: number, t: Thresholds): number {
  const i = Math.max(0, Math.min(priority, t.dscpByPriority.length - 1));
  return t.dscpByPriority[i]!;
}

/** The map element key of a 5-tuple, e.g. `10.0.0.1 . 10.0.0.2 . 6 . 5001 . 80`. */
export function elementKey(f: FiveTuple): string {
  return `${f.src} . ${f.dst} . ${f.proto} . ${f.sport} . ${f.dport}`;
}

/** Creates the table, map and output chain afresh (an old table of ours is deleted first, in the same batch). */
export function nftSetupLines(): string[] {
  return [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T}`,
    `add map ${T} classes { typeof ip saddr . ip daddr . meta l4proto . th sport . th dport : verdict ; }`,
    `add chain ${T} output { type filter hook output priority mangle ; policy accept ; }`,
    `add rule ${T} output ip saddr . ip daddr . meta l4proto . th sport . th dport vmap @classes`,
  ];
}

/** Deletes the agent's table (never fails: the table is added first if missing). */
export function nftTeardownLines(): string[] {
  return [`add table ${T}`, `delete table ${T}`];
}

/** The chain marking with `dscp`. */
export function dscpChainLines(dscp: number): string[] {
  return [`add chain ${T} dscp${dscp}`, `add rule ${T} dscp${dscp} ip dscp set ${dscp}`];
}

export function addElementLine(f: FiveTuple, dscp: number): string {
  return `add element ${T} classes { ${elementKey(f)} : goto dscp${dscp} }`;
}

export function deleteElementLine(f: FiveTuple): string {
  return `delete element ${T} classes { ${elementKey(f)} }`;
}

interface Mark {
  readonly flow: FiveTuple;
  readonly dscp: number;
}

/** The installed marks and chains, and the nft lines that change them (no I/O). */
export class DscpPlanner {
  private readonly chains = new Set<number>();
  private readonly marks = new Map<string, Mark>();

  /** Marks `flow` with `dscp` (chain created when new; element replaced when the DSCP changed); [] when unchanged. */
  mark(flow: FiveTuple, dscp: number): string[] {
    const key = flowKey(flow);
    const old = this.marks.get(key);
    if (old?.dscp === dscp) return [];
    const lines = this.chainLines(dscp);
    if (old) lines.push(deleteElementLine(flow));
    lines.push(addElementLine(flow, dscp));
    this.marks.set(key, { flow, dscp });
    return lines;
  }

  /** Removes the mark of `flow`; [] when it has none. */
  unmark(flow: FiveTuple): string[] {
    const key = flowKey(flow);
    if (!this.marks.delete(key)) return [];
    return [deleteElementLine(flow)];
  }

  /** The DSCP `flow` is marked with, if any. */
  dscpOf(flow: FiveTuple): number | undefined {
    return this.marks.get(flowKey(flow))?.dscp;
  }

  get size(): number {
    return this.marks.size;
  }

  /** Forgets everything (after the table was (re)created). */
  reset(): void {
    this.chains.clear();
    this.marks.clear();
  }

  /** Lines that make the kernel's map equal to the planner's state (after a failed batch): flush, chains, all elements. */
  resyncLines(): string[] {
    const dscps = new Set([...this.chains, ...[...this.marks.values()].map((m) => m.dscp)]);
    const lines = [`flush map ${T} classes`];
    for (const d of [...dscps].sort((a, b) => a - b)) lines.push(`add chain ${T} dscp${d}`, `flush chain ${T} dscp${d}`, `add rule ${T} dscp${d} ip dscp set ${d}`);
    for (const m of this.marks.values()) lines.push(addElementLine(m.flow, m.dscp));
    return lines;
  }

  private chainLines(dscp: number): string[] {
    if (this.chains.has(dscp)) return [];
    this.chains.add(dscp);
    return dscpChainLines(dscp);
  }
}

/** Runs nft batches (`nft -f -`, one process per batch, in order). A missing nft disables marking with one warning. */
export class NftShell {
  private chain: Promise<void> = Promise.resolve();
  private missing = false;
  /** batches nft rejected */
  failures = 0;

  constructor(
    private readonly log: Logger,
    /** argv prefix (default `nft`; tests use `ip netns exec NS nft`) */
    private readonly command: readonly string[] = ['nft'],
  ) {}

  /** False once nft was found missing. */
  get available(): boolean {
    return !this.missing;
  }

  /**
   * Queues `lines` as one atomic batch. Resolves true when nft accepted it, false when it failed (logged)
   * or nft is missing; never rejects.
   */
  apply(lines: readonly string[]): Promise<boolean> {
    const run = this.chain.then(() => (this.missing || lines.length === 0 ? !this.missing : this.runOnce(lines)));
    this.chain = run.then(() => undefined);
    return run;
  }

  private runOnce(lines: readonly string[]): Promise<boolean> {
    return new Promise((resolve) => {
      const [cmd, ...args] = this.command;
      const p = spawn(cmd!, [...args, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.setEncoding('utf8');
      p.stderr.on('data', (d: string) => (stderr += d));
      p.stdin.on('error', () => undefined);
      p.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') {
          this.missing = true;
          this.log.warn({ event: 'nft_missing' }, `${cmd} not found: DSCP marking is disabled`);
        } else this.log.error({ event: 'nft_error', err }, `cannot run ${cmd}`);
        resolve(false);
      });
      p.on('close', (code) => {
        if (code === 0) return resolve(true);
        if (this.missing) return resolve(false);
        this.failures++;
        this.log.warn({ event: 'nft_failed', code, stderr: stderr.trim(), lines }, 'nft batch failed');
        resolve(false);
      });
      p.stdin.end(`${lines.join('\n')}\n`);
    });
  }
}
