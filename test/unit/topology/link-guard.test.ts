/**
 * Link fabrication defence (topology/link-guard.ts and its wiring in topology/app.ts): two hosts that
 * relay Rivulet's signed probes between their ports must not create a link (TopoGuard, NDSS 2015: a port
 * that carried host traffic is a host port; TopoGuard+, DSN 2018: a probe delay far above the fabric's
 * marks a relay); real links still appear at once.
 */
import { expect } from 'chai';
import { buildArp, buildEthernet } from '../../../lib/packet/frame.js';
import { isFirstHopOnLink, LinkGuard } from '../../../topology/link-guard.js';
import { setup } from '../../../testing/topology-sim.js';
import type { OutMessage } from '../../../openflow/app-api.js';

const ref = (dpid: bigint, portNo: number) => ({ dpid, portNo });

describe('topology/link-guard (pure)', () => {
  it('a port becomes a host port on host traffic after the grace period, and stops being one when it goes down', () => {
    const g = new LinkGuard({ graceMs: 1000 });
    const p = ref(0x201n, 3);
    g.portUp(p, 0);
    expect(g.hostTraffic(p, 'aa', 500), 'within the grace period').to.equal(false);
    expect(g.isHostPort(p)).to.equal(false);
    expect(g.hostTraffic(p, 'aa', 1500)).to.equal(true);
    expect(g.hostTraffic(p, 'aa', 1600), 'already one').to.equal(false);
    const v = g.judge(ref(0x202n, 3), p, 1, 1700);
    expect(v.ok).to.equal(false);
    if (!v.ok) expect(v.rejected).to.deep.include({ reason: 'hostPort', hostPort: p, count: 1 });
    if (!v.ok) expect(v.first).to.equal(true);
    const again = g.judge(ref(0x202n, 3), p, 1, 1800);
    if (!again.ok) expect(again).to.deep.include({ first: false });
    expect(g.judge(p, ref(0x202n, 3), 1, 1800).ok, 'either end').to.equal(false);
    g.portDown(p);
    g.portUp(p, 2000);
    expect(g.isHostPort(p)).to.equal(false);
    expect(g.judge(ref(0x202n, 3), p, 1, 2100).ok).to.equal(true);
    expect(g.rejected()).to.deep.equal([]);
  });

  it('a host port whose hosts were all learnt elsewhere since is a host port no more', () => {
    const g = new LinkGuard({ graceMs: 0 });
    const p = ref(1n, 1);
    g.portUp(p, 0);
    g.hostTraffic(p, 'aa', 10);
    g.hostTraffic(p, 'bb', 10);
    expect(g.hostLeft(p, 'aa')).to.equal(false);
    expect(g.isHostPort(p)).to.equal(true);
    expect(g.hostLeft(p, 'bb')).to.equal(true);
    expect(g.isHostPort(p)).to.equal(false);
  });

  it('flags a link whose smallest probe delay is far above the median of the others, not before it has peers', () => {
    const g = new LinkGuard({ delayFactor: 10, delayFloorMs: 20, delayWindow: 3, minPeers: 2 });
    const relay = [ref(1n, 9), ref(2n, 9)] as const;
    expect(g.judge(relay[0], relay[1], 80, 0).ok, 'no peers yet: not judged').to.equal(true);
    for (let i = 0; i < 3; i++) {
      expect(g.judge(ref(1n, 1), ref(3n, 1), 1 + i * 0.5, i).ok).to.equal(true);
      expect(g.judge(ref(2n, 1), ref(3n, 2), 2, i).ok).to.equal(true);
    }
    const v = g.judge(relay[0], relay[1], 90, 10);
    expect(v.ok).to.equal(false);
    if (!v.ok) expect(v.rejected).to.deep.include({ reason: 'delay', delayMs: 80, fabricMedianDelayMs: 1.5 });
    // a real link with one slow probe (a busy moment) is not flagged: the minimum over the window counts
    expect(g.judge(ref(1n, 1), ref(3n, 1), 300, 11).ok).to.equal(true);
    // a link already in the graph is not judged by delay: probes queued behind data (every probe of the
    // window slow) must not drop a fabric link; the same delays on a new link are refused
    const g3 = new LinkGuard({ delayFactor: 10, delayFloorMs: 20, delayWindow: 3, minPeers: 2 });
    for (const [a, b] of [[1n, 3n], [2n, 3n], [4n, 3n]] as const) g3.judge(ref(a, 1), ref(b, Number(a)), 2, 0);
    for (let i = 0; i < 3; i++) expect(g3.judge(ref(5n, 1), ref(3n, 5), 150, 20 + i, true).ok, 'known link, loaded').to.equal(true);
    for (let i = 0; i < 3; i++) expect(g3.judge(ref(5n, 1), ref(3n, 5), 150, 30 + i, false).ok, 'same delays on a new sighting').to.equal(false);
    // under the floor nothing is flagged, whatever the ratio
    const g2 = new LinkGuard({ delayFloorMs: 20 });
    g2.judge(ref(1n, 1), ref(3n, 1), 0.1, 0);
    g2.judge(ref(2n, 1), ref(3n, 2), 0.1, 0);
    expect(g2.judge(ref(5n, 1), ref(6n, 1), 15, 0).ok).to.equal(true);
  });

  it('a link that expired and comes back on the same ports is judged by its earlier probes too, for delayMemoryMs; a port down forgets them', () => {
    const mk = (): LinkGuard => {
      const g = new LinkGuard({ delayFactor: 10, delayFloorMs: 20, delayWindow: 5, minPeers: 2, delayMemoryMs: 60_000 });
      for (const [a, b] of [[1n, 3n], [2n, 3n], [4n, 3n]] as const) g.judge(ref(a, 1), ref(b, Number(a)), 4.5, 0);
      for (let i = 0; i < 3; i++) g.judge(ref(5n, 1), ref(3n, 5), 4 + i, i, false);
      return g;
    };
    const [src, dst] = [ref(5n, 1), ref(3n, 5)];
    // its probes were lost (it expired); the first one back waited 136 ms in a loaded queue
    const g = mk();
    g.linkGone(src, dst, 10_000);
    expect(g.judge(src, dst, 136, 12_000, false).ok, 'back within delayMemoryMs: its earlier 4 ms probes count').to.equal(true);
    const late = mk();
    late.linkGone(src, dst, 10_000);
    const v = late.judge(src, dst, 136, 70_001, false);
    expect(v.ok, 'back after delayMemoryMs: judged afresh').to.equal(false);
    if (!v.ok) expect(v.rejected).to.deep.include({ reason: 'delay', delayMs: 136, fabricMedianDelayMs: 4.5 });
    const down = mk();
    down.linkGone(src, dst, 10_000);
    down.portDown(dst);
    down.portUp(dst, 11_000);
    expect(down.judge(src, dst, 136, 12_000, false).ok, 'a port that went down is a new link').to.equal(false);
    // a gone link's samples are not a peer's: with two links left, one gone, a third is not judged yet
    const peers = new LinkGuard({ delayFactor: 10, delayFloorMs: 20, minPeers: 2 });
    peers.judge(ref(1n, 1), ref(3n, 1), 2, 0);
    peers.judge(ref(2n, 1), ref(3n, 2), 2, 0);
    peers.linkGone(ref(2n, 1), ref(3n, 2), 5);
    expect(peers.judge(ref(7n, 1), ref(8n, 1), 150, 6).ok, 'one peer left: not judged').to.equal(true);
  });

  it('first-hop host traffic on a port with a link: a group-addressed ARP/IPv4 frame from a learnable MAC learnt nowhere', () => {
    const f = { hostFrame: true, groupDst: true, learnableSrc: true, knownSrc: false };
    expect(isFirstHopOnLink(f)).to.equal(true);
    expect(isFirstHopOnLink({ ...f, hostFrame: false }), 'not ARP / IPv4').to.equal(false);
    expect(isFirstHopOnLink({ ...f, groupDst: false }), 'unicast: entries of an earlier run forward it').to.equal(false);
    expect(isFirstHopOnLink({ ...f, learnableSrc: false }), "the controller's own probe MAC").to.equal(false);
    expect(isFirstHopOnLink({ ...f, knownSrc: true }), 'a flood that crossed a link discovery had not seen').to.equal(false);
    const g = new LinkGuard({ graceMs: 1000 });
    const p = ref(0x201n, 3);
    g.portUp(p, 0);
    expect(g.hostTrafficOnLink(p, 'aa', f, 500), 'within the grace period').to.equal(false);
    expect(g.hostTrafficOnLink(p, 'aa', { ...f, knownSrc: true }, 1500)).to.equal(false);
    expect(g.isHostPort(p)).to.equal(false);
    expect(g.hostTrafficOnLink(p, 'aa', f, 1500)).to.equal(true);
    expect(g.isHostPort(p)).to.equal(true);
  });

  it('keeps a bounded record of refusals', () => {
    const g = new LinkGuard({ graceMs: 0, maxRecords: 4 });
    const h = ref(9n, 1);
    g.portUp(h, 0);
    g.hostTraffic(h, 'aa', 1);
    for (let i = 0; i < 10; i++) g.judge(ref(BigInt(i + 20), 1), h, 1, i);
    expect(g.rejected()).to.have.length(4);
    expect(g.rejected()[0]!.src.dpid).to.equal(29n);
  });
});

describe('topology/app: two hosts relaying probes between their ports', () => {
  const arpFrom = (mac: string, ip: string): Buffer =>
    buildArp({ op: 1, ethSrc: mac, ethDst: 'ff:ff:ff:ff:ff:ff', sha: mac, spa: ip, tha: '00:00:00:00:00:00', tpa: '10.0.0.254' });
  /** an IPv4/UDP frame (checksums not needed by the parser) */
  const ipv4 = (ethSrc: string, ethDst: string, src: string, dst: string): Buffer => {
    const ip = Buffer.alloc(28);
    ip[0] = 0x45;
    ip.writeUInt16BE(28, 2);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from(src.split('.').map(Number)).copy(ip, 12);
    Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
    ip.writeUInt16BE(5000, 20);
    ip.writeUInt16BE(6000, 22);
    ip.writeUInt16BE(8, 24);
    return buildEthernet(ethDst, ethSrc, 0x0800, ip);
  };
  const isHostPortOut = (spec: { hostPorts: readonly { dpid: bigint; portNo: number }[] }, x: { dpid: bigint; msg: OutMessage }): boolean =>
    x.msg.type === 'OFPT_PACKET_OUT' && spec.hostPorts.some((h) => h.dpid === x.dpid
      && x.msg.type === 'OFPT_PACKET_OUT' && x.msg.actions.some((a) => a.type === 'OFPAT_OUTPUT' && a.port === h.portNo));

  it('relays running before the switches connect: the link made of the first probes goes with the first broadcast of a host, and stays gone', () => {
    const { sim, topo, clock, events } = setup([1, 2, 1]);
    const [h1, h2] = sim.spec.hostPorts as [{ dpid: bigint; portNo: number }, { dpid: bigint; portNo: number }];
    sim.peers.set(`${h1.dpid}:${h1.portNo}`, h2);
    sim.peers.set(`${h2.dpid}:${h2.portNo}`, h1);
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(1500);
    // before any host has spoken nothing tells the relaying hosts from a switch: the first probes made a link
    expect(topo.view.isFabricPort(h1), 'the relayed link, before any host traffic').to.equal(true);
    expect(topo.view.links()).to.have.length(6);
    sim.packetIn(h1.dpid, h1.portNo, arpFrom('0a:00:00:00:00:01', '10.0.0.1'));
    expect(topo.view.isFabricPort(h1)).to.equal(false);
    expect(topo.view.isFabricPort(h2), 'both directions of the relayed link went').to.equal(false);
    expect(topo.view.links()).to.have.length(4);
    expect(events.filter((e) => e.type === 'linkDown').map((e) => e.type === 'linkDown' && e.reason)).to.deep.equal(['rejected:hostPort', 'rejected:hostPort']);
    expect(topo.view.hostByMac('0a:00:00:00:00:01')?.attachment, 'the host is learnt at its port').to.deep.equal(h1);
    expect(topo.view.rejectedLinks!().map((r) => r.reason)).to.deep.equal(['hostPort', 'hostPort']);
    sim.packetIn(h2.dpid, h2.portNo, arpFrom('0a:00:00:00:00:02', '10.0.0.2'));
    const before = sim.sent.length;
    clock.advance(5000);
    expect(sim.sent.slice(before).filter((x) => isHostPortOut(sim.spec, x)), 'probes out of host ports').to.have.length(0);
    expect(topo.view.links()).to.have.length(4);
    expect(topo.view.hosts().map((h) => `${h.mac} ${h.attachment.dpid}:${h.attachment.portNo}`)).to.deep.equal([
      `0a:00:00:00:00:01 ${h1.dpid}:${h1.portNo}`, `0a:00:00:00:00:02 ${h2.dpid}:${h2.portNo}`]);
    topo.stop();
  });

  it('a genuine fabric link is not dropped by frames a fabric port can carry', () => {
    const { sim, topo, clock } = setup([1, 2, 1], { ignoredMacs: ['0e:00:00:00:00:99'] });
    for (const s of sim.spec.switches) sim.up(s.dpid);
    // within the grace period of the ports coming up, even first-hop traffic marks nothing
    const w = sim.spec.wires[0]!;
    clock.advance(300);
    expect(topo.view.isFabricPort(w.b)).to.equal(true);
    sim.packetIn(w.b.dpid, w.b.portNo, arpFrom('0a:00:00:00:00:07', '10.0.0.7'));
    expect(topo.view.links(), 'grace period').to.have.length(4);
    clock.advance(1500);
    const [h1] = sim.spec.hostPorts as [{ dpid: bigint; portNo: number }];
    sim.packetIn(h1.dpid, h1.portNo, arpFrom('0a:00:00:00:00:01', '10.0.0.1'));
    // a flood copy of a known host's broadcast that crossed the link
    sim.packetIn(w.b.dpid, w.b.portNo, arpFrom('0a:00:00:00:00:01', '10.0.0.1'));
    // unicast from a host this run has not learnt (forwarded by entries of an earlier run)
    sim.packetIn(w.b.dpid, w.b.portNo, ipv4('0a:00:00:00:00:05', '0a:00:00:00:00:01', '10.0.0.5', '10.0.0.1'));
    // the routing app's own ARP probe (ignored MAC), flooded before discovery saw the link
    sim.packetIn(w.a.dpid, w.a.portNo, arpFrom('0e:00:00:00:00:99', '0.0.0.0'));
    expect(topo.view.links()).to.have.length(4);
    expect(topo.view.hostPorts!()).to.deep.equal([h1]);
    expect(topo.view.rejectedLinks!()).to.deep.equal([]);
    topo.stop();
  });

  it('hosts that talked first: no probes out of their ports, the relay creates no link, hosts stay; a real link still appears at once', () => {
    const { sim, topo, clock } = setup([1, 2, 1]);
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(1500);
    expect(topo.view.links()).to.have.length(4);
    const [h1, h2] = sim.spec.hostPorts as [{ dpid: bigint; portNo: number }, { dpid: bigint; portNo: number }];
    sim.packetIn(h1.dpid, h1.portNo, arpFrom('0a:00:00:00:00:01', '10.0.0.1'));
    sim.packetIn(h2.dpid, h2.portNo, arpFrom('0a:00:00:00:00:02', '10.0.0.2'));
    expect(topo.view.hostPorts!()).to.deep.equal([h1, h2]);
    // the relay: whatever leaves h1's port enters h2's, and back
    sim.peers.set(`${h1.dpid}:${h1.portNo}`, h2);
    sim.peers.set(`${h2.dpid}:${h2.portNo}`, h1);
    const before = sim.sent.length;
    clock.advance(5000);
    const probesOutOfHostPorts = sim.sent.slice(before).filter((x) => x.msg.type === 'OFPT_PACKET_OUT'
      && sim.spec.hostPorts.some((h) => h.dpid === x.dpid && x.msg.type === 'OFPT_PACKET_OUT' && x.msg.actions.some((a) => a.type === 'OFPAT_OUTPUT' && a.port === h.portNo)));
    expect(probesOutOfHostPorts).to.have.length(0);
    expect(topo.view.links()).to.have.length(4);
    expect(topo.view.isFabricPort(h1)).to.equal(false);
    expect(topo.view.hosts().map((h) => h.mac)).to.deep.equal(['0a:00:00:00:00:01', '0a:00:00:00:00:02']);
    // a real cable re-plugged: back within one probe slot
    const w = sim.spec.wires[0]!;
    sim.portStatus(w.a.dpid, w.a.portNo, false);
    expect(topo.view.links()).to.have.length(2);
    sim.portStatus(w.a.dpid, w.a.portNo, true);
    clock.advance(200);
    expect(topo.view.links()).to.have.length(4);
    topo.stop();
  });

  it('one host talked, its accomplice stayed silent: the accomplice’s relayed probes into the talker’s port make no link', () => {
    const { sim, topo, clock } = setup([1, 2, 1]);
    for (const s of sim.spec.switches) sim.up(s.dpid);
    clock.advance(1500);
    const [h1, h2] = sim.spec.hostPorts as [{ dpid: bigint; portNo: number }, { dpid: bigint; portNo: number }];
    sim.packetIn(h1.dpid, h1.portNo, arpFrom('0a:00:00:00:00:01', '10.0.0.1'));
    sim.peers.set(`${h1.dpid}:${h1.portNo}`, h2);
    sim.peers.set(`${h2.dpid}:${h2.portNo}`, h1);
    clock.advance(3000);
    expect(topo.view.isFabricPort(h1)).to.equal(false);
    expect(topo.view.isFabricPort(h2)).to.equal(false);
    expect(topo.view.links()).to.have.length(4);
    const [r] = topo.view.rejectedLinks!();
    expect(r).to.deep.include({ src: h2, dst: h1, reason: 'hostPort', hostPort: h1 });
    expect(r!.count).to.be.at.least(2);
    expect(topo.view.hostByMac('0a:00:00:00:00:01')?.attachment).to.deep.equal(h1);
    // the talker's port goes down and up (re-cabled): it starts clean, probed again
    sim.portStatus(h1.dpid, h1.portNo, false);
    sim.portStatus(h1.dpid, h1.portNo, true);
    expect(topo.view.hostPorts!()).to.deep.equal([]);
    topo.stop();
  });
});
