/**
 * The agent's packet source (I/O edge): `tcpdump` writing a live pcap of the interface's OUTGOING IPv4
 * packets to its stdout, split into records by {@link PcapRecordReader}; each record is parsed by
 * lib/packet/frame.ts and reduced to the detector's {@link OutgoingPacket} (pure: {@link toOutgoing}).
 *
 *   tcpdump -i IF -U -w - -s 128 -Q out --immediate-mode -B 4096 --time-stamp-precision=micro ip
 *
 * 128 bytes of snap length hold Ethernet + IPv4 + TCP headers with options; `-U` and `--immediate-mode`
 * hand each packet over at once (no 2 MB buffering); `-B 4096` is the kernel buffer in KiB. Timestamps
 * are µs since the epoch (the same clock as the agent's). An `exclude` host:port (the controller's
 * WebSocket, when it is reached through this interface) is filtered out so the agent's own channel is
 * not a flowlet.
 *
 * With `nflogGroup` it reads NFLOG group N instead (`tcpdump -i nflog:N`): the packets the agent's
 * nftables table logs — one per flowlet start (agent/nft-rules.ts) — so the stream carries a record per
 * flowlet, not per packet. An NFLOG record (link type 239) is a 4-byte header and TLVs (length and type
 * little-endian on this host, each padded to 4 bytes); type 9, NFULA_PAYLOAD, holds the IPv4 packet
 * ({@link nflogPayload}); type 10, NFULA_PREFIX, the rule's log prefix ({@link nflogPrefix}: crossings of
 * the small-flowlet threshold are logged with one, starts without). Output-hook packets carry no kernel timestamp in NFLOG, so the record's time is
 * when libpcap read it (µs after the packet with the log's queue threshold of 1). The table logs 80 bytes
 * of each packet (`snaplen 80`: IPv4 and TCP headers with options, what {@link toOutgoing} reads).
 *
 * The stream is read chunk by chunk with no per-record copy: a record is a view into the chunk it
 * arrived in (a record split across two reads is joined once). Only the record header (time, lengths)
 * and the frame's headers are read.
 *
 * tcpdump is stopped by its pid (SIGTERM, then SIGKILL after 2 s). If it exits on its own it is restarted
 * after 1 s (logged); so is a stream that stops being a pcap (logged).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LINKTYPE, parsePacket, type ParsedPacket } from '../lib/packet/frame.js';
import type { Logger } from '../lib/log.js';
import type { OutgoingPacket } from './detector.js';

export interface CaptureExclude {
  /** IPv4 address or name of the controller */
  readonly host: string;
  readonly port: number;
}

/** The tcpdump argv (without the program name). */
export function tcpdumpArgs(dev: string, exclude?: CaptureExclude): string[] {
  const filter = exclude ? `ip and not (host ${exclude.host} and tcp port ${exclude.port})` : 'ip';
  return ['-i', dev, '-U', '-w', '-', '-s', '128', '-Q', 'out', '--immediate-mode', '-B', '4096', '--time-stamp-precision=micro', filter];
}

/** tcpdump's argv reading NFLOG group `group` (see the file comment). */
export function nflogArgs(group: number): string[] {
  return ['-i', `nflog:${group}`, '-U', '-w', '-', '-s', '128', '--immediate-mode', '--time-stamp-precision=micro'];
}

/** LINKTYPE_NFLOG (tcpdump.org/linktypes.html). */
export const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;

/** The value of the first TLV of `type` in an NFLOG record; undefined when there is none or it is malformed. */
function nflogTlv(rec: Buffer, want: number): Buffer | undefined {
  const at = nflogTlvAt(rec, want);
  return at < 0 ? undefined : rec.subarray(at + 4, at + rec.readUInt16LE(at));
}

/** The offset of the first TLV of `type` in an NFLOG record (its 4-byte TLV header); -1 when there is none or it is malformed. */
function nflogTlvAt(rec: Buffer, want: number): number {
  let off = 4;
  while (off + 4 <= rec.length) {
    const len = rec[off]! | (rec[off + 1]! << 8);
    const type = (rec[off + 2]! | (rec[off + 3]! << 8)) & 0x7fff;
    if (len < 4 || off + len > rec.length) return -1;
    if (type === want) return off;
    off += (len + 3) & ~3;
  }
  return -1;
}

/** The packet inside an NFLOG record (its NFULA_PAYLOAD TLV); undefined when there is none or it is malformed. */
export function nflogPayload(rec: Buffer): Buffer | undefined {
  return nflogTlv(rec, NFULA_PAYLOAD);
}

/** The log prefix of an NFLOG record (NFULA_PREFIX, NUL-terminated); '' when it has none. */
export function nflogPrefix(rec: Buffer): string {
  const v = nflogTlv(rec, NFULA_PREFIX);
  if (!v) return '';
  const nul = v.indexOf(0);
  return v.subarray(0, nul < 0 ? v.length : nul).toString('latin1');
}

/** True when the NFLOG record's prefix is `prefix` (its bytes, NUL-terminated), without making a string. */
function nflogPrefixIs(rec: Buffer, prefix: Buffer): boolean {
  const at = nflogTlvAt(rec, NFULA_PREFIX);
  if (at < 0) return prefix.length === 0;
  const len = rec[at]! | (rec[at + 1]! << 8);
  const v = at + 4;
  const n = prefix.length;
  if (len - 4 < n || (len - 4 > n && rec[v + n] !== 0)) return false;
  return rec.compare(prefix, 0, n, v, v + n) === 0;
}

/** libpcap's MAXIMUM_SNAPLEN: a record header claiming more is not a pcap stream, bytes. */
const MAX_RECORD_BYTES = 262_144;

/**
 * Splits a libpcap stream (the 24-byte file header, then records of a 16-byte header and the captured
 * bytes; either byte order; µs or ns timestamps: magic a1b2c3d4 / a1b23c4d, tcpdump.org/manpages/pcap-savefile.5)
 * into records, chunk by chunk as they are read. `onRecord` gets the link type, the time in µs since the
 * epoch, the length on the wire and the captured bytes — a view into the chunk, valid during the call.
 */
export class PcapRecordReader {
  /** link type of the stream (LINKTYPE_*); undefined before the file header */
  linkType: number | undefined;
  private little = true;
  private nanos = false;
  /** bytes of an incomplete header or record, kept until the next chunk */
  private rest: Buffer | undefined;
  /** set once the stream is not a pcap (a bad magic, an impossible record length): nothing more is read */
  broken: string | undefined;

  constructor(private readonly onRecord: (linkType: number, tsUs: number, origLen: number, data: Buffer) => void) {}

  /** Feeds the next chunk of the stream. Returns false once the stream is broken (see {@link broken}). */
  push(chunk: Buffer): boolean {
    if (this.broken !== undefined) return false;
    let b = chunk;
    if (this.rest) {
      b = Buffer.concat([this.rest, chunk]);
      this.rest = undefined;
    }
    let at = 0;
    if (this.linkType === undefined) {
      if (b.length < 24) {
        this.rest = Buffer.from(b);
        return true;
      }
      const magic = b.readUInt32LE(0);
      if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.little = true;
      else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) this.little = false;
      else return this.fail(`not a pcap stream (magic ${magic.toString(16)})`);
      this.nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
      this.linkType = (this.little ? b.readUInt32LE(20) : b.readUInt32BE(20)) & 0x0fffffff;
      at = 24;
    }
    const link = this.linkType;
    while (b.length - at >= 16) {
      const sec = this.little ? b.readUInt32LE(at) : b.readUInt32BE(at);
      const frac = this.little ? b.readUInt32LE(at + 4) : b.readUInt32BE(at + 4);
      const inclLen = this.little ? b.readUInt32LE(at + 8) : b.readUInt32BE(at + 8);
      const origLen = this.little ? b.readUInt32LE(at + 12) : b.readUInt32BE(at + 12);
      if (inclLen > MAX_RECORD_BYTES) return this.fail(`record of ${inclLen} bytes`);
      if (b.length - at - 16 < inclLen) break;
      const tsUs = sec * 1e6 + (this.nanos ? Math.floor(frac / 1000) : frac);
      this.onRecord(link, tsUs, origLen, b.subarray(at + 16, at + 16 + inclLen));
      at += 16 + inclLen;
    }
    // the tail is copied: the chunk it came in is not kept alive
    if (at < b.length) this.rest = Buffer.from(b.subarray(at));
    return true;
  }

  private fail(why: string): false {
    this.broken = why;
    this.rest = undefined;
    return false;
  }
}

/** The detector's view of a parsed IPv4 TCP/UDP packet; undefined for anything else (fragments, IPv6, ICMP…). */
export function toOutgoing(p: ParsedPacket): OutgoingPacket | undefined {
  const ip = p.ip;
  if (!ip || ip.version !== 4 || ip.fragment) return undefined;
  if (p.tcp) {
    return { tsUs: p.tsUs, flow: { src: ip.src, dst: ip.dst, proto: 6, sport: p.tcp.srcPort, dport: p.tcp.dstPort }, ipBytes: ip.length, payloadBytes: p.tcp.payloadLen };
  }
  if (p.udp) {
    return { tsUs: p.tsUs, flow: { src: ip.src, dst: ip.dst, proto: 17, sport: p.udp.srcPort, dport: p.udp.dstPort }, ipBytes: ip.length, payloadBytes: p.udp.payloadLen };
  }
  return undefined;
}

export interface CaptureOptions {
  readonly dev: string;
  readonly log: Logger;
  readonly onPacket: (p: OutgoingPacket) => void;
  readonly exclude?: CaptureExclude;
  /** read this NFLOG group instead of the interface (the nftables table's flowlet starts) */
  readonly nflogGroup?: number;
  /** NFLOG records with this prefix go to `onPrefixed` instead of `onPacket` (crossings of the small-flowlet threshold) */
  readonly prefixed?: { readonly prefix: string; readonly onPacket: (p: OutgoingPacket) => void };
  /** program (default `tcpdump`; tests may prefix `ip netns exec NS`) */
  readonly command?: readonly string[];
  /** restart delay after tcpdump exits on its own, ms (default 1000) */
  readonly restartMs?: number;
}

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** A running capture (see the file comment). */
export class PacketCapture {
  private child: Child | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** records read, records that did not parse */
  records = 0;
  malformed = 0;

  constructor(private readonly opts: CaptureOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts tcpdump (a spawn failure is logged, and retried like an exit). */
  start(): void {
    this.stopping = false;
    const [cmd, ...pre] = this.opts.command ?? ['tcpdump'];
    const args = this.opts.nflogGroup !== undefined ? nflogArgs(this.opts.nflogGroup) : tcpdumpArgs(this.opts.dev, this.opts.exclude);
    const child = spawn(cmd!, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const prefix = this.opts.prefixed ? Buffer.from(this.opts.prefixed.prefix, 'latin1') : undefined;
    const reader = new PcapRecordReader((linkType, tsUs, origLen, data) => this.record(linkType, tsUs, origLen, data, prefix));
    child.stdout.on('data', (chunk: Buffer) => {
      if (this.child !== child || reader.push(chunk)) return;
      this.opts.log.error({ event: 'capture_parse_error', reason: reader.broken }, `reading tcpdump's pcap failed (${reader.broken ?? ''}): restarting it`);
      kill(child.pid, 'SIGKILL');
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => this.opts.log.debug({ event: 'tcpdump_stderr', text: d.trim() }, 'tcpdump'));
    child.on('error', (err) => this.opts.log.error({ event: 'capture_spawn_error', err }, `cannot run ${cmd}: ${err.message}`));
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopping) return;
      this.opts.log.error({ event: 'capture_exited', code, signal }, `tcpdump on ${this.opts.dev} exited; restarting`);
      this.restartTimer = setTimeout(() => this.start(), this.opts.restartMs ?? 1000);
    });
    const what = this.opts.nflogGroup !== undefined ? `flowlet starts (NFLOG group ${this.opts.nflogGroup})` : `outgoing packets on ${this.opts.dev}`;
    this.opts.log.info({ event: 'capture_started', dev: this.opts.dev, pid: child.pid, nflogGroup: this.opts.nflogGroup ?? null }, `capturing ${what}`);
  }

  /** One pcap record: an NFLOG record (a start, or a crossing with `prefix`) or a frame of the interface. */
  private record(linkType: number, tsUs: number, origLen: number, data: Buffer, prefix: Buffer | undefined): void {
    this.records++;
    let parsed;
    let onPacket = this.opts.onPacket;
    if (linkType === LINKTYPE_NFLOG) {
      if (prefix && this.opts.prefixed && nflogPrefixIs(data, prefix)) onPacket = this.opts.prefixed.onPacket;
      const ip = nflogPayload(data);
      if (!ip) {
        this.malformed++;
        return;
      }
      parsed = parsePacket(LINKTYPE.RAW, { frame: this.records, tsUs, origLen: ip.length, data: ip });
    } else parsed = parsePacket(linkType, { frame: this.records, tsUs, origLen, data });
    if (!parsed.ok) {
      this.malformed++;
      return;
    }
    const out = toOutgoing(parsed.value);
    if (out) onPacket(out);
  }

  /** Stops tcpdump by its pid and waits for it to exit. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const pid = child.pid;
    kill(pid, 'SIGTERM');
    const timer = setTimeout(() => kill(pid, 'SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

function kill(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
