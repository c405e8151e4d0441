/**
 * ONE long-lived `nft -j -i` process (I/O edge) for every nftables change and poll of the agent, instead
 * of a process per batch. Each request is written as one input line — its commands joined with ` ; `, which
 * nft runs as ONE transaction (all or nothing) — followed by a sentinel line, `list flowtables`, whose
 * JSON document ends the request's output. stderr is merged into stdout (`sh -c 'exec "$@" 2>&1'`) so that
 * errors arrive in order: lines that are not JSON before the sentinel are the request's error text; a
 * JSON line before the sentinel is its output (a listing). Requests run one at a time, in call order.
 *
 * A listing (the agent's poll) is written WITHOUT a sentinel: its JSON line ends it. Only when a line of
 * error text arrives instead is a sentinel written then (nft prints a command's errors before it reads
 * its next line, so the sentinel's JSON follows all of them).
 *
 * The sentinel is `list flowtables`: it never fails (with no flowtable, or no table at all, it prints the
 * metainfo document alone) and nft builds almost no cache for it. Timed here (nft 1.0.6, 2,000 lines in
 * one `nft -j -i`, the agent's table with 30 live flowlets): `list flowtables` 0.05 ms of nft CPU a line,
 * `list tables` 0.66 ms (it reads every table's sets and their elements), `list set` of the live set 0.53 ms.
 *
 * nft's interactive mode reads its input through libedit, which keeps a history: at start it loads
 * `$HOME/.nft.history` (every `nft -i` session appends its lines there at exit, so on a machine that ran
 * agents for a while it holds 10⁵ lines), and before adding each line it walks the history from the
 * oldest entry to compare with the last. Measured here (nft 1.0.6, libedit 3.1): with a 102,000-line file
 * a session took 0.4–0.5 s of CPU to start and `list set` of the live set ≈ 0.8–1.3 ms of nft CPU
 * (libedit's `history()` was 46–66% of nft's samples), against 0.22 ms + ≈ 20 µs per element without
 * it; within one session, 40,000 lines that alternate cost 3.7× as much as 40,000 equal ones. So nft
 * runs with `HOME=/dev/null` (no history file is read or written: /dev/null is never a directory) and
 * is replaced by a fresh process after `maxRequests` requests (default 5000; a start costs ≈ 10 ms),
 * which bounds the history it walks.
 *
 * nft runs with `-p` (`--numeric-protocol`): a listing then gives each element's layer-4 protocol as its
 * number. Without it nft names it, and looks the name up in `/etc/protocols` for every element of every
 * listing (an open, a read and a close each: 600 opens for 20 polls of 30 elements, traced here); timed
 * alone, a poll of 6 elements took 0.155–0.185 ms of nft CPU with `-p` against 0.175–0.205 ms without, of 30
 * elements 0.375 against 0.53 ms.
 *
 * A request that gets no answer within `timeoutMs` fails, and the process is killed (by its pid) and
 * started again on the next request. A missing `nft` disables the session with one warning.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../lib/log.js';

/** The outcome of one request. */
export interface NftResult {
  readonly ok: boolean;
  /** JSON documents the request printed (listings) */
  readonly output: readonly string[];
  /** nft's error text, when it failed */
  readonly error?: string;
}

export interface NftSessionOptions {
  readonly log: Logger;
  /** argv of nft (default `nft`; tests use `ip netns exec NS nft`) */
  readonly command?: readonly string[];
  /** a request without an answer this long fails and nft is restarted, ms (default 2000) */
  readonly timeoutMs?: number;
  /** requests one nft process serves before a fresh one replaces it (bounds its input history; default 5000) */
  readonly maxRequests?: number;
}

type Child = ChildProcessByStdio<Writable, Readable, null>;

interface Pending {
  readonly commands: readonly string[];
  readonly resolve: (r: NftResult) => void;
}

/** Requests written so far and answered so far (for tests and the health view). */
export interface NftSessionStats {
  readonly requests: number;
  readonly failures: number;
  readonly restarts: number;
  /** nft processes replaced after `maxRequests` */
  readonly recycled: number;
}

/** The line that ends a change request's output (see the file comment). */
const SENTINEL = 'list flowtables';
/** Requests one nft process serves by default before it is replaced. */
export const DEFAULT_MAX_REQUESTS = 5000;

/** The persistent nft process (see the file comment). */
export class NftSession {
  private child: Child | undefined;
  private readonly queue: Pending[] = [];
  private current: { p: Pending; output: string[]; errors: string[]; timer: NodeJS.Timeout; sentinel: boolean } | undefined;
  private missing = false;
  private stopped = false;
  private counts = { requests: 0, failures: 0, restarts: 0, recycled: 0 };
  /** requests written to the current process */
  private childRequests = 0;

  constructor(private readonly opts: NftSessionOptions) {}

  /** False once nft was found missing or the session stopped. */
  get available(): boolean {
    return !this.missing && !this.stopped;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get stats(): NftSessionStats {
    return { ...this.counts };
  }

  /**
   * Runs `commands` as one transaction (a `list` command must come last: its listing is the output).
   * Resolves with the outcome; never rejects. @throws RangeError (synchronously) for a command with a newline
   */
  run(commands: readonly string[]): Promise<NftResult> {
    for (const c of commands) if (/[\r\n]/.test(c)) throw new RangeError(`nft command contains a newline: ${JSON.stringify(c)}`);
    if (commands.length === 0) return Promise.resolve({ ok: true, output: [] });
    if (!this.available) return Promise.resolve({ ok: false, output: [], error: this.missing ? 'nft not found' : 'stopped' });
    return new Promise((resolve) => {
      this.queue.push({ commands, resolve });
      this.next();
    });
  }

  /** Ends nft's stdin and waits for it to exit (killed by pid after 2 s). Pending requests fail. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.queue.splice(0)) p.resolve({ ok: false, output: [], error: 'stopped' });
    const child = this.child;
    this.child = undefined;
    if (this.current) this.finish(false, 'stopped');
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.stdin.end();
    const timer = setTimeout(() => kill(child.pid), 2000);
    await exited;
    clearTimeout(timer);
  }

  private next(): void {
    if (this.current || this.queue.length === 0) return;
    if (this.child && this.childRequests >= (this.opts.maxRequests ?? DEFAULT_MAX_REQUESTS)) this.retire();
    const child = this.ensure();
    if (!child) {
      for (const p of this.queue.splice(0)) p.resolve({ ok: false, output: [], error: 'nft not found' });
      return;
    }
    const p = this.queue.shift()!;
    this.counts.requests++;
    this.childRequests++;
    const timer = setTimeout(() => {
      this.opts.log.warn({ event: 'nft_timeout', commands: p.commands.length }, 'nft did not answer: restarting it');
      const c = this.child;
      this.child = undefined;
      kill(c?.pid);
      this.counts.restarts++;
      this.finish(false, 'timeout');
    }, this.opts.timeoutMs ?? 2000);
    const listing = wantsOutput(p.commands);
    this.current = { p, output: [], errors: [], timer, sentinel: !listing };
    child.stdin.write(listing ? `${p.commands.join(' ; ')}\n` : `${p.commands.join(' ; ')}\n${SENTINEL}\n`);
  }

  private line(l: string): void {
    const cur = this.current;
    if (!cur) return;
    if (l.startsWith('{')) {
      // a JSON document: the request's listing (a `list` request, before any error: it ends the request
      // unless a sentinel was written), else the sentinel's
      if (cur.errors.length === 0 && cur.output.length === 0 && wantsOutput(cur.p.commands)) {
        cur.output.push(l);
        if (!cur.sentinel) this.finish(true, '');
      } else this.finish(cur.errors.length === 0, cur.errors.join('\n'));
      return;
    }
    if (l.trim() === '') return;
    cur.errors.push(l);
    if (!cur.sentinel) {
      // a listing that failed: the sentinel's JSON (it never fails) marks the end of its error text
      cur.sentinel = true;
      this.child?.stdin.write(`${SENTINEL}\n`);
    }
  }

  private finish(ok: boolean, error: string): void {
    const cur = this.current;
    if (!cur) return;
    clearTimeout(cur.timer);
    this.current = undefined;
    if (!ok) {
      this.counts.failures++;
      if (error !== 'stopped') this.opts.log.warn({ event: 'nft_failed', error, commands: cur.p.commands }, 'nft request failed');
    }
    cur.p.resolve(ok ? { ok, output: cur.output } : { ok, output: cur.output, error });
    this.next();
  }

  /** Lets the current process go (its stdin ended: it exits by itself); the next request starts a fresh one. */
  private retire(): void {
    const child = this.child;
    this.child = undefined;
    this.counts.recycled++;
    child?.stdin.end();
  }

  private ensure(): Child | undefined {
    if (this.missing) return undefined;
    if (this.child) return this.child;
    const argv = this.opts.command ?? ['nft'];
    // HOME=/dev/null: no libedit history file (see the file comment)
    // -p: protocols as numbers (see the file comment)
    const child = spawn('sh', ['-c', 'exec "$@" -j -p -i 2>&1', 'sh', ...argv], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, HOME: '/dev/null' } });
    this.child = child;
    this.childRequests = 0;
    // lines split here (not by readline): one listing a poll, read in as few chunks as nft writes it
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      let from = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', from)) {
        const l = partial === '' ? text.slice(from, i) : partial + text.slice(from, i);
        partial = '';
        from = i + 1;
        if (this.child === child) this.line(l);
      }
      if (from < text.length) partial += text.slice(from);
    });
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => this.opts.log.error({ event: 'nft_spawn_error', err }, `cannot run sh: ${err.message}`));
    child.on('close', (code) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (code === 127) {
        this.missing = true;
        this.opts.log.warn({ event: 'nft_missing' }, `${argv.join(' ')} not found: DSCP marking and in-kernel flowlet detection are off`);
      } else if (!this.stopped) this.opts.log.error({ event: 'nft_exited', code }, 'nft exited; it is restarted on the next request');
      if (this.current) this.finish(false, code === 127 ? 'nft not found' : `nft exited (${String(code)})`);
    });
    return child;
  }
}

/** True when the request's last command prints a listing. */
function wantsOutput(commands: readonly string[]): boolean {
  return /^\s*list\s/.test(commands[commands.length - 1] ?? '');
}

function kill(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
