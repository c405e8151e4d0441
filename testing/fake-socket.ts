/**
 * A fake switch end for session tests: satisfies SessionSocket, records what the session writes, lets
 * the test feed frames in (whole, or split at any byte), and simulates back-pressure (`writable = false`
 * makes write() return false until the test calls `drain()`).
 */
import { EventEmitter } from 'node:events';
import { FrameDecoder, decodeMessage, encodeMessage, type OfpMessage } from '../openflow/codec/index.js';
import type { SessionSocket } from '../openflow/session.js';

export class FakeSocket extends EventEmitter implements SessionSocket {
  readonly chunks: Buffer[] = [];
  writable = true;
  ended = false;
  destroyed = false;
  noDelay = false;
  readonly remoteAddress = '192.0.2.1';
  readonly remotePort = 40001;

  write(chunk: Buffer): boolean {
    this.chunks.push(Buffer.from(chunk));
    return this.writable;
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }

  setNoDelay(noDelay = true): void {
    this.noDelay = noDelay;
  }

  /** Feeds a message (encoded) or raw bytes to the session. */
  feed(msg: OfpMessage | Buffer): void {
    this.emit('data', Buffer.isBuffer(msg) ? msg : encodeMessage(msg));
  }

  /** The socket drained: writes are accepted again. */
  drain(): void {
    this.writable = true;
    this.emit('drain');
  }

  /** All bytes written so far. */
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Every frame written so far, split at message boundaries. */
  frames(): Buffer[] {
    const d = new FrameDecoder();
    d.push(this.bytes);
    const out: Buffer[] = [];
    for (let f = d.next(); f !== undefined; f = d.next()) {
      if (!Buffer.isBuffer(f)) throw f;
      out.push(f);
    }
    return out;
  }

  /** Every message written so far, decoded. */
  messages(): OfpMessage[] {
    return this.frames().map((f) => {
      const r = decodeMessage(f);
      if (!r.ok) throw r.error;
      return r.value;
    });
  }

  /** The last written message of `type` (throws if none). */
  last<T extends OfpMessage['type']>(type: T): Extract<OfpMessage, { type: T }> {
    const found = this.messages().filter((m) => m.type === type);
    const m = found[found.length - 1];
    if (!m) throw new Error(`no ${type} written`);
    return m as Extract<OfpMessage, { type: T }>;
  }
}

/** Lets promise callbacks and setImmediate work run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
