/**
 * The operations queued on one meter key, run one at a time in call order by the MeterEnforcer. Queued
 * set()s coalesce: the latest target wins and every coalesced caller gets its outcome; a remove() drops
 * the set()s queued before it (they reject with ENF_SUPERSEDED) and joins a remove already queued. Pure
 * bookkeeping: the enforcer runs what {@link OpQueue.next} returns.
 */
import { MeterEnforcerError, type MeterTarget } from './meter-target.js';

/** One caller waiting for an operation's outcome. */
export interface Waiter<T> {
  readonly resolve: (v: T) => void;
  readonly reject: (e: unknown) => void;
}

/** A queued operation: a set (resolves with clock ms of the barrier reply) or a remove. */
export type Op =
  | { readonly kind: 'set'; target: MeterTarget; readonly waiters: Waiter<number>[] }
  | { readonly kind: 'remove'; readonly waiters: Waiter<void>[] };

export class OpQueue {
  private readonly ops: Op[] = [];

  /** Operations waiting. */
  get length(): number {
    return this.ops.length;
  }

  /** Whether a set is waiting (the key is still being installed). */
  get hasSet(): boolean {
    return this.ops.some((o) => o.kind === 'set');
  }

  /** Queues a set of `target`, coalesced with a set queued last. */
  set(target: MeterTarget, w: Waiter<number>): void {
    const last = this.ops[this.ops.length - 1];
    if (last?.kind === 'set') {
      last.target = target;
      last.waiters.push(w);
    } else this.ops.push({ kind: 'set', target, waiters: [w] });
  }

  /** Queues a remove of `key`: the sets queued last reject (ENF_SUPERSEDED); joins a remove queued last. */
  remove(key: string, w: Waiter<void>): void {
    while (this.ops[this.ops.length - 1]?.kind === 'set') {
      const dropped = this.ops.pop() as Extract<Op, { kind: 'set' }>;
      for (const d of dropped.waiters) d.reject(new MeterEnforcerError('ENF_SUPERSEDED', `key ${key} was removed before this set() ran`));
    }
    const last = this.ops[this.ops.length - 1];
    if (last?.kind === 'remove') last.waiters.push(w);
    else this.ops.push({ kind: 'remove', waiters: [w] });
  }

  /** The next operation to run, taken off the queue. */
  next(): Op | undefined {
    return this.ops.shift();
  }

  /** Empties the queue, every waiter rejected with `err`. */
  rejectAll(err: unknown): void {
    for (const op of this.ops.splice(0)) for (const w of op.waiters) w.reject(err);
  }
}
