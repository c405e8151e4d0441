/**
 * `rivulet experiment run SPEC [--out DIR] [--schemes a,b] [--seed N] [--duration S]` and
 * `rivulet experiment report DIR`: runs a workload under each scheme in Mininet (as root) and reports
 * FCT, slowdown, transfer times and tenant shares with a table and plots (experiment/run.ts), or renders
 * the table and plots again from a results directory. SPEC is a file or a built-in name from
 * experiments/ (websearch, datamining, incast, shuffle, tenants). Ctrl-C stops the current scheme,
 * tears the fabric down and writes what was measured.
 */
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fromCsv, receivedFromCsv } from '../../experiment/collect.js';
import { formatCompare } from '../../experiment/compare.js';
import type { SchemeSummary } from '../../experiment/metrics.js';
import { report, runExperiment, type SchemeRun } from '../../experiment/run.js';
import type { LeafSpine } from '../../experiment/fluid.js';
import { reportSimulation, simTitle, type SimRun } from '../../experiment/simulate.js';
import { loadSpec, SCHEMES, SpecError, type ExperimentSpec, type Scheme } from '../../experiment/spec.js';
import { mininetUnavailable, repoRoot, stopAllFabrics } from '../../testing/mininet.js';

/** What `report` reads from a simulated run's manifest.json (experiment/simulate.ts). */
interface SimManifest {
  readonly simulated: true;
  readonly spec: ExperimentSpec;
  readonly seed: number;
  readonly flows: number;
  readonly fabric: LeafSpine;
  readonly model: { readonly intervalUs: number; readonly baseRttUs: number; readonly tenantGroups?: boolean };
  readonly runs: SimRun[];
}

function parseSchemes(s: string): Scheme[] {
  const out = s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const x of out) if (!(SCHEMES as readonly string[]).includes(x)) throw new SpecError(`--schemes: unknown scheme ${x} (one of ${SCHEMES.join(', ')})`);
  return out as Scheme[];
}

export function register(program: Command): void {
  const exp = program.command('experiment').description('run a workload under ECMP and each Rivulet scheme in Mininet; FCT, TCT, tenant shares, plots');
  exp.command('run')
    .argument('<spec>', 'spec file (YAML/JSON) or built-in name: websearch, datamining, incast, shuffle, tenants')
    .option('--out <dir>', 'results directory (default results/<name>-<UTC time>)')
    .option('--schemes <list>', `comma-separated, in order (default the spec's; from ${SCHEMES.join(',')})`)
    .option('--seed <n>', 'workload and path seed (default the spec\'s)')
    .option('--duration <s>', 'keep only flows arriving in the first S seconds')
    .action(async (specArg: string, flags: { out?: string; schemes?: string; seed?: string; duration?: string }) => {
      let spec: ExperimentSpec;
      let file: string;
      let schemes: Scheme[];
      try {
        ({ spec, file } = loadSpec(specArg, join(repoRoot(), 'experiments')));
        schemes = flags.schemes ? parseSchemes(flags.schemes) : spec.schemes;
      } catch (e) {
        process.stderr.write(`rivulet experiment: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const why = mininetUnavailable();
      if (why) {
        process.stderr.write(`rivulet experiment: cannot run Mininet here: ${why}\n`);
        process.exitCode = 1;
        return;
      }
      const seed = flags.seed !== undefined ? Number(flags.seed) : spec.seed;
      const outDir = resolve(flags.out ?? join('results', `${spec.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
      const abort = new AbortController();
      const onSig = (): void => {
        if (abort.signal.aborted) return;
        process.stderr.write('\nrivulet experiment: stopping (tearing the fabric down)…\n');
        abort.abort();
      };
      process.on('SIGINT', onSig);
      process.on('SIGTERM', onSig);
      const bar = new SingleBar({ format: '{bar} {percentage}% | {value}/{total} flows | {scheme} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 50 }, Presets.shades_classic);
      let barOn = false;
      try {
        const r = await runExperiment({
          spec, specFile: file, outDir, schemes, seed, ...(flags.duration ? { durationS: Number(flags.duration) } : {}), signal: abort.signal,
          log: (l) => {
            if (barOn) bar.stop();
            barOn = false;
            process.stderr.write(`${l}\n`);
          },
          onProgress: (done, total, scheme) => {
            if (!barOn) {
              bar.start(total, done, { scheme });
              barOn = true;
            }
            bar.update(done, { scheme });
          },
        });
        if (barOn) bar.stop();
        process.stdout.write(`\n${spec.name} (seed ${seed}): ${spec.claim}\n\n${r.table}\nresults: ${outDir}\n`);
      } catch (e) {
        if (barOn) bar.stop();
        process.stderr.write(`rivulet experiment: ${(e as Error).stack ?? String(e)}\n`);
        process.exitCode = 1;
      } finally {
        await stopAllFabrics();
        process.off('SIGINT', onSig);
        process.off('SIGTERM', onSig);
      }
      if (abort.signal.aborted && !process.exitCode) process.exitCode = 130;
    });
  exp.command('report')
    .argument('<dir>', 'a results directory of `experiment run`')
    .description('prints the table and renders the plots again from manifest.json, flows.csv and received.csv')
    .action(async (dir: string) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { spec: ExperimentSpec; runs: SchemeRun[]; seed: number };
      const flows = fromCsv(readFileSync(join(dir, 'flows.csv'), 'utf8'));
      if ((manifest as unknown as SimManifest).simulated === true) {
        // a `rivulet simulate SPEC` directory: the same files, its own title and rows
        const m = manifest as unknown as SimManifest;
        const title = simTitle(m.spec, m.seed, { fabric: m.fabric, flows: m.flows, intervalUs: m.model.intervalUs, baseRttUs: m.model.baseRttUs,
          tenantGroups: m.model.tenantGroups === true });
        const r = await reportSimulation(dir, flows, m.spec, m.runs, title, m.fabric.hostBps);
        process.stdout.write(r.table);
        return;
      }
      const receivedFile = join(dir, 'received.csv');
      const received = existsSync(receivedFile) ? receivedFromCsv(readFileSync(receivedFile, 'utf8')) : [];
      const r = await report(dir, flows, manifest.spec, manifest.runs, received);
      process.stdout.write(`${manifest.spec.name} (seed ${manifest.seed}): ${manifest.spec.claim}\n\n${r.table}`);
    });
  exp.command('compare')
    .argument('<dirs...>', 'results directories of runs of one spec (e.g. the same seed three times)')
    .description('whether the runs had identical flow lists, and the spread of every metric per scheme across them')
    .action((dirs: string[]) => {
      const runs = dirs.map((dir) => ({
        dir, plan: readFileSync(join(dir, 'plan.json'), 'utf8'),
        summaries: (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { summaries: SchemeSummary[] }).summaries,
      }));
      process.stdout.write(formatCompare(runs));
    });
}
