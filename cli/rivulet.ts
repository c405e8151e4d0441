/**
 * The `rivulet` command line (README.md "CLI"). Each sub-command lives in cli/commands/<name>.ts and exports
 * `register(program)`; this file only wires them together.
 *
 * A sub-command named on the command line loads only its own module: the long-lived processes (a host
 * agent in every host, a traffic process per host, the controller) then carry only their own code, e.g. an
 * agent's V8 heap is about half of what every command's modules make it, and so is its start-up
 * garbage collection. Anything else (`--help`, no or an unknown command) loads them all, so help and
 * commander's errors list every command.
 */
import { Command } from 'commander';

type Register = (program: Command) => void;

/** Sub-command name → its module (in the order `--help` lists them). */
const COMMANDS: Readonly<Record<string, () => Promise<{ register: Register }>>> = {
  controller: () => import('./commands/controller.js'),
  decode: () => import('./commands/decode.js'),
  allocate: () => import('./commands/allocate.js'),
  simulate: () => import('./commands/simulate.js'),
  trace: () => import('./commands/trace.js'),
  agent: () => import('./commands/agent.js'),
  traffic: () => import('./commands/traffic.js'),
  experiment: () => import('./commands/experiment.js'),
};

const program = new Command();
program
  .name('rivulet')
  .description('OpenFlow 1.3 controller for leaf-spine fabrics, with a central flowlet allocator')
  .showHelpAfterError();

const named = process.argv[2];
const load = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!] : Object.values(COMMANDS);
for (const m of await Promise.all(load.map((l) => l()))) m.register(program);

await program.parseAsync(process.argv);
