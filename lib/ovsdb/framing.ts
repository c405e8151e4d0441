/**
 * RFC 7047 §4: JSON-RPC 1.0 messages are JSON texts sent back to back on the stream with no delimiter.
 * {@link JsonSplitter} cuts the byte stream into complete top-level JSON values by tracking nesting and
 * string/escape state (pure, incremental: feed chunks split anywhere, get whole texts out).
 */
import { OvsdbError } from './errors.js';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class JsonSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Scan position within buf. */
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** @param maxBytes longest accepted message (OVSDB_PROTOCOL beyond; default 64 MiB) */
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** Adds bytes; returns the complete JSON texts they finish, in order. @throws OvsdbError OVSDB_PROTOCOL */
  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    let start = 0;
    for (; this.pos < this.buf.length; this.pos++) {
      const c = this.buf[this.pos]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--this.depth < 0) throw new OvsdbError('OVSDB_PROTOCOL', 'unbalanced JSON on the stream');
        if (this.depth === 0) {
          out.push(this.buf.subarray(start, this.pos + 1).toString('utf8').trim());
          start = this.pos + 1;
        }
      } else if (this.depth === 0 && c > 0x20) throw new OvsdbError('OVSDB_PROTOCOL', 'JSON-RPC message is not an object');
    }
    this.buf = this.buf.subarray(start);
    this.pos -= start;
    if (this.buf.length > this.maxBytes) throw new OvsdbError('OVSDB_PROTOCOL', `message longer than ${this.maxBytes} bytes`);
    return out;
  }
}
