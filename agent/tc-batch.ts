/**
 * The I/O edge of the agent's rate limits: ONE persistent `tc -force -batch -` child process; every
 * change is written to its stdin as lines (what to write comes from tc.ts).
 *
 * Verified on this machine (iproute2 6.1, in a scratch network namespace): tc executes each stdin line
 * as it arrives, not at EOF — a class written while stdin stays open was visible to `tc class show`
 * within ~4 ms; with `-force` a failing line does not stop the process, and its stderr says
 * `Command failed -:N` with N counted over the whole life of the process (the kernel's message, e.g.
 * `Error: …` or `Cannot find device "x"`, comes on the lines before it).
 *
 * The time a batch was written is the agent's "enforced" time (protocol `Enforced.atEpochUs`). Failures
 * are mapped back to the command text (line numbers remembered for the last {@link LINE_MEMORY} lines)
 * and reported through `onFailure`. Should tc exit unexpectedly it is restarted on the next write (line
 * numbering restarts with it). Stop ends stdin and waits; after `stopTimeoutMs` tc is killed by its pid.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../lib/log.js';
import { nowEpochUs } from '../protocol/agent.js';

/** Lines whose text is remembered to explain a failure. */
export const LINE_MEMORY = 65_536;

/** One failed tc line. */
export interface TcFailure {
  /** 1-based line number within the current tc process */
  readonly line: number;
  /** the command text, when still remembered */
  readonly command: string | undefined;
  /** tc's own message lines before `Command failed` */
  readonly message: string;
}

export interface TcBatchOptions {
  /** argv of the batch process (default `tc -force -batch -`; tests prefix `ip netns exec NS`) */
  readonly command?: readonly string[];
  readonly log: Logger;
  /** called for every failed line */
  readonly onFailure?: (f: TcFailure) => void;
  /** µs-epoch clock of the write times (default the wall clock) */
  readonly nowEpochUs?: () => number;
  /** how long stop() waits for tc to exit after EOF before killing it, ms (default 2000) */
  readonly stopTimeoutMs?: number;
}

/** Parses tc's stderr incrementally into failures (pure apart from its buffer). */
export class TcStderrParser {
  private partial = '';
  private messages: string[] = [];

  /** Feeds a chunk; returns the `(line, message)` of every complete `Command failed -:N`. */
  push(chunk: string): { line: number; message: string }[] {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const out: { line: number; message: string }[] = [];
    for (const l of lines) {
      const m = /^Command failed -:(\d+)\s*$/.exec(l);
      if (m) {
        out.push({ line: Number(m[1]), message: this.messages.join('; ') });
        this.messages = [];
      } else if (l.trim() !== '') {
        this.messages.push(l.trim());
        if (this.messages.length > 20) this.messages.shift();
      }
    }
    return out;
  }
}

type TcChild = ChildProcessByStdio<Writable, null, Readable>;

/** The persistent tc process (see the file comment). */
export class TcBatch {
  private child: TcChild | undefined;
  private lineNo = 0;
  private readonly commands = new Map<number, string>();
  private stopping = false;
  private readonly now: () => number;
  /** lines written over the agent's life */
  written = 0;
  /** lines tc reported as failed */
  failed = 0;

  constructor(private readonly opts: TcBatchOptions) {
    this.now = opts.nowEpochUs ?? nowEpochUs;
  }

  /** The tc process id (undefined before the first write or after stop). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Writes `lines` (each one tc command, no newlines) in one write.
   * @returns the time of the write, µs since the epoch
   * @throws RangeError for a line containing a newline; Error after stop()
   */
  write(lines: readonly string[]): number {
    if (this.stopping) throw new Error('tc batch is stopped');
    for (const l of lines) if (/[\r\n]/.test(l)) throw new RangeError(`tc line contains a newline: ${JSON.stringify(l)}`);
    const at = this.now();
    if (lines.length === 0) return at;
    const child = this.ensure();
    for (const l of lines) {
      this.lineNo++;
      this.commands.set(this.lineNo, l);
      this.commands.delete(this.lineNo - LINE_MEMORY);
    }
    this.written += lines.length;
    child.stdin.write(`${lines.join('\n')}\n`);
    this.opts.log.debug({ event: 'tc_write', lines }, `tc: ${lines.length} line(s)`);
    return at;
  }

  /** Ends tc's stdin and waits for it to exit (killed by pid after the timeout). Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), this.opts.stopTimeoutMs ?? 2000)));
    if ((await Promise.race([exited, timeout])) === 'timeout' && child.pid !== undefined) {
      this.opts.log.warn({ event: 'tc_kill', pid: child.pid }, 'tc did not exit after EOF: killing it');
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
    clearTimeout(timer);
  }

  private ensure(): TcChild {
    if (this.child) return this.child;
    const [cmd, ...args] = this.opts.command ?? ['tc', '-force', '-batch', '-'];
    const child = spawn(cmd!, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    this.lineNo = 0;
    this.commands.clear();
    const parser = new TcStderrParser();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      for (const f of parser.push(chunk)) this.report({ line: f.line, command: this.commands.get(f.line), message: f.message });
    });
    child.stdin.on('error', (err) => this.opts.log.error({ event: 'tc_stdin_error', err }, 'writing to tc failed'));
    child.on('error', (err) => this.opts.log.error({ event: 'tc_spawn_error', err }, `cannot run ${cmd}: ${err.message}`));
    child.on('close', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        if (!this.stopping) this.opts.log.error({ event: 'tc_exited', code, signal }, 'tc exited; it is restarted on the next change');
      }
    });
    this.opts.log.debug({ event: 'tc_started', pid: child.pid }, 'tc -batch started');
    return child;
  }

  private report(f: TcFailure): void {
    this.failed++;
    this.opts.log.warn({ event: 'tc_failed', line: f.line, command: f.command, message: f.message }, `tc failed: ${f.command ?? `line ${f.line}`}: ${f.message}`);
    this.opts.onFailure?.(f);
  }
}
