/**
 * The OVSDB wire data model (RFC 7047 §5.1) and transaction operations (§5.2), as plain types, plus
 * small named builders for the values Rivulet writes. Pure: no I/O.
 */

/** An atom: string, integer/real, boolean, or a UUID reference (`["uuid", …]` / `["named-uuid", …]`). */
export type OvsdbAtom = string | number | boolean | OvsdbUuid | OvsdbNamedUuid;
export type OvsdbUuid = readonly ['uuid', string];
export type OvsdbNamedUuid = readonly ['named-uuid', string];
export type OvsdbSet = readonly ['set', readonly OvsdbAtom[]];
export type OvsdbMap = readonly ['map', readonly (readonly [OvsdbAtom, OvsdbAtom])[]];
/** A column value (a one-element set may be written as the bare atom, §5.1). */
export type OvsdbValue = OvsdbAtom | OvsdbSet | OvsdbMap;

export type OvsdbRow = Readonly<Record<string, OvsdbValue>>;
/** `[column, function, value]`, function one of `==` `!=` `includes` `excludes` `<` … (§5.1). */
export type OvsdbCondition = readonly [string, string, OvsdbValue];
/** `[column, mutator, value]`, mutator `+=` `-=` `insert` `delete` … (§5.1). */
export type OvsdbMutation = readonly [string, string, OvsdbValue];

export type OvsdbOperation =
  | { readonly op: 'insert'; readonly table: string; readonly row: OvsdbRow; readonly 'uuid-name'?: string }
  | { readonly op: 'select'; readonly table: string; readonly where: readonly OvsdbCondition[]; readonly columns?: readonly string[] }
  | { readonly op: 'update'; readonly table: string; readonly where: readonly OvsdbCondition[]; readonly row: OvsdbRow }
  | { readonly op: 'mutate'; readonly table: string; readonly where: readonly OvsdbCondition[]; readonly mutations: readonly OvsdbMutation[] }
  | { readonly op: 'delete'; readonly table: string; readonly where: readonly OvsdbCondition[] }
  | { readonly op: 'comment'; readonly comment: string };

/** One element of a transaction's result array (§5.2): rows for select, count for update/mutate/delete, uuid for insert. */
export interface OvsdbOpResult {
  readonly rows?: readonly Readonly<Record<string, unknown>>[];
  readonly count?: number;
  readonly uuid?: OvsdbUuid;
  readonly error?: string;
  readonly details?: string;
}

export const uuid = (u: string): OvsdbUuid => ['uuid', u];
export const namedUuid = (n: string): OvsdbNamedUuid => ['named-uuid', n];
export const set = (atoms: readonly OvsdbAtom[]): OvsdbSet => ['set', atoms];

/** A string→string map (other_config, external_ids), keys sorted so equal maps encode equally. */
export function strMap(rec: Readonly<Record<string, string>>): OvsdbMap {
  return ['map', Object.keys(rec).sort().map((k) => [k, rec[k]!] as const)];
}

/** An integer→reference map (QoS.queues). */
export function intRefMap(entries: readonly (readonly [number, OvsdbUuid | OvsdbNamedUuid])[]): OvsdbMap {
  return ['map', [...entries].sort((a, b) => a[0] - b[0])];
}

/** Reads a `["map", …]` column value into a Map (other values: empty). */
export function readMap(v: unknown): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  if (Array.isArray(v) && v[0] === 'map' && Array.isArray(v[1])) for (const [k, x] of v[1] as [unknown, unknown][]) m.set(k, x);
  return m;
}

/** Reads a set column (a bare atom is a one-element set) into an array. */
export function readSet(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === 'set' && Array.isArray(v[1])) return v[1] as unknown[];
  return v === undefined ? [] : [v];
}

/** The UUID string of a `["uuid", …]` value, else undefined. */
export function readUuid(v: unknown): string | undefined {
  return Array.isArray(v) && v[0] === 'uuid' && typeof v[1] === 'string' ? v[1] : undefined;
}
