/**
 * Host agents in a Mininet fabric: `rivulet agent` started in each host through fabric.py's
 * `spawn` (so they live in the hosts' network namespaces and are SIGTERMed by the fabric's teardown even
 * when a test fails), connected to the controller over a unix socket (the hosts share the file system).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MininetFabric, MnHost } from './mininet.js';
import { repoRoot } from './mininet.js';
import { waitUntil } from './until.js';
import { AGENT_NODE_FLAGS } from '../agent/node-flags.js';

export interface AgentOptions {
  /** the controller's agent socket (config agents.socketPath) */
  readonly socketPath: string;
  /** idle gap ending a flowlet, ms (agent default when absent) */
  readonly idleGapMs?: number;
  /** grace period after losing the controller, ms (agent default 10 s when absent) */
  readonly graceMs?: number;
  /** agent log level (default info) */
  readonly logLevel?: string;
  /** directory of the agents' logs (default a fresh temp dir) */
  readonly logDir?: string;
}

export interface RunningAgent {
  readonly host: MnHost;
  readonly pid: number;
  readonly log: string;
}

export interface AgentSet {
  readonly agents: readonly RunningAgent[];
  readonly logDir: string;
  /** The last `lines` lines of one host's agent log. */
  tail(host: string, lines?: number): string;
  /** SIGTERM every agent (they remove their qdisc and nft table) and waits up to 5 s each. */
  stop(): Promise<void>;
}

/** Starts one agent per host; resolves once each is running (not yet registered: see waitRegistered). */
export async function startAgents(fabric: MininetFabric, hosts: readonly MnHost[], o: AgentOptions): Promise<AgentSet> {
  const logDir = o.logDir ?? mkdtempSync(join(tmpdir(), 'rivulet-agents-'));
  const cli = join(repoRoot(), 'bin', 'rivulet.js');
  const agents: RunningAgent[] = [];
  for (const host of hosts) {
    // V8 launch flags for a small process that wakes often (agent/node-flags.ts)
    const argv = [process.execPath, ...AGENT_NODE_FLAGS, cli, 'agent', '--controller', `unix:${o.socketPath}`, '--interface', `${host.name}-eth0`,
      '--id', host.name, '--log-level', o.logLevel ?? 'info'];
    if (host.bwMbps) argv.push('--link-rate', `${host.bwMbps}M`);
    if (o.idleGapMs !== undefined) argv.push('--idle-gap-ms', String(o.idleGapMs));
    if (o.graceMs !== undefined) argv.push('--grace-ms', String(o.graceMs));
    const log = join(logDir, `${host.name}.log`);
    const { pid } = await fabric.spawn(host.name, argv, log);
    agents.push({ host, pid, log });
  }
  const tail = (name: string, lines = 20): string => {
    const a = agents.find((x) => x.host.name === name);
    if (!a) return '';
    try {
      return readFileSync(a.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  return {
    agents,
    logDir,
    tail,
    async stop(): Promise<void> {
      await Promise.all(agents.map((a) => fabric.signal(a.pid, 'TERM', 5).catch(() => undefined)));
      if (!o.logDir && process.env['RIVULET_KEEP_AGENT_LOGS'] === undefined) rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** Waits until GET /api/v1/agents lists every host as connected. */
export async function waitRegistered(api: string, hosts: readonly string[], timeoutMs = 20_000): Promise<void> {
  await waitUntil(async () => {
    const res = await fetch(`${api}/agents`).catch(() => undefined);
    if (!res?.ok) return false;
    const body = (await res.json()) as { agents: { id: string; connected: boolean }[] };
    return hosts.every((h) => body.agents.some((a) => a.id === h && a.connected));
  }, timeoutMs, `agents ${hosts.join(', ')} to register`);
}
