/**
 * `rivulet agent --controller URL [--interface IF] [--id ID] [--idle-gap-ms 100] [--message-gap-ms 250] [--grace-ms 10000]
 * [--api-port 7070] [--link-rate 1G] [--detector kernel|packets] [--log-level info]` (README.md "CLI";
 * ARCHITECTURE.md "Data path: a flowlet"): runs the host agent
 * (agent/agent.ts) on one interface until SIGINT/SIGTERM, then removes everything it installed.
 *
 * Defaults: the interface is the first non-loopback interface that is up and has an IPv4 address (Node's
 * `os.networkInterfaces()`, which lists only interfaces up and running, per network namespace); the link
 * rate is /sys/class/net/IF/speed (Mb/s) when readable and positive, else 10 Gbit/s (inside a Mininet
 * host /sys shows the root namespace, so pass --link-rate there); the agent id is `HOSTNAME:IF` (Mininet
 * hosts share one hostname, the interface tells them apart); the local API listens on 127.0.0.1:7070.
 *
 * Exit codes: 0 after a clean shutdown; 2 for a bad flag value (one line on stderr); 1 when start-up fails.
 */
import { firstSignal } from '../signals.js';
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { execFileSync } from 'node:child_process';
import { InvalidArgumentError, type Command } from 'commander';
import { parseBitRate } from '../../controller/config/index.js';
import { createLogger, resolveLevel } from '../../lib/log.js';
import { startHostAgent, DEFAULT_GRACE_MS, type DetectorKind } from '../../agent/agent.js';
import { parseChannelAddress, type ChannelAddress } from '../../protocol/agent.js';
import { DEFAULT_MESSAGE_GAP_MS } from '../../agent/nft-rules.js';

export interface AgentCliOptions {
  readonly controller: ChannelAddress;
  readonly interface?: string;
  readonly id?: string;
  readonly idleGapMs: number;
  /** PIAS marking: idle time after which a 5-tuple's bytes count afresh as a new message, ms */
  readonly messageGapMs: number;
  readonly graceMs: number;
  readonly apiPort: number;
  /** bit/s */
  readonly linkRate?: number;
  /** `kernel` (default): nftables live set + NFLOG starts; `packets`: every packet header through tcpdump */
  readonly detector?: DetectorKind;
  readonly logLevel?: string;
  /** file holding the agent's secret (first line); else $RIVULET_AGENT_SECRET */
  readonly secretFile?: string;
}

/** Where the command writes its own lines (logs go through pino to stdout). */
export interface CliIo {
  readonly err: (line: string) => void;
}

const DEFAULT_LINK_RATE_BPS = 10e9;

function positiveMs(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError(`not a positive number of ms: ${value}`);
  return n;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n > 65535) throw new InvalidArgumentError(`not a TCP port (0–65535): ${value}`);
  return n;
}

/** "1G", "100M", "10Mbit/s", "5e8" → bit/s. @throws InvalidArgumentError */
export function linkRate(value: string): number {
  if (!/^[0-9]+(\.[0-9]+)?\s*[kKMGT]?(bit\/s|bps|bit|b\/s)?$/.test(value)) throw new InvalidArgumentError(`not a bit rate such as 100M or 1G: ${value}`);
  const bps = parseBitRate(value);
  if (!(bps > 0)) throw new InvalidArgumentError(`link rate must be > 0: ${value}`);
  return bps;
}

function detectorKind(value: string): DetectorKind {
  if (value !== 'kernel' && value !== 'packets') throw new InvalidArgumentError(`expected kernel or packets, got ${value}`);
  return value;
}

function controllerAddress(value: string): ChannelAddress {
  try {
    return parseChannelAddress(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function levelName(value: string): string {
  try {
    return resolveLevel(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** The first non-loopback interface that is up with an IPv4 address, by name order; undefined if none. */
export function defaultInterface(): string | undefined {
  const ifs = networkInterfaces();
  return Object.keys(ifs)
    .sort()
    .find((name) => (ifs[name] ?? []).some((a) => !a.internal && a.family === 'IPv4'));
}

/** The interface's speed from /sys (Mb/s → bit/s), else 10 Gbit/s. */
export function detectLinkRate(dev: string): number {
  try {
    const mbps = Number(readFileSync(`/sys/class/net/${dev}/speed`, 'utf8').trim());
    if (Number.isFinite(mbps) && mbps > 0) return mbps * 1e6;
  } catch {
    // no such file (veth in another namespace, virtual devices): the default
  }
  return DEFAULT_LINK_RATE_BPS;
}

/** True when `dev`'s root qdisc is an `htb 1:` (left by an agent that did not stop cleanly). */
function hasStaleRoot(dev: string): boolean {
  try {
    return /^qdisc htb 1: root/m.test(execFileSync('tc', ['qdisc', 'show', 'dev', dev], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

/** Runs the agent until a signal (or `until` resolves). Returns the exit code; never throws. */
export async function runAgent(opts: AgentCliOptions, io: CliIo = { err: (l) => void process.stderr.write(`${l}\n`) }, until: () => Promise<unknown> = firstSignal): Promise<number> {
  const dev = opts.interface ?? defaultInterface();
  if (!dev) {
    io.err('rivulet agent: no interface is up with an IPv4 address: pass --interface');
    return 2;
  }
  const addrs = networkInterfaces()[dev] ?? [];
  const ipv4 = addrs.filter((a) => a.family === 'IPv4').map((a) => a.address);
  const mac = addrs.find((a) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(a.mac) && a.mac !== '00:00:00:00:00:00')?.mac;
  const agentId = opts.id ?? `${hostname()}:${dev}`;
  const log = createLogger({ ...(opts.logLevel ? { level: opts.logLevel } : {}), base: { agentId } });
  const linkRateBps = opts.linkRate ?? detectLinkRate(dev);
  let secret: string | undefined;
  try {
    secret = opts.secretFile !== undefined ? readFileSync(opts.secretFile, 'utf8').split('\n')[0]!.trim() : process.env.RIVULET_AGENT_SECRET;
  } catch (err) {
    io.err(`rivulet agent: --secret-file ${opts.secretFile}: ${(err as Error).message}`);
    return 2;
  }
  let running;
  try {
    running = await startHostAgent({
      controller: opts.controller,
      log,
      agentId,
      hostname: hostname(),
      interface: dev,
      ipv4,
      ...(mac ? { mac } : {}),
      linkRateBps,
      idleGapMs: opts.idleGapMs,
      messageGapMs: opts.messageGapMs,
      graceMs: opts.graceMs,
      apiPort: opts.apiPort,
      ...(secret ? { secret } : {}),
      ...(opts.detector ? { detector: opts.detector } : {}),
      deleteStaleRoot: hasStaleRoot(dev),
    });
  } catch (err) {
    log.fatal({ event: 'start_failed', err }, 'agent start-up failed');
    io.err(`rivulet agent: cannot start: ${(err as Error).message}`);
    return 1;
  }
  log.info({ event: 'started', interface: dev, ipv4, linkRateBps, api: running.api?.url ?? null }, `rivulet agent on ${dev} (${ipv4.join(', ') || 'no IPv4'})`);
  const why = await until();
  log.info({ event: 'shutdown', signal: why }, `shutting down (${String(why)})`);
  await running.stop();
  return 0;
}

/** Adds the `agent` sub-command to the `rivulet` program. */
export function register(program: Command): void {
  program
    .command('agent')
    .description('run the host agent: detect flowlets, report them to the controller, enforce its rates (tc) and priority classes (DSCP)')
    .requiredOption('--controller <url>', 'the controller channel: unix:/path/to.sock, ws://host:port[/path] or http://host:port', controllerAddress)
    .option('--interface <if>', 'interface to capture and shape (default: the first non-loopback interface that is up)')
    .option('--id <id>', 'agent id (default HOSTNAME:INTERFACE)')
    .option('--idle-gap-ms <ms>', 'idle gap that ends a flowlet, ms (the controller may override)', positiveMs, 100)
    .option('--message-gap-ms <ms>', 'PIAS marking: idle time after which a connection\'s next bytes are a new message, back in the top class, ms', positiveMs, DEFAULT_MESSAGE_GAP_MS)
    .option('--grace-ms <ms>', 'keep the last rates this long after losing the controller, ms', positiveMs, DEFAULT_GRACE_MS)
    .option('--api-port <port>', 'local API port on 127.0.0.1 (0 disables)', portNumber, 7070)
    .option('--link-rate <rate>', 'line rate of the interface, e.g. 100M or 1G (default /sys/class/net/IF/speed, else 10G)', linkRate)
    .option('--detector <kind>', 'flowlet detection: kernel (nftables live set, NFLOG starts; cost per flowlet) or packets (every header through tcpdump; cost per packet)', detectorKind, 'kernel')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default $RIVULET_LOG_LEVEL or info)', levelName)
    .option('--secret-file <path>', "file whose first line is this agent's secret (agents.auth in the controller's config; default $RIVULET_AGENT_SECRET)")
    .exitOverride((err) => {
      process.exit(err.code === 'commander.invalidArgument' ? 2 : err.exitCode);
    })
    .action(async (flags: AgentCliOptions) => {
      const code = await runAgent(flags);
      process.exitCode = code;
      setTimeout(() => process.exit(code), 2000).unref();
    });
}
