/**
 * Structured logging (pino). Every line about a switch carries `dpid` (16 hex digits) and `event`
 * (a short stable name such as `switch_up`, `session_closed`), plus `peer` ("addr:port") where known.
 *
 * Level: the explicit option, else `RIVULET_LOG_LEVEL`, else `info` — or `silent` when the process
 * runs under mocha ({@link createLogger}) or the logger is a {@link quietLogger} (tests).
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** pino level name: fatal|error|warn|info|debug|trace|silent. */
  readonly level?: string;
  /** Where lines go (default stdout). */
  readonly destination?: pino.DestinationStream;
  /** Extra bindings on every line. */
  readonly base?: Record<string, unknown>;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Resolves the level: option, then env RIVULET_LOG_LEVEL, then `fallback`. Throws on an unknown name. */
export function resolveLevel(level: string | undefined, fallback = 'info'): string {
  const chosen = (level ?? process.env['RIVULET_LOG_LEVEL'] ?? fallback).toLowerCase();
  if (!LEVELS.has(chosen)) {
    throw new RangeError(`log level must be one of ${[...LEVELS].join('|')}, got "${chosen}"`);
  }
  return chosen;
}

/** True when running under mocha (its binary is in argv): logs default to silent there. */
export function underTestRunner(): boolean {
  return process.argv.some((a) => /[\\/]mocha(\.js)?$|[\\/]_mocha$/.test(a));
}

/** A JSON-lines logger named `rivulet`. Level: option, else RIVULET_LOG_LEVEL, else info (silent under mocha). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    name: 'rivulet',
    level: resolveLevel(opts.level, underTestRunner() ? 'silent' : 'info'),
    base: { ...(opts.base ?? {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that is silent unless RIVULET_LOG_LEVEL asks otherwise (tests). */
export function quietLogger(): Logger {
  return createLogger({ level: resolveLevel(undefined, 'silent') });
}

// The datapath id format and parser live in dpid.ts; re-exported here for the modules that log with them.
export { dpidHex, parseDpid } from './dpid.js';
