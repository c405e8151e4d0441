/**
 * `rivulet simulate` (README.md "CLI", "Experiments" → "Simulation"), two forms:
 *
 * - `rivulet simulate SPEC [--out DIR] [--schemes …] [--seed N] [--servers N] [--link-gbps G] [--flows N]
 *   [--interval-us U] [--base-rtt-us R] [--tenant-groups]`: the experiment spec replayed by the fluid simulator at Flowtune's
 *   scale (experiment/simulate.ts); writes the results directory of `experiment run`, marked simulated, and
 *   prints the table titled SIMULATED. Exit status 2 on a bad spec or option.
 * - `rivulet simulate --input workload.json [--policy flowtune|maxmin|fca|divisions] [--iterations N]`:
 *   the allocator's fluid simulator on a problem whose flows carry `sizeBytes` and `startS` (seconds) and
 *   optionally `transferId`. Prints JSON with per-flow and per-transfer completion times and a summary,
 *   then a one-line human summary on stderr. Exit status 2 with one line naming the offending flow or link
 *   on invalid input.
 */
import type { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { join, resolve } from 'node:path';
import { AllocatorError } from '../../apps/allocator/errors.js';
import { parseProblem } from '../../apps/allocator/problem.js';
import { simulate } from '../../apps/allocator/simulator/fluid.js';
import { SIM_SCHEMES, type SimScheme } from '../../experiment/fluid.js';
import {
  DEFAULT_BASE_RTT_US, DEFAULT_INTERVAL_US, DEFAULT_LINK_GBPS, DEFAULT_SERVERS, runSimulation,
} from '../../experiment/simulate.js';
import { loadSpec, SpecError } from '../../experiment/spec.js';
import { repoRoot } from '../../testing/mininet.js';
import { parseIterations, readInput } from './allocate.js';

interface SimulateCliOptions {
  readonly input?: string;
  readonly policy?: string;
  readonly iterations?: string;
  readonly reserve?: string;
}

/** Options of the spec form. */
export interface SimulateSpecOptions {
  readonly out?: string;
  readonly schemes?: string;
  readonly seed?: string;
  readonly servers?: string;
  readonly linkGbps?: string;
  readonly flows?: string;
  readonly intervalUs?: string;
  readonly baseRttUs?: string;
  readonly tenantGroups?: boolean;
  /** draw the progress bar (default: when stderr is a terminal) */
  readonly progress?: boolean;
}

/** Registers the `simulate` sub-command on the `rivulet` program. */
export function register(program: Command): void {
  program
    .command('simulate')
    .description('fluid (flow-level) simulation: an experiment spec at Flowtune\'s scale (table + plots, labelled SIMULATED), or an allocator problem (--input, JSON)')
    .argument('[spec]', 'experiment spec file or built-in name (websearch, shuffle, tenants, …)')
    .option('--out <dir>', 'spec form: results directory (default results/<name>-sim-<UTC time>)')
    .option('--schemes <list>', `spec form: comma-separated, in order (default the spec's; from ${SIM_SCHEMES.join(',')})`)
    .option('--seed <n>', 'spec form: workload and path seed (default the spec\'s)')
    .option('--servers <n>', 'spec form: servers, in racks of 48', String(DEFAULT_SERVERS))
    .option('--link-gbps <g>', 'spec form: server link rate, Gbit/s (uplinks 4×)', String(DEFAULT_LINK_GBPS))
    .option('--flows <n>', 'spec form: flows of the run (default the spec\'s)')
    .option('--interval-us <u>', 'spec form: recompute rates at most once per U µs of simulated time (0: after every event)', String(DEFAULT_INTERVAL_US))
    .option('--base-rtt-us <r>', 'spec form: base RTT added to every FCT and ideal FCT, µs', String(DEFAULT_BASE_RTT_US))
    .option('--tenant-groups', 'spec form: maxmin nests flows under their tenant (BwE hierarchy) instead of weighting each flow by its tenant')
    .option('--input <file>', 'problem form: workload JSON, a problem whose flows have sizeBytes, startS, transferId')
    .option('--policy <name>', 'problem form: flowtune | maxmin | fca | divisions', 'flowtune')
    .option('--iterations <n>', 'problem form: optimizer iterations per event (flowtune)', '1')
    .option('--reserve <fraction>', 'problem form: fca: fraction of each link kept for work conservation', '1e-6')
    .action(async (specArg: string | undefined, opts: SimulateCliOptions & SimulateSpecOptions) => {
      const out = (s: string): void => { process.stdout.write(s); };
      const err = (s: string): void => { process.stderr.write(s); };
      if (specArg !== undefined && opts.input !== undefined) {
        err('rivulet simulate: give either SPEC or --input, not both\n');
        process.exitCode = 2;
        return;
      }
      if (specArg === undefined && opts.input === undefined) {
        err('rivulet simulate: give an experiment SPEC (e.g. websearch) or --input problem.json\n');
        process.exitCode = 2;
        return;
      }
      process.exitCode = specArg !== undefined
        ? await runSimulateSpec(specArg, { ...opts, progress: opts.progress ?? process.stderr.isTTY === true }, out, err)
        : await runSimulate({ ...opts, input: opts.input! }, out, err);
    });
}

function positive(name: string, text: string | undefined, integer: boolean, min = 0): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!(Number.isFinite(v) && v >= min && (!integer || Number.isInteger(v)))) {
    throw new SpecError(`${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(text)}`);
  }
  return v;
}

/** The spec form with outputs injected (for tests). Returns the exit status. */
export async function runSimulateSpec(
  specArg: string, opts: SimulateSpecOptions, out: (text: string) => void, err: (text: string) => void,
): Promise<number> {
  let args: Parameters<typeof runSimulation>[0];
  try {
    const { spec, file } = loadSpec(specArg, join(repoRoot(), 'experiments'));
    const schemes = (opts.schemes ?? spec.schemes.join(',')).split(',').map((x) => x.trim()).filter((x) => x !== '');
    for (const s of schemes) {
      if (!(SIM_SCHEMES as readonly string[]).includes(s)) throw new SpecError(`--schemes: unknown scheme ${s} (one of ${SIM_SCHEMES.join(', ')})`);
    }
    const seed = positive('--seed', opts.seed, true) ?? spec.seed;
    args = {
      spec, specFile: file, schemes: schemes as SimScheme[], seed,
      outDir: resolve(opts.out ?? join('results', `${spec.name}-sim-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
      servers: positive('--servers', opts.servers, true, 2) ?? DEFAULT_SERVERS,
      linkGbps: positive('--link-gbps', opts.linkGbps, false, 1e-6) ?? DEFAULT_LINK_GBPS,
      flows: positive('--flows', opts.flows, true, 1),
      intervalUs: positive('--interval-us', opts.intervalUs, false) ?? DEFAULT_INTERVAL_US,
      baseRttUs: positive('--base-rtt-us', opts.baseRttUs, false) ?? DEFAULT_BASE_RTT_US,
      tenantGroups: opts.tenantGroups === true,
    };
  } catch (e) {
    err(`rivulet simulate: ${(e as Error).message}\n`);
    return 2;
  }
  const bar = new SingleBar({ format: '{bar} {percentage}% | {value}/{total} flows | {scheme} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 50 }, Presets.shades_classic);
  let barOn = false;
  try {
    const r = await runSimulation({
      ...args,
      log: (l) => {
        if (barOn) bar.stop();
        barOn = false;
        err(`${l}\n`);
      },
      onProgress: (done, total, scheme) => {
        if (!opts.progress) return;
        if (!barOn) {
          bar.start(total, done, { scheme });
          barOn = true;
        }
        bar.update(done, { scheme });
      },
    });
    if (barOn) bar.stop();
    out(`\n${args.spec.claim}\n\n${r.table}\nresults: ${args.outDir}\n`);
    return 0;
  } catch (e) {
    if (barOn) bar.stop();
    if (e instanceof RangeError || e instanceof SpecError) {
      err(`rivulet simulate: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/** The problem form with outputs injected (for tests). Returns the exit status. */
export async function runSimulate(
  opts: SimulateCliOptions & { readonly input: string }, out: (text: string) => void, err: (text: string) => void,
): Promise<number> {
  try {
    const iterations = parseIterations(opts.iterations);
    const reserve = Number(opts.reserve ?? '1e-6');
    if (!(reserve >= 0 && reserve < 1)) throw new AllocatorError('ALLOC_BAD_OPTION', '--reserve must be in [0, 1)');
    const problem = parseProblem(await readInput(opts.input));
    const result = simulate(problem, { policy: opts.policy, iterations, extra: { fca: { reserve } } });
    out(JSON.stringify(result) + '\n');
    const s = result.summary;
    const entries = Object.entries(result.transfers);
    const tcts = entries.length <= 10
      ? entries.map(([id, t]) => `${id}=${t.tctS.toFixed(6)}s`).join(' ')
      : `${entries.length} transfers, mean ${s.meanTctS.toFixed(6)}s`;
    err(`rivulet simulate: ${result.policy}: ${s.flows} flows, ${s.events} events, makespan ${s.makespanS.toFixed(6)}s, mean FCT ${s.meanFctS.toFixed(6)}s${tcts ? `, TCT ${tcts}` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof AllocatorError) {
      err(`rivulet simulate: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
