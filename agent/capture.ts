/**
 * The agent's packet source (I/O edge): `tcpdump` writing a live pcap of the interface's OUTGOING IPv4
 * packets to its stdout, read by `pcap-parser`; each record is parsed by lib/packet/frame.ts
 * and reduced to the detector's {@link OutgoingPacket} (pure: {@link toOutgoing}).
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
 * when libpcap read it (µs after the packet with the log's queue threshold of 1).
 *
 * tcpdump is stopped by its pid (SIGTERM, then SIGKILL after 2 s). If it exits on its own it is restarted
 * after 1 s (logged).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import pcapParser from 'pcap-parser';
import type { PcapGlobalHeader, PcapPacketHeader } from 'pcap-parser';
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
  let off = 4;
  while (off + 4 <= rec.length) {
    const len = rec.readUInt16LE(off);
    const type = rec.readUInt16LE(off + 2) & 0x7fff;
    if (len < 4 || off + len > rec.length) return undefined;
    if (type === want) return rec.subarray(off + 4, off + len);
    off += (len + 3) & ~3;
  }
  return undefined;
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
    let linkType = 1;
    const parser = pcapParser.parse(child.stdout);
    let header: PcapPacketHeader | undefined;
    parser.on('globalHeader', (h: PcapGlobalHeader) => (linkType = h.linkLayerType));
    parser.on('packetHeader', (h: PcapPacketHeader) => (header = h));
    parser.on('packetData', (data: Buffer) => {
      const h = header;
      if (!h) return;
      this.records++;
      const tsUs = h.timestampSeconds * 1e6 + h.timestampMicroseconds;
      let parsed;
      let onPacket = this.opts.onPacket;
      if (linkType === LINKTYPE_NFLOG) {
        if (this.opts.prefixed && nflogPrefix(data) === this.opts.prefixed.prefix) onPacket = this.opts.prefixed.onPacket;
        const ip = nflogPayload(data);
        if (!ip) {
          this.malformed++;
          return;
        }
        parsed = parsePacket(LINKTYPE.RAW, { frame: this.records, tsUs, origLen: ip.length, data: ip });
      } else parsed = parsePacket(linkType, { frame: this.records, tsUs, origLen: h.originalLength, data });
      if (!parsed.ok) {
        this.malformed++;
        return;
      }
      const out = toOutgoing(parsed.value);
      if (out) onPacket(out);
    });
    parser.on('error', (err: Error) => this.opts.log.error({ event: 'capture_parse_error', err }, `reading tcpdump's pcap failed: ${err.message}`));
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

  /** Stops tcpdump by its pid and waits for it to exit. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const pid = child.pid;
    const kill = (sig: NodeJS.Signals): void => {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
