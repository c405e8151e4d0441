/**
 * Reading libpcap captures: the file (edge) → records (pcap-parser) → parsed packets, reassembled TCP
 * connections and per-direction flow records (pure, see packet.ts, tcp-reassembly.ts, flows.ts).
 *
 * Nothing here throws to the caller: a file that cannot be read or is not a pcap yields
 * `{ ok: false, error }`; damage after a valid header (a truncated last record, an impossible record
 * header, malformed packets) is kept in `errors` next to everything that could be read.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import pcapParser from 'pcap-parser';
import type { PcapGlobalHeader, PcapPacketHeader } from 'pcap-parser';
import { CaptureError, type CaptureResult } from './errors.js';
import { buildFlows, type FlowRecord } from './flows.js';
import { parsePacket, type ParsedPacket, type RawPacket } from './frame.js';
import { reassembleTcp, type ReassemblyOptions, type TcpConnection } from './tcp-reassembly.js';

export * from './errors.js';
export * from './frame.js';
export * from './tcp-reassembly.js';
export * from './flows.js';

/** The pcap global header fields Rivulet uses. */
export interface PcapHeader {
  readonly linkType: number;
  readonly snapLen: number;
  readonly version: string;
}

/** The records of a pcap file; `errors` holds damage found after the global header. */
export interface PcapFile {
  readonly header: PcapHeader;
  readonly packets: readonly RawPacket[];
  readonly errors: readonly CaptureError[];
}

export interface PcapReadOptions {
  /** Largest record accepted (captured length), in bytes; a larger one ends reading (default 256 KiB). */
  readonly maxRecordBytes?: number;
}

/** A capture parsed as far as Rivulet goes: packets, TCP connections, flows, and all damage found. */
export interface Capture {
  readonly header: PcapHeader;
  /** every record that parsed down to its transport header (or that is not IP) */
  readonly packets: readonly ParsedPacket[];
  readonly connections: readonly TcpConnection[];
  readonly flows: readonly FlowRecord[];
  /** file damage and per-packet failures, in file order */
  readonly errors: readonly CaptureError[];
  readonly recordCount: number;
}

const PCAPNG_MAGIC = '0a0d0d0a';
const PCAP_NS_MAGICS = new Set(['a1b23c4d', '4d3cb2a1']);
/** libpcap's MAXIMUM_SNAPLEN */
const DEFAULT_MAX_RECORD = 262144;

/**
 * Parses the bytes of a pcap file (libpcap 2.4, either byte order, microsecond timestamps) with
 * pcap-parser. Resolves, never rejects.
 */
export function readPcapBuffer(bytes: Buffer, opts: PcapReadOptions = {}): Promise<CaptureResult<PcapFile>> {
  const maxRecord = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD;
  return new Promise((resolve) => {
    const stream = Readable.from([bytes]);
    const parser = pcapParser.parse(stream);
    let header: PcapHeader | undefined;
    const packets: RawPacket[] = [];
    const errors: CaptureError[] = [];
    let fileOffset = 0;
    let settled = false;
    const settle = (fatal?: CaptureError): void => {
      if (settled) return;
      settled = true;
      parser.removeAllListeners();
      parser.on('error', () => undefined); // late errors from the abandoned parser are ignored
      stream.destroy();
      if (!header) {
        resolve({ ok: false, error: fatal ?? new CaptureError('PCAP_BAD_HEADER', `file of ${bytes.length} bytes has no complete pcap header`) });
      } else {
        if (fatal) errors.push(fatal);
        resolve({ ok: true, value: { header, packets, errors } });
      }
    };
    parser.on('globalHeader', (h: PcapGlobalHeader) => {
      if (h.majorVersion !== 2) {
        settle(new CaptureError('PCAP_BAD_HEADER', `pcap version ${h.majorVersion}.${h.minorVersion}, expected 2.x`));
        return;
      }
      header = { linkType: h.linkLayerType, snapLen: h.snapshotLength, version: `${h.majorVersion}.${h.minorVersion}` };
      fileOffset = 24;
    });
    let pending: PcapPacketHeader | undefined;
    parser.on('packetHeader', (h: PcapPacketHeader) => {
      if (h.capturedLength > maxRecord) {
        const frame = packets.length + 1;
        settle(new CaptureError('PCAP_BAD_RECORD', `record ${frame} at file byte ${fileOffset} claims ${h.capturedLength} captured bytes (limit ${maxRecord})`, frame));
        return;
      }
      pending = h;
    });
    parser.on('packetData', (data: Buffer) => {
      if (settled || !pending) return;
      const h = pending;
      pending = undefined;
      packets.push({
        frame: packets.length + 1,
        tsUs: h.timestampSeconds * 1e6 + h.timestampMicroseconds,
        origLen: Math.max(h.originalLength, data.length),
        data,
      });
      fileOffset += 16 + data.length;
    });
    parser.on('error', (err: Error) => settle(classifyParserError(err, bytes)));
    parser.on('end', () => {
      if (header && fileOffset < bytes.length) {
        const frame = packets.length + 1;
        settle(new CaptureError('PCAP_TRUNCATED', `${bytes.length - fileOffset} bytes of record ${frame} at file byte ${fileOffset} before end of file`, frame));
      } else settle();
    });
  });
}

function classifyParserError(err: Error, bytes: Buffer): CaptureError {
  const magic = bytes.subarray(0, 4).toString('hex');
  if (magic === PCAPNG_MAGIC) return new CaptureError('PCAP_BAD_MAGIC', 'pcapng is not supported: convert with `editcap -F pcap`');
  if (PCAP_NS_MAGICS.has(magic)) return new CaptureError('PCAP_BAD_MAGIC', 'nanosecond pcap is not supported: convert with `editcap -F pcap`');
  if (/magic/i.test(err.message)) return new CaptureError('PCAP_BAD_MAGIC', err.message);
  return new CaptureError('PCAP_IO', err.message);
}

/** Reads and parses a pcap file (edge: the only file I/O of the capture layer). Resolves, never rejects. */
export async function readPcapFile(path: string, opts: PcapReadOptions = {}): Promise<CaptureResult<PcapFile>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, error: new CaptureError('PCAP_IO', err.message.includes(path) ? err.message : `${path}: ${err.message}`) };
  }
  return readPcapBuffer(bytes, opts);
}

/** Parses every record of `file` and reassembles its TCP connections (pure). */
export function analyzePcap(file: PcapFile, opts: ReassemblyOptions = {}): Capture {
  const packets: ParsedPacket[] = [];
  const errors: CaptureError[] = [];
  for (const raw of file.packets) {
    const r = parsePacket(file.header.linkType, raw);
    if (r.ok) packets.push(r.value);
    else errors.push(r.error);
  }
  errors.push(...file.errors);
  return {
    header: file.header,
    packets,
    connections: reassembleTcp(packets, opts),
    flows: buildFlows(packets),
    errors,
    recordCount: file.packets.length,
  };
}

/** {@link readPcapFile} then {@link analyzePcap}. Resolves, never rejects. */
export async function loadCapture(path: string, opts: PcapReadOptions & ReassemblyOptions = {}): Promise<CaptureResult<Capture>> {
  const file = await readPcapFile(path, opts);
  return file.ok ? { ok: true, value: analyzePcap(file.value, opts) } : file;
}
