/**
 * One fake OpenFlow 1.3 switch of the fake fabric, a real OF1.3 endpoint over TCP (loopback): HELLO,
 * FEATURES_REPLY with its dpid, PORT_DESC with its ports and curr_speed, SET_CONFIG, ECHO, BARRIER,
 * ROLE, GET_CONFIG, FLOW_MOD into in-memory {@link FlowTables} (with FLOW_REMOVED on delete / timeout
 * when asked), GROUP_MOD and METER_MOD into their tables (OVS-like: only drop meter bands), multipart
 * DESC / FLOW / AGGREGATE / TABLE / PORT_STATS / PORT_DESC / METER* / GROUP* replies.
 *
 * A frame entering a port goes through the flow tables like in a real switch (§5.1 pipeline:
 * GOTO_TABLE, apply-actions, action set; OUTPUT, GROUP, SET_FIELD on Ethernet addresses and DSCP):
 * to the controller as a PACKET_IN (OFPR_NO_MATCH from the table-miss entry, OFPR_ACTION otherwise),
 * out of physical ports through the `transmit` hook (the fabric's wiring), or dropped (no entry: the
 * OF1.3 default). A PACKET_OUT runs its actions the same way (OFPP_TABLE → the pipeline).
 * The switch knows nothing of the fabric: wiring is the owner's business.
 */
import net from 'node:net';
import {
  FrameDecoder, OFPCML_NO_BUFFER, OFPMPF_REPLY_MORE, OFPP, OFPPC, OFPPR, OFPR, OFP_NO_BUFFER,
  decodeMessage, encodeMessage,
  type MeterBand, type MessageOf, type OfpMessage,
} from '../../openflow/codec/index.js';
import { FlowTables, wantsFlowRemoved, type RemovedEntry } from './flow-table.js';
import { packetFields } from './frames.js';
import { multipartReplies, newPortState, portDesc, type FakePortSpec, type PortState } from './multipart-replies.js';
import { runActions, runPipeline, type GroupEntry, type PipelineContext, type PipelineOutput } from './pipeline.js';

export type { FakePortSpec } from './multipart-replies.js';
export type { PipelineOutput } from './pipeline.js';

export interface FabricSwitchOptions {
  readonly dpid: bigint;
  readonly name: string;
  readonly ports: readonly FakePortSpec[];
  /** keep every message received from the controller in `received` (default true; the bench turns it off) */
  readonly record?: boolean;
  /** period of the idle/hard timeout sweep in ms (default 500; 0 = never expire) */
  readonly expiryPeriodMs?: number;
  /** accept DSCP_REMARK meter bands (default false: OFPMMFC_BAD_BAND, like Open vSwitch) */
  readonly remarkBands?: boolean;
}

export interface FabricSwitchHooks {
  /** A frame leaves physical port `portNo` (the fabric delivers it to the peer or host). */
  transmit(sw: FabricSwitch, portNo: number, frame: Buffer, hops: number): void;
  /** Every message from the controller, decoded, before the switch acts on it. */
  observe?(sw: FabricSwitch, msg: OfpMessage): void;
  /** A frame was dropped (no entry, port down, hop limit). */
  dropped?(sw: FabricSwitch, inPort: number, frame: Buffer, why: string): void;
}

const MAX_HOPS = 32;
const OFPET = { BAD_REQUEST: 1, GROUP_MOD_FAILED: 6, METER_MOD_FAILED: 12 } as const;

export class FabricSwitch {
  readonly tables = new FlowTables();
  readonly groups = new Map<number, GroupEntry>();
  readonly meters = new Map<number, { flags: number; bands: readonly MeterBand[] }>();
  /** every message from the controller (when `record`) */
  readonly received: OfpMessage[] = [];
  readonly counts = { flowMods: 0, packetOuts: 0, packetIns: 0, errorsSent: 0 };
  /** resolves when the controller finished the handshake (first BARRIER after FEATURES); renewed by a reconnect */
  up: Promise<void>;
  private markUp!: () => void;
  private featuresAnswered = false;
  private readonly ports = new Map<number, PortState>();
  private readonly frames = new FrameDecoder();
  private readonly echoes = new Map<number, () => void>();
  private sock: net.Socket | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private nextXid = 0x80000000;
  private readonly startMs = Date.now();
  private readonly ctx: PipelineContext;
  closed = false;

  constructor(readonly opts: FabricSwitchOptions, private readonly hooks: FabricSwitchHooks) {
    for (const spec of opts.ports) {
      this.ports.set(spec.portNo, newPortState(spec));
    }
    this.ctx = { tables: this.tables, groups: this.groups, portUp: (p) => this.portUp(p) };
    this.up = new Promise((resolve) => (this.markUp = resolve));
  }

  get dpid(): bigint {
    return this.opts.dpid;
  }

  get name(): string {
    return this.opts.name;
  }

  /**
   * Connects to the controller at host:port and sends HELLO. Resolves once connected. After close() it
   * connects again with its flow tables, groups and meters kept (as OVS keeps them in fail-secure mode
   * across a controller restart), and `up` is renewed.
   */
  connect(port: number, host = '127.0.0.1'): Promise<void> {
    if (this.closed) {
      this.closed = false;
      this.featuresAnswered = false;
      this.up = new Promise((resolve) => (this.markUp = resolve));
    }
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, host, () => {
        sock.removeListener('error', reject);
        sock.on('error', () => undefined);
        resolve();
      });
      sock.setNoDelay(true);
      sock.once('error', reject);
      sock.on('data', (chunk: Buffer) => this.onData(chunk));
      sock.on('close', () => this.onClosed());
      this.sock = sock;
      this.send({ type: 'OFPT_HELLO', xid: 1, version: 4, elements: [{ type: 'OFPHET_VERSIONBITMAP', bitmaps: [1 << 4] }] });
      const period = this.opts.expiryPeriodMs ?? 500;
      if (period > 0) {
        this.sweep = setInterval(() => this.expire(), period);
        this.sweep.unref();
      }
    });
  }

  /** Closes the connection at once. */
  close(): void {
    this.sock?.destroy();
    this.onClosed();
  }

  send(msg: OfpMessage): void {
    if (this.sock && !this.sock.destroyed) this.sock.write(encodeMessage(msg));
  }

  /** One ECHO_REQUEST → ECHO_REPLY round trip through the controller's session. */
  echo(): Promise<void> {
    const xid = this.nextXid;
    this.nextXid = this.nextXid >= 0xfffffff0 ? 0x80000000 : this.nextXid + 1;
    return new Promise((resolve) => {
      this.echoes.set(xid, resolve);
      this.send({ type: 'OFPT_ECHO_REQUEST', xid, data: Buffer.alloc(0) });
    });
  }

  /** Port numbers of this switch. */
  portNumbers(): number[] {
    return [...this.ports.keys()];
  }

  portUp(portNo: number): boolean {
    const p = this.ports.get(portNo);
    return !!p && p.linkUp && (p.config & OFPPC.PORT_DOWN) === 0;
  }

  /** Sets a port's link state and tells the controller (PORT_STATUS MODIFY). */
  setLinkState(portNo: number, up: boolean): void {
    const p = this.ports.get(portNo);
    if (!p || p.linkUp === up) return;
    p.linkUp = up;
    this.send({ type: 'OFPT_PORT_STATUS', xid: 0, reason: OFPPR.MODIFY, desc: portDesc(p) });
  }

  /** A frame arrives on `inPort` from the wire (or a host): runs the pipeline and acts on the result. */
  receive(inPort: number, frame: Buffer, hops = 0): void {
    const p = this.ports.get(inPort);
    if (!p || !this.portUp(inPort) || (p.config & OFPPC.NO_RECV) !== 0) return this.drop(inPort, frame, 'port down');
    if (hops > MAX_HOPS) return this.drop(inPort, frame, 'hop limit');
    p.rxPackets++;
    p.rxBytes += BigInt(frame.length);
    const outs = runPipeline(this.ctx, inPort, frame, true, this.nowMs());
    if (outs.length === 0) this.drop(inPort, frame, 'no entry');
    this.emit(outs, inPort, hops);
  }

  /**
   * Where a frame arriving on `inPort` would go, without side effects (no counters, no packet-ins):
   * physical ports and OFPP_CONTROLLER. For tests that follow a packet through installed entries.
   */
  classify(inPort: number, frame: Buffer): PipelineOutput[] {
    return this.expand(runPipeline(this.ctx, inPort, frame, false, this.nowMs()), inPort);
  }

  /** Sends a PACKET_IN for `frame` as if it came in on `inPort`. */
  packetIn(inPort: number, frame: Buffer, reason: number = OFPR.NO_MATCH, tableId = 0, cookie = 0n): void {
    this.counts.packetIns++;
    this.send({
      type: 'OFPT_PACKET_IN', xid: 0, bufferId: OFP_NO_BUFFER, totalLen: frame.length, reason, tableId, cookie,
      match: [{ field: 'in_port', value: inPort }], data: frame,
    });
  }

  private drop(inPort: number, frame: Buffer, why: string): void {
    this.hooks.dropped?.(this, inPort, frame, why);
  }

  private onClosed(): void {
    this.closed = true;
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
    for (const resolve of this.echoes.values()) resolve();
    this.echoes.clear();
  }

  private nowMs(): number {
    return Date.now();
  }

  private expire(): void {
    this.sendRemoved(this.tables.expire(this.nowMs()));
  }

  private sendRemoved(removed: readonly RemovedEntry[]): void {
    const now = this.nowMs();
    for (const { entry: e, reason } of removed) {
      if (!wantsFlowRemoved(e)) continue;
      const ms = Math.max(0, now - e.installedMs);
      this.send({
        type: 'OFPT_FLOW_REMOVED', xid: 0, cookie: e.cookie, priority: e.priority, reason, tableId: e.tableId,
        durationSec: Math.floor(ms / 1000), durationNsec: Math.round((ms % 1000) * 1e6), idleTimeout: e.idleTimeout,
        hardTimeout: e.hardTimeout, packetCount: e.packetCount, byteCount: e.byteCount, match: e.match,
      });
    }
  }

  private onData(chunk: Buffer): void {
    this.frames.push(chunk);
    for (let f = this.frames.next(); f !== undefined; f = this.frames.next()) {
      if (!Buffer.isBuffer(f)) {
        this.close();
        return;
      }
      const r = decodeMessage(f);
      if (!r.ok) {
        this.error(OFPET.BAD_REQUEST, 6, f.readUInt32BE(4), f);
        continue;
      }
      if (this.opts.record !== false) this.received.push(r.value);
      this.hooks.observe?.(this, r.value);
      this.handle(r.value);
    }
  }

  private error(errType: number, code: number, xid: number, offending: Buffer | OfpMessage): void {
    this.counts.errorsSent++;
    const bytes = Buffer.isBuffer(offending) ? offending : encodeMessage(offending);
    this.send({ type: 'OFPT_ERROR', xid, errType, code, data: Buffer.from(bytes.subarray(0, 64)) });
  }

  private handle(m: OfpMessage): void {
    switch (m.type) {
      case 'OFPT_FEATURES_REQUEST':
        this.featuresAnswered = true;
        return this.send({
          type: 'OFPT_FEATURES_REPLY', xid: m.xid, datapathId: this.dpid, nBuffers: 0, nTables: this.tables.nTables,
          auxiliaryId: 0, capabilities: 0x4f, reserved: 0,
        });
      case 'OFPT_BARRIER_REQUEST':
        this.send({ type: 'OFPT_BARRIER_REPLY', xid: m.xid });
        if (this.featuresAnswered) this.markUp();
        return;
      case 'OFPT_ECHO_REQUEST':
        return this.send({ type: 'OFPT_ECHO_REPLY', xid: m.xid, data: m.data });
      case 'OFPT_ECHO_REPLY':
        this.echoes.get(m.xid)?.();
        this.echoes.delete(m.xid);
        return;
      case 'OFPT_GET_CONFIG_REQUEST':
        return this.send({ type: 'OFPT_GET_CONFIG_REPLY', xid: m.xid, flags: 0, missSendLen: OFPCML_NO_BUFFER });
      case 'OFPT_ROLE_REQUEST':
        return this.send({ type: 'OFPT_ROLE_REPLY', xid: m.xid, role: m.role || 1, generationId: m.generationId });
      case 'OFPT_FLOW_MOD':
        return this.onFlowMod(m);
      case 'OFPT_PACKET_OUT':
        return this.onPacketOut(m);
      case 'OFPT_GROUP_MOD':
        return this.onGroupMod(m);
      case 'OFPT_METER_MOD':
        return this.onMeterMod(m);
      case 'OFPT_PORT_MOD':
        return this.onPortMod(m);
      case 'OFPT_MULTIPART_REQUEST':
        return this.onMultipart(m);
      case 'OFPT_QUEUE_GET_CONFIG_REQUEST':
        return this.send({ type: 'OFPT_QUEUE_GET_CONFIG_REPLY', xid: m.xid, port: m.port, queues: [] });
      case 'OFPT_GET_ASYNC_REQUEST':
        return this.send({
          type: 'OFPT_GET_ASYNC_REPLY', xid: m.xid, packetInMask: [3, 0], portStatusMask: [7, 7], flowRemovedMask: [15, 0],
        });
      case 'unknown':
        return this.error(OFPET.BAD_REQUEST, 1, m.xid, m.body);
      default:
        return; // HELLO, SET_CONFIG, SET_ASYNC, TABLE_MOD, ERROR, EXPERIMENTER: nothing to answer
    }
  }

  private onFlowMod(m: MessageOf<'OFPT_FLOW_MOD'>): void {
    this.counts.flowMods++;
    const r = this.tables.apply(m, this.nowMs());
    if (r.error) return this.error(r.error.errType, r.error.code, m.xid, m);
    this.sendRemoved(r.removed);
  }

  private onPacketOut(m: MessageOf<'OFPT_PACKET_OUT'>): void {
    this.counts.packetOuts++;
    if (m.bufferId !== OFP_NO_BUFFER) return this.error(OFPET.BAD_REQUEST, 8 /* BUFFER_UNKNOWN */, m.xid, m);
    const outs: PipelineOutput[] = [];
    runActions(this.ctx, m.actions, m.data, packetFields(m.data, m.inPort), outs, undefined);
    const resolved: PipelineOutput[] = [];
    for (const o of outs) {
      if (o.port === OFPP.TABLE) resolved.push(...runPipeline(this.ctx, m.inPort, o.frame, true, this.nowMs()));
      else resolved.push(o);
    }
    this.emit(resolved, m.inPort, 0);
  }

  /** FLOOD/ALL/IN_PORT → physical ports; drops outputs to ports that do not exist. */
  private expand(outs: readonly PipelineOutput[], inPort: number): PipelineOutput[] {
    const result: PipelineOutput[] = [];
    for (const o of outs) {
      if (o.port === OFPP.FLOOD || o.port === OFPP.ALL) {
        for (const p of this.ports.keys()) if (p !== inPort) result.push({ port: p, frame: o.frame });
      } else if (o.port === OFPP.IN_PORT) result.push({ port: inPort, frame: o.frame });
      else if (o.port === OFPP.CONTROLLER || this.ports.has(o.port)) result.push(o);
    }
    return result;
  }

  private emit(outs: readonly PipelineOutput[], inPort: number, hops: number): void {
    for (const o of this.expand(outs, inPort)) {
      if (o.port === OFPP.CONTROLLER) {
        this.packetIn(inPort, o.frame, o.reason, o.tableId, o.cookie);
        continue;
      }
      const p = this.ports.get(o.port)!;
      if (!this.portUp(o.port) || (p.config & OFPPC.NO_FWD) !== 0) {
        this.drop(inPort, o.frame, `port ${o.port} down`);
        continue;
      }
      p.txPackets++;
      p.txBytes += BigInt(o.frame.length);
      this.hooks.transmit(this, o.port, o.frame, hops + 1);
    }
  }

  private onGroupMod(m: MessageOf<'OFPT_GROUP_MOD'>): void {
    const exists = this.groups.has(m.groupId);
    if (m.command === 0 && exists) return this.error(OFPET.GROUP_MOD_FAILED, 0 /* GROUP_EXISTS */, m.xid, m);
    if (m.command === 1 && !exists) return this.error(OFPET.GROUP_MOD_FAILED, 8 /* UNKNOWN_GROUP */, m.xid, m);
    if (m.command === 2) {
      if (m.groupId === 0xfffffffc) this.groups.clear();
      else this.groups.delete(m.groupId);
      return;
    }
    this.groups.set(m.groupId, { groupType: m.groupType, buckets: m.buckets });
  }

  private onMeterMod(m: MessageOf<'OFPT_METER_MOD'>): void {
    const exists = this.meters.has(m.meterId);
    if (m.command === 2) {
      if (m.meterId === 0xffffffff) this.meters.clear();
      else this.meters.delete(m.meterId);
      return;
    }
    if (m.meterId === 0 || m.meterId > 0xffff0000) return this.error(OFPET.METER_MOD_FAILED, 2 /* INVALID_METER */, m.xid, m);
    if (m.command === 0 && exists) return this.error(OFPET.METER_MOD_FAILED, 1 /* METER_EXISTS */, m.xid, m);
    if (m.command === 1 && !exists) return this.error(OFPET.METER_MOD_FAILED, 3 /* UNKNOWN_METER */, m.xid, m);
    if (!this.opts.remarkBands && m.bands.some((b) => b.type !== 'OFPMBT_DROP')) {
      return this.error(OFPET.METER_MOD_FAILED, 8 /* BAD_BAND */, m.xid, m);
    }
    this.meters.set(m.meterId, { flags: m.flags, bands: m.bands });
  }

  private onPortMod(m: MessageOf<'OFPT_PORT_MOD'>): void {
    const p = this.ports.get(m.portNo);
    if (!p) return this.error(7 /* PORT_MOD_FAILED */, 0 /* BAD_PORT */, m.xid, m);
    p.config = (p.config & ~m.mask) | (m.config & m.mask);
    this.send({ type: 'OFPT_PORT_STATUS', xid: 0, reason: OFPPR.MODIFY, desc: portDesc(p) });
  }

  private onMultipart(m: MessageOf<'OFPT_MULTIPART_REQUEST'>): void {
    const snapshot = {
      dpid: this.dpid, name: this.name, tables: this.tables, meters: this.meters, groups: this.groups, ports: this.ports,
      remarkBands: this.opts.remarkBands ?? false, startMs: this.startMs,
    };
    const parts = multipartReplies(snapshot, m.body, this.nowMs());
    if (!parts) return this.error(OFPET.BAD_REQUEST, 2 /* BAD_MULTIPART */, m.xid, m);
    parts.forEach((body, i) => {
      this.send({ type: 'OFPT_MULTIPART_REPLY', xid: m.xid, flags: i < parts.length - 1 ? OFPMPF_REPLY_MORE : 0, body });
    });
  }
}
