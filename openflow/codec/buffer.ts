/**
 * Bounded binary reader and growable writer for OpenFlow wire structures (network byte order).
 *
 * {@link OfReader} never reads past its `end`: every access is bounds-checked and fails with an
 * {@link OfpDecodeError} (code chosen by the caller via `lenCode`, default OFP_ERR_BAD_LEN). Nested
 * structures are decoded through `sub(n)`, which consumes n bytes and returns a reader limited to them,
 * or — on the hot paths — through the equivalent `enter(n)` / `leave()` bracket, which narrows this reader
 * instead of allocating one; either way a bad inner length can never make an outer decoder over-read or loop.
 * Error messages are built only when failing (the checks call out-of-line helpers).
 *
 * {@link OfWriter} writes bytes directly (no Buffer.write* calls, no zero-filled allocations) and range-checks
 * every integer; encodeMessage reuses one writer and hands frames out as views of a slab.
 */
import { OfpDecodeError, OfpEncodeError, type DecodeErrorCode } from './errors.js';
import { formatIpv4At, formatIpv6, formatMacAt, ipv4Into, macInto, parseIpv6 } from './addresses.js';

export { formatIpv6, parseIpv4, parseIpv6, parseMac } from './addresses.js';

/** 0n..1023n: bigints are immutable values, so the common small ones (zero cookies, masks) are shared. */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => BigInt(i));

export class OfReader {
  private pos: number;

  /**
   * @param buf   the whole frame (offsets reported in errors are relative to it)
   * @param start first byte this reader may read
   * @param end   one past the last byte this reader may read
   * @param lenCode error code used when a read would pass `end`
   */
  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
    lenCode: DecodeErrorCode = 'OFP_ERR_BAD_LEN',
  ) {
    if (end > buf.length || start > end || start < 0) {
      throw new OfpDecodeError(lenCode, `reader bounds ${start}..${end} outside buffer of ${buf.length}`, start);
    }
    this.pos = start;
    this.limit = end;
    this.code = lenCode;
  }

  /** One past the last byte this reader may read (narrowed while inside {@link enter}). */
  private limit: number;
  /** Error code of over-reads (that of the innermost {@link enter}). */
  private code: DecodeErrorCode;

  /** One past the last byte this reader may read. */
  get end(): number {
    return this.limit;
  }

  /** Error code used when a read would pass `end`. */
  get lenCode(): DecodeErrorCode {
    return this.code;
  }

  /**
   * {@link sub} without a second reader, for the hot nested structures (match, OXM, action, instruction,
   * bucket, flow stats): consumes-to-be the next n bytes (failing with `code` when fewer remain), limits
   * this reader to them with `code` as its over-read error, and returns the outer limit. Always paired:
   *
   *     const outer = r.enter(n, code); … read the structure … ; r.leave(outer, outerCode);
   *
   * {@link leave} moves to the end of the n bytes and restores the outer limit and code, exactly where
   * the parent of a sub-reader would be. A failure in between abandons the reader (errors propagate to
   * decodeMessage), so no restore is needed on that path.
   */
  enter(n: number, code: DecodeErrorCode): number {
    const p = this.pos;
    const outer = this.limit;
    if (n < 0 || p + n > outer) this.short(n, 'nested structure', code);
    this.limit = p + n;
    this.code = code;
    return outer;
  }

  /** Ends an {@link enter}: skips to the end of the nested structure and restores the outer bounds. */
  leave(outer: number, outerCode: DecodeErrorCode): void {
    this.pos = this.limit;
    this.limit = outer;
    this.code = outerCode;
  }

  /** Current absolute offset into `buf`. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.limit - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.limit;
  }

  /** Throws an OfpDecodeError at the current offset. */
  fail(code: DecodeErrorCode, message: string): never {
    throw new OfpDecodeError(code, message, this.pos);
  }

  /** Ensures n more bytes are readable, else fails with `code` (default: this reader's lenCode). */
  need(n: number, what = 'field', code: DecodeErrorCode = this.code): void {
    if (n < 0 || this.pos + n > this.limit) this.short(n, what, code);
  }

  /** The failure of {@link need}, kept out of line so the message is built only when failing. */
  private short(n: number, what: string, code: DecodeErrorCode): never {
    return this.fail(code, `${what} needs ${n} bytes, ${this.remaining} left`);
  }

  u8(): number {
    const p = this.pos;
    if (p + 1 > this.limit) this.short(1, 'field', this.code);
    this.pos = p + 1;
    return this.buf[p]!;
  }

  u16(): number {
    const p = this.pos;
    if (p + 2 > this.limit) this.short(2, 'field', this.code);
    const b = this.buf;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(): number {
    const p = this.pos;
    if (p + 4 > this.limit) this.short(4, 'field', this.code);
    const b = this.buf;
    this.pos = p + 4;
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  u64(): bigint {
    const p = this.pos;
    if (p + 8 > this.limit) this.short(8, 'field', this.code);
    const b = this.buf;
    this.pos = p + 8;
    const hi = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    const lo = b[p + 4]! * 0x1000000 + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!);
    if (hi === 0 && lo < SMALL_BIGINTS.length) return SMALL_BIGINTS[lo]!;
    // Below 2^53 the value is exact as a double: one BigInt instead of two and a shift.
    return hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Peeks a u16 at `pos + delta` without consuming (bounds-checked). */
  peekU16(delta = 0): number {
    const p = this.pos + delta;
    if (p + 2 > this.limit) this.fail(this.code, `peek needs ${delta + 2} bytes, ${this.remaining} left`);
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }

  /** Reads n bytes into a fresh Buffer (a copy: decoded messages never pin the receive buffer). */
  bytes(n: number): Buffer {
    const p = this.pos;
    if (n < 0 || p + n > this.limit) this.short(n, 'field', this.code);
    const out = Buffer.allocUnsafe(n);
    const b = this.buf;
    if (n <= 32) for (let i = 0; i < n; i++) out[i] = b[p + i]!;
    else out.set(b.subarray(p, p + n));
    this.pos = p + n;
    return out;
  }

  /** Reads everything up to `end` as a copy. */
  rest(): Buffer {
    return this.bytes(this.limit - this.pos);
  }

  /** Skips n padding bytes (bounds-checked; content not inspected). */
  pad(n: number): void {
    if (n < 0 || this.pos + n > this.limit) this.short(n, 'padding', this.code);
    this.pos += n;
  }

  /** Skips n bytes that the spec requires to be zero, failing with OFP_ERR_BAD_PADDING otherwise. */
  zeroPad(n: number): void {
    const p = this.pos;
    if (n < 0 || p + n > this.limit) this.short(n, 'padding', this.code);
    const b = this.buf;
    for (let i = 0; i < n; i++) {
      if (b[p + i] !== 0) this.fail('OFP_ERR_BAD_PADDING', `non-zero padding byte ${i} of ${n}`);
    }
    this.pos = p + n;
  }

  /**
   * Consumes n bytes and returns a reader limited to them. `code` is used both when fewer than n bytes
   * remain here and for over-reads inside the child.
   */
  sub(n: number, code: DecodeErrorCode = this.code): OfReader {
    const p = this.pos;
    if (n < 0 || p + n > this.limit) this.short(n, 'nested structure', code);
    const child = new OfReader(this.buf, p, p + n, code);
    this.pos = p + n;
    return child;
  }

  /** Fixed-width NUL-padded ASCII string (e.g. ofp_port.name, 16 bytes); stops at the first NUL. */
  string(n: number): string {
    this.need(n);
    const p = this.pos;
    const b = this.buf;
    this.pos = p + n;
    let stop = p;
    while (stop < p + n && b[stop] !== 0) stop++;
    return b.toString('latin1', p, stop);
  }

  /** 6-byte Ethernet address as lowercase "aa:bb:cc:dd:ee:ff". */
  mac(): string {
    const p = this.pos;
    if (p + 6 > this.limit) this.short(6, 'field', this.code);
    const b = this.buf;
    this.pos = p + 6;
    return formatMacAt(b, p);
  }

  /** 4-byte IPv4 address as dotted quad. */
  ipv4(): string {
    const p = this.pos;
    if (p + 4 > this.limit) this.short(4, 'field', this.code);
    const b = this.buf;
    this.pos = p + 4;
    return formatIpv4At(b, p);
  }

  /** 16-byte IPv6 address in RFC 5952 canonical text (see {@link formatIpv6}). */
  ipv6(): string {
    this.need(16);
    const s = formatIpv6(this.buf.subarray(this.pos, this.pos + 16));
    this.pos += 16;
    return s;
  }
}

/**
 * Big-endian writer. Lengths are written as placeholders and patched once known; offsets (`offset`,
 * placeholder positions, `align8`'s `from`) count from the start of the current output. Every byte of an
 * output is written explicitly (padding included), so the backing store is never zero-filled.
 *
 * Two ways to use it: `new OfWriter()` … `finish()` (an exact-size copy), or, for a long-lived writer
 * producing many messages (encodeMessage), `startOutput()` … `takeOutput()`, which hands out each output
 * as a view into a shared slab — like Buffer.allocUnsafe's pool — and moves on, so no copy is made.
 */
export class OfWriter {
  private buf: Buffer;
  /** absolute index in buf where the current output starts */
  private base = 0;
  /** absolute index in buf of the next byte */
  private pos = 0;
  /** size of the last output handed out by takeOutput */
  private lastSize = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  /** Bytes written to the current output. */
  get offset(): number {
    return this.pos - this.base;
  }

  /** Drops what the current output holds past `offset` (an offset it has reached). */
  truncate(offset: number): void {
    if (offset >= 0 && offset <= this.pos - this.base) this.pos = this.base + offset;
  }

  /** Forgets the current output (the buffer is kept). */
  reset(): void {
    this.pos = this.base;
  }

  /**
   * Begins an output for {@link takeOutput}: drops any unfinished bytes and starts a fresh slab when the
   * current one has less room than the last output took (at least SLAB_MIN_FREE), or is oversized (left
   * by the growth path after an output was abandoned). A slab is twice the room wanted, at least
   * SLAB_BYTES, so runs of big messages (flow dumps) do not each grow and copy.
   */
  startOutput(): void {
    const want = Math.max(SLAB_MIN_FREE, this.lastSize);
    const size = this.buf.length;
    if (size - this.base < want || size > 4 * Math.max(SLAB_BYTES, 2 * want)) {
      this.buf = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * want));
      this.base = 0;
    }
    this.pos = this.base;
  }

  /**
   * The current output as a view of exactly its bytes (no copy). The writer never writes those bytes
   * again: the next output starts after them, 8-byte aligned.
   */
  takeOutput(): Buffer {
    const out = this.buf.subarray(this.base, this.pos);
    this.lastSize = this.pos - this.base;
    this.base = Math.min((this.pos + 7) & ~7, this.buf.length);
    this.pos = this.base;
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.base;
    let size = Math.max(this.buf.length, 256) * 2;
    while (size < used + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.base, this.pos);
    this.buf = next;
    this.base = 0;
    this.pos = used;
  }

  u8(v: number): this {
    if (typeof v !== 'number' || v >>> 0 !== v || v > 0xff) badUint(v, 'u8');
    if (this.pos + 1 > this.buf.length) this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    if (typeof v !== 'number' || v >>> 0 !== v || v > 0xffff) badUint(v, 'u16');
    if (this.pos + 2 > this.buf.length) this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
    return this;
  }

  u32(v: number): this {
    if (typeof v !== 'number' || v >>> 0 !== v) badUint(v, 'u32');
    if (this.pos + 4 > this.buf.length) this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
    return this;
  }

  u64(v: bigint): this {
    if (this.pos + 8 > this.buf.length) this.ensure(8);
    const b = this.buf;
    const p = this.pos;
    if (typeof v === 'bigint' && v >= 0n && v <= 0xffffffffn) {
      // Common case (counters, masks): high word zero, one Number conversion.
      const lo = Number(v);
      b[p] = 0; b[p + 1] = 0; b[p + 2] = 0; b[p + 3] = 0;
      b[p + 4] = lo >>> 24; b[p + 5] = lo >>> 16; b[p + 6] = lo >>> 8; b[p + 7] = lo;
    } else if (v === 0xffffffffffffffffn) {
      b.fill(0xff, p, p + 8); // the all-ones mask
    } else {
      if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw new OfpEncodeError(`u64 out of range: ${String(v)}`);
      // Cookies of one application share their high word: it is computed once (u64High) and the value
      // costs one subtraction and one Number conversion, no shifts or masks on BigInts.
      if (v < u64High.base || v >= u64High.top) {
        const hi = Number(v >> 32n);
        u64High.base = BigInt(hi) << 32n;
        u64High.top = u64High.base + 0x100000000n;
        u64High.word = hi;
      }
      const hi = u64High.word;
      const lo = Number(v - u64High.base);
      b[p] = hi >>> 24; b[p + 1] = hi >>> 16; b[p + 2] = hi >>> 8; b[p + 3] = hi;
      b[p + 4] = lo >>> 24; b[p + 5] = lo >>> 16; b[p + 6] = lo >>> 8; b[p + 7] = lo;
    }
    this.pos = p + 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  zeros(n: number): this {
    if (this.pos + n > this.buf.length) this.ensure(n);
    const b = this.buf;
    const p = this.pos;
    if (n <= 16) for (let i = 0; i < n; i++) b[p + i] = 0;
    else b.fill(0, p, p + n);
    this.pos = p + n;
    return this;
  }

  /** Pads with zeros to the next multiple of 8 measured from `from` (default: start of the output). */
  align8(from = 0): this {
    const rem = (this.pos - this.base - from) % 8;
    return rem === 0 ? this : this.zeros(8 - rem);
  }

  /** Fixed-width NUL-padded string; fails if it does not fit with its terminating NUL. */
  string(s: string, n: number): this {
    const b = Buffer.from(s, 'latin1');
    if (b.length >= n) throw new OfpEncodeError(`string "${s}" longer than ${n - 1} bytes`);
    this.bytes(b);
    return this.zeros(n - b.length);
  }

  /** "aa:bb:cc:dd:ee:ff" (or with '-'), validated and written in place. @throws OfpEncodeError */
  mac(s: string): this {
    if (this.pos + 6 > this.buf.length) this.ensure(6);
    if (!macInto(s, this.buf, this.pos)) throw new OfpEncodeError(`bad MAC address: ${String(s)}`);
    this.pos += 6;
    return this;
  }

  /** Dotted quad, validated and written in place. @throws OfpEncodeError */
  ipv4(s: string): this {
    if (this.pos + 4 > this.buf.length) this.ensure(4);
    if (!ipv4Into(s, this.buf, this.pos)) throw new OfpEncodeError(`bad IPv4 address: ${String(s)}`);
    this.pos += 4;
    return this;
  }

  ipv6(s: string): this {
    return this.bytes(parseIpv6(s));
  }

  /** Writes a u16 placeholder and returns its offset, for {@link patchU16}. */
  placeholderU16(): number {
    const at = this.pos - this.base;
    this.u16(0);
    return at;
  }

  /** Overwrites the u16 at output offset `at` (already written). */
  patchU16(at: number, v: number): void {
    if (typeof v !== 'number' || v >>> 0 !== v || v > 0xffff) badUint(v, 'u16 length');
    const p = this.base + at;
    this.buf[p] = v >>> 8;
    this.buf[p + 1] = v;
  }

  /** Overwrites the u32 at output offset `at` (already written). */
  patchU32(at: number, v: number): void {
    if (typeof v !== 'number' || v >>> 0 !== v) badUint(v, 'u32');
    this.buf.writeUInt32BE(v, this.base + at);
  }

  /** The bytes of the current output (a copy sized exactly). */
  finish(): Buffer {
    const n = this.pos - this.base;
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, this.base, this.pos);
    return out;
  }
}

/** The high word of the last u64 written above 2^32 (OfWriter.u64): [base, top) = that word × 2^32 + [0, 2^32). */
const u64High = { base: 0n, top: 0n, word: 0 };

/** Slab size of {@link OfWriter.startOutput} (Node's Buffer pool is 8 KiB; messages are usually < 1 KiB). */
const SLAB_BYTES = 16 * 1024;
/** Least room a slab must have left to start an output in it (an output that does not fit grows into a new buffer). */
const SLAB_MIN_FREE = 2 * 1024;

/**
 * The range check of the writer's integer methods failed (non-integer, negative, NaN, non-number or too
 * large: for a number, `v >>> 0 !== v` rejects all but integers in 0..2^32-1). Out of line so the message is built only here.
 */
function badUint(v: number, what: string): never {
  throw new OfpEncodeError(`${what} out of range: ${v}`);
}
