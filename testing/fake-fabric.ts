/**
 * A whole fake leaf-spine fabric of OpenFlow 1.3 switches, each a real OF1.3 endpoint over loopback TCP
 * ({@link FabricSwitch}), for tests and `npm run bench:setup` without Open vSwitch or root.
 *
 * Shape S spines × L leaves × H hosts per leaf, ports and cables as the test fabric's one leaf-spine model
 * lays them (leaf-spine.ts `leafSpine`): leaf l port s+1 ↔ spine s port l+1 (uplinks are ports 1..S of
 * every leaf); hosts are leaf ports S+1..S+H. Frames the controller packets out on a wired
 * port cross to the peer switch unchanged (so LLDP discovery works for real) and go through the peer's
 * flow tables: an LLDP entry or the table-miss entry turns them into PACKET_INs there (in_port = the peer
 * port). Frames leaving a host port are delivered to that {@link FakeHost}. Hosts inject ARP and IPv4
 * packets into their leaf's pipeline, so a new flow's first packet reaches the controller as a
 * table-miss PACKET_IN exactly as on a real switch. `trace()` follows a packet through the installed
 * entries without side effects, to check end-to-end forwarding.
 *
 * Defaults: the test fabric's one leaf-spine numbering (leaf-spine.ts): leaf i (0-based here) has dpid
 * i+1, spine j dpid 0x100+j+1; host h of leaf l is 10.0.(l+1).(h+1) with MAC 02:00:00:00:(l+1):(h+1);
 * every port 10 Gbit/s.
 */
import { FabricSwitch, type FabricSwitchHooks, type FakePortSpec } from './fabric/fabric-switch.js';
import { ETH_TYPE, arpFrame, packetFields, tcpFrame, udpFrame, type L4Spec } from './fabric/frames.js';
import type { OfpMessage } from '../openflow/codec/index.js';
import { hostIp, hostMac, leafDpid, leafSpine, spineDpid, type LeafSpineShape } from './leaf-spine.js';

export { FabricSwitch } from './fabric/fabric-switch.js';
export * from './fabric/frames.js';
export { FlowTables, matchFields, type FlowEntry } from './fabric/flow-table.js';

/** The fabric's shape (leaf-spine.ts). */
export type FabricShape = LeafSpineShape;

export type SwitchRoleName = 'spine' | 'leaf';

export interface FakeFabricOptions {
  readonly shape: FabricShape;
  /** dpid of a switch (default leaf i → i+1, spine j → 0x100+j+1) */
  readonly dpid?: (role: SwitchRoleName, index: number) => bigint;
  /** IPv4 address of host h of leaf l (default 10.0.(l+1).(h+1)) */
  readonly hostIp?: (leaf: number, host: number) => string;
  /** kbit/s of spine-leaf ports (default 10 Gbit/s) */
  readonly fabricSpeedKbps?: number;
  /** kbit/s of host ports (default 10 Gbit/s) */
  readonly hostSpeedKbps?: number;
  /** hosts answer ARP requests for their own address (default true) */
  readonly hostsAnswerArp?: boolean;
  /** keep received messages and frames (default true; the bench turns it off) */
  readonly record?: boolean;
  /** flow-table timeout sweep period in ms (default 500; 0 = never expire) */
  readonly expiryPeriodMs?: number;
}

/** One end of a wire. */
export interface WireEnd {
  readonly dpid: bigint;
  readonly portNo: number;
}

/** A spine-leaf cable (a = leaf side, b = spine side). */
export interface Wire {
  readonly a: WireEnd;
  readonly b: WireEnd;
  up: boolean;
}

/** Everything that happens in the fabric, for observers (the bench times these). */
export type FabricEvent =
  | { readonly kind: 'fromController'; readonly sw: FabricSwitch; readonly msg: OfpMessage }
  | { readonly kind: 'toHost'; readonly host: FakeHost; readonly frame: Buffer }
  | { readonly kind: 'dropped'; readonly sw: FabricSwitch; readonly inPort: number; readonly frame: Buffer; readonly why: string };

/** A server on a leaf port: sends frames into the leaf, receives what the leaf outputs on its port. */
export class FakeHost {
  /** frames delivered to this host (when recording) */
  readonly received: Buffer[] = [];
  receivedCount = 0;

  constructor(
    readonly name: string,
    readonly mac: string,
    readonly ip: string,
    readonly leafIndex: number,
    readonly leaf: FabricSwitch,
    readonly portNo: number,
    private readonly answersArp: boolean,
    private readonly record: boolean,
  ) {}

  /** Sends a frame into the leaf's port (it goes through the leaf's flow tables). */
  send(frame: Buffer): void {
    this.leaf.receive(this.portNo, frame);
  }

  arpRequest(targetIp: string): Buffer {
    const f = arpFrame({ op: 1, senderMac: this.mac, senderIp: this.ip, targetIp });
    this.send(f);
    return f;
  }

  /** An ARP reply to `to` (unicast), as if answering its request. */
  arpReply(to: { readonly mac: string; readonly ip: string }): Buffer {
    const f = arpFrame({ op: 2, senderMac: this.mac, senderIp: this.ip, targetMac: to.mac, targetIp: to.ip });
    this.send(f);
    return f;
  }

  /** Gratuitous ARP (request for its own address). */
  announce(): Buffer {
    return this.arpRequest(this.ip);
  }

  /** The first packet of a TCP flow (SYN) to `to`; returns the frame sent. */
  tcp(to: FakeHost, srcPort: number, dstPort: number, extra: Partial<L4Spec> = {}): Buffer {
    const f = tcpFrame({ srcMac: this.mac, dstMac: to.mac, srcIp: this.ip, dstIp: to.ip, srcPort, dstPort, ...extra });
    this.send(f);
    return f;
  }

  udp(to: FakeHost, srcPort: number, dstPort: number, extra: Partial<L4Spec> = {}): Buffer {
    const f = udpFrame({ srcMac: this.mac, dstMac: to.mac, srcIp: this.ip, dstIp: to.ip, srcPort, dstPort, ...extra });
    this.send(f);
    return f;
  }

  /** Called by the fabric when the leaf outputs a frame on this host's port. */
  deliver(frame: Buffer): void {
    this.receivedCount++;
    if (this.record) this.received.push(frame);
    if (!this.answersArp) return;
    const f = packetFields(frame, this.portNo);
    if (f.eth_type === ETH_TYPE.ARP && f.arp_op === 1 && f.arp_tpa === this.ip && f.arp_spa !== this.ip) {
      const reply = arpFrame({ op: 2, senderMac: this.mac, senderIp: this.ip, targetMac: String(f.arp_sha), targetIp: String(f.arp_spa) });
      setImmediate(() => this.send(reply));
    }
  }
}

/** Result of {@link FakeFabric.trace}. */
export interface TraceResult {
  /** switches crossed in order, with the ports the packet entered and left by */
  readonly hops: readonly { readonly dpid: bigint; readonly inPort: number; readonly outPorts: readonly number[] }[];
  readonly deliveredTo: readonly FakeHost[];
  /** switches that would send the packet to the controller */
  readonly toController: readonly bigint[];
  /** switches where the packet found no entry (dropped) */
  readonly droppedAt: readonly bigint[];
}

export class FakeFabric {
  readonly spines: FabricSwitch[] = [];
  readonly leaves: FabricSwitch[] = [];
  readonly hosts: FakeHost[] = [];
  readonly wires: Wire[] = [];
  private readonly peers = new Map<string, { wire: Wire; to: WireEnd }>();
  private readonly hostAt = new Map<string, FakeHost>();
  private readonly byDpid = new Map<bigint, FabricSwitch>();
  private readonly listeners = new Set<(e: FabricEvent) => void>();

  constructor(readonly opts: FakeFabricOptions) {
    const { spines, leaves, hostsPerLeaf } = opts.shape;
    const dpidOf = opts.dpid ?? ((role: SwitchRoleName, i: number) => (role === 'leaf' ? leafDpid(i + 1) : spineDpid(i + 1)));
    const ipOf = opts.hostIp ?? ((l: number, h: number) => hostIp(l + 1, h + 1));
    const fabricKbps = opts.fabricSpeedKbps ?? 10_000_000;
    const hostKbps = opts.hostSpeedKbps ?? 10_000_000;
    const hooks: FabricSwitchHooks = {
      transmit: (sw, port, frame, hops) => this.carry(sw, port, frame, hops),
      observe: (sw, msg) => this.notify({ kind: 'fromController', sw, msg }),
      dropped: (sw, inPort, frame, why) => this.notify({ kind: 'dropped', sw, inPort, frame, why }),
    };
    // the one leaf-spine model (leaf-spine.ts) numbers the ports and lays the cables
    const spec = leafSpine(spines, leaves, hostsPerLeaf, [
      ...Array.from({ length: spines }, (_, j) => dpidOf('spine', j)),
      ...Array.from({ length: leaves }, (_, i) => dpidOf('leaf', i)),
    ]);
    const wired = new Set(spec.wires.flatMap((w) => [endKey(w.a), endKey(w.b)]));
    const mk = (role: SwitchRoleName, i: number, dpid: bigint): FabricSwitch => {
      const name = `${role === 'leaf' ? 'l' : 's'}${i + 1}`;
      const ports: FakePortSpec[] = spec.switches.find((s) => s.dpid === dpid)!.ports.map(({ portNo }) => ({
        portNo, name: `${name}-eth${portNo}`, hwAddr: portMac(dpid, portNo),
        currSpeedKbps: wired.has(endKey({ dpid, portNo })) ? fabricKbps : hostKbps,
      }));
      const sw = new FabricSwitch(
        { dpid, name, ports, record: opts.record, expiryPeriodMs: opts.expiryPeriodMs }, hooks,
      );
      this.byDpid.set(dpid, sw);
      return sw;
    };
    spec.spines.forEach((d, j) => this.spines.push(mk('spine', j, d)));
    spec.leaves.forEach((d, i) => this.leaves.push(mk('leaf', i, d)));
    for (const [i, leaf] of this.leaves.entries()) {
      for (const w of spec.wires.filter((x) => x.a.dpid === leaf.dpid)) {
        const wire: Wire = { a: w.a, b: w.b, up: true };
        this.wires.push(wire);
        this.peers.set(endKey(wire.a), { wire, to: wire.b });
        this.peers.set(endKey(wire.b), { wire, to: wire.a });
      }
      for (let h = 0; h < hostsPerLeaf; h++) {
        const at = spec.hostPorts[i * hostsPerLeaf + h]!;
        const host = new FakeHost(
          `h${i + 1}_${h + 1}`, hostMac(i + 1, h + 1), ipOf(i, h), i, leaf, at.portNo, opts.hostsAnswerArp ?? true, opts.record ?? true,
        );
        this.hosts.push(host);
        this.hostAt.set(endKey(at), host);
      }
    }
  }

  /** Builds the fabric and connects every switch to the controller at 127.0.0.1:`ofPort`; resolves when all finished the handshake. */
  static async connect(ofPort: number, opts: FakeFabricOptions, timeoutMs = 10_000): Promise<FakeFabric> {
    const fabric = new FakeFabric(opts);
    try {
      await fabric.start(ofPort, timeoutMs);
    } catch (err) {
      fabric.close();
      throw err;
    }
    return fabric;
  }

  async start(ofPort: number, timeoutMs = 10_000): Promise<void> {
    await Promise.all(this.switches.map((s) => s.connect(ofPort)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`fake fabric: handshake not finished within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.switches.map((s) => s.up)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get switches(): FabricSwitch[] {
    return [...this.spines, ...this.leaves];
  }

  switch(dpid: bigint): FabricSwitch | undefined {
    return this.byDpid.get(dpid);
  }

  roleOf(dpid: bigint): SwitchRoleName | undefined {
    const sw = this.byDpid.get(dpid);
    if (!sw) return undefined;
    return this.spines.includes(sw) ? 'spine' : 'leaf';
  }

  host(leaf: number, h: number): FakeHost {
    const host = this.hosts[leaf * this.opts.shape.hostsPerLeaf + h];
    if (!host) throw new RangeError(`no host ${h} on leaf ${leaf}`);
    return host;
  }

  hostByIp(ip: string): FakeHost | undefined {
    return this.hosts.find((h) => h.ip === ip);
  }

  /** The peer of a switch port, if it is wired to another switch. */
  peerOf(end: WireEnd): WireEnd | undefined {
    return this.peers.get(endKey(end))?.to;
  }

  /** Every directed switch-to-switch link the controller should discover (2 per wire that is up). */
  directedLinks(): { src: WireEnd; dst: WireEnd }[] {
    return this.wires.filter((w) => w.up).flatMap((w) => [{ src: w.a, dst: w.b }, { src: w.b, dst: w.a }]);
  }

  /** Subscribes to fabric events; returns the unsubscribe function. */
  observe(listener: (e: FabricEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes a spine-leaf cable down or up: both ends change link state and send PORT_STATUS. */
  setWire(leaf: number, spine: number, up: boolean): void {
    const wire = this.wires.find((w) => w.a.dpid === this.leaves[leaf]!.dpid && w.b.dpid === this.spines[spine]!.dpid);
    if (!wire) throw new RangeError(`no wire leaf ${leaf} – spine ${spine}`);
    wire.up = up;
    this.byDpid.get(wire.a.dpid)!.setLinkState(wire.a.portNo, up);
    this.byDpid.get(wire.b.dpid)!.setLinkState(wire.b.portNo, up);
  }

  /**
   * Follows `frame` from `from` through the installed entries, hop by hop, without side effects
   * (no counters, no packet-ins). Floods are followed on every branch; a switch is not visited twice.
   */
  trace(from: FakeHost, frame: Buffer): TraceResult {
    const hops: { dpid: bigint; inPort: number; outPorts: number[] }[] = [];
    const deliveredTo: FakeHost[] = [];
    const toController: bigint[] = [];
    const droppedAt: bigint[] = [];
    const seen = new Set<bigint>();
    const queue: { sw: FabricSwitch; inPort: number; frame: Buffer }[] = [{ sw: from.leaf, inPort: from.portNo, frame }];
    while (queue.length > 0) {
      const { sw, inPort, frame: f } = queue.shift()!;
      if (seen.has(sw.dpid)) continue;
      seen.add(sw.dpid);
      const outs = sw.classify(inPort, f);
      hops.push({ dpid: sw.dpid, inPort, outPorts: outs.map((o) => o.port) });
      if (outs.length === 0) droppedAt.push(sw.dpid);
      for (const o of outs) {
        if (o.port === 0xfffffffd) {
          toController.push(sw.dpid);
          continue;
        }
        const end = { dpid: sw.dpid, portNo: o.port };
        const host = this.hostAt.get(endKey(end));
        if (host) deliveredTo.push(host);
        const peer = this.peers.get(endKey(end));
        if (peer && peer.wire.up) queue.push({ sw: this.byDpid.get(peer.to.dpid)!, inPort: peer.to.portNo, frame: o.frame });
      }
    }
    return { hops, deliveredTo, toController, droppedAt };
  }

  /** Disconnects every switch. */
  close(): void {
    for (const s of this.switches) s.close();
    this.listeners.clear();
  }

  private notify(e: FabricEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** A frame left `sw` on `portNo`: to the peer switch (next tick, like a wire), or to the host there. */
  private carry(sw: FabricSwitch, portNo: number, frame: Buffer, hops: number): void {
    const end = { dpid: sw.dpid, portNo };
    const peer = this.peers.get(endKey(end));
    if (peer) {
      if (!peer.wire.up) return;
      const next = this.byDpid.get(peer.to.dpid)!;
      setImmediate(() => next.receive(peer.to.portNo, frame, hops));
      return;
    }
    const host = this.hostAt.get(endKey(end));
    if (host) {
      host.deliver(frame);
      this.notify({ kind: 'toHost', host, frame });
    }
  }
}

function endKey(e: WireEnd): string {
  return `${e.dpid}:${e.portNo}`;
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

/** Port MAC: 0a + low 4 bytes of the dpid + port number. */
function portMac(dpid: bigint, port: number): string {
  const d = Number(dpid & 0xffffffffn);
  return ['0a', hex2(d >>> 24), hex2(d >>> 16), hex2(d >>> 8), hex2(d), hex2(port)].join(':');
}
