/**
 * Link→flows in compressed sparse rows (ARCHITECTURE.md "Principles"): the slots crossing link l are
 * `flows[offsets[l] .. offsets[l+1])`, in slot order. Built by a counting sort over the table's
 * flow→links rows in O(flows × hops); the policies that need it (maxmin, fca, divisions) build it per call.
 */
import type { FlowletTable } from './table.js';

/** Link→flows CSR of a table. */
export interface LinkFlows {
  readonly offsets: Int32Array;
  readonly flows: Int32Array;
}

/** Builds the link→flows CSR of every live slot. */
export function buildLinkFlows(t: FlowletTable): LinkFlows {
  const L = t.fabric.size;
  const offsets = new Int32Array(L + 1);
  for (let l = 0; l < L; l++) offsets[l + 1] = offsets[l]! + t.linkCount[l]!;
  const fill = offsets.slice(0, L);
  const flows = new Int32Array(offsets[L]!);
  t.forEachSlot((s) => {
    const o = s * t.maxHops;
    for (let j = 0; j < t.pathLen[s]!; j++) flows[fill[t.path[o + j]!]!++] = s;
  });
  return { offsets, flows };
}

/** Slots of the table in block order (a dense list of the live slots). */
export function liveSlots(t: FlowletTable): Int32Array {
  const out = new Int32Array(t.size);
  let i = 0;
  t.forEachSlot((s) => { out[i++] = s; });
  return out;
}
