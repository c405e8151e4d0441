/**
 * Bounded binary reader and growable writer for OpenFlow wire structures (network byte order).
 *
 * {@link OfReader} never reads past its `end`: every access is bounds-checked and fails with an
 * {@link OfpDecodeError} (code chosen by the caller via `lenCode`, default OFP_ERR_BAD_LEN). Nested
 * structures are decoded through `sub(n)`, which consumes n bytes and returns a reader limited to them,
 * so a bad inner length can never make an outer decoder over-read or loop.
 */
import { OfpDecodeError, OfpEncodeError, type DecodeErrorCode } from './errors.js';

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
    readonly end = buf.length,
    readonly lenCode: DecodeErrorCode = 'OFP_ERR_BAD_LEN',
  ) {
    if (end > buf.length || start > end || start < 0) {
      throw new OfpDecodeError(lenCode, `reader bounds ${start}..${end} outside buffer of ${buf.length}`, start);
    }
    this.pos = start;
  }

  /** Current absolute offset into `buf`. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Throws an OfpDecodeError at the current offset. */
  fail(code: DecodeErrorCode, message: string): never {
    throw new OfpDecodeError(code, message, this.pos);
  }

  /** Ensures n more bytes are readable, else fails with `code` (default: this reader's lenCode). */
  need(n: number, what = 'field', code: DecodeErrorCode = this.lenCode): void {
    if (n < 0 || this.pos + n > this.end) {
      this.fail(code, `${what} needs ${n} bytes, ${this.remaining} left`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Peeks a u16 at `pos + delta` without consuming (bounds-checked). */
  peekU16(delta = 0): number {
    if (this.pos + delta + 2 > this.end) this.fail(this.lenCode, `peek needs ${delta + 2} bytes, ${this.remaining} left`);
    return this.buf.readUInt16BE(this.pos + delta);
  }

  /** Reads n bytes into a fresh Buffer (a copy: decoded messages never pin the receive buffer). */
  bytes(n: number): Buffer {
    this.need(n);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** Reads everything up to `end` as a copy. */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** Skips n padding bytes (bounds-checked; content not inspected). */
  pad(n: number): void {
    this.need(n, 'padding');
    this.pos += n;
  }

  /** Skips n bytes that the spec requires to be zero, failing with OFP_ERR_BAD_PADDING otherwise. */
  zeroPad(n: number): void {
    this.need(n, 'padding');
    for (let i = 0; i < n; i++) {
      if (this.buf[this.pos + i] !== 0) this.fail('OFP_ERR_BAD_PADDING', `non-zero padding byte ${i} of ${n}`);
    }
    this.pos += n;
  }

  /**
   * Consumes n bytes and returns a reader limited to them. `code` is used both when fewer than n bytes
   * remain here and for over-reads inside the child.
   */
  sub(n: number, code: DecodeErrorCode = this.lenCode): OfReader {
    this.need(n, 'nested structure', code);
    const child = new OfReader(this.buf, this.pos, this.pos + n, code);
    this.pos += n;
    return child;
  }

  /** Fixed-width NUL-padded ASCII string (e.g. ofp_port.name, 16 bytes); stops at the first NUL. */
  string(n: number): string {
    this.need(n);
    const raw = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul < 0 ? n : nul).toString('latin1');
  }

  /** 6-byte Ethernet address as lowercase "aa:bb:cc:dd:ee:ff". */
  mac(): string {
    this.need(6);
    const parts: string[] = [];
    for (let i = 0; i < 6; i++) parts.push(this.buf[this.pos + i]!.toString(16).padStart(2, '0'));
    this.pos += 6;
    return parts.join(':');
  }

  /** 4-byte IPv4 address as dotted quad. */
  ipv4(): string {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
  }

  /** 16-byte IPv6 address in RFC 5952 canonical text (see {@link formatIpv6}). */
  ipv6(): string {
    this.need(16);
    const s = formatIpv6(this.buf.subarray(this.pos, this.pos + 16));
    this.pos += 16;
    return s;
  }
}

/** Growable big-endian writer. Lengths are written as placeholders and patched once known. */
export class OfWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.alloc(initialBytes);
  }

  get offset(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    checkUint(v, 0xff, 'u8');
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    checkUint(v, 0xffff, 'u16');
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    checkUint(v, 0xffffffff, 'u32');
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  u64(v: bigint): this {
    if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw new OfpEncodeError(`u64 out of range: ${String(v)}`);
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** Pads with zeros to the next multiple of 8 measured from `from` (default: start of buffer). */
  align8(from = 0): this {
    const rem = (this.pos - from) % 8;
    return rem === 0 ? this : this.zeros(8 - rem);
  }

  /** Fixed-width NUL-padded string; fails if it does not fit with its terminating NUL. */
  string(s: string, n: number): this {
    const b = Buffer.from(s, 'latin1');
    if (b.length >= n) throw new OfpEncodeError(`string "${s}" longer than ${n - 1} bytes`);
    this.bytes(b);
    return this.zeros(n - b.length);
  }

  mac(s: string): this {
    return this.bytes(parseMac(s));
  }

  ipv4(s: string): this {
    return this.bytes(parseIpv4(s));
  }

  ipv6(s: string): this {
    return this.bytes(parseIpv6(s));
  }

  /** Writes a u16 placeholder and returns its offset, for {@link patchU16}. */
  placeholderU16(): number {
    const at = this.pos;
    this.u16(0);
    return at;
  }

  patchU16(at: number, v: number): void {
    checkUint(v, 0xffff, 'u16 length');
    this.buf.writeUInt16BE(v, at);
  }

  patchU32(at: number, v: number): void {
    checkUint(v, 0xffffffff, 'u32');
    this.buf.writeUInt32BE(v, at);
  }

  /** The bytes written so far (a copy sized exactly). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new OfpEncodeError(`${what} out of range: ${v}`);
}

/** "aa:bb:cc:dd:ee:ff" (or with '-') → 6 bytes. @throws OfpEncodeError */
export function parseMac(s: string): Buffer {
  const parts = typeof s === 'string' ? s.split(/[:-]/) : [];
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new OfpEncodeError(`bad MAC address: ${String(s)}`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** Dotted quad → 4 bytes. @throws OfpEncodeError */
export function parseIpv4(s: string): Buffer {
  const parts = typeof s === 'string' ? s.split('.') : [];
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new OfpEncodeError(`bad IPv4 address: ${String(s)}`);
  }
  return Buffer.from(parts.map(Number));
}

/** IPv6 text (full or with one '::') → 16 bytes. @throws OfpEncodeError */
export function parseIpv6(s: string): Buffer {
  const bad = (): never => {
    throw new OfpEncodeError(`bad IPv6 address: ${String(s)}`);
  };
  const halves = typeof s === 'string' ? s.split('::') : [];
  if (halves.length < 1 || halves.length > 2) bad();
  const parse = (h: string): number[] =>
    h === '' ? [] : h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad()));
  const head = parse(halves[0]!);
  const back = halves.length === 2 ? parse(halves[1]!) : [];
  const zeros = halves.length === 2 ? 8 - head.length - back.length : 0;
  if (halves.length === 2 ? zeros < 1 : head.length !== 8) bad();
  const groups = [...head, ...new Array<number>(zeros).fill(0), ...back];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** 16 bytes → RFC 5952 text: lowercase, no leading zeros, the longest run (≥2) of zero groups as '::'. */
export function formatIpv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[i * 2]! << 8) | b[i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (arr: number[]): string => arr.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}
