/**
 * A small OVSDB client (RFC 7047): JSON-RPC 1.0 over a unix or TCP stream socket. `transact` (§4.1.3)
 * with a per-request timeout; the server's `echo` requests (§4.1.11) are answered; notifications are
 * ignored (no monitors). Every failure is an {@link OvsdbError} with a stable code:
 * OVSDB_CONNECTION, OVSDB_TIMEOUT, OVSDB_RPC (the request failed), OVSDB_TXN (an operation failed; its
 * index is `opIndex`), OVSDB_PROTOCOL.
 *
 * This is an I/O edge; what to transact is built by pure code (qos-txn.ts).
 */
import { createConnection, type Socket } from 'node:net';
import { OvsdbError } from './errors.js';
import { JsonSplitter } from './framing.js';
import type { OvsdbOperation, OvsdbOpResult } from './types.js';

/** Where Open vSwitch's database listens by default on Debian. */
export const DEFAULT_OVSDB_ADDRESS = 'unix:/var/run/openvswitch/db.sock';

export interface OvsdbClientOptions {
  /** `unix:/path` or `tcp:host:port` (ovsdb-server's remote syntax). */
  readonly address: string;
  /** Default timeout of each request, ms (default 5000). */
  readonly timeoutMs?: number;
}

export interface OvsdbClient {
  /**
   * Runs one transaction on `db` (atomic: all operations commit or none, §4.1.3).
   * @returns one result per operation
   * @throws OvsdbError OVSDB_TXN (with opIndex) when an operation failed, OVSDB_RPC, OVSDB_TIMEOUT, OVSDB_CONNECTION
   */
  transact(db: string, ops: readonly OvsdbOperation[], timeoutMs?: number): Promise<OvsdbOpResult[]>;
  /** Closes the socket; pending requests reject with OVSDB_CONNECTION. Idempotent. */
  close(): void;
}

interface Pending {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Parses `unix:/p` / `tcp:h:p`. @throws OvsdbError OVSDB_CONNECTION for anything else */
export function parseOvsdbAddress(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice(5) };
  const m = /^tcp:(.+):([0-9]{1,5})$/.exec(address);
  if (m) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  throw new OvsdbError('OVSDB_CONNECTION', `unsupported OVSDB address "${address}" (use unix:/path or tcp:host:port)`);
}

/** The first failed operation of a transaction result (§5.2: the array may be one longer, with the commit error). */
export function txnFailure(results: readonly OvsdbOpResult[]): OvsdbError | undefined {
  const i = results.findIndex((r) => r !== null && typeof r === 'object' && typeof r.error === 'string');
  if (i < 0) return undefined;
  const r = results[i]!;
  return new OvsdbError('OVSDB_TXN', `${r.error}${r.details ? `: ${r.details}` : ''}`, i);
}

/** Connects. @throws OvsdbError OVSDB_CONNECTION (no such socket, refused, timeout) */
export async function connectOvsdb(opts: OvsdbClientOptions): Promise<OvsdbClient> {
  const defaultTimeout = opts.timeoutMs ?? 5000;
  const target = parseOvsdbAddress(opts.address);
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = 'path' in target ? createConnection(target.path) : createConnection(target.port, target.host);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new OvsdbError('OVSDB_CONNECTION', `connecting to ${opts.address}: timed out after ${defaultTimeout} ms`));
    }, defaultTimeout);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(new OvsdbError('OVSDB_CONNECTION', `connecting to ${opts.address}: ${e.message}`));
    });
  });
  const pending = new Map<number, Pending>();
  const splitter = new JsonSplitter();
  let nextId = 1;
  let closed: OvsdbError | undefined;

  const fail = (err: OvsdbError): void => {
    closed ??= err;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
    sock.destroy();
  };
  const onMessage = (msg: Record<string, unknown>): void => {
    if (msg['method'] === 'echo' && msg['id'] !== null && msg['id'] !== undefined) {
      sock.write(JSON.stringify({ result: msg['params'] ?? [], error: null, id: msg['id'] }));
      return;
    }
    if (typeof msg['id'] !== 'number') return; // notifications (update, locked…) and replies we did not ask for
    const p = pending.get(msg['id']);
    if (!p) return;
    pending.delete(msg['id']);
    clearTimeout(p.timer);
    if (msg['error'] !== null && msg['error'] !== undefined) {
      const e = msg['error'] as { error?: string; details?: string } | string;
      const text = typeof e === 'string' ? e : `${e.error ?? 'error'}${e.details ? `: ${e.details}` : ''}`;
      p.reject(new OvsdbError('OVSDB_RPC', text));
    } else p.resolve(msg['result']);
  };
  sock.on('data', (chunk: Buffer) => {
    try {
      for (const text of splitter.push(chunk)) onMessage(JSON.parse(text) as Record<string, unknown>);
    } catch (e) {
      fail(e instanceof OvsdbError ? e : new OvsdbError('OVSDB_PROTOCOL', (e as Error).message));
    }
  });
  sock.on('error', (e) => fail(new OvsdbError('OVSDB_CONNECTION', e.message)));
  sock.on('close', () => fail(new OvsdbError('OVSDB_CONNECTION', `connection to ${opts.address} closed`)));

  const call = (method: string, params: unknown[], timeoutMs: number): Promise<unknown> => {
    if (closed) return Promise.reject(closed);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new OvsdbError('OVSDB_TIMEOUT', `${method} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      sock.write(JSON.stringify({ method, params, id }));
    });
  };

  return {
    async transact(db, ops, timeoutMs = defaultTimeout) {
      const results = (await call('transact', [db, ...ops], timeoutMs)) as OvsdbOpResult[];
      if (!Array.isArray(results)) throw new OvsdbError('OVSDB_PROTOCOL', 'transact result is not an array');
      const failure = txnFailure(results);
      if (failure) throw failure;
      return results;
    },
    close() {
      fail(new OvsdbError('OVSDB_CONNECTION', 'client closed'));
    },
  };
}
