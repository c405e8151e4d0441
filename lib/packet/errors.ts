/**
 * Typed errors of the capture layer (pcap file, link/IP/TCP parsing, TCP reassembly). Like the codec's
 * {@link OfpDecodeError}, each carries a stable string `code` that callers and tests branch on; parsing
 * functions return them instead of throwing.
 */

/** Stable codes of capture failures. */
export const CAPTURE_ERROR_CODES = {
  /** The file could not be opened or read (missing, permission, I/O error). */
  PCAP_IO: 'file could not be read',
  /** Not a libpcap 2.4 file (pcapng, nanosecond or unknown magic number, bad version). */
  PCAP_BAD_MAGIC: 'not a libpcap file',
  /** The 24-byte global header is incomplete or inconsistent. */
  PCAP_BAD_HEADER: 'bad pcap global header',
  /** A record header is impossible (captured length beyond the limit or above the original length). */
  PCAP_BAD_RECORD: 'bad pcap record header',
  /** The file ends inside a record. */
  PCAP_TRUNCATED: 'pcap file ends inside a record',
  /** The link-layer type is not one this reader parses. */
  PKT_UNSUPPORTED_LINK: 'unsupported link-layer type',
  /** A header extends past the captured bytes. */
  PKT_TRUNCATED: 'packet truncated',
  /** A header field is impossible (IP version, header length, TCP data offset, …). */
  PKT_MALFORMED: 'malformed packet',
} as const;

export type CaptureErrorCode = keyof typeof CAPTURE_ERROR_CODES;

/**
 * A capture-layer failure. `frame` is the 1-based pcap record number (0 when the failure is about the
 * file as a whole) and `offset` the byte offset into that record (or into the file for file errors).
 */
export class CaptureError extends Error {
  readonly code: CaptureErrorCode;
  readonly frame: number;
  readonly offset: number;

  constructor(code: CaptureErrorCode, message: string, frame = 0, offset = 0) {
    super(`${code}: ${message}${frame > 0 ? ` (frame ${frame}, byte ${offset})` : ''}`);
    this.name = 'CaptureError';
    this.code = code;
    this.frame = frame;
    this.offset = offset;
  }
}

/** Result type of the capture parsers: never throws. */
export type CaptureResult<T> = { ok: true; value: T } | { ok: false; error: CaptureError };
