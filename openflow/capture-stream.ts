/**
 * OpenFlow messages of a capture: frames each reassembled TCP stream to or from an OpenFlow port with
 * the codec's {@link FrameDecoder}, decodes every frame with {@link decodeMessage}, and ties each message
 * to the pcap frame where its first byte was captured.
 *
 * Gaps in a stream (bytes not captured) are never glued over: framing restarts after a gap, at the end
 * of the message cut by the gap when its header was seen, else at the first byte after the gap. A
 * message cut by a gap or by the end of the capture becomes an OFP_ERR_BAD_LEN record. Pure: no I/O.
 */
import { decodeMessage, FrameDecoder } from './codec/index.js';
import { OfpDecodeError } from './codec/errors.js';
import { messageTypeName } from './codec/names.js';
import type { OfpMessage } from './codec/types.js';
import type { Capture } from '../lib/packet/pcap.js';
import type { Endpoint, StreamRun, TcpConnection, TcpStream } from '../lib/packet/tcp-reassembly.js';

/** The default OpenFlow controller ports: IANA 6653 and the historical 6633. */
export const DEFAULT_OPENFLOW_PORTS: readonly number[] = [6653, 6633];

export type OpenFlowDirection = 'switch→controller' | 'controller→switch';

/** One OpenFlow message (or a frame that failed to decode) found in a capture. */
export interface OpenFlowRecord {
  /** pcap record (1-based) holding the message's first byte */
  readonly frame: number;
  /** capture time of that record, microseconds since the epoch */
  readonly timeUs: number;
  readonly direction: OpenFlowDirection;
  /** "ip:port" ("[v6]:port" for IPv6) */
  readonly src: string;
  readonly dst: string;
  /** {@link TcpConnection.id} */
  readonly connection: number;
  /** offset of the message's first byte in its TCP stream */
  readonly streamOffset: number;
  /** header fields as on the wire (0 when fewer than 8 bytes were available) */
  readonly version: number;
  readonly typeCode: number;
  /** the decoded type, else the OFPT_* name of the header's type code, else "unknown(N)" */
  readonly type: string;
  readonly xid: number;
  readonly length: number;
  readonly message?: OfpMessage;
  readonly error?: OfpDecodeError;
}

export interface OpenFlowDecodeOptions {
  /** TCP ports on which a controller listens (default {@link DEFAULT_OPENFLOW_PORTS}) */
  readonly ports?: readonly number[];
}

/**
 * Decodes every OpenFlow message in the TCP connections of `capture` that involve one of `ports`.
 * @returns records ordered by frame, then by stream order within a frame
 */
export function decodeOpenFlowCapture(capture: Pick<Capture, 'connections'>, opts: OpenFlowDecodeOptions = {}): OpenFlowRecord[] {
  const ports = new Set(opts.ports ?? DEFAULT_OPENFLOW_PORTS);
  const records: OpenFlowRecord[] = [];
  for (const conn of capture.connections) {
    const controllerIsServer = ports.has(conn.server.port);
    if (!controllerIsServer && !ports.has(conn.client.port)) continue;
    const [fromSwitch, fromController] = controllerIsServer ? [conn.toServer, conn.toClient] : [conn.toClient, conn.toServer];
    records.push(...decodeStream(conn, fromSwitch, 'switch→controller'));
    records.push(...decodeStream(conn, fromController, 'controller→switch'));
  }
  return records.sort((a, b) => a.frame - b.frame);
}

/** Formats an endpoint as "ip:port" or "[ipv6]:port". */
export function formatEndpoint(e: Endpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/** Decodes the OpenFlow messages of one direction of a connection. */
export function decodeStream(conn: TcpConnection, stream: TcpStream, direction: OpenFlowDirection): OpenFlowRecord[] {
  const out: OpenFlowRecord[] = [];
  const ctx = { conn, stream, direction, src: formatEndpoint(stream.src), dst: formatEndpoint(stream.dst) };
  let resumeAt = -Infinity; // stream offset where the message cut by the previous gap ends
  for (const run of stream.runs) {
    const runEnd = run.offset + run.data.length;
    if (resumeAt >= runEnd) continue;
    const start = Math.max(0, resumeAt - run.offset);
    resumeAt = decodeRun(run, start, ctx, out);
  }
  return out;
}

interface RunContext {
  readonly conn: TcpConnection;
  readonly direction: OpenFlowDirection;
  readonly src: string;
  readonly dst: string;
}

/**
 * Frames and decodes `run` from byte `start`. Returns the stream offset at which the next run should
 * resume (the end of a message cut at the run's end), or -Infinity when unknown.
 */
function decodeRun(run: StreamRun, start: number, ctx: RunContext, out: OpenFlowRecord[]): number {
  let pos = start;
  const decoder = new FrameDecoder();
  decoder.push(run.data.subarray(pos));
  // every iteration consumes at least 8 bytes or stops, so the guard only protects against a decoder bug
  for (let guard = run.data.length; guard >= 0; guard--) {
    const next = decoder.next();
    if (next === undefined) break;
    if (next instanceof OfpDecodeError) {
      // a header length below 8 or above the limit: framing is lost for the rest of this run
      out.push(makeRecord(run, pos, ctx, next));
      return -Infinity;
    }
    if (next.length < 8) break;
    const decoded = decodeMessage(next);
    out.push(makeRecord(run, pos, ctx, decoded.ok ? decoded.value : decoded.error));
    pos += next.length;
  }
  const left = run.data.length - pos;
  if (left <= 0) return -Infinity;
  const declared = left >= 4 ? run.data.readUInt16BE(pos + 2) : 0;
  const why = `message cut after ${left} of ${declared >= 8 ? declared : '?'} bytes by a capture gap or the end of the capture`;
  out.push(makeRecord(run, pos, ctx, new OfpDecodeError('OFP_ERR_BAD_LEN', why, 0)));
  return declared >= 8 ? run.offset + pos + declared : -Infinity;
}

function makeRecord(run: StreamRun, pos: number, ctx: RunContext, result: OfpMessage | OfpDecodeError): OpenFlowRecord {
  const b = run.data;
  const have = b.length - pos;
  const version = have >= 1 ? b[pos]! : 0;
  const typeCode = have >= 2 ? b[pos + 1]! : 0;
  const length = have >= 4 ? b.readUInt16BE(pos + 2) : 0;
  const xid = have >= 8 ? b.readUInt32BE(pos + 4) : 0;
  const piece = pieceAt(run, run.offset + pos);
  const isError = result instanceof OfpDecodeError;
  const type = !isError ? result.type : have >= 2 ? (messageTypeName(typeCode) ?? `unknown(${typeCode})`) : 'unknown';
  return {
    frame: piece.frame,
    timeUs: piece.tsUs,
    direction: ctx.direction,
    src: ctx.src,
    dst: ctx.dst,
    connection: ctx.conn.id,
    streamOffset: run.offset + pos,
    version,
    typeCode,
    type,
    xid,
    length,
    ...(isError ? { error: result } : { message: result }),
  };
}

/** The piece of `run` that holds stream offset `at` (binary search). */
function pieceAt(run: StreamRun, at: number): { frame: number; tsUs: number } {
  const pieces = run.pieces;
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pieces[mid]!.offset <= at) lo = mid;
    else hi = mid - 1;
  }
  return pieces[lo] ?? { frame: 0, tsUs: 0 };
}
