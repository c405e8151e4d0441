/**
 * The `rivulet` command line (README.md "CLI"). Each sub-command lives in cli/commands/<name>.ts and exports
 * `register(program)`; this file only wires them together.
 */
import { Command } from 'commander';
import { register as registerController } from './commands/controller.js';
import { register as registerDecode } from './commands/decode.js';
import { register as registerAllocate } from './commands/allocate.js';
import { register as registerSimulate } from './commands/simulate.js';
import { register as registerTrace } from './commands/trace.js';
import { register as registerAgent } from './commands/agent.js';
import { register as registerTraffic } from './commands/traffic.js';
import { register as registerExperiment } from './commands/experiment.js';

const program = new Command();
program
  .name('rivulet')
  .description('OpenFlow 1.3 controller for leaf-spine fabrics, with a central flowlet allocator')
  .showHelpAfterError();

registerController(program);
registerDecode(program);
registerAllocate(program);
registerSimulate(program);
registerTrace(program);
registerAgent(program);
registerTraffic(program);
registerExperiment(program);

await program.parseAsync(process.argv);
