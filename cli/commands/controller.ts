/**
 * `rivulet controller [--config FILE] [--of-port 6653] [--api-port 8080] [--host ADDR] [--log-level L]
 * [--print-config]` (README.md "CLI", "Configuration"): loads and validates the configuration file (JSON or YAML by extension;
 * flags override its keys), starts the controller, the topology and routing apps and the REST API
 * (controller/main.ts), logs where OpenFlow and REST listen, and shuts down cleanly on SIGINT/SIGTERM.
 *
 * Exit codes: 0 after a clean shutdown (or --print-config); 2 for a bad configuration or flag value (one
 * line on stderr naming the key, e.g. `rivulet controller: config: openflow.port: must be an integer 0–65535,
 * got "abc"`); 1 when start-up fails otherwise (a port in use…).
 */
import { firstSignal } from '../signals.js';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type ConfigInput, type RivuletConfig } from '../../controller/config/index.js';
import { createLogger, resolveLevel } from '../../lib/log.js';
import { startRivulet, type Rivulet } from '../../controller/main.js';

export interface ControllerCliOptions {
  readonly config?: string;
  readonly ofPort?: number;
  readonly apiPort?: number;
  readonly host?: string;
  readonly logLevel?: string;
  readonly printConfig?: boolean;
}

/** Where the command writes its own lines (logs go through pino to stdout). */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const processIo: CliIo = {
  out: (l) => void process.stdout.write(`${l}\n`),
  err: (l) => void process.stderr.write(`${l}\n`),
};

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n > 65535) throw new InvalidArgumentError(`not a TCP port (0–65535): ${value}`);
  return n;
}

function levelName(value: string): string {
  try {
    return resolveLevel(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** The config keys the flags set (only the flags given). */
export function flagOverrides(opts: ControllerCliOptions): ConfigInput {
  const openflow = { ...(opts.ofPort === undefined ? {} : { port: opts.ofPort }), ...(opts.host === undefined ? {} : { host: opts.host }) };
  const api = { ...(opts.apiPort === undefined ? {} : { port: opts.apiPort }), ...(opts.host === undefined ? {} : { host: opts.host }) };
  const level = opts.logLevel as NonNullable<ConfigInput['log']>['level'];
  return { openflow, api, ...(level === undefined ? {} : { log: { level } }) };
}

/**
 * Runs the command until a signal (or `until` resolves). Returns the exit code; never throws.
 * @param until default: the first SIGINT/SIGTERM
 */
export async function runController(opts: ControllerCliOptions, io: CliIo = processIo, until: () => Promise<unknown> = firstSignal): Promise<number> {
  let config: RivuletConfig;
  try {
    config = loadConfig(opts.config, flagOverrides(opts));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`rivulet controller: ${err.message}`);
    return 2;
  }
  if (opts.printConfig) {
    io.out(JSON.stringify(config, null, 2));
    return 0;
  }
  const log = createLogger({ level: config.log.level });
  if (opts.config) log.info({ event: 'config_loaded', file: opts.config }, `configuration from ${opts.config}`);
  let rivulet: Rivulet;
  try {
    rivulet = await startRivulet({ config, logger: log });
  } catch (err) {
    log.fatal({ event: 'start_failed', err }, 'start-up failed');
    io.err(`rivulet controller: cannot start: ${(err as Error).message}`);
    return 1;
  }
  const of = rivulet.openflow;
  log.info(
    { event: 'started', openflow: `${of.host}:${of.port}`, api: `${rivulet.api.url}/api/v1`, ...(rivulet.rest.ui ? { web: `${rivulet.api.url}/` } : {}) },
    `rivulet controller: OpenFlow on ${of.host}:${of.port}, REST API on ${rivulet.api.url}/api/v1${rivulet.rest.ui ? `, web view on ${rivulet.api.url}/` : ''}`,
  );
  const why = await until();
  log.info({ event: 'shutdown', signal: why }, `shutting down (${String(why)})`);
  await rivulet.close();
  return 0;
}

/** Adds the `controller` sub-command to the `rivulet` program. */
export function register(program: Command): void {
  program
    .command('controller')
    .description('run the OpenFlow 1.3 controller, its apps and the REST API')
    .option('--config <file>', 'configuration file (.json, .yaml or .yml); absent: the defaults')
    .option('--of-port <port>', 'TCP port for OpenFlow switches (config openflow.port, default 6653)', portNumber)
    .option('--api-port <port>', 'TCP port of the REST API (config api.port, default 8080)', portNumber)
    .option('--host <address>', 'address both listeners bind (config openflow.host and api.host, default 0.0.0.0)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (config log.level, else $RIVULET_LOG_LEVEL or info)', levelName)
    .option('--print-config', 'print the resolved configuration as JSON and exit')
    .exitOverride((err) => {
      // a bad flag value is a bad setting like a bad config key: exit status 2 (commander printed the line)
      process.exit(err.code === 'commander.invalidArgument' ? 2 : err.exitCode);
    })
    .action(async (opts: ControllerCliOptions) => {
      const code = await runController(opts);
      process.exitCode = code;
      // everything was closed; should a stray handle remain, do not hang
      setTimeout(() => process.exit(code), 2000).unref();
    });
}
