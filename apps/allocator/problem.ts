/**
 * The allocation problem as JSON (`rivulet allocate`, README.md "CLI") and its validation. Every error
 * names the offending flow or link (AllocatorError.subject):
 *
 * { "links": [{"id", "capacityBps"}],
 *   "flows": [{"id", "path": [linkId…], "weight"?: 1, "demandBps"?, "sizeBytes"?, "transferId"?,
 *              "tenant"?, "division"?, "startS"?, "bandwidthFunction"?: [[share, bps], …]}],
 *   "tenants"?: [{"id", "weight"}], "divisions"?: [{"id", "weight"?, "tenant"?, "policy"?}] }
 */
import { AllocatorError, subjectError } from './errors.js';
import { MAX_CAPACITY_BPS, MIN_CAPACITY_BPS } from './fabric.js';

/** One link of a problem. */
export interface LinkSpec {
  readonly id: string;
  readonly capacityBps: number;
}

/** One flow of a problem; `startS` (seconds) is only used by the simulator. */
export interface FlowSpec {
  readonly id: string;
  readonly path: readonly string[];
  readonly weight: number;
  readonly demandBps?: number;
  readonly sizeBytes?: number;
  readonly transferId?: string;
  readonly tenant?: string;
  readonly division?: string;
  readonly startS: number;
  readonly bandwidthFunction?: readonly (readonly [number, number])[];
}

/** A group (tenant or division) with a weight; a division may name its tenant and policy. */
export interface GroupSpec {
  readonly id: string;
  readonly weight: number;
  readonly tenant?: string;
  readonly policy?: 'flowtune' | 'maxmin' | 'fca';
}

/** A validated problem. */
export interface Problem {
  readonly links: readonly LinkSpec[];
  readonly flows: readonly FlowSpec[];
  readonly tenants: readonly GroupSpec[];
  readonly divisions: readonly GroupSpec[];
}

/** Longest path accepted (links). */
export const MAX_PATH_LINKS = 16;

/** Parses and validates problem JSON text. Throws AllocatorError (ALLOC_BAD_JSON, …) naming the culprit. */
export function parseProblem(text: string): Problem {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AllocatorError('ALLOC_BAD_JSON', `malformed JSON: ${(e as Error).message}`);
  }
  return validateProblem(raw);
}

/** Validates a parsed problem object. */
export function validateProblem(raw: unknown): Problem {
  if (!isObject(raw)) throw new AllocatorError('ALLOC_BAD_FIELD', 'problem must be a JSON object');
  const links = arrayField(raw, 'links', 'problem').map((l, i) => validateLink(l, i));
  const linkIds = uniqueIds(links, 'link');
  const flows = arrayField(raw, 'flows', 'problem').map((f, i) => validateFlow(f, i, linkIds));
  uniqueIds(flows, 'flow');
  const tenants = optionalArray(raw, 'tenants').map((g, i) => validateGroup(g, i, 'tenant'));
  const divisions = optionalArray(raw, 'divisions').map((g, i) => validateGroup(g, i, 'division'));
  uniqueIds(tenants, 'tenant');
  uniqueIds(divisions, 'division');
  return { links, flows, tenants, divisions };
}

function validateLink(l: unknown, i: number): LinkSpec {
  const id = idOf(l, i, 'link');
  const c = (l as Record<string, unknown>)['capacityBps'];
  if (typeof c !== 'number' || !(c > 0)) {
    throw subjectError('ALLOC_BAD_CAPACITY', 'link', id, `capacityBps must be a number > 0, got ${JSON.stringify(c)}`);
  }
  if (!(c >= MIN_CAPACITY_BPS && c <= MAX_CAPACITY_BPS)) {
    throw subjectError('ALLOC_BAD_CAPACITY', 'link', id, `capacityBps must be in [${MIN_CAPACITY_BPS}, ${MAX_CAPACITY_BPS}]`);
  }
  return { id, capacityBps: c };
}

function validateFlow(f: unknown, i: number, linkIds: ReadonlySet<string>): FlowSpec {
  const id = idOf(f, i, 'flow');
  const o = f as Record<string, unknown>;
  const path = o['path'];
  if (!Array.isArray(path)) throw subjectError('ALLOC_BAD_FIELD', 'flow', id, 'path must be an array of link ids');
  if (path.length === 0) throw subjectError('ALLOC_EMPTY_PATH', 'flow', id, 'empty path');
  if (path.length > MAX_PATH_LINKS) throw subjectError('ALLOC_PATH_TOO_LONG', 'flow', id, `path longer than ${MAX_PATH_LINKS} links`);
  for (const l of path) {
    if (typeof l !== 'string' || !linkIds.has(l)) {
      throw subjectError('ALLOC_UNKNOWN_LINK', 'flow', id, `unknown link ${JSON.stringify(l)} in path`);
    }
  }
  const weight = num(o, 'weight', id, 1, 0, 1e12, 'ALLOC_BAD_WEIGHT');
  return {
    id, path: path as string[], weight,
    demandBps: optNum(o, 'demandBps', id, 0, MAX_CAPACITY_BPS),
    sizeBytes: optNum(o, 'sizeBytes', id, 0, 1e18),
    transferId: optStr(o, 'transferId', id),
    tenant: optStr(o, 'tenant', id),
    division: optStr(o, 'division', id),
    startS: num(o, 'startS', id, 0, 0, 1e9, 'ALLOC_BAD_FIELD'),
    bandwidthFunction: optPoints(o, id),
  };
}

function validateGroup(g: unknown, i: number, kind: 'tenant' | 'division'): GroupSpec {
  const id = idOf(g, i, kind);
  const o = g as Record<string, unknown>;
  const weight = typeof o['weight'] === 'number' ? o['weight'] : 1;
  if (!(weight > 0 && weight <= 1e12)) throw subjectError('ALLOC_BAD_WEIGHT', kind, id, 'weight must be in (0, 1e12]');
  const policy = o['policy'];
  if (policy !== undefined && policy !== 'flowtune' && policy !== 'maxmin' && policy !== 'fca') {
    throw subjectError('ALLOC_BAD_FIELD', kind, id, 'policy must be flowtune, maxmin or fca');
  }
  const tenant = typeof o['tenant'] === 'string' ? o['tenant'] : undefined;
  return { id, weight, tenant, policy: policy as GroupSpec['policy'] };
}

function idOf(x: unknown, i: number, kind: string): string {
  if (!isObject(x)) throw new AllocatorError('ALLOC_BAD_FIELD', `${kind} #${i}: must be an object`, `#${i}`);
  const id = x['id'];
  if (typeof id !== 'string' || id.length === 0) {
    throw new AllocatorError('ALLOC_BAD_FIELD', `${kind} #${i}: id must be a non-empty string`, `#${i}`);
  }
  return id;
}

function uniqueIds(items: readonly { id: string }[], kind: 'flow' | 'link' | 'tenant' | 'division'): Set<string> {
  const seen = new Set<string>();
  for (const { id } of items) {
    if (seen.has(id)) throw subjectError('ALLOC_DUPLICATE_ID', kind, id, `duplicate ${kind} id`);
    seen.add(id);
  }
  return seen;
}

function num(
  o: Record<string, unknown>, key: string, id: string, dflt: number, min: number, max: number,
  code: 'ALLOC_BAD_WEIGHT' | 'ALLOC_BAD_FIELD',
): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= min && v <= max)) {
    throw subjectError(code, 'flow', id, `${key} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function optNum(o: Record<string, unknown>, key: string, id: string, min: number, max: number): number | undefined {
  return o[key] === undefined ? undefined : num(o, key, id, 0, min, max, 'ALLOC_BAD_FIELD');
}

function optStr(o: Record<string, unknown>, key: string, id: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw subjectError('ALLOC_BAD_FIELD', 'flow', id, `${key} must be a string`);
  return v;
}

function optPoints(o: Record<string, unknown>, id: string): [number, number][] | undefined {
  const v = o['bandwidthFunction'];
  if (v === undefined) return undefined;
  const bad = (): never => {
    throw subjectError('ALLOC_BAD_FIELD', 'flow', id, 'bandwidthFunction must be [[share, bps], …] with increasing share ≥ 0 and non-decreasing bps ≥ 0');
  };
  if (!Array.isArray(v) || v.length === 0) return bad();
  let prev: [number, number] = [-1, 0];
  return v.map((p: unknown) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') return bad();
    const [x, y] = p as [number, number];
    if (!(x > prev[0] && y >= prev[1] && Number.isFinite(x) && Number.isFinite(y))) return bad();
    prev = [x, y];
    return prev;
  });
}

function arrayField(o: Record<string, unknown>, key: string, what: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new AllocatorError('ALLOC_BAD_FIELD', `${what}: "${key}" must be an array`);
  return v;
}

function optionalArray(o: Record<string, unknown>, key: string): unknown[] {
  return o[key] === undefined ? [] : arrayField(o, key, 'problem');
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
