/**
 * The fake fabric itself, against the bare controller shell (no topology or routing apps): handshake of
 * every switch, PORT_DESC with speeds, packet-outs crossing the wiring as PACKET_INs on the peer,
 * table-miss packet-ins from hosts, FLOW_MODs applied to the fake tables (add / strict delete / non-strict
 * delete with FLOW_REMOVED), forwarding along installed entries, multipart FLOW replies, meters.
 */
import { expect } from 'chai';
import { startController, type Controller } from '../../openflow/listener.js';
import { OFPFC, OFPFF, OFPG, OFPP, OFPR, OFP_NO_BUFFER, type MessageOf, type Match } from '../../openflow/codec/index.js';
import type { OutMessage } from '../../openflow/app-api.js';
import { FakeFabric, ETH_TYPE, FlowTables, packetFields, tcpFrame } from '../../testing/fake-fabric.js';
import { until as untilHolds } from '../../testing/until.js';

type PacketIn = { dpid: bigint; msg: MessageOf<'OFPT_PACKET_IN'> };

function flowMod(match: Match, outPort: number, extra: Partial<MessageOf<'OFPT_FLOW_MOD'>> = {}): MessageOf<'OFPT_FLOW_MOD'> {
  return {
    type: 'OFPT_FLOW_MOD', xid: 0, cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC.ADD, idleTimeout: 0, hardTimeout: 0,
    priority: 100, bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY, flags: 0, match,
    instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port: outPort, maxLen: 0 }] }],
    ...extra,
  };
}

const until = (cond: () => boolean, ms = 3000): Promise<void> => untilHolds('condition', cond, ms);

describe('fake fabric (against the bare controller)', () => {
  let ctl: Controller;
  let fabric: FakeFabric;
  const packetIns: PacketIn[] = [];

  beforeEach(async () => {
    packetIns.length = 0;
    ctl = await startController({ port: 0, host: '127.0.0.1', logLevel: 'silent' });
    ctl.on('packetIn', (e) => {
      packetIns.push(e);
    });
    fabric = await FakeFabric.connect(ctl.port, { shape: { spines: 2, leaves: 3, hostsPerLeaf: 2 } });
    await until(() => ctl.switches.size === 5);
  });

  afterEach(async () => {
    fabric.close();
    await ctl.close();
  });

  const send = (dpid: bigint, m: OutMessage): number => ctl.switches.get(dpid)!.send(m);

  it('completes the handshake of every switch with its dpid and ports', async () => {
    await until(() => ctl.switches.size === 5);
    const leaf = ctl.switches.get(1n)!;
    expect([...leaf.ports.keys()].sort()).to.deep.equal([1, 2, 3, 4]);
    expect(leaf.ports.get(1)!.currSpeed).to.equal(10_000_000);
    expect(ctl.switches.get(0x101n)!.ports.size).to.equal(3);
    expect(fabric.directedLinks()).to.have.length(12);
  });

  it('carries a packet-out across a wire as a table-miss packet-in on the peer port', async () => {
    const lldpish = Buffer.alloc(60);
    lldpish.writeUInt16BE(ETH_TYPE.LLDP, 12);
    send(0x102n, { type: 'OFPT_PACKET_OUT', bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER, actions: [{ type: 'OFPAT_OUTPUT', port: 3, maxLen: 0 }], data: lldpish });
    await until(() => packetIns.length > 0);
    const pi = packetIns[0]!;
    expect(pi.dpid).to.equal(3n); // leaf 3, its uplink 2 goes to spine 2
    expect(pi.msg.match).to.deep.equal([{ field: 'in_port', value: 2 }]);
    expect(pi.msg.reason).to.equal(OFPR.NO_MATCH);
    expect(pi.msg.data.equals(lldpish)).to.equal(true);
  });

  it('reports OFPR_ACTION for an explicit to-controller entry', async () => {
    send(3n, flowMod([{ field: 'eth_type', value: ETH_TYPE.LLDP }], OFPP.CONTROLLER, { priority: 1000 }));
    await ctl.switches.get(3n)!.barrier();
    const frame = Buffer.alloc(60);
    frame.writeUInt16BE(ETH_TYPE.LLDP, 12);
    send(0x101n, { type: 'OFPT_PACKET_OUT', bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER, actions: [{ type: 'OFPAT_OUTPUT', port: 3, maxLen: 0 }], data: frame });
    await until(() => packetIns.length > 0);
    expect(packetIns[0]!.msg.reason).to.equal(OFPR.ACTION);
  });

  it('turns a host packet into a table-miss packet-in, and forwards it once entries are installed', async () => {
    const a = fabric.host(0, 0);
    const b = fabric.host(2, 1);
    a.tcp(b, 40000, 5201);
    await until(() => packetIns.length > 0);
    expect(packetIns[0]!.dpid).to.equal(1n);
    expect(packetIns[0]!.msg.match).to.deep.equal([{ field: 'in_port', value: a.portNo }]);
    const m = (inPort: number): Match => [
      { field: 'in_port', value: inPort }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 },
      { field: 'ipv4_src', value: a.ip }, { field: 'ipv4_dst', value: b.ip }, { field: 'tcp_src', value: 40000 }, { field: 'tcp_dst', value: 5201 },
    ];
    send(3n, flowMod(m(2), b.portNo));
    send(0x102n, flowMod(m(1), 3));
    send(1n, flowMod(m(a.portNo), 2));
    await Promise.all([1n, 3n, 0x102n].map((d) => ctl.switches.get(d)!.barrier()));
    const frame = tcpFrame({ srcMac: a.mac, dstMac: b.mac, srcIp: a.ip, dstIp: b.ip, srcPort: 40000, dstPort: 5201 });
    const t = fabric.trace(a, frame);
    expect(t.deliveredTo.map((h) => h.name)).to.deep.equal([b.name]);
    expect(t.hops.map((h) => h.dpid)).to.deep.equal([1n, 0x102n, 3n]);
    a.send(frame);
    await until(() => b.receivedCount === 1);
    const other = tcpFrame({ srcMac: a.mac, dstMac: b.mac, srcIp: a.ip, dstIp: b.ip, srcPort: 40001, dstPort: 5201 });
    expect(fabric.trace(a, other).toController).to.deep.equal([1n]);
  });

  it('answers a FLOW multipart from its table and deletes with FLOW_REMOVED', async () => {
    const removed: MessageOf<'OFPT_FLOW_REMOVED'>[] = [];
    ctl.on('flowRemoved', (e) => {
      removed.push(e.msg);
    });
    const sw = ctl.switches.get(2n)!;
    for (let i = 0; i < 150; i++) {
      sw.send(flowMod([{ field: 'eth_type', value: 0x0800 }, { field: 'tcp_dst', value: 1000 + i }], 1, { flags: OFPFF.SEND_FLOW_REM, cookie: 7n }));
    }
    const all = await sw.multipart({ mpType: 'OFPMP_FLOW', tableId: 0xff, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
    expect(all.flows).to.have.length(151); // + table-miss
    sw.send(flowMod([{ field: 'eth_type', value: 0x0800 }, { field: 'tcp_dst', value: 1000 }], 1, { command: OFPFC.DELETE_STRICT }));
    sw.send(flowMod([{ field: 'eth_type', value: 0x0800 }], 1, { command: OFPFC.DELETE, cookie: 7n, cookieMask: 0xffn }));
    await sw.barrier();
    await until(() => removed.length === 150);
    const left = await sw.multipart({ mpType: 'OFPMP_FLOW', tableId: 0xff, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
    expect(left.flows.map((f) => f.priority)).to.deep.equal([0]);
  });

  it('reports a cable taken down and up with PORT_STATUS on both ends, and stops carrying frames over it', async () => {
    fabric.setWire(1, 0, false);
    const leafPort = (): number => ctl.switches.get(2n)!.ports.get(1)!.state;
    const spinePort = (): number => ctl.switches.get(0x101n)!.ports.get(2)!.state;
    await until(() => (leafPort() & 1) === 1 && (spinePort() & 1) === 1);
    expect(fabric.directedLinks()).to.have.length(10);
    const frame = Buffer.alloc(60);
    frame.writeUInt16BE(ETH_TYPE.LLDP, 12);
    send(0x101n, { type: 'OFPT_PACKET_OUT', bufferId: OFP_NO_BUFFER, inPort: OFPP.CONTROLLER, actions: [{ type: 'OFPAT_OUTPUT', port: 2, maxLen: 0 }], data: frame });
    await ctl.switches.get(0x101n)!.barrier();
    await new Promise((r) => setTimeout(r, 20));
    expect(packetIns).to.have.length(0);
    fabric.setWire(1, 0, true);
    await until(() => (leafPort() & 1) === 0 && (spinePort() & 1) === 0);
  });

  it('accepts drop meters and rejects DSCP remark bands like Open vSwitch', async () => {
    const sw = ctl.switches.get(1n)!;
    await sw.transact([{ type: 'OFPT_METER_MOD', command: 0, flags: 1, meterId: 5, bands: [{ type: 'OFPMBT_DROP', rate: 1000, burstSize: 100 }] }]);
    let failed = false;
    await sw.transact([{ type: 'OFPT_METER_MOD', command: 0, flags: 1, meterId: 6, bands: [{ type: 'OFPMBT_DSCP_REMARK', rate: 1000, burstSize: 100, precLevel: 1 }] }])
      .catch(() => (failed = true));
    expect(failed).to.equal(true);
    const cfg = await sw.multipart({ mpType: 'OFPMP_METER_CONFIG', meterId: 0xffffffff });
    expect(cfg.meters.map((m) => m.meterId)).to.deep.equal([5]);
  });
});

describe('fake flow tables', () => {
  it('picks the highest priority among exact and masked entries', () => {
    const t = new FlowTables(2);
    t.apply(flowMod([], 1, { priority: 0 }), 0);
    t.apply(flowMod([{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.0.0.0' }], 2, { priority: 10 }), 0);
    t.apply(flowMod([{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.1.2' }], 3, { priority: 20 }), 0);
    const pkt = (dst: string) => packetFields(tcpFrame({ srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '10.0.0.1', dstIp: dst, srcPort: 1, dstPort: 2 }), 1);
    expect(t.lookup(0, pkt('10.0.1.2'))!.priority).to.equal(20);
    expect(t.lookup(0, pkt('10.9.9.9'))!.priority).to.equal(10);
    expect(t.lookup(0, pkt('11.0.0.1'))!.priority).to.equal(0);
  });

  it('expires idle entries and replaces identical adds', () => {
    const t = new FlowTables(1);
    t.apply(flowMod([{ field: 'in_port', value: 1 }], 2, { idleTimeout: 1 }), 0);
    t.apply(flowMod([{ field: 'in_port', value: 1 }], 3, { idleTimeout: 1 }), 500);
    expect(t.size).to.equal(1);
    expect(t.expire(1200)).to.have.length(0);
    expect(t.expire(1500).map((r) => r.reason)).to.deep.equal([0]);
    expect(t.size).to.equal(0);
  });
});
