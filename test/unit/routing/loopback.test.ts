/**
 * The routing app inside the real controller over loopback TCP, with fake OpenFlow switches (no OVS):
 * a first packet on leaf 1 ends in flow entries on leaf 2, the spine and leaf 1 — each acknowledged by a
 * barrier before the next stage — and the packet-out of the first packet on leaf 1 at once, before any barrier.
 */
import { expect } from 'chai';
import { startController, type Controller } from '../../../openflow/listener.js';
import { systemClock } from '../../../lib/clock.js';
import { OFP_NO_BUFFER, type OfpMessage } from '../../../openflow/codec/index.js';
import { quietLogger } from '../../../lib/log.js';
import { createRoutingApp, type RoutingApp } from '../../../apps/routing/app.js';
import { FakeSwitch } from '../../../testing/fake-switch.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid, spineDpid } from '../../../testing/fake-leaf-spine.js';
import { ipv4Frame } from './frames.js';
import { until as untilHolds } from '../../../testing/until.js';

const until = (what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> => untilHolds(what, check, timeoutMs);

describe('routing app over loopback (fake switches)', () => {
  let ctl: Controller;
  let routing: RoutingApp;
  const switches: FakeSwitch[] = [];

  afterEach(async () => {
    routing.stop();
    for (const s of switches.splice(0)) s.destroy();
    await ctl.close();
  });

  it('pins a flow across leaf → spine → leaf; the first packet leaves at once, the ingress entry after the downstream barriers', async () => {
    const topo = FakeLeafSpine.leafSpine({ spines: 1, leaves: 2, hostsPerLeaf: 1 });
    routing = createRoutingApp({ topology: topo, clock: systemClock, log: quietLogger(), config: { seed: 1 } });
    ctl = await startController({ port: 0, host: '127.0.0.1', logger: quietLogger(), apps: [routing.app] });
    const dpids = [leafDpid(1), leafDpid(2), spineDpid(1)];
    for (const d of dpids) switches.push(await FakeSwitch.connect(ctl.port, d));
    await until('switches up', () => ctl.stats().switches === 3);
    const [l1, l2, s1] = switches as [FakeSwitch, FakeSwitch, FakeSwitch];
    const mark = switches.map((s) => s.received.length);

    const data = ipv4Frame({ ethSrc: hostMac(1, 1), ethDst: hostMac(2, 1), src: hostIp(1, 1), dst: hostIp(2, 1), srcPort: 5555, dstPort: 80 });
    l1.send({ type: 'OFPT_PACKET_IN', xid: 77, bufferId: OFP_NO_BUFFER, totalLen: data.length, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: 2 }], data });
    await until('packet-out on leaf 1', () => l1.received.some((m) => m.type === 'OFPT_PACKET_OUT'));
    await routing.settled();

    const types = (s: FakeSwitch, from: number): string[] => s.received.slice(from).map((m: OfpMessage) => m.type);
    expect(types(l2, mark[1]!)).to.deep.equal(['OFPT_FLOW_MOD', 'OFPT_BARRIER_REQUEST']);
    expect(types(s1, mark[2]!)).to.deep.equal(['OFPT_FLOW_MOD', 'OFPT_BARRIER_REQUEST']);
    expect(types(l1, mark[0]!)).to.deep.equal(['OFPT_PACKET_OUT', 'OFPT_FLOW_MOD', 'OFPT_BARRIER_REQUEST']);
    const po = l1.received.find((m) => m.type === 'OFPT_PACKET_OUT')!;
    if (po.type !== 'OFPT_PACKET_OUT') throw new Error('unreachable');
    expect(po.data.equals(data)).to.equal(true);
    expect(po.actions).to.deep.equal([{ type: 'OFPAT_OUTPUT', port: 1, maxLen: 0 }]);
    expect(routing.routes()).to.have.length(1);
    expect(routing.routes()[0]!.spine).to.equal('0000000000000101');
  });
});
