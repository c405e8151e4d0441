/**
 * Incremental framing of an OpenFlow TCP byte stream (§7.1: every message starts with an 8-byte
 * ofp_header whose u16 `length`, at offset 2, counts the whole message).
 *
 * Chunks are kept as a list, never concatenated as a whole: a frame that lies inside one chunk is
 * returned as a zero-copy view of it; only a frame spanning chunks is copied (once). Decoded messages
 * copy their payloads (OfReader.bytes), so views never outlive their use.
 */
import { OfpDecodeError } from './errors.js';
import { OFP_HEADER_LEN } from './constants.js';

export interface FrameDecoderOptions {
  /** Largest frame accepted, in bytes (default 65535, the most a u16 length can say; minimum 8). */
  readonly maxFrameBytes?: number;
}

export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  /** read offset into chunks[0] */
  private head = 0;
  private buffered = 0;
  private failure: OfpDecodeError | undefined;
  private readonly maxFrameBytes: number;

  constructor(opts: FrameDecoderOptions = {}) {
    this.maxFrameBytes = Math.max(OFP_HEADER_LEN, opts.maxFrameBytes ?? 0xffff);
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Appends bytes from the stream. Ignored once the stream has failed. Empty chunks are dropped. */
  push(chunk: Buffer): void {
    if (this.failure || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete frame, `undefined` if more bytes are needed, or an OfpDecodeError if the stream is
   * unusable: OFP_ERR_BAD_LEN for a header length < 8, OFP_ERR_FRAME_TOO_LONG above maxFrameBytes. After
   * an error every later call returns the same error (the connection must be closed).
   */
  next(): Buffer | OfpDecodeError | undefined {
    if (this.failure) return this.failure;
    if (this.buffered < 4) return undefined;
    const length = (this.byteAt(2) << 8) | this.byteAt(3);
    if (length < OFP_HEADER_LEN) return this.fail('OFP_ERR_BAD_LEN', `header length ${length} < 8`);
    if (length > this.maxFrameBytes) return this.fail('OFP_ERR_FRAME_TOO_LONG', `frame of ${length} > ${this.maxFrameBytes} bytes`);
    if (this.buffered < length) return undefined;
    return this.take(length);
  }

  private fail(code: 'OFP_ERR_BAD_LEN' | 'OFP_ERR_FRAME_TOO_LONG', message: string): OfpDecodeError {
    this.failure = new OfpDecodeError(code, message, 2);
    this.chunks.length = 0;
    this.head = 0;
    this.buffered = 0;
    return this.failure;
  }

  /** Byte i of the buffered data (i < buffered). */
  private byteAt(i: number): number {
    let idx = this.head + i;
    for (const c of this.chunks) {
      if (idx < c.length) return c[idx]!;
      idx -= c.length;
    }
    throw new RangeError('byteAt past buffered data');
  }

  /** Removes and returns the first n buffered bytes (n ≤ buffered). */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    this.buffered -= n;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.head, n - filled);
      c.copy(out, filled, this.head, this.head + k);
      filled += k;
      this.advance(k);
    }
    return out;
  }

  /** Moves the read position k bytes within chunks[0] (k ≤ what is left of it). */
  private advance(k: number): void {
    this.head += k;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}

/** Version byte of a frame's header (undefined if shorter than 1 byte). */
export function peekVersion(frame: Buffer): number | undefined {
  return frame.length >= 1 ? frame[0] : undefined;
}

/** Type code of a frame's header (undefined if shorter than 2 bytes). */
export function peekType(frame: Buffer): number | undefined {
  return frame.length >= 2 ? frame[1] : undefined;
}

/** Transaction id of a frame's header (undefined if shorter than 8 bytes). */
export function peekXid(frame: Buffer): number | undefined {
  return frame.length >= OFP_HEADER_LEN ? frame.readUInt32BE(4) : undefined;
}
