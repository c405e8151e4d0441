/**
 * Experiment specs (YAML or JSON files, e.g. experiments/websearch.yaml): the fabric shape and link rate,
 * the workload, the schemes to compare and the metrics' parameters. Validated with typebox; an error
 * names the key. Relative paths (the CDF) are resolved against the spec file's directory.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const SCHEMES = ['ecmp', 'priority', 'flowtune', 'maxmin', 'fca'] as const;
export type Scheme = (typeof SCHEMES)[number];

const Tenant = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  weight: Type.Number({ exclusiveMinimum: 0 }),
  hosts: Type.Optional(Type.Array(Type.String())),
  receivers: Type.Optional(Type.Array(Type.String())),
  /** the tenant's own offered load per sender (absent: load × weight share); tenants may overload a link together */
  load: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 2 })),
}, { additionalProperties: false });

export const ExperimentSpec = Type.Object({
  name: Type.String({ minLength: 1 }),
  /** the paper claim this experiment tests */
  claim: Type.String({ minLength: 1 }),
  seed: Type.Integer({ minimum: 0, default: 1 }),
  schemes: Type.Array(Type.Union(SCHEMES.map((s) => Type.Literal(s))), { minItems: 1, default: [...SCHEMES] }),
  fabric: Type.Object({
    spines: Type.Integer({ minimum: 1, maximum: 8, default: 2 }),
    leaves: Type.Integer({ minimum: 2, maximum: 8, default: 2 }),
    hostsPerLeaf: Type.Integer({ minimum: 1, maximum: 8, default: 2 }),
    /** every link's rate (host links and leaf-spine links), Mbit/s */
    linkMbps: Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: 20 }),
    /** per-port switch buffer and host interface queue, packets */
    bufferPackets: Type.Integer({ minimum: 4, maximum: 10000, default: 50 }),
  }, { additionalProperties: false, default: {} }),
  workload: Type.Object({
    cdf: Type.String({ minLength: 1 }),
    pattern: Type.Union([Type.Literal('all-to-all'), Type.Literal('permutation'), Type.Literal('incast'), Type.Literal('shuffle')], { default: 'all-to-all' }),
    load: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5 }),
    sizeScale: Type.Number({ exclusiveMinimum: 0, default: 1 }),
    flows: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    connections: Type.Union([Type.Literal('fresh'), Type.Literal('kept')], { default: 'kept' }),
    fanIn: Type.Optional(Type.Integer({ minimum: 1 })),
    senders: Type.Optional(Type.Integer({ minimum: 1 })),
    receivers: Type.Optional(Type.Integer({ minimum: 1 })),
    tenants: Type.Optional(Type.Array(Tenant)),
  }, { additionalProperties: false }),
  metrics: Type.Object({
    /** size-bin edges on the nominal (unscaled) sizes, bytes */
    sizeBinsBytes: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { default: [100_000, 10_000_000] }),
    /** a flow not done within max(factor × ideal, minTimeoutMs) is censored at that time */
    timeoutFactor: Type.Number({ minimum: 1, default: 20 }),
    minTimeoutMs: Type.Number({ minimum: 0, default: 5000 }),
    /** tenant-shares plot bin, ms */
    shareBinMs: Type.Number({ exclusiveMinimum: 0, default: 1000 }),
  }, { additionalProperties: false, default: {} }),
  /** controller config merged into every scheme's (e.g. allocator.intervalMs) */
  controller: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** enforcement mode of the allocation schemes (flowtune, maxmin, fca) */
  enforcementMode: Type.Union([Type.Literal('both'), Type.Literal('agents'), Type.Literal('meters')], { default: 'both' }),
  /** schemes whose traffic declares each flow (size, transfer, tenant) to the agent; default fca, and all agent schemes with tenants */
  declare: Type.Optional(Type.Array(Type.Union(SCHEMES.map((s) => Type.Literal(s))))),
}, { additionalProperties: false });
export type ExperimentSpec = Static<typeof ExperimentSpec>;

export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

/** Validates a parsed spec (defaults filled in). @throws SpecError naming the key */
export function checkSpec(raw: unknown, baseDir = '.'): ExperimentSpec {
  const v = Value.Default(ExperimentSpec, Value.Clone(raw));
  const first = Value.Errors(ExperimentSpec, v).First();
  if (first) throw new SpecError(`spec${first.path.replace(/\//g, '.')}: ${first.message}`);
  const spec = v as ExperimentSpec;
  if (!isAbsolute(spec.workload.cdf)) spec.workload.cdf = resolve(baseDir, spec.workload.cdf);
  if (spec.fabric.spines < spec.fabric.hostsPerLeaf) {
    throw new SpecError(`spec.fabric: ${spec.fabric.hostsPerLeaf} hosts per leaf need ≥ as many spines at equal link rates (a non-blocking fabric: the host link stays the bottleneck the ideal FCT assumes)`);
  }
  return spec;
}

/** Loads a spec file, or a built-in by name (`websearch` → experiments/websearch.yaml). */
export function loadSpec(nameOrPath: string, builtinDir: string): { spec: ExperimentSpec; file: string } {
  const file = /^[a-z0-9-]+$/.test(nameOrPath) ? resolve(builtinDir, `${nameOrPath}.yaml`) : resolve(nameOrPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpecError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const raw: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  return { spec: checkSpec(raw, dirname(file)), file };
}

/** Whether a scheme runs host agents. */
export const usesAgents = (s: Scheme): boolean => s !== 'ecmp';

/** Whether the traffic of `scheme` declares flows to the agents. */
export function declares(spec: ExperimentSpec, scheme: Scheme): boolean {
  if (spec.declare) return spec.declare.includes(scheme);
  return scheme === 'fca' || (usesAgents(scheme) && (spec.workload.tenants?.length ?? 0) > 0);
}
