/**
 * Injected time (ARCHITECTURE.md "Principles"): every timer a session or the controller arms goes through a
 * {@link Clock}, so tests drive time with {@link ManualClock} and the leak test can count live timers
 * with {@link CountingClock}. Times and delays are milliseconds.
 */

/** Opaque handle of an armed timer. */
export type TimerHandle = { readonly __timer: true };

export interface Clock {
  /** Current time, ms (monotonic for the system clock). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds unless cleared first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a no-op for fired or already cleared timers. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
};

/**
 * Wraps a clock and counts timers that are armed and neither fired nor cleared (`active`), which is
 * what `Controller.stats().timers` reports.
 */
export class CountingClock implements Clock {
  private readonly live = new Set<TimerHandle>();

  constructor(private readonly inner: Clock = systemClock) {}

  /** Timers armed and still pending. */
  get active(): number {
    return this.live.size;
  }

  now(): number {
    return this.inner.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = this.inner.setTimeout(() => {
      this.live.delete(handle);
      fn();
    }, ms);
    this.live.add(handle);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    if (this.live.delete(handle)) this.inner.clearTimeout(handle);
  }
}

interface ManualTimer {
  readonly handle: TimerHandle;
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to (tests). `advance(ms)` fires due timers in order of due time,
 * then arming order; timers armed by a firing timer fire in the same call if they fall due.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  /** Timers still pending. */
  get pending(): number {
    return this.timers.length;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = { __timer: true } as TimerHandle;
    this.timers.push({ handle, due: this.t + Math.max(0, ms), seq: this.seq++, fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((x) => x.handle !== handle);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.due > end) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.due;
      next.fn();
    }
    this.t = end;
  }

  private earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const x of this.timers) {
      if (!best || x.due < best.due || (x.due === best.due && x.seq < best.seq)) best = x;
    }
    return best;
  }
}
