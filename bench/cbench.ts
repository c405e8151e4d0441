/**
 * A cbench-style OpenFlow 1.3 load generator (Rivulet's own; cbench itself speaks OpenFlow 1.0): N fake
 * switches on loopback TCP, each keeping `window` table-miss PACKET_INs outstanding, every one the first
 * packet (TCP SYN) of a brand-new 5-tuple between two hosts on that switch. A flow setup completes when the
 * controller's PACKET_OUT carrying that packet arrives (the packet is identified by its TCP sequence
 * number); FLOW_MODs are counted alongside, so a controller that only forwards is visible (flow-mods per
 * setup < 1). Latency is from the PACKET_IN write to the PACKET_OUT read.
 *
 * Built to cost little per message, so that it can load a fast controller: frames are parsed from the
 * header fields only (no decoder), packet-ins are patched copies of one template, and the packet-ins of
 * one read are written as one buffer. The switch side answers what controllers ask during set-up (HELLO,
 * FEATURES, GET_CONFIG, PORT_DESC / DESC / METER_FEATURES multiparts, BARRIER, ECHO) per OpenFlow 1.3.5
 * §7.3; everything else is read and ignored.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const OFP_VERSION = 4;
const T = { HELLO: 0, ERROR: 1, ECHO_REQUEST: 2, ECHO_REPLY: 3, FEATURES_REQUEST: 5, FEATURES_REPLY: 6, GET_CONFIG_REQUEST: 7, GET_CONFIG_REPLY: 8, PACKET_IN: 10, PACKET_OUT: 13, FLOW_MOD: 14, MULTIPART_REQUEST: 18, MULTIPART_REPLY: 19, BARRIER_REQUEST: 20, BARRIER_REPLY: 21 } as const;
const MP = { DESC: 0, METER_FEATURES: 11, PORT_DESC: 13 } as const;
/** hosts (ports) per fake switch */
export const HOSTS_PER_SWITCH = 4;
const FRAME_BYTES = 14 + 20 + 20;
/** offset of the frame inside our PACKET_IN: header 8, buffer_id 4, total_len 2, reason 1, table 1, cookie 8, match 16, pad 2 */
const PI_DATA = 42;

export const hostMac = (sw: number, h: number): Buffer => Buffer.from([0x02, 0xcb, (sw >> 8) & 0xff, sw & 0xff, 0, h + 1]);
export const hostIp = (sw: number, h: number): Buffer => Buffer.from([10, (sw >> 8) & 0xff, sw & 0xff, h + 1]);

function header(type: number, length: number, xid: number): Buffer {
  const b = Buffer.alloc(length);
  b[0] = OFP_VERSION;
  b[1] = type;
  b.writeUInt16BE(length, 2);
  b.writeUInt32BE(xid >>> 0, 4);
  return b;
}

/** A PACKET_IN (no buffer, reason no-match, match = in_port) around `frame`. */
function packetIn(inPort: number, frame: Buffer): Buffer {
  const b = header(T.PACKET_IN, PI_DATA + frame.length, 0);
  b.writeUInt32BE(0xffffffff, 8);
  b.writeUInt16BE(frame.length, 12);
  // match: OFPMT_OXM, length 12 (4 + one 8-byte OXM), padded to 16
  b.writeUInt16BE(1, 24);
  b.writeUInt16BE(12, 26);
  b.writeUInt32BE(0x80000004, 28); // OXM_OF_IN_PORT, length 4
  b.writeUInt32BE(inPort, 32);
  frame.copy(b, PI_DATA);
  return b;
}

/** Ethernet + IPv4 + TCP SYN from host `s` to host `d` of switch `sw` (ports, seq patched per flow). */
function synFrame(sw: number, s: number, d: number): Buffer {
  const f = Buffer.alloc(FRAME_BYTES);
  hostMac(sw, d).copy(f, 0);
  hostMac(sw, s).copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40, 16);
  f[22] = 64;
  f[23] = 6;
  hostIp(sw, s).copy(f, 26);
  hostIp(sw, d).copy(f, 30);
  f[14 + 20 + 12] = 0x50;
  f[14 + 20 + 13] = 0x02; // SYN
  f.writeUInt16BE(65535, 14 + 20 + 14);
  return f;
}

/** Gratuitous ARP from host `h` (so learning controllers and Rivulet know every host before the flows). */
function garpFrame(sw: number, h: number): Buffer {
  const f = Buffer.alloc(42);
  f.fill(0xff, 0, 6);
  hostMac(sw, h).copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20);
  hostMac(sw, h).copy(f, 22);
  hostIp(sw, h).copy(f, 28);
  hostIp(sw, h).copy(f, 38);
  return f;
}

function portDesc(sw: number): Buffer {
  const body = Buffer.alloc(64 * HOSTS_PER_SWITCH);
  for (let p = 0; p < HOSTS_PER_SWITCH; p++) {
    const o = p * 64;
    body.writeUInt32BE(p + 1, o);
    Buffer.from([0x02, 0xcc, (sw >> 8) & 0xff, sw & 0xff, 0, p + 1]).copy(body, o + 8);
    body.write(`s${sw}-eth${p + 1}`, o + 16, 15, 'latin1');
    body.writeUInt32BE(4, o + 36); // state: live
    body.writeUInt32BE(0x2840, o + 40); // curr: 10 Gb FD, copper, autoneg
    body.writeUInt32BE(10_000_000, o + 56); // curr_speed kbps
    body.writeUInt32BE(10_000_000, o + 60);
  }
  return body;
}

export interface GenSwitchStats {
  completed: number;
  flowMods: number;
  /** latency samples, ms (only while recording) */
  latMs: number[];
}

/** One fake switch. */
export class GenSwitch {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private readonly templates: Buffer[] = [];
  private seq = 1;
  private readonly sentAt = new Map<number, number>();
  private running = false;
  private recording = false;
  private out: Buffer[] = [];
  /** flow-mods received (the table-miss entry at set-up included) */
  flowModsTotal = 0;
  readonly stats: GenSwitchStats = { completed: 0, flowMods: 0, latMs: [] };
  closed = false;

  private constructor(sock: net.Socket, readonly index: number, readonly dpid: bigint) {
    this.sock = sock;
    for (let s = 0; s < HOSTS_PER_SWITCH; s++) {
      for (let d = 0; d < HOSTS_PER_SWITCH; d++) if (s !== d) this.templates.push(packetIn(s + 1, synFrame(index, s, d)));
    }
    sock.setNoDelay(true);
    sock.on('data', (c: Buffer) => this.onData(c));
    sock.on('close', () => {
      this.closed = true;
    });
    sock.on('error', () => undefined);
    sock.write(header(T.HELLO, 8, 1));
  }

  static connect(port: number, index: number): Promise<GenSwitch> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port, host: '127.0.0.1' }, () => resolve(new GenSwitch(sock, index, BigInt(0xc0de0000 + index))));
      sock.once('error', reject);
    });
  }

  /** Every host sends a gratuitous ARP. */
  announce(): void {
    for (let h = 0; h < HOSTS_PER_SWITCH; h++) this.sock.write(packetIn(h + 1, garpFrame(this.index, h)));
  }

  /** Starts (or changes) the closed loop with `window` packet-ins outstanding. */
  start(window: number): void {
    this.running = true;
    this.sentAt.clear();
    for (let i = 0; i < window; i++) this.fire();
    this.flush();
  }

  /** Stops issuing new packet-ins (outstanding ones still complete). */
  stop(): void {
    this.running = false;
  }

  record(on: boolean): void {
    this.recording = on;
    if (on) {
      this.stats.completed = 0;
      this.stats.flowMods = 0;
      this.stats.latMs = [];
    }
  }

  close(): void {
    this.sock.destroy();
  }

  private fire(): void {
    const seq = this.seq++;
    const t = this.templates[seq % this.templates.length]!;
    const b = Buffer.from(t); // a copy: the template stays intact
    const tcp = PI_DATA + 34;
    b.writeUInt16BE(1024 + (seq % 64000), tcp);
    b.writeUInt16BE(1 + (Math.floor(seq / 64000) % 60000), tcp + 2);
    b.writeUInt32BE(seq >>> 0, tcp + 4);
    this.sentAt.set(seq >>> 0, performance.now());
    this.out.push(b);
  }

  private flush(): void {
    if (this.out.length === 0) return;
    this.sock.write(this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out));
    this.out = [];
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let off = 0;
    while (this.buf.length - off >= 8) {
      const len = this.buf.readUInt16BE(off + 2);
      if (len < 8) {
        this.sock.destroy();
        return;
      }
      if (this.buf.length - off < len) break;
      this.onFrame(this.buf.subarray(off, off + len));
      off += len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(off));
    this.flush();
  }

  private onFrame(f: Buffer): void {
    const type = f[1]!;
    const xid = f.readUInt32BE(4);
    switch (type) {
      case T.PACKET_OUT: {
        const actionsLen = f.readUInt16BE(16);
        const d = 24 + actionsLen;
        if (f.length < d + FRAME_BYTES || f.readUInt16BE(d + 12) !== 0x0800 || f[d + 23] !== 6) return;
        const seq = f.readUInt32BE(d + 34 + 4);
        const t0 = this.sentAt.get(seq);
        if (t0 === undefined) return;
        this.sentAt.delete(seq);
        if (this.recording) {
          this.stats.completed++;
          this.stats.latMs.push(performance.now() - t0);
        }
        if (this.running) this.fire();
        return;
      }
      case T.FLOW_MOD:
        this.flowModsTotal++;
        if (this.recording) this.stats.flowMods++;
        return;
      case T.ECHO_REQUEST: {
        const r = Buffer.from(f);
        r[1] = T.ECHO_REPLY;
        this.out.push(r);
        return;
      }
      case T.FEATURES_REQUEST: {
        const r = header(T.FEATURES_REPLY, 32, xid);
        r.writeBigUInt64BE(this.dpid, 8);
        r.writeUInt32BE(0, 16); // n_buffers
        r[20] = 254; // n_tables
        r.writeUInt32BE(0x4f, 24); // capabilities
        this.out.push(r);
        return;
      }
      case T.GET_CONFIG_REQUEST: {
        const r = header(T.GET_CONFIG_REPLY, 12, xid);
        r.writeUInt16BE(0xffff, 10);
        this.out.push(r);
        return;
      }
      case T.BARRIER_REQUEST:
        this.out.push(header(T.BARRIER_REPLY, 8, xid));
        return;
      case T.MULTIPART_REQUEST: {
        const mp = f.readUInt16BE(8);
        let body: Buffer = Buffer.alloc(0);
        if (mp === MP.PORT_DESC) body = portDesc(this.index);
        else if (mp === MP.DESC) body = Buffer.alloc(256 * 4 + 32);
        else if (mp === MP.METER_FEATURES) body = Buffer.alloc(16);
        const r = header(T.MULTIPART_REPLY, 16 + body.length, xid);
        r.writeUInt16BE(mp, 8);
        body.copy(r, 16);
        this.out.push(r);
        return;
      }
      default:
    }
  }
}

export interface LevelResult {
  readonly switches: number;
  readonly window: number;
  readonly durationMs: number;
  readonly setups: number;
  readonly flowMods: number;
  readonly latMs: number[];
  /** event-loop utilization of the generator's thread during the level (1 = the generator was busy all the time) */
  readonly generatorElu: number;
}

/** Runs one level: `window` outstanding on every switch, `warmupMs` unrecorded, then `durationMs` recorded. */
export async function runLevel(switches: readonly GenSwitch[], window: number, warmupMs: number, durationMs: number): Promise<LevelResult> {
  for (const s of switches) s.start(window);
  await sleep(warmupMs);
  for (const s of switches) s.record(true);
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await sleep(durationMs);
  const elapsed = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  for (const s of switches) {
    s.record(false);
    s.stop();
  }
  let setups = 0;
  let flowMods = 0;
  const latMs: number[] = [];
  for (const s of switches) {
    setups += s.stats.completed;
    flowMods += s.stats.flowMods;
    for (const x of s.stats.latMs) latMs.push(x);
  }
  await sleep(100); // outstanding packet-ins drain before the next level
  return { switches: switches.length, window, durationMs: elapsed, setups, flowMods, latMs, generatorElu: elu };
}

/** Connects `n` switches, waits until each has its table-miss entry (or `settleMs`), announces hosts. */
export async function connectSwitches(port: number, n: number, settleMs = 3000): Promise<GenSwitch[]> {
  const sws: GenSwitch[] = [];
  for (let i = 0; i < n; i++) sws.push(await GenSwitch.connect(port, i + 1));
  const t0 = performance.now();
  while (sws.some((s) => s.flowModsTotal === 0) && performance.now() - t0 < settleMs) await sleep(20);
  await sleep(200);
  for (const s of sws) s.announce();
  await sleep(500);
  return sws;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
