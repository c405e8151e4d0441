/**
 * Path pinning by the routing core against a fake leaf-spine fabric and a fake data plane (sim.ts):
 * entries on every hop, egress side first, exact matches and outputs, then exactly one packet-out;
 * concurrent first packets; FLOW_REMOVED; unknown destinations; install failures.
 */
import { PROBE_MAC } from '../../../apps/routing/arp.js';
import { expect } from 'chai';
import { OFPFC, OFPFF, OFPP } from '../../../openflow/codec/index.js';
import type { OutMessage } from '../../../openflow/app-api.js';
import { RoutingCore } from '../../../apps/routing/core.js';
import { isRoutingCookie, routingCookie } from '../../../apps/routing/builders.js';
import type { FlowKey, RoutingEffect } from '../../../apps/routing/types.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid, spineDpid } from '../../../testing/fake-leaf-spine.js';
import { ipv4Frame, packetIn } from './frames.js';
import { EffectRunner } from './sim.js';

const SHAPE = { spines: 2, leaves: 4, hostsPerLeaf: 2 };
const hostPort = (h: number): number => SHAPE.spines + h;

function setup(config = {}): { topo: FakeLeafSpine; core: RoutingCore; run: EffectRunner } {
  const topo = FakeLeafSpine.leafSpine(SHAPE);
  const core = new RoutingCore(topo, { seed: 42, ...config });
  return { topo, core, run: new EffectRunner(core) };
}

/** A TCP packet from host (sl, sh) to host (dl, dh). */
function tcp(sl: number, sh: number, dl: number, dh: number, srcPort = 40000, id = 1): Buffer {
  return ipv4Frame({ ethSrc: hostMac(sl, sh), ethDst: hostMac(dl, dh), src: hostIp(sl, sh), dst: hostIp(dl, dh), srcPort, dstPort: 5201, id });
}

function key(sl: number, sh: number, dl: number, dh: number, srcPort = 40000): FlowKey {
  return { ipv4Src: hostIp(sl, sh), ipv4Dst: hostIp(dl, dh), ipProto: 6, srcPort, dstPort: 5201 };
}

function installs(effects: readonly RoutingEffect[]): Extract<RoutingEffect, { kind: 'install' }>[] {
  return effects.filter((e): e is Extract<RoutingEffect, { kind: 'install' }> => e.kind === 'install');
}

function flowMod(m: OutMessage): Extract<OutMessage, { type: 'OFPT_FLOW_MOD' }> {
  if (m.type !== 'OFPT_FLOW_MOD') throw new Error(`expected a flow-mod, got ${m.type}`);
  return m;
}

describe('routing core: pinning', () => {
  it('installs exact entries on every hop, egress side first, and releases the first packet at once, once', () => {
    const { topo, core, run } = setup();
    const effects = core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 3, 2)), 100);
    const [inst, ...rest] = installs(effects);
    expect(rest).to.have.length(0);
    // the first packet does not wait for the barriers: one packet-out on the ingress, after the install effect
    expect(effects.map((e) => e.kind)).to.deep.equal(['install', 'send']);
    const route = core.routes()[0]!;
    const spine = BigInt(`0x${route.spine}`);
    expect([spineDpid(1), spineDpid(2)]).to.include(spine);
    // stage 1: egress leaf then spine (all downstream hops, egress first); stage 2: the ingress leaf
    expect(inst!.stages.map((st) => st.map((s) => s.dpid))).to.deep.equal([[leafDpid(3), spine], [leafDpid(1)]]);

    run.run(effects);
    const spineIdx = Number(spine - 0x100n);
    const expectHop = (i: number, dpid: bigint, inPort: number, outPort: number): void => {
      const s = run.sent[i]!;
      expect(s.dpid).to.equal(dpid);
      expect(s.viaTransact).to.equal(true);
      const fm = flowMod(s.msg);
      expect(fm.command).to.equal(OFPFC.ADD);
      expect(fm.priority).to.equal(1000);
      expect(fm.idleTimeout).to.equal(10);
      expect(fm.hardTimeout).to.equal(0);
      expect(fm.flags & OFPFF.SEND_FLOW_REM).to.equal(OFPFF.SEND_FLOW_REM);
      expect(isRoutingCookie(fm.cookie)).to.equal(true);
      expect(fm.match).to.deep.equal([
        { field: 'in_port', value: inPort },
        { field: 'eth_type', value: 0x0800 },
        { field: 'ip_proto', value: 6 },
        { field: 'ipv4_src', value: '10.0.1.1' },
        { field: 'ipv4_dst', value: '10.0.3.2' },
        { field: 'tcp_src', value: 40000 },
        { field: 'tcp_dst', value: 5201 },
      ]);
      expect(fm.instructions).to.deep.equal([{ type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port: outPort, maxLen: 0 }] }]);
    };
    expectHop(0, leafDpid(3), spineIdx, hostPort(2));
    expectHop(1, spine, 1, 3);
    expectHop(2, leafDpid(1), hostPort(1), spineIdx);
    const outs = run.packetOuts();
    expect(outs).to.have.length(1);
    expect(run.sent.indexOf(outs[0]!)).to.equal(3);
    const po = outs[0]!.msg;
    if (po.type !== 'OFPT_PACKET_OUT') throw new Error('unreachable');
    expect(outs[0]!.dpid).to.equal(leafDpid(1));
    expect(po.inPort).to.equal(hostPort(1));
    expect(po.actions).to.deep.equal([{ type: 'OFPAT_OUTPUT', port: spineIdx, maxLen: 0 }]);
    expect(po.data.equals(tcp(1, 1, 3, 2))).to.equal(true);
    // the data plane now carries the flow end to end
    expect(run.sim.trace(topo, key(1, 1, 3, 2), { dpid: leafDpid(1), portNo: hostPort(1) }).delivered).to.deep.equal({
      dpid: leafDpid(3),
      portNo: hostPort(2),
    });
    expect(core.routes()[0]!.installed).to.equal(true);
  });

  it('pins hosts on one leaf with a single entry; UDP and ICMP keys have the right fields', () => {
    const { topo, core, run } = setup();
    run.run(core.packetIn(packetIn(leafDpid(2), hostPort(1), ipv4Frame({ ethSrc: hostMac(2, 1), ethDst: hostMac(2, 2), src: hostIp(2, 1), dst: hostIp(2, 2), proto: 17, srcPort: 53, dstPort: 9 })), 0));
    run.run(core.packetIn(packetIn(leafDpid(2), hostPort(1), ipv4Frame({ ethSrc: hostMac(2, 1), ethDst: hostMac(4, 1), src: hostIp(2, 1), dst: hostIp(4, 1), proto: 1 })), 0));
    const mods = run.sent.filter((s) => s.msg.type === 'OFPT_FLOW_MOD').map((s) => flowMod(s.msg));
    expect(mods).to.have.length(1 + 3);
    expect(mods[0]!.match.map((f) => (f.field === 'other' ? '' : f.field))).to.deep.equal(['in_port', 'eth_type', 'ip_proto', 'ipv4_src', 'ipv4_dst', 'udp_src', 'udp_dst']);
    expect(mods[1]!.match.map((f) => (f.field === 'other' ? '' : f.field))).to.deep.equal(['in_port', 'eth_type', 'ip_proto', 'ipv4_src', 'ipv4_dst']);
    const udp = core.routes()[0]!;
    expect(udp.path).to.deep.equal([{ dpid: '0000000000000002', inPort: hostPort(1), outPort: hostPort(2) }]);
    expect(udp.spine).to.equal(undefined);
    expect(udp.choice).to.deep.equal({ index: 0, of: 1 });
    const icmp: FlowKey = { ipv4Src: hostIp(2, 1), ipv4Dst: hostIp(4, 1), ipProto: 1 };
    expect(run.sim.trace(topo, icmp, { dpid: leafDpid(2), portNo: hostPort(1) }).delivered).to.deep.equal({ dpid: leafDpid(4), portNo: hostPort(1) });
  });

  it('concurrent first packets of one flow on several switches give one pin; each is released along the chosen path', () => {
    const { topo, core, run } = setup();
    run.defer = true;
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 4, 1, 40000, 1)), 0));
    expect(run.pending).to.have.length(1);
    const route = core.routes()[0]!;
    const [ingress, spineHop, egress] = route.path;
    const spine = BigInt(`0x${spineHop!.dpid}`);
    // more packets of the flow reach the controller from every switch of the path, and again from the ingress
    run.run(core.packetIn(packetIn(spine, spineHop!.inPort, tcp(1, 1, 4, 1, 40000, 2)), 1));
    run.run(core.packetIn(packetIn(leafDpid(4), egress!.inPort, tcp(1, 1, 4, 1, 40000, 3)), 2));
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 4, 1, 40000, 4)), 3));
    expect(run.pending).to.have.length(1);
    // only the first packet is out (at once, on the ingress); the later ones wait for the install
    expect(run.sent.map((s) => s.msg.type)).to.deep.equal(['OFPT_PACKET_OUT']);
    expect(core.routes()).to.have.length(1);
    run.flush();
    const outs = run.packetOuts().map((s) => {
      if (s.msg.type !== 'OFPT_PACKET_OUT') throw new Error('unreachable');
      const a = s.msg.actions[0]!;
      return { dpid: s.dpid, out: a.type === 'OFPAT_OUTPUT' ? a.port : -1, id: s.msg.data.readUInt16BE(14 + 4) };
    });
    expect(outs).to.deep.equal([
      { dpid: leafDpid(1), out: ingress!.outPort, id: 1 },
      { dpid: spine, out: spineHop!.outPort, id: 2 },
      { dpid: leafDpid(4), out: egress!.outPort, id: 3 },
      { dpid: leafDpid(1), out: ingress!.outPort, id: 4 },
    ]);
    expect(run.sent.filter((s) => s.msg.type === 'OFPT_FLOW_MOD')).to.have.length(3);
    // a straggler after the pin is released at once, still no new pin
    run.clear();
    run.run(core.packetIn(packetIn(spine, spineHop!.inPort, tcp(1, 1, 4, 1, 40000, 5)), 4));
    expect(run.sent.map((s) => s.msg.type)).to.deep.equal(['OFPT_PACKET_OUT']);
    expect(run.sim.trace(topo, key(1, 1, 4, 1), { dpid: leafDpid(1), portNo: hostPort(1) }).delivered).to.deep.equal({ dpid: leafDpid(4), portNo: hostPort(1) });
  });

  it('packet-ins from a hop of an installed route long after setup re-write that hop\'s entry (once a second)', () => {
    const { topo, core, run } = setup();
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 2, 1)), 0));
    const r = core.routes()[0]!;
    const spine = BigInt(`0x${r.spine}`);
    run.sim.wipe(spine); // the spine lost its flows
    run.clear();
    run.run(core.packetIn(packetIn(spine, r.path[1]!.inPort, tcp(1, 1, 2, 1, 40000, 2)), 5000));
    expect(run.sent.map((x) => `${x.dpid}:${x.msg.type}`)).to.deep.equal([`${spine}:OFPT_FLOW_MOD`, `${spine}:OFPT_PACKET_OUT`]);
    run.clear();
    run.run(core.packetIn(packetIn(spine, r.path[1]!.inPort, tcp(1, 1, 2, 1, 40000, 3)), 5100));
    expect(run.sent.map((x) => x.msg.type)).to.deep.equal(['OFPT_PACKET_OUT']);
    expect(run.sim.trace(topo, key(1, 1, 2, 1), { dpid: leafDpid(1), portNo: hostPort(1) }).delivered).to.deep.equal({ dpid: leafDpid(2), portNo: hostPort(1) });
  });

  it('a first sighting on a transit switch pins a path through it and releases the packet there', () => {
    const { core, run } = setup();
    run.run(core.packetIn(packetIn(spineDpid(2), 1, tcp(1, 2, 2, 1)), 0));
    const r = core.routes()[0]!;
    expect(r.spine).to.equal(spineDpid(2).toString(16).padStart(16, '0'));
    expect(r.path[0]).to.deep.equal({ dpid: '0000000000000001', inPort: hostPort(2), outPort: 2 });
    expect(run.packetOuts().map((s) => s.dpid)).to.deep.equal([spineDpid(2)]);
  });

  it('FLOW_REMOVED of a current entry removes the route and deletes its other hops; stale and foreign cookies are ignored', () => {
    const { topo, core, run } = setup();
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 3, 1)), 0));
    const r = core.routes()[0]!;
    const cookie = BigInt(`0x${r.cookie}`);
    expect(run.sim.count()).to.equal(3);
    expect(core.flowRemoved(leafDpid(3), 0x1234n)).to.deep.equal([]);
    expect(core.flowRemoved(leafDpid(3), routingCookie(999))).to.deep.equal([]);
    run.clear();
    // the egress entry idled out: the switch removed it and told us
    run.sim.wipe(leafDpid(3));
    run.run(core.flowRemoved(leafDpid(3), cookie));
    expect(core.routes()).to.have.length(0);
    const dels = run.sent.map((s) => ({ dpid: s.dpid, fm: flowMod(s.msg) }));
    expect(dels.map((d) => d.dpid).sort()).to.deep.equal([leafDpid(1), BigInt(`0x${r.spine}`)].sort());
    for (const d of dels) {
      expect(d.fm.command).to.equal(OFPFC.DELETE);
      expect(d.fm.cookie).to.equal(cookie);
      expect(d.fm.cookieMask).to.equal((1n << 64n) - 1n);
    }
    expect(run.sim.count()).to.equal(0);
    // a second FLOW_REMOVED (the other hops' deletes) changes nothing; the next packet pins anew
    expect(core.flowRemoved(leafDpid(1), cookie)).to.deep.equal([]);
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 3, 1)), 20_000));
    expect(core.routes()).to.have.length(1);
    expect(core.routes()[0]!.cookie).to.not.equal(r.cookie);
    expect(run.sim.trace(topo, key(1, 1, 3, 1), { dpid: leafDpid(1), portNo: hostPort(1) }).delivered).to.not.equal(undefined);
  });

  it('an unknown destination: the packet waits, one ARP probe per second goes on the tree, the host\'s arrival pins it', () => {
    const { topo, core, run } = setup();
    const frame = (id: number): Buffer =>
      ipv4Frame({ ethSrc: hostMac(1, 1), ethDst: '02:00:00:00:99:99', src: hostIp(1, 1), dst: '10.0.9.9', id });
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), frame(1)), 0));
    expect(core.routes()).to.have.length(0);
    const outs = run.packetOuts();
    expect(outs.length).to.equal(SHAPE.leaves); // one packet-out per leaf
    for (const s of outs) {
      if (s.msg.type !== 'OFPT_PACKET_OUT') throw new Error('unreachable');
      const data = s.msg.data;
      expect(data.readUInt16BE(12)).to.equal(0x0806);
      expect(data.readUInt16BE(20)).to.equal(1); // request
      expect(data.subarray(38, 42).join('.')).to.equal('10.0.9.9'); // tpa
      expect(data.subarray(28, 32).join('.')).to.equal('0.0.0.0'); // spa: an RFC 5227 probe, no host's cache touched
      expect(data.subarray(6, 12).toString('hex')).to.equal(PROBE_MAC.replace(/:/g, '')); // the reply comes back to the controller
      for (const a of s.msg.actions) if (a.type === 'OFPAT_OUTPUT') expect(topo.isFabricPort({ dpid: s.dpid, portNo: a.port })).to.equal(false);
    }
    run.clear();
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), frame(2)), 500));
    expect(run.sent).to.have.length(0);
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), frame(3)), 1000));
    expect(run.packetOuts().length).to.equal(SHAPE.leaves);
    run.clear();
    // the host answers and the topology app reports it: the waiting packets are pinned and released in order
    topo.forgetHost(hostMac(4, 2));
    topo.addHost({ mac: '02:00:00:00:99:99', ipv4: '10.0.9.9', attachment: { dpid: leafDpid(4), portNo: hostPort(2) }, lastSeenMs: 1100 });
    run.run(core.fabricEvents(topo.emitted[topo.emitted.length - 1]!, 1200));
    expect(core.routes()).to.have.length(1);
    const released = run.packetOuts().map((s) => (s.msg.type === 'OFPT_PACKET_OUT' ? s.msg.data.readUInt16BE(18) : -1));
    expect(released).to.deep.equal([1, 2, 3]);
  });

  it('packets waiting for an unknown destination are dropped after three probe intervals', () => {
    const { topo, core, run } = setup();
    const frame = ipv4Frame({ ethSrc: hostMac(1, 1), ethDst: '02:00:00:00:99:99', src: hostIp(1, 1), dst: '10.0.9.9' });
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), frame), 0));
    topo.addHost({ mac: '02:00:00:00:99:99', ipv4: '10.0.9.9', attachment: { dpid: leafDpid(4), portNo: hostPort(2) }, lastSeenMs: 5000 });
    expect(core.fabricEvents(topo.emitted[topo.emitted.length - 1]!, 5000)).to.deep.equal([]);
    expect(core.routes()).to.have.length(0);
  });

  it('a hostRemoved event removes the routes of that host', () => {
    const { topo, core, run } = setup();
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 3, 1)), 0));
    run.run(core.packetIn(packetIn(leafDpid(2), hostPort(1), tcp(2, 1, 4, 1)), 0));
    run.run(core.fabricEvents([{ type: 'hostRemoved', host: topo.hostByMac(hostMac(3, 1))!, reason: 'fabricPort' }], 10));
    expect(core.routes().map((r) => r.dstHost)).to.deep.equal([hostMac(4, 1)]);
    expect(run.sim.count()).to.equal(3);
  });

  it('rewrites eth_dst on the last hop when frames are not addressed to the destination host', () => {
    const { core, run } = setup();
    const frame = ipv4Frame({ ethSrc: hostMac(1, 1), ethDst: '02:aa:aa:aa:aa:aa', src: hostIp(1, 1), dst: hostIp(2, 1) });
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), frame), 0));
    const last = flowMod(run.sent[0]!.msg);
    const ins = last.instructions[0]!;
    if (ins.type !== 'OFPIT_APPLY_ACTIONS') throw new Error('unreachable');
    expect(ins.actions[0]).to.deep.equal({ type: 'OFPAT_SET_FIELD', field: { field: 'eth_dst', value: hostMac(2, 1) } });
    const first = flowMod(run.sent[2]!.msg).instructions[0]!;
    if (first.type !== 'OFPIT_APPLY_ACTIONS') throw new Error('unreachable');
    expect(first.actions).to.have.length(1);
  });

  it('an install that fails removes the route and deletes whatever it installed', () => {
    const { core, run } = setup();
    run.defer = true;
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 2, 1)), 0));
    const inst = run.pending.shift()!;
    const dels = core.installFailed(inst.key, inst.cookie);
    expect(core.routes()).to.have.length(0);
    expect(dels.every((e) => e.kind === 'send' && e.msgs.every((m) => m.type === 'OFPT_FLOW_MOD' && m.command === OFPFC.DELETE))).to.equal(true);
    expect(new Set(dels.map((e) => (e.kind === 'send' ? e.dpid : 0n))).size).to.equal(3);
    // a late success report of the same install deletes its entries instead of reviving it
    const late = core.installed(inst.key, inst.cookie);
    expect(core.routes()).to.have.length(0);
    for (const e of late) expect(e.kind === 'send' && e.msgs[0]!.type === 'OFPT_FLOW_MOD' && e.msgs[0]!.command === OFPFC.DELETE).to.equal(true);
  });

  it('drops packets from an unknown source on a fabric port, and non-IPv4 unicast to unknown MACs', () => {
    const { core } = setup();
    const frame = ipv4Frame({ ethSrc: '02:00:00:00:77:77', ethDst: hostMac(2, 1), src: '10.7.7.7', dst: hostIp(2, 1) });
    expect(core.packetIn(packetIn(spineDpid(1), 1, frame), 0)).to.deep.equal([]);
    const ipv6ish = Buffer.concat([Buffer.from('02000000ffff02000000010186dd', 'hex'), Buffer.alloc(46)]);
    expect(core.packetIn(packetIn(leafDpid(1), hostPort(1), ipv6ish), 0)).to.deep.equal([]);
  });

  it('rejects a bad config naming the key', () => {
    const topo = FakeLeafSpine.leafSpine(SHAPE);
    expect(() => new RoutingCore(topo, { priority: 0 })).to.throw(RangeError, /routing\.priority/);
    expect(() => new RoutingCore(topo, { idleTimeoutS: 1.5 })).to.throw(RangeError, /routing\.idleTimeoutS/);
  });

  it('uses OFPP_IN_PORT when the output port is the in port', () => {
    const { topo, core, run } = setup();
    // two hosts behind one port (a hub): the destination sits where the packet came from
    topo.addHost({ mac: '02:00:00:00:55:55', ipv4: '10.5.5.5', attachment: { dpid: leafDpid(1), portNo: hostPort(1) }, lastSeenMs: 0 });
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), ipv4Frame({ ethSrc: hostMac(1, 1), ethDst: '02:00:00:00:55:55', src: hostIp(1, 1), dst: '10.5.5.5' })), 0));
    const fm = flowMod(run.sent[0]!.msg);
    const ins = fm.instructions[0]!;
    if (ins.type !== 'OFPIT_APPLY_ACTIONS') throw new Error('unreachable');
    expect(ins.actions).to.deep.equal([{ type: 'OFPAT_OUTPUT', port: OFPP.IN_PORT, maxLen: 0 }]);
  });

  it('after the pin serial wraps, a new pin never takes the cookie of a route still pinned', () => {
    const { core, run } = setup();
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 3, 2, 40000)), 100));
    const kept = core.routes()[0]!.cookie;
    // the counter two pins before the end of its 24 bits; the kept route holds serial 1
    (core as unknown as { serial: number }).serial = 2 ** 24 - 2;
    const cookies = new Set([kept]);
    for (let i = 1; i <= 3; i++) {
      run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), tcp(1, 1, 3, 2, 40000 + i)), 100 + i));
      const r = core.route(key(1, 1, 3, 2, 40000 + i))!;
      expect(cookies.has(r.cookie), `pin ${i} reused cookie ${r.cookie}`).to.equal(false);
      cookies.add(r.cookie);
    }
    expect(core.routes()).to.have.length(4);
    expect(core.route(key(1, 1, 3, 2, 40000))!.cookie).to.equal(kept);
  });
});
