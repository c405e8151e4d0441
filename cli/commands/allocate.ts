/**
 * `rivulet allocate --input problem.json [--policy flowtune|maxmin|fca|divisions] [--iterations N]`
 * (README.md "CLI"): offline allocation with the controller's own allocator. Prints
 * {"rates":{flowId:bps}, "linkLoad":{linkId:bps}, "iterations":N, "utility":…} on stdout.
 * Exit status 2 with one line naming the offending flow or link on invalid input.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { allocateProblem } from '../../apps/allocator/allocate.js';
import { AllocatorError } from '../../apps/allocator/errors.js';
import { parseProblem } from '../../apps/allocator/problem.js';

/** Options of the command as commander hands them over. */
interface AllocateCliOptions {
  readonly input: string;
  readonly policy?: string;
  readonly iterations?: string;
}

/** Registers the `allocate` sub-command on the `rivulet` program. */
export function register(program: Command): void {
  program
    .command('allocate')
    .description('compute flowlet rates for a problem (links with capacities, flows with paths) and print them as JSON')
    .requiredOption('--input <file>', 'problem JSON: {"links":[{"id","capacityBps"}],"flows":[{"id","path":[…],…}]}')
    .option('--policy <name>', 'flowtune | maxmin | fca | divisions', 'flowtune')
    .option('--iterations <n>', 'optimizer iterations before normalizing (flowtune)', '1')
    .action(async (opts: AllocateCliOptions) => {
      process.exitCode = await runAllocate(opts, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    });
}

/** The command's body with outputs injected (for tests). Returns the exit status (0, or 2 on bad input). */
export async function runAllocate(
  opts: AllocateCliOptions, out: (text: string) => void, err: (text: string) => void,
): Promise<number> {
  try {
    const iterations = parseIterations(opts.iterations);
    const text = await readInput(opts.input);
    const result = allocateProblem(parseProblem(text), { policy: opts.policy, iterations });
    const { rates, linkLoad, iterations: n, utility, policy } = result;
    out(JSON.stringify({ rates, linkLoad, iterations: n, utility, policy }) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof AllocatorError) {
      err(`rivulet allocate: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/** Reads the input file; an unreadable file is reported like invalid input. */
export async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new AllocatorError('ALLOC_BAD_JSON', `cannot read ${file}: ${(e as Error).message}`);
  }
}

/** `--iterations`: an integer in [1, 10^6] (default 1). @throws AllocatorError ALLOC_BAD_OPTION */
export function parseIterations(v: string | undefined): number {
  const n = v === undefined ? 1 : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1e6) {
    throw new AllocatorError('ALLOC_BAD_OPTION', `--iterations must be an integer in [1, 1000000], got ${String(v)}`);
  }
  return n;
}
