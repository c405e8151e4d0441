/**
 * Turns a validated Problem into the allocator's typed-array world: a Fabric, a FlowletTable and the id ↔
 * index maps (ids are resolved here, once, never in the inner loops). Also builds the policy options the
 * problem implies (bandwidth functions, tenant/division weights, division policies).
 */
import type { DivisionSpec } from './divisions.js';
import { Fabric } from './fabric.js';
import { fromPoints, type PLFunc } from './plfunc.js';
import type { PolicyOptions } from './policy.js';
import type { FlowSpec, Problem } from './problem.js';
import { FlowletTable, type TableOptions } from './table.js';

/** A problem loaded into typed arrays. */
export interface Instance {
  readonly fabric: Fabric;
  readonly table: FlowletTable;
  /** Group indices by id (tenants and divisions, declared or only referenced by flows). */
  readonly tenantIndex: Map<string, number>;
  readonly divisionIndex: Map<string, number>;
  readonly transferIndex: Map<string, number>;
  /** Policy options implied by the problem (weights, bandwidth functions, divisions). */
  readonly policyOptions: PolicyOptions;
  /** Flow handle → bandwidth function (filled as flows are added). */
  readonly functions: Map<number, PLFunc>;
}

/** Builds the fabric and (optionally) adds every flow; returns handles in the order of `problem.flows`. */
export function buildInstance(problem: Problem, addFlows = true, tableOpts: TableOptions = {}): { inst: Instance; handles: number[] } {
  const fabric = new Fabric(problem.links.length);
  for (const l of problem.links) fabric.addLink(l.id, l.capacityBps);
  const table = new FlowletTable(fabric, { maxHops: 16, ...tableOpts });
  const tenantIndex = indexOf(problem.tenants.map((t) => t.id), problem.flows.map((f) => f.tenant));
  const divisionIndex = indexOf(problem.divisions.map((d) => d.id), problem.flows.map((f) => f.division));
  const transferIndex = indexOf([], problem.flows.map((f) => f.transferId));
  const functions = new Map<number, PLFunc>();
  const inst: Instance = {
    fabric, table, tenantIndex, divisionIndex, transferIndex, functions,
    policyOptions: groupOptions(problem, tenantIndex, divisionIndex, functions),
  };
  const handles = addFlows ? problem.flows.map((f) => addFlow(inst, f)) : [];
  return { inst, handles };
}

/** Adds one flow of the problem to the instance's table; returns its handle. */
export function addFlow(inst: Instance, f: FlowSpec): number {
  const h = inst.table.add({
    path: f.path.map((id) => inst.fabric.indexOf(id)),
    weight: f.weight,
    demandBps: f.demandBps,
    sizeBits: f.sizeBytes === undefined ? undefined : f.sizeBytes * 8,
    transfer: f.transferId === undefined ? -1 : inst.transferIndex.get(f.transferId)!,
    tenant: f.tenant === undefined ? -1 : inst.tenantIndex.get(f.tenant)!,
    division: f.division === undefined ? -1 : inst.divisionIndex.get(f.division)!,
  });
  if (f.bandwidthFunction) inst.functions.set(h, fromPoints(f.bandwidthFunction));
  else inst.functions.delete(h);
  return h;
}

function groupOptions(
  p: Problem, tenantIndex: Map<string, number>, divisionIndex: Map<string, number>, functions: Map<number, PLFunc>,
): PolicyOptions {
  const tenantW = new Float64Array(tenantIndex.size).fill(1);
  for (const t of p.tenants) tenantW[tenantIndex.get(t.id)!] = t.weight;
  const divisionW = new Float64Array(divisionIndex.size).fill(1);
  const divisions: DivisionSpec[] = [...divisionIndex.keys()].map(() => ({ weight: 1, policy: 'flowtune' }));
  for (const d of p.divisions) {
    const i = divisionIndex.get(d.id)!;
    divisionW[i] = d.weight;
    const tw = d.tenant !== undefined && tenantIndex.has(d.tenant) ? tenantW[tenantIndex.get(d.tenant)!]! : 1;
    divisions[i] = { weight: d.weight * tw, policy: d.policy ?? 'flowtune' };
  }
  const nested = tenantIndex.size > 0 || divisionIndex.size > 0;
  return {
    bandwidthFunctions: functions,
    groupWeights: nested ? { tenant: tenantW, division: divisionW } : undefined,
    divisions,
  };
}

function indexOf(declared: readonly string[], referenced: readonly (string | undefined)[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of [...declared, ...referenced]) if (id !== undefined && !m.has(id)) m.set(id, m.size);
  return m;
}
