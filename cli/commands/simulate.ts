/**
 * `rivulet simulate --input workload.json [--policy flowtune|maxmin|fca|divisions] [--iterations N]`
 * (README.md "CLI"): the fluid simulator. The workload is a problem (see `rivulet allocate`) whose flows carry
 * `sizeBytes` and `startS` (seconds) and optionally `transferId`. Prints JSON with per-flow and
 * per-transfer completion times and a summary, then a one-line human summary on stderr.
 * Exit status 2 with one line naming the offending flow or link on invalid input.
 */
import type { Command } from 'commander';
import { AllocatorError } from '../../apps/allocator/errors.js';
import { parseProblem } from '../../apps/allocator/problem.js';
import { simulate } from '../../apps/allocator/simulator/fluid.js';
import { parseIterations, readInput } from './allocate.js';

interface SimulateCliOptions {
  readonly input: string;
  readonly policy?: string;
  readonly iterations?: string;
  readonly reserve?: string;
}

/** Registers the `simulate` sub-command on the `rivulet` program. */
export function register(program: Command): void {
  program
    .command('simulate')
    .description('flow-level simulation of a workload under an allocation policy; prints completion times as JSON')
    .requiredOption('--input <file>', 'workload JSON: a problem whose flows have sizeBytes, startS, transferId')
    .option('--policy <name>', 'flowtune | maxmin | fca | divisions', 'flowtune')
    .option('--iterations <n>', 'optimizer iterations per event (flowtune)', '1')
    .option('--reserve <fraction>', 'fca: fraction of each link kept for work conservation', '1e-6')
    .action(async (opts: SimulateCliOptions) => {
      process.exitCode = await runSimulate(opts, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    });
}

/** The command's body with outputs injected (for tests). Returns the exit status. */
export async function runSimulate(
  opts: SimulateCliOptions, out: (text: string) => void, err: (text: string) => void,
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
