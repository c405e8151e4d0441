/**
 * `rivulet controller [--config FILE] [--of-port 6653] [--api-port 8080] [--log-level info]`
 * (DESIGN §1): starts the OpenFlow listener and the app host, and shuts down cleanly on SIGINT/SIGTERM
 * (sessions closed, listener closed, exit code 0). The REST API arrives in a later issue: --api-port is
 * accepted and logged as not served yet. --config is read as JSON; only its `openflow` section
 * (`port`, `host`, `missSendLen`, `echoIntervalMs`, `echoMaxUnanswered`) is used so far.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { startController, type Controller } from '../../controller/controller.js';
import { createLogger, resolveLevel, type Logger } from '../../controller/log.js';
import type { SessionOptions } from '../../controller/session.js';

interface ControllerCliOptions {
  readonly config?: string;
  readonly ofPort: number;
  readonly apiPort: number;
  readonly logLevel?: string;
  readonly host: string;
}

/** The `openflow` section of the config file (validated here until the config issue lands). */
interface OpenflowConfig {
  readonly port?: number;
  readonly host?: string;
  readonly session: SessionOptions;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`not a TCP port: ${value}`);
  return n;
}

function levelName(value: string): string {
  try {
    return resolveLevel(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/**
 * Reads the `openflow` section of a JSON config file.
 * @throws Error naming the file and the bad key
 */
export function readOpenflowConfig(file: string): OpenflowConfig {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const of = (doc['openflow'] ?? {}) as Record<string, unknown>;
  const num = (key: string, min: number, max: number): number | undefined => {
    const v = of[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new Error(`${file}: openflow.${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const host = of['host'];
  if (host !== undefined && typeof host !== 'string') throw new Error(`${file}: openflow.host must be a string`);
  const session: Record<string, number> = {};
  for (const [key, min, max] of [['missSendLen', 0, 0xffff], ['echoIntervalMs', 100, 3600_000], ['echoMaxUnanswered', 1, 1000]] as const) {
    const v = num(key, min, max);
    if (v !== undefined) session[key] = v;
  }
  const port = num('port', 0, 65535);
  return { ...(port === undefined ? {} : { port }), ...(host === undefined ? {} : { host }), session };
}

async function run(opts: ControllerCliOptions, ofPortGiven: boolean): Promise<void> {
  const log: Logger = createLogger({ level: opts.logLevel });
  const cfg: OpenflowConfig = opts.config ? readOpenflowConfig(opts.config) : { session: {} };
  if (opts.config) log.info({ event: 'config_loaded', file: opts.config }, 'config loaded (openflow section)');
  const ctl: Controller = await startController({
    port: ofPortGiven ? opts.ofPort : (cfg.port ?? opts.ofPort),
    host: cfg.host ?? opts.host,
    logger: log,
    session: cfg.session,
  });
  log.info({ event: 'rest_not_served', apiPort: opts.apiPort }, `REST API not served yet (--api-port ${opts.apiPort} accepted)`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      log.info({ event: 'shutdown', signal }, `received ${signal}, shutting down`);
      void ctl.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.exitCode = 0;
}

/** Adds the `controller` sub-command to the `rivulet` program. */
export function register(program: Command): void {
  program
    .command('controller')
    .description('run the OpenFlow 1.3 controller and its apps')
    .option('--config <file>', 'configuration file (JSON)')
    .option('--of-port <port>', 'TCP port for OpenFlow switches', portNumber, 6653)
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--api-port <port>', 'REST API port (not served yet)', portNumber, 8080)
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default: $RIVULET_LOG_LEVEL or info)', levelName)
    .action(async (opts: ControllerCliOptions, cmd: Command) => {
      try {
        await run(opts, cmd.getOptionValueSource('ofPort') === 'cli');
      } catch (err) {
        // a bad config file or a port in use: one clear line, exit code 1
        cmd.error(`rivulet controller: ${(err as Error).message}`, { exitCode: 1, code: 'rivulet.controller' });
      }
    });
}
