/**
 * Reading and validating the configuration file: JSON or YAML by extension, defaults filled in, every
 * rejection a {@link ConfigError} whose one-line message names the key
 * (`config: openflow.port: must be an integer 0–65535, got "abc"`).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { StaticEncode, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../lib/config-error.js';
import { checkTenants } from '../../apps/enforcement/config.js';
import { checkQos } from '../../apps/qos/config.js';
import { ConfigSchema, type RivuletConfig } from './schema.js';

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** What may be written in the file (or passed as overrides): every key optional. */
export type ConfigInput = DeepPartial<StaticEncode<typeof ConfigSchema>>;

export type ConfigFormat = 'json' | 'yaml';

/** `.json` → json, `.yaml`/`.yml` → yaml. @throws ConfigError CONFIG_READ for anything else */
export function formatOf(file: string): ConfigFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  throw new ConfigError('CONFIG_READ', undefined, `cannot tell the format of "${file}": use .json, .yaml or .yml`);
}

/** Parses the text of a config file (an empty document is `{}`). @throws ConfigError CONFIG_PARSE */
export function parseConfigText(text: string, format: ConfigFormat, file?: string): unknown {
  try {
    if (format === 'json') return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
    return parseYaml(text) ?? {};
  } catch (err) {
    const first = ((err as Error).message.split('\n')[0] ?? '').trim();
    throw new ConfigError('CONFIG_PARSE', undefined, `not valid ${format.toUpperCase()}: ${first}`, file);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Drops keys whose value is null (YAML `key:` with nothing after it): they mean "the default". */
function dropNulls(v: unknown): unknown {
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/** Merges `over` into `base` recursively (plain objects only; anything else in `over` replaces). */
function mergeDeep(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = mergeDeep(base[k], v);
  return out;
}

/** JSON pointer (`/topology/links/1:3`) → dotted key (`topology.links.1:3`). */
function keyOf(pointer: string): string | undefined {
  if (pointer === '') return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function range(s: Record<string, unknown>): string {
  const min = s['minimum'] as number | undefined;
  const max = s['maximum'] as number | undefined;
  const xmin = s['exclusiveMinimum'] as number | undefined;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (xmin !== undefined) return ` > ${xmin}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

/** What a schema expects, in words (its `errorMessage` when it has one). */
export function expectation(schema: TSchema): string {
  const s = schema as Record<string, unknown>;
  if (typeof s['errorMessage'] === 'string') return s['errorMessage'];
  switch (s['type']) {
    case 'integer':
      return `must be an integer${range(s)}`;
    case 'number':
      return `must be a number${range(s)}`;
    case 'boolean':
      return 'must be true or false';
    case 'string':
      if (typeof s['minLength'] === 'number' && s['minLength'] > 1) return `must be a string of at least ${s['minLength']} characters`;
      if (typeof s['pattern'] === 'string') return `must be a string matching ${s['pattern']}`;
      return s['minLength'] === 1 ? 'must be a non-empty string' : 'must be a string';
    case 'object': {
      const keys = isPlainObject(s['properties']) ? Object.keys(s['properties']) : [];
      return keys.length > 0 ? `must be a mapping (keys: ${keys.join(', ')})` : 'must be a mapping';
    }
    case 'array':
      return 'must be a list';
    default:
      return 'is not valid';
  }
}

/** Optimal-string-alignment distance (a swap of two neighbours counts 1), case-insensitive. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[x.length]![y.length]!;
}

/** The known key closest to `name`, if it is a plausible typo of it. */
function suggestion(name: string, known: readonly string[]): string | undefined {
  const limit = name.length <= 4 ? 1 : 2;
  let best: string | undefined;
  for (const k of known) if (editDistance(k, name) <= limit && (best === undefined || editDistance(k, name) < editDistance(best, name))) best = k;
  return best;
}

function unknownKeyError(e: ValueError, file: string | undefined): ConfigError {
  const key = keyOf(e.path) ?? '';
  const s = e.schema as Record<string, unknown>;
  if (typeof s['keyMessage'] === 'string') {
    return new ConfigError('CONFIG_INVALID', key, `key ${s['keyMessage']}`, file);
  }
  const name = key.slice(key.lastIndexOf('.') + 1);
  const known = isPlainObject(s['properties']) ? Object.keys(s['properties']) : [];
  const close = suggestion(name, known);
  const hint = close === undefined ? '' : `; did you mean "${close}"?`;
  return new ConfigError('CONFIG_UNKNOWN_KEY', key, `unknown key (known: ${known.join(', ')})${hint}`, file);
}

/** The error to report for a validation failure: the first one, in schema order. */
function toConfigError(e: ValueError, file: string | undefined): ConfigError {
  if (e.type === ValueErrorType.ObjectAdditionalProperties) return unknownKeyError(e, file);
  const key = keyOf(e.path);
  if (key === undefined) {
    return new ConfigError('CONFIG_INVALID', undefined, `the file must be a mapping of sections (${Object.keys(ConfigSchema.properties).join(', ')}), got ${shown(e.value)}`, file);
  }
  return new ConfigError('CONFIG_INVALID', key, `${expectation(e.schema)}, got ${shown(e.value)}`, file);
}

/**
 * A list section (tenants) given as a mapping: TypeBox's Value.Default would merge the mapping into the
 * default `[]` (an empty array with extra properties) and accept it, so this is checked first.
 */
function checkListSections(doc: unknown, file: string | undefined): void {
  if (!isPlainObject(doc)) return;
  for (const [key, schema] of Object.entries(ConfigSchema.properties) as [string, TSchema][]) {
    const v = doc[key];
    if ((schema as Record<string, unknown>)['type'] === 'array' && v !== undefined && !Array.isArray(v)) {
      throw new ConfigError('CONFIG_INVALID', key, `${expectation(schema)}, got ${shown(v)}`, file);
    }
  }
}

/**
 * Validates a parsed document, `overrides` merged over it (command-line flags win), defaults filled in.
 * A key whose value is null (YAML `key:` alone) is treated as absent.
 * @param file named in error messages
 * @throws ConfigError CONFIG_INVALID | CONFIG_UNKNOWN_KEY naming the first bad key
 */
export function resolveConfig(doc: unknown, overrides?: ConfigInput, file?: string): RivuletConfig {
  if (doc !== undefined && doc !== null && !isPlainObject(doc)) {
    const sections = Object.keys(ConfigSchema.properties).join(', ');
    throw new ConfigError('CONFIG_INVALID', undefined, `the file must be a mapping of sections (${sections}), got ${shown(doc)}`, file);
  }
  const merged = mergeDeep(dropNulls(structuredClone(doc ?? {})), overrides);
  checkListSections(merged, file);
  const withDefaults = Value.Default(ConfigSchema, merged);
  const first = Value.Errors(ConfigSchema, withDefaults).First();
  if (first) throw toConfigError(first, file);
  const config = Value.Decode(ConfigSchema, withDefaults) as RivuletConfig;
  checkQos(config.qos, file);
  checkTenants(config.tenants, file);
  return config;
}

/** The configuration of an empty file (defaults for the Mininet demo), with `overrides` applied. */
export function defaultConfig(overrides?: ConfigInput): RivuletConfig {
  return resolveConfig({}, overrides);
}

/**
 * Reads, parses and validates a config file (JSON or YAML by extension); without a file, the defaults.
 * @throws ConfigError (CONFIG_READ, CONFIG_PARSE, CONFIG_INVALID, CONFIG_UNKNOWN_KEY)
 */
export function loadConfig(file?: string, overrides?: ConfigInput): RivuletConfig {
  if (file === undefined) return defaultConfig(overrides);
  const format = formatOf(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigError('CONFIG_READ', undefined, `cannot read "${file}": ${why}`);
  }
  return resolveConfig(parseConfigText(text, format, file), overrides, file);
}
