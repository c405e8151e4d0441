/**
 * The import-direction rules of ARCHITECTURE.md "Layers", as data, and the checker that applies them to
 * the import graph of the TypeScript sources (every `import`, `import type`, `export … from` and
 * `import()` with a relative specifier; packages are not checked). Run by
 * test/unit/import-direction.test.ts (part of `npm test`), or alone: `node dist/test/helpers/import-rules.js`.
 *
 * Files are classified by folder ({@link LAYER_OF}): the folders are the layers. Each layer may import the
 * layers listed in {@link MAY_IMPORT}; anything else is a violation unless it is in {@link KNOWN_UPWARD},
 * the allow-list of the upward imports that exist today, each with why and how it goes away.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type Layer =
  | 'lib' | 'agent-protocol' | 'openflow' | 'topology'
  | 'apps/allocator' | 'apps/routing' | 'apps/qos' | 'apps/enforcement' | 'apps/controlplane'
  | 'program' | 'agent' | 'cli' | 'tools' | 'test';

/** Path prefix (from the repository root, `/`-separated) → layer; the first match wins. */
export const LAYER_OF: readonly (readonly [string, Layer])[] = [
  // layer 0, utilities: clock, log, dpid, the wait loop, frame/pcap parsing, cookies, the OVSDB client
  ['lib/', 'lib'],
  ['types/', 'lib'], // declarations of untyped packages
  // layer 1, the agent channel's protocol (both sides import it)
  ['protocol/', 'agent-protocol'],
  // layer 2, the OpenFlow platform: codec, sessions, listener, app host and API
  ['openflow/', 'openflow'],
  // layer 3, 4
  ['topology/', 'topology'],
  ['apps/allocator/', 'apps/allocator'],
  ['apps/routing/', 'apps/routing'],
  ['apps/qos/', 'apps/qos'],
  ['apps/enforcement/', 'apps/enforcement'],
  ['apps/controlplane/', 'apps/controlplane'], // the OFPM_CONTROLLER meter on the table-miss entry
  // layer 5, the program `rivulet controller` runs: main.ts, rest/, config/
  ['controller/', 'program'],
  // beside the stack
  ['agent/', 'agent'],
  ['cli/', 'cli'],
  ['scripts/', 'tools'],
  ['bench/', 'tools'],
  ['experiment/', 'tools'], // the experiment kit (`rivulet experiment`, `rivulet traffic`)
  ['testing/', 'tools'], // the test fabric (fakes, Mininet driver) shared by test/, bench/ and scripts/
  ['web/', 'tools'], // the browser page (bundled by esbuild; imports no server code)
  ['test/', 'test'],
];

const BELOW_APPS: readonly Layer[] = ['lib', 'agent-protocol', 'openflow', 'topology'];
const ALL_PRODUCT: readonly Layer[] = [
  ...BELOW_APPS, 'apps/allocator', 'apps/routing', 'apps/qos', 'apps/enforcement', 'apps/controlplane', 'program', 'agent', 'cli', 'tools',
];

/** Layer → the layers its files may import (its own included). */
export const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
  lib: ['lib'],
  'agent-protocol': ['lib', 'agent-protocol'],
  openflow: ['lib', 'openflow'],
  topology: ['lib', 'openflow', 'topology'],
  // apps: the allocator is pure and imports no app; routing and QoS may use the allocator only;
  // enforcement builds on all three
  'apps/allocator': [...BELOW_APPS, 'apps/allocator'],
  'apps/routing': [...BELOW_APPS, 'apps/allocator', 'apps/routing'],
  'apps/qos': [...BELOW_APPS, 'apps/allocator', 'apps/qos'],
  'apps/enforcement': [...BELOW_APPS, 'apps/allocator', 'apps/routing', 'apps/qos', 'apps/enforcement'],
  'apps/controlplane': [...BELOW_APPS, 'apps/controlplane'],
  program: [...BELOW_APPS, 'apps/allocator', 'apps/routing', 'apps/qos', 'apps/enforcement', 'apps/controlplane', 'program'],
  // the host agent: utilities and the channel protocol only
  agent: ['lib', 'agent-protocol', 'agent'],
  // product entry points: anything but test code
  cli: ALL_PRODUCT,
  tools: ALL_PRODUCT,
  test: [...ALL_PRODUCT, 'test'],
};

/**
 * The upward (or product → test) imports that exist today, `from -> to` (source paths). Each goes away
 * with the change named in its comment; do not add to this list — fix the import instead.
 */
export const KNOWN_UPWARD: ReadonlyMap<string, string> = new Map<string, string>([]);

/** One import edge between two source files, paths from the repository root. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

export interface ImportCheck {
  /** source files read */
  readonly files: number;
  /** relative imports resolved to a source file */
  readonly edges: number;
  /** imports breaking the rules and not in KNOWN_UPWARD, as `from (layer) -> to (layer)` */
  readonly violations: readonly string[];
  /** KNOWN_UPWARD entries seen in the graph */
  readonly allowed: readonly string[];
  /** KNOWN_UPWARD entries no longer in the graph (the import is gone: delete the entry) */
  readonly stale: readonly string[];
  /** files no rule classifies (checked as `tools`: they may import anything but test/) */
  readonly unclassified: readonly string[];
}

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

/** The repository root (from dist/test/helpers or test/helpers). */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the checker');
    dir = up;
  }
  return dir;
}

function sourceFiles(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(root, p, out);
    else if (/\.(ts|mts|cts)$/.test(name)) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

/** The layer of a source path, or undefined when no rule matches. */
export function layerOf(path: string): Layer | undefined {
  return LAYER_OF.find(([prefix]) => path === prefix || path.startsWith(prefix))?.[1];
}

/** Resolves a relative specifier (`./x.js`) of `from` to a source path, or undefined. */
function resolveSpecifier(root: string, from: string, spec: string): string | undefined {
  const abs = resolve(root, dirname(from), spec);
  const candidates = [abs.replace(/\.(m|c)?js$/, '.$1ts'), abs.replace(/\.js$/, '.d.ts'), `${abs}.ts`, join(abs, 'index.ts'), abs];
  const hit = candidates.find((c) => /\.(m|c)?ts$/.test(c) && existsSync(c));
  return hit && relative(root, hit).split(sep).join('/');
}

/** Every relative import of every TypeScript source under `root`. */
export function importGraph(root: string): { files: string[]; edges: ImportEdge[] } {
  const files = sourceFiles(root);
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const info = ts.preProcessFile(readFileSync(join(root, from), 'utf8'), true, true);
    for (const f of info.importedFiles) {
      if (!f.fileName.startsWith('.')) continue;
      const to = resolveSpecifier(root, from, f.fileName);
      if (to && to !== from) edges.push({ from, to });
    }
  }
  return { files, edges };
}

/** Applies the rules to the import graph of `root`. */
export function checkImports(root = repositoryRoot()): ImportCheck {
  const { files, edges } = importGraph(root);
  const violations = new Set<string>();
  const allowed = new Set<string>();
  for (const { from, to } of edges) {
    const a = layerOf(from) ?? 'tools';
    const b = layerOf(to) ?? 'tools';
    if (MAY_IMPORT[a].includes(b)) continue;
    const key = `${from} -> ${to}`;
    if (KNOWN_UPWARD.has(key)) allowed.add(key);
    else violations.add(`${from} (${a}) -> ${to} (${b})`);
  }
  return {
    files: files.length,
    edges: edges.length,
    violations: [...violations].sort(),
    allowed: [...allowed].sort(),
    stale: [...KNOWN_UPWARD.keys()].filter((k) => !allowed.has(k)).sort(),
    unclassified: files.filter((f) => layerOf(f) === undefined).sort(),
  };
}

/** A human summary of a check, one finding a line. */
export function formatCheck(c: ImportCheck): string {
  const lines = [`import direction: ${c.files} files, ${c.edges} imports; ${c.violations.length} violations; ${c.allowed.length} known upward imports allowed`];
  for (const v of c.violations) lines.push(`  VIOLATION ${v}`);
  for (const s of c.stale) lines.push(`  stale allow-list entry (the import is gone; delete it): ${s}`);
  for (const u of c.unclassified) lines.push(`  unclassified (checked as tools; add it to LAYER_OF): ${u}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const c = checkImports();
  console.log(formatCheck(c));
  process.exitCode = c.violations.length > 0 ? 1 : 0;
}
