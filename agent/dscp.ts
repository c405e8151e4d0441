/**
 * Karuna / PIAS priority classes at the sender (Karuna §4; PIAS demotion thresholds), the JavaScript side.
 *
 * A flow's class is decided in the kernel by the bytes its current message has sent (agent/nft-rules.ts:
 * per-5-tuple quotas against the PIAS thresholds that start afresh after the message gap, so a large
 * flow's later flowlets keep their demoted class and the next request on a kept-alive connection does not).
 * What the kernel cannot know is declared or decided elsewhere, and goes in per-flow OVERRIDES (the
 * `classes` verdict map): a declared deadline puts the flow on top (Karuna: deadline flows → highest
 * queue), a declared size decides its class by size (Karuna: size known → queue by size), and a `rates`
 * entry's `dscp` from the controller wins over both. An override lives as long as the flowlet it was set
 * for. {@link OverridePlanner} tracks what is installed and returns the nft commands that change it.
 */
import { flowKey } from './detector.js';
import { addOverrideLine, deleteOverrideLine, dscpChainLines, NFT_TABLE } from './nft-rules.js';
import type { FiveTuple, Thresholds } from '../protocol/agent.js';

export { NFT_TABLE };

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

/** An installed override: the 5-tuple and its DSCP. */
interface Override {
  readonly flow: FiveTuple;
  readonly dscp: number;
}

/**
 * Overrides installed in the kernel, and the nft commands that change them (no I/O). Commands of one
 * change are one transaction; after a failed one, {@link resyncLines} makes the map equal to this state.
 */
export class OverridePlanner {
  private readonly chains = new Set<number>();
  private readonly marks = new Map<string, Override>();

  /** Marks `flow` with `dscp` (its chain created when new; element replaced when the DSCP changed); [] when unchanged. */
  mark(flow: FiveTuple, dscp: number): string[] {
    const key = flowKey(flow);
    const old = this.marks.get(key);
    if (old?.dscp === dscp) return [];
    const lines = this.chainLines(dscp);
    if (old) lines.push(deleteOverrideLine(flow));
    lines.push(addOverrideLine(flow, dscp));
    this.marks.set(key, { flow, dscp });
    return lines;
  }

  /** Removes the override of `flow`; [] when it has none. */
  unmark(flow: FiveTuple): string[] {
    if (!this.marks.delete(flowKey(flow))) return [];
    return [deleteOverrideLine(flow)];
  }

  /** The override DSCP of `flow`, if any. */
  dscpOf(flow: FiveTuple): number | undefined {
    return this.marks.get(flowKey(flow))?.dscp;
  }

  get size(): number {
    return this.marks.size;
  }

  /** Forgets everything (the table was (re)created). */
  reset(): void {
    this.chains.clear();
    this.marks.clear();
  }

  /** Commands that make the kernel's map equal to this state: flush, chains, every element. */
  resyncLines(): string[] {
    const dscps = [...new Set([...this.chains, ...[...this.marks.values()].map((m) => m.dscp)])].sort((a, b) => a - b);
    return [`flush map ip ${NFT_TABLE} classes`, ...dscpChainLines(dscps), ...[...this.marks.values()].map((m) => addOverrideLine(m.flow, m.dscp))];
  }

  private chainLines(dscp: number): string[] {
    if (this.chains.has(dscp)) return [];
    this.chains.add(dscp);
    return dscpChainLines([dscp]);
  }
}
