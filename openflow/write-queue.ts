/**
 * A bounded per-connection write queue that honours back-pressure (as the ws library does: when `write()` returns
 * false stop producing, resume on 'drain').
 *
 * While the sink accepts writes, frames go straight to it. Once `write()` returns false the queue holds
 * further frames until {@link WriteQueue.drain} is called (wire it to the socket's 'drain' event); then
 * it writes what it holds as one coalesced buffer. If the held bytes exceed `limitBytes`, `onOverflow`
 * is called once (the session closes the connection) and further frames are dropped.
 */
export interface WriteSink {
  /** Returns false when the sink's own buffer is full (Node's stream semantics). */
  write(chunk: Buffer): boolean;
}

export class WriteQueue {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private blocked = false;
  private stopped = false;

  /**
   * @param sink        where bytes go (a net.Socket)
   * @param limitBytes  hard limit of bytes held while blocked (bytes already inside the socket excluded)
   * @param onOverflow  called once with the held byte count when the limit is passed
   */
  constructor(
    private readonly sink: WriteSink,
    private readonly limitBytes: number,
    private readonly onOverflow: (heldBytes: number) => void,
  ) {}

  /** True while waiting for 'drain'. */
  get paused(): boolean {
    return this.blocked;
  }

  /** Bytes held back (not yet given to the sink). */
  get queuedBytes(): number {
    return this.heldBytes;
  }

  /** Frames held back. */
  get queuedFrames(): number {
    return this.held.length;
  }

  /** Writes `frame` now, or holds it while the sink is blocked. */
  push(frame: Buffer): void {
    if (this.stopped) return;
    if (!this.blocked) {
      this.blocked = !this.sink.write(frame);
      return;
    }
    this.held.push(frame);
    this.heldBytes += frame.length;
    if (this.heldBytes > this.limitBytes) {
      const bytes = this.heldBytes;
      this.stop();
      this.onOverflow(bytes);
    }
  }

  /** The sink drained: write everything held (one buffer) and unblock unless the sink blocks again. */
  drain(): void {
    if (this.stopped) return;
    this.blocked = false;
    if (this.held.length === 0) return;
    const all = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    this.blocked = !this.sink.write(all);
  }

  /** Drops everything held and ignores further pushes. */
  stop(): void {
    this.stopped = true;
    this.held = [];
    this.heldBytes = 0;
  }
}
