/**
 * Pure TCP stream reassembly over parsed packets, in capture order.
 *
 * Each connection (4-tuple; a new SYN with a different initial sequence number starts a new connection)
 * has two directions. Each direction's payload is placed by sequence number (32-bit wrap-around
 * handled): retransmitted and duplicate bytes are dropped (first copy wins), overlaps trimmed,
 * out-of-order segments held until the hole before them is filled. Holes that are never filled (bytes
 * not captured, or cut by the snap length) are reported as {@link StreamGap}s and split the stream into
 * contiguous {@link StreamRun}s: bytes on either side of a gap are never glued together.
 *
 * Stream offsets are relative to the first byte after the SYN, or, when the SYN was not captured, to
 * the first payload byte seen. Every run keeps the pcap frame (and timestamp) of each piece of it.
 */
import { TCP_FLAGS, type ParsedPacket } from './frame.js';

/** An IP address and port. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** Bytes [offset, offset+length) of a stream came from pcap record `frame`, captured at `tsUs`. */
export interface StreamPiece {
  readonly offset: number;
  readonly length: number;
  readonly frame: number;
  readonly tsUs: number;
}

/** Contiguous stream bytes starting at stream offset `offset`; `pieces` cover `data` in order. */
export interface StreamRun {
  readonly offset: number;
  readonly data: Buffer;
  readonly pieces: readonly StreamPiece[];
}

/** Stream bytes [offset, offset+length) that are missing from the capture. */
export interface StreamGap {
  readonly offset: number;
  readonly length: number;
  /** the frame whose bytes end just before the gap (0 if none) */
  readonly afterFrame: number;
}

/** Counters per direction. Byte counts are payload bytes. */
export interface StreamStats {
  segments: number;
  payloadBytes: number;
  /** segments entirely made of bytes already received (retransmissions, duplicates) */
  duplicateSegments: number;
  duplicateBytes: number;
  /** bytes of partially new segments that were already received */
  overlapBytes: number;
  /** segments that arrived ahead of a hole */
  outOfOrderSegments: number;
  /** bytes before the stream's start (sent before the capture began) */
  beforeStartBytes: number;
}

/** One direction of a connection. */
export interface TcpStream {
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly synSeen: boolean;
  readonly finSeen: boolean;
  readonly rstSeen: boolean;
  readonly runs: readonly StreamRun[];
  readonly gaps: readonly StreamGap[];
  readonly stats: Readonly<StreamStats>;
}

/**
 * A TCP connection. `client` sent the SYN when it was captured; otherwise the endpoint with the higher
 * port is taken as the client.
 */
export interface TcpConnection {
  /** 0-based, in order of first packet */
  readonly id: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly firstFrame: number;
  readonly firstTsUs: number;
  readonly lastTsUs: number;
  readonly toServer: TcpStream;
  readonly toClient: TcpStream;
}

export interface ReassemblyOptions {
  /**
   * Most out-of-order bytes held per direction while waiting for a hole to fill; beyond it the hole is
   * declared a gap (default 4 MiB).
   */
  readonly maxPendingBytes?: number;
}

interface Pending {
  rel: number;
  data: Buffer;
  frame: number;
  tsUs: number;
}

/** Reassembles one direction. Internal; see {@link reassembleTcp}. */
class DirectionAssembler {
  synSeen = false;
  finSeen = false;
  rstSeen = false;
  isn: number | undefined; // raw sequence number of stream offset 0
  private refRaw = 0;
  private refRel = 0;
  private next = 0;
  private expectedEnd = 0;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private runStart = 0;
  private chunks: Buffer[] = [];
  private pieces: StreamPiece[] = [];
  private lastFrame = 0;
  readonly runs: StreamRun[] = [];
  readonly gaps: StreamGap[] = [];
  readonly stats: StreamStats = {
    segments: 0, payloadBytes: 0, duplicateSegments: 0, duplicateBytes: 0, overlapBytes: 0, outOfOrderSegments: 0, beforeStartBytes: 0,
  };

  constructor(readonly src: Endpoint, readonly dst: Endpoint, private readonly maxPending: number) {}

  add(p: ParsedPacket): void {
    const t = p.tcp!;
    const syn = (t.flags & TCP_FLAGS.SYN) !== 0;
    if (syn && this.isn === undefined) this.anchor((t.seq + 1) >>> 0);
    if (syn) this.synSeen = true;
    if (t.flags & TCP_FLAGS.FIN) this.finSeen = true;
    if (t.flags & TCP_FLAGS.RST) this.rstSeen = true;
    if (t.payloadLen === 0) return;
    const seq = syn ? (t.seq + 1) >>> 0 : t.seq;
    if (this.isn === undefined) this.anchor(seq);
    this.stats.segments++;
    this.stats.payloadBytes += t.payload.length;
    const rel = this.unwrap(seq);
    this.expectedEnd = Math.max(this.expectedEnd, rel + t.payloadLen);
    this.insert({ rel, data: t.payload, frame: p.frame, tsUs: p.tsUs });
  }

  private anchor(raw: number): void {
    this.isn = raw;
    this.refRaw = raw;
    this.refRel = 0;
  }

  /** Maps a raw 32-bit sequence number to a stream offset near the highest one seen so far. */
  private unwrap(raw: number): number {
    const rel = this.refRel + ((raw - this.refRaw) | 0);
    if (rel > this.refRel) {
      this.refRel = rel;
      this.refRaw = raw;
    }
    return rel;
  }

  private insert(seg: Pending): void {
    const end = seg.rel + seg.data.length;
    if (end <= this.next) {
      this.countOld(seg.rel, seg.data.length);
      return;
    }
    if (seg.rel > this.next) {
      this.stats.outOfOrderSegments++;
      const i = this.pending.findIndex((q) => q.rel > seg.rel);
      this.pending.splice(i < 0 ? this.pending.length : i, 0, seg);
      this.pendingBytes += seg.data.length;
      if (this.pendingBytes > this.maxPending) this.flushPending();
      return;
    }
    this.append(seg);
    this.drain();
  }

  private countOld(rel: number, len: number): void {
    if (rel < 0) this.stats.beforeStartBytes += Math.min(len, -rel);
    else {
      this.stats.duplicateSegments++;
      this.stats.duplicateBytes += len;
    }
  }

  /** Appends a segment that starts at or before `next` and ends after it. */
  private append(seg: Pending): void {
    const skip = this.next - seg.rel;
    if (skip > 0) {
      if (seg.rel < 0) this.stats.beforeStartBytes += Math.min(skip, -seg.rel);
      this.stats.overlapBytes += Math.max(0, skip - Math.max(0, -seg.rel));
    }
    const data = skip > 0 ? seg.data.subarray(skip) : seg.data;
    this.chunks.push(data);
    this.pieces.push({ offset: this.next, length: data.length, frame: seg.frame, tsUs: seg.tsUs });
    this.next += data.length;
    this.lastFrame = seg.frame;
  }

  /** Moves held segments that have become contiguous into the current run. */
  private drain(): void {
    while (this.pending.length > 0 && this.pending[0]!.rel <= this.next) {
      const seg = this.pending.shift()!;
      this.pendingBytes -= seg.data.length;
      if (seg.rel + seg.data.length <= this.next) {
        this.stats.duplicateSegments++;
        this.stats.duplicateBytes += seg.data.length;
      } else {
        this.append(seg);
      }
    }
  }

  /** Declares every remaining hole a gap and consumes all held segments. */
  private flushPending(): void {
    while (this.pending.length > 0) {
      const first = this.pending[0]!;
      if (first.rel > this.next) this.gapTo(first.rel);
      this.drain();
    }
  }

  private gapTo(rel: number): void {
    this.closeRun();
    this.gaps.push({ offset: this.next, length: rel - this.next, afterFrame: this.lastFrame });
    this.next = rel;
    this.runStart = rel;
  }

  private closeRun(): void {
    if (this.chunks.length > 0) {
      this.runs.push({ offset: this.runStart, data: Buffer.concat(this.chunks), pieces: this.pieces });
    }
    this.chunks = [];
    this.pieces = [];
    this.runStart = this.next;
  }

  /** Ends the stream: held segments flushed, a truncated tail reported as a gap. */
  finish(): TcpStream {
    this.flushPending();
    if (this.expectedEnd > this.next) this.gapTo(this.expectedEnd);
    this.closeRun();
    const { src, dst, synSeen, finSeen, rstSeen, runs, gaps, stats } = this;
    return { src, dst, synSeen, finSeen, rstSeen, runs, gaps, stats };
  }
}

interface ConnBuilder {
  id: number;
  client: Endpoint;
  server: Endpoint;
  firstFrame: number;
  firstTsUs: number;
  lastTsUs: number;
  toServer: DirectionAssembler;
  toClient: DirectionAssembler;
}

const endpointKey = (e: Endpoint): string => `${e.ip}|${e.port}`;

/**
 * Reassembles every TCP connection among `packets` (capture order). Packets without a TCP header are
 * ignored.
 * @returns connections in order of their first packet
 */
export function reassembleTcp(packets: Iterable<ParsedPacket>, opts: ReassemblyOptions = {}): TcpConnection[] {
  const maxPending = opts.maxPendingBytes ?? 4 * 1024 * 1024;
  const open = new Map<string, ConnBuilder>();
  const all: ConnBuilder[] = [];
  for (const p of packets) {
    if (!p.tcp || !p.ip) continue;
    const src = { ip: p.ip.src, port: p.tcp.srcPort };
    const dst = { ip: p.ip.dst, port: p.tcp.dstPort };
    const [ka, kb] = [endpointKey(src), endpointKey(dst)].sort();
    const key = `${ka}/${kb}`;
    let conn = open.get(key);
    const pureSyn = (p.tcp.flags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) === TCP_FLAGS.SYN;
    if (conn && pureSyn && isNewConnection(conn, src, p.tcp.seq)) conn = undefined;
    if (!conn) {
      conn = newConnection(all.length, p, src, dst, maxPending);
      open.set(key, conn);
      all.push(conn);
    }
    conn.lastTsUs = Math.max(conn.lastTsUs, p.tsUs);
    const toServer = endpointKey(src) === endpointKey(conn.client);
    (toServer ? conn.toServer : conn.toClient).add(p);
  }
  return all.map((c) => ({
    id: c.id, client: c.client, server: c.server, firstFrame: c.firstFrame, firstTsUs: c.firstTsUs, lastTsUs: c.lastTsUs,
    toServer: c.toServer.finish(), toClient: c.toClient.finish(),
  }));
}

/**
 * Whether a pure SYN from `src` opens a new connection on a 4-tuple already seen: yes when its initial
 * sequence number differs from the one that direction started with, or when the old one was reset or
 * closed both ways.
 */
function isNewConnection(conn: ConnBuilder, src: Endpoint, seq: number): boolean {
  const dir = endpointKey(src) === endpointKey(conn.client) ? conn.toServer : conn.toClient;
  if (dir.isn !== undefined) return dir.isn !== ((seq + 1) >>> 0);
  const [a, b] = [conn.toServer, conn.toClient];
  return a.rstSeen || b.rstSeen || (a.finSeen && b.finSeen);
}

function newConnection(id: number, p: ParsedPacket, src: Endpoint, dst: Endpoint, maxPending: number): ConnBuilder {
  const flags = p.tcp!.flags;
  let clientIsSrc: boolean;
  if (flags & TCP_FLAGS.SYN) clientIsSrc = (flags & TCP_FLAGS.ACK) === 0;
  else clientIsSrc = src.port > dst.port || (src.port === dst.port && endpointKey(src) > endpointKey(dst));
  const [client, server] = clientIsSrc ? [src, dst] : [dst, src];
  return {
    id, client, server, firstFrame: p.frame, firstTsUs: p.tsUs, lastTsUs: p.tsUs,
    toServer: new DirectionAssembler(client, server, maxPending),
    toClient: new DirectionAssembler(server, client, maxPending),
  };
}
