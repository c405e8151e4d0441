/**
 * ARP and broadcast handling of the routing core against a fake 2 spines × 3 leaves × 2 hosts fabric:
 * proxy ARP (exact reply bytes), flooding only on the tree's edge ports, replies delivered to the
 * target's port, gratuitous ARP, loop copies dropped, ARP seen on fabric ports dropped.
 */
import { expect } from 'chai';
import { OFPP } from '../../../openflow/codec/index.js';
import { RoutingCore } from '../../../apps/routing/core.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid, spineDpid } from '../../../testing/fake-leaf-spine.js';
import { arpReply, arpRequest, packetIn } from './frames.js';
import { EffectRunner, type Sent } from './sim.js';

const SHAPE = { spines: 2, leaves: 3, hostsPerLeaf: 2 };
/** host h of a leaf sits on port spines + h */
const hostPort = (h: number): number => SHAPE.spines + h;

function setup(): { topo: FakeLeafSpine; core: RoutingCore; run: EffectRunner } {
  const topo = FakeLeafSpine.leafSpine(SHAPE);
  const core = new RoutingCore(topo, { seed: 7 });
  return { topo, core, run: new EffectRunner(core) };
}

/** (dpid, output port) of every OUTPUT action of every packet-out sent. */
function outputs(sent: readonly Sent[]): string[] {
  const out: string[] = [];
  for (const s of sent) {
    if (s.msg.type !== 'OFPT_PACKET_OUT') continue;
    for (const a of s.msg.actions) if (a.type === 'OFPAT_OUTPUT') out.push(`${s.dpid}:${a.port}`);
  }
  return out.sort();
}

describe('routing core: ARP', () => {
  it('answers a request for a known host itself, out of the in port, with the exact reply bytes', () => {
    const { core, run } = setup();
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), arpRequest(hostMac(1, 1), hostIp(1, 1), hostIp(3, 2))), 0));
    expect(run.sent).to.have.length(1);
    const { dpid, msg } = run.sent[0]!;
    expect(dpid).to.equal(leafDpid(1));
    if (msg.type !== 'OFPT_PACKET_OUT') throw new Error('expected a packet-out');
    expect(msg.inPort).to.equal(OFPP.CONTROLLER);
    expect(msg.actions).to.deep.equal([{ type: 'OFPAT_OUTPUT', port: hostPort(1), maxLen: 0 }]);
    const expected = Buffer.from(
      [
        '020000000101', // eth dst: the requester h1-1
        '020000000302', // eth src: the owner h3-2
        '0806', // EtherType ARP
        '0001', // htype Ethernet
        '0800', // ptype IPv4
        '06', '04', // hlen, plen
        '0002', // op reply
        '020000000302', // sha: owner
        '0a000302', // spa 10.0.3.2
        '020000000101', // tha: requester
        '0a000101', // tpa 10.0.1.1
        '00'.repeat(18), // padding to 60 octets
      ].join(''),
      'hex',
    );
    expect(msg.data.toString('hex')).to.equal(expected.toString('hex'));
  });

  it('floods a request for an unknown target only on edge ports of the tree, never on fabric ports', () => {
    const { topo, core, run } = setup();
    run.run(core.packetIn(packetIn(leafDpid(2), hostPort(1), arpRequest(hostMac(2, 1), hostIp(2, 1), '10.9.9.9')), 0));
    // every host port of the fabric except the requester's, one packet-out per leaf
    const expected: string[] = [];
    for (let i = 1; i <= SHAPE.leaves; i++) {
      for (let h = 1; h <= SHAPE.hostsPerLeaf; h++) if (!(i === 2 && h === 1)) expected.push(`${leafDpid(i)}:${hostPort(h)}`);
    }
    expect(outputs(run.sent)).to.deep.equal(expected.sort());
    expect(run.sent.map((s) => s.dpid).sort()).to.deep.equal([leafDpid(1), leafDpid(2), leafDpid(3)]);
    for (const s of run.sent) {
      if (s.msg.type !== 'OFPT_PACKET_OUT') throw new Error('expected packet-outs only');
      for (const a of s.msg.actions) {
        if (a.type === 'OFPAT_OUTPUT') expect(topo.isFabricPort({ dpid: s.dpid, portNo: a.port })).to.equal(false);
      }
      expect(s.msg.inPort).to.equal(s.dpid === leafDpid(2) ? hostPort(1) : OFPP.CONTROLLER);
    }
  });

  it('drops a copy of the same broadcast seen again within 200 ms (a loop), floods it again later', () => {
    const { core, run } = setup();
    const req = arpRequest(hostMac(2, 1), hostIp(2, 1), '10.9.9.9');
    run.run(core.packetIn(packetIn(leafDpid(2), hostPort(1), req), 1000));
    const first = run.sent.length;
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(2), req), 1050));
    expect(run.sent.length).to.equal(first);
    run.run(core.packetIn(packetIn(leafDpid(2), hostPort(1), req), 2000)); // the host's retry 1 s later
    expect(run.sent.length).to.equal(2 * first);
  });

  it('drops ARP that arrives on a fabric port', () => {
    const { core } = setup();
    const req = arpRequest(hostMac(2, 1), hostIp(2, 1), hostIp(1, 1));
    expect(core.packetIn(packetIn(spineDpid(1), 2, req), 0)).to.deep.equal([]);
    expect(core.packetIn(packetIn(leafDpid(1), 1, req), 0)).to.deep.equal([]);
  });

  it('delivers a reply straight to the known target port, else floods it on the tree', () => {
    const { topo, core, run } = setup();
    const reply = arpReply(hostMac(3, 1), hostIp(3, 1), hostMac(1, 2), hostIp(1, 2));
    run.run(core.packetIn(packetIn(leafDpid(3), hostPort(1), reply), 0));
    expect(outputs(run.sent)).to.deep.equal([`${leafDpid(1)}:${hostPort(2)}`]);
    const po = run.sent[0]!.msg;
    if (po.type !== 'OFPT_PACKET_OUT') throw new Error('expected a packet-out');
    expect(po.data.equals(reply)).to.equal(true);

    run.clear();
    topo.forgetHost(hostMac(1, 2));
    run.run(core.packetIn(packetIn(leafDpid(3), hostPort(1), arpReply(hostMac(3, 1), hostIp(3, 1), hostMac(1, 2), hostIp(1, 2))), 500));
    expect(outputs(run.sent)).to.have.length(SHAPE.leaves * SHAPE.hostsPerLeaf - 1);
  });

  it('floods gratuitous ARP (announcements) instead of answering it', () => {
    const { core, run } = setup();
    const garp = arpRequest(hostMac(1, 1), hostIp(1, 1), hostIp(1, 1));
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), garp), 0));
    expect(outputs(run.sent)).to.have.length(SHAPE.leaves * SHAPE.hostsPerLeaf - 1);
    for (const s of run.sent) if (s.msg.type === 'OFPT_PACKET_OUT') expect(s.msg.data.equals(garp)).to.equal(true);
  });

  it('does not answer a host asking for its own address (duplicate address probe): floods it', () => {
    const { core, run } = setup();
    const probe = arpRequest(hostMac(1, 1), '0.0.0.0', hostIp(1, 1));
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), probe), 0));
    expect(outputs(run.sent)).to.have.length(SHAPE.leaves * SHAPE.hostsPerLeaf - 1);
  });

  it('after a spine-leaf cable fails, floods still reach every host port once', () => {
    const { topo, core, run } = setup();
    topo.failCable(leafDpid(3), spineDpid(1));
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), arpRequest(hostMac(1, 1), hostIp(1, 1), '10.9.9.9')), 0));
    const outs = outputs(run.sent);
    expect(outs).to.have.length(SHAPE.leaves * SHAPE.hostsPerLeaf - 1);
    expect(new Set(outs).size).to.equal(outs.length);
  });
});
