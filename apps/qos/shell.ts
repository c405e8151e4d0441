/**
 * The I/O edge of the QoS app: OVSDB transactions (lib/ovsdb, ovsdb-txn.ts) and the `tc` commands of the
 * switch host (one `tc -batch` process per apply). No decisions here: what to write comes from plan.ts,
 * tc.ts and apps/qos/ovsdb-txn.ts.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import {
  OvsdbError,
  type OvsdbClient,
} from '../../lib/ovsdb/index.js';
import {
  applyOps,
  observeOps,
  OVS_DB,
  parseObserved,
  removeOps,
  type PortQosRows,
} from './ovsdb-txn.js';
import { dpidHex } from '../../lib/dpid.js';
import { pollUntil, WaitTimeoutError } from '../../lib/until.js';
import { failedBatchLines, parseTcClassStats, type TcClassStats } from './tc.js';

const run = promisify(execFile);

/** What one OVSDB apply did. */
export interface OvsApplyResult {
  /** false: the database already held the plan (no transaction written) */
  readonly changed: boolean;
}

/** Waits until ovs-vswitchd has applied database change `nextCfg` (Open_vSwitch.cur_cfg ≥ it). @throws OvsdbError OVSDB_TIMEOUT */
export async function waitCurCfg(client: OvsdbClient, nextCfg: number, timeoutMs = 5000): Promise<void> {
  const reached = async (): Promise<boolean> => {
    const [r] = await client.transact(OVS_DB, [{ op: 'select', table: 'Open_vSwitch', where: [], columns: ['cur_cfg'] }]);
    const cur = r?.rows?.[0]?.['cur_cfg'];
    return typeof cur === 'number' && cur >= nextCfg;
  };
  try {
    await pollUntil(`cur_cfg ${nextCfg}`, reached, { timeoutMs, everyMs: 20 });
  } catch (err) {
    if (err instanceof WaitTimeoutError) throw new OvsdbError('OVSDB_TIMEOUT', `ovs-vswitchd did not reach cfg ${nextCfg} in ${timeoutMs} ms`);
    throw err;
  }
}

/** Reads, then writes (one transaction, nothing when up to date), then waits for ovs-vswitchd. */
export async function ovsApply(client: OvsdbClient, rows: PortQosRows): Promise<OvsApplyResult> {
  const obs = parseObserved(rows.portName, await client.transact(OVS_DB, observeOps(rows.portName)));
  const ops = applyOps(rows, obs);
  if (ops.length > 0) {
    const results = await client.transact(OVS_DB, ops);
    const next = results[results.length - 1]?.rows?.[0]?.['next_cfg'];
    if (typeof next === 'number') await waitCurCfg(client, next);
  }
  return { changed: ops.length > 0 };
}

/** Deletes Rivulet's rows of a port (and only those). @returns whether anything was deleted */
export async function ovsRemove(client: OvsdbClient, portName: string): Promise<boolean> {
  const obs = parseObserved(portName, await client.transact(OVS_DB, observeOps(portName)));
  const ops = removeOps(obs);
  if (ops.length === 0) return false;
  await client.transact(OVS_DB, ops);
  return true;
}

/** Bridge.datapath_type of the bridge whose datapath_id is `dpid` ('' = the default, system); undefined: no such bridge. */
export async function datapathTypeOf(client: OvsdbClient, dpid: bigint): Promise<string | undefined> {
  const hex = dpidHex(dpid);
  const [r] = await client.transact(OVS_DB, [{ op: 'select', table: 'Bridge', where: [['datapath_id', '==', hex]], columns: ['datapath_type'] }]);
  const t = r?.rows?.[0]?.['datapath_type'];
  return typeof t === 'string' ? t : undefined;
}

export interface BatchResult {
  /** 1-based lines that failed */
  readonly failed: readonly number[];
  readonly stderr: string;
}

/** Runs `tc -force -batch -` over `lines` (one process). */
export function tcBatch(lines: readonly string[], timeoutMs = 10_000): Promise<BatchResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('tc', ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', () => {
      clearTimeout(timer);
      resolve({ failed: failedBatchLines(stderr), stderr: stderr.trim() });
    });
    p.stdin.end(lines.join('\n') + '\n');
  });
}

/** True when `dev` has the root HTB `1:` that ovs-vswitchd installs for linux-htb. */
export async function hasHtbRoot(dev: string): Promise<boolean> {
  try {
    const { stdout } = await run('tc', ['qdisc', 'show', 'dev', dev]);
    return /qdisc htb 1: root/.test(stdout);
  } catch {
    return false;
  }
}

/** Root qdiscs a link starts with (nobody shapes it); OVS linux-htb's own root is `htb 1:`. */
const DEFAULT_ROOTS = new Set(['noqueue', 'pfifo_fast', 'fq_codel', 'mq', 'pfifo', 'fq']);

/**
 * The root qdisc of `dev` when another layer owns it (e.g. Mininet TCLink's `htb 5:`), else undefined
 * (ARCHITECTURE.md "Platform facts": one owner per qdisc — OVS QoS must not be put on top of it).
 */
export async function foreignRootQdisc(dev: string): Promise<string | undefined> {
  let out: string;
  try {
    out = (await run('tc', ['qdisc', 'show', 'dev', dev])).stdout;
  } catch {
    return undefined;
  }
  const m = /^qdisc (\S+) ([0-9a-f]+:) root/m.exec(out);
  if (!m || DEFAULT_ROOTS.has(m[1]!) || (m[1] === 'htb' && m[2] === '1:')) return undefined;
  return `${m[1]} ${m[2]}`;
}

/** Polls {@link hasHtbRoot} until it holds or `timeoutMs` pass. */
export async function waitHtbRoot(dev: string, timeoutMs = 3000): Promise<boolean> {
  return pollUntil(`htb root on ${dev}`, () => hasHtbRoot(dev), { timeoutMs, everyMs: 50 }).then(
    () => true,
    (err: unknown) => {
      if (err instanceof WaitTimeoutError) return false;
      throw err;
    },
  );
}

/** `tc -s class show dev X`, parsed. [] when the device is gone. */
export async function tcClassStats(dev: string): Promise<TcClassStats[]> {
  try {
    const { stdout } = await run('tc', ['-s', 'class', 'show', 'dev', dev]);
    return parseTcClassStats(stdout);
  } catch {
    return [];
  }
}

/** The verdict of the RED/ECN probe. */
export interface EcnProbe {
  readonly supported: boolean;
  /** what was tried and what the kernel said */
  readonly detail: string;
}

/**
 * Probes whether this kernel can run RED with ECN under an HTB class: on a scratch veth pair created and
 * deleted here (`rvp<pid>a/b`), `tc qdisc add … red … ecn` under an HTB class.
 */
export async function probeRedEcn(): Promise<EcnProbe> {
  const a = `rvp${process.pid % 100000}a`;
  const b = `rvp${process.pid % 100000}b`;
  try {
    await run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  } catch (e) {
    return { supported: false, detail: `could not create a scratch veth to probe: ${(e as { stderr?: string }).stderr?.trim() ?? (e as Error).message}` };
  }
  try {
    const res = await tcBatch([
      `qdisc add dev ${a} root handle 1: htb default 1`,
      `class add dev ${a} parent 1: classid 1:1 htb rate 10mbit`,
      `qdisc add dev ${a} parent 1:1 handle 10: red limit 1500000 min 30000 max 31500 avpkt 1500 burst 21 probability 1.0 bandwidth 10mbit ecn`,
    ]);
    if (res.failed.length === 0) return { supported: true, detail: 'tc qdisc add … red … ecn under an HTB class succeeded on a scratch veth' };
    const why = res.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? res.stderr;
    return { supported: false, detail: `kernel lacks sch_red: tc qdisc add … red … ecn → "${why}"` };
  } finally {
    await run('ip', ['link', 'del', a]).catch(() => undefined);
  }
}
