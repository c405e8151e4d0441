/**
 * Failure handling of the routing core (ARCHITECTURE.md "Commitments" 9): link down and switch removal re-pin the routes
 * that crossed the failed element in the same call (new entries egress first, stale ones deleted by
 * cookie after), routes with no surviving path are removed; a moved host re-pins its routes.
 */
import { expect } from 'chai';
import { OFPFC } from '../../../openflow/codec/index.js';
import { RoutingCore } from '../../../apps/routing/core.js';
import type { FlowKey, RouteInfo } from '../../../apps/routing/types.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid, spineDpid } from '../../../testing/fake-leaf-spine.js';
import { ipv4Frame, packetIn } from './frames.js';
import { EffectRunner } from './sim.js';

const SHAPE = { spines: 3, leaves: 3, hostsPerLeaf: 2 };
const hostPort = (h: number): number => SHAPE.spines + h;

function setup(): { topo: FakeLeafSpine; core: RoutingCore; run: EffectRunner } {
  const topo = FakeLeafSpine.leafSpine(SHAPE);
  const core = new RoutingCore(topo, { seed: 3 });
  const run = new EffectRunner(core);
  // the shell's subscription, synchronously
  topo.subscribe((events) => run.run(core.fabricEvents(events, 5000)));
  return { topo, core, run };
}

function flow(sl: number, sh: number, dl: number, dh: number, srcPort: number): { frame: Buffer; key: FlowKey } {
  return {
    frame: ipv4Frame({ ethSrc: hostMac(sl, sh), ethDst: hostMac(dl, dh), src: hostIp(sl, sh), dst: hostIp(dl, dh), proto: 17, srcPort, dstPort: 9000 }),
    key: { ipv4Src: hostIp(sl, sh), ipv4Dst: hostIp(dl, dh), ipProto: 17, srcPort, dstPort: 9000 },
  };
}

const spineOf = (r: RouteInfo): bigint => BigInt(`0x${r.spine}`);

/** Pins `n` flows leaf 1 → leaf 2 and returns their keys. */
function pinMany(core: RoutingCore, run: EffectRunner, n: number): FlowKey[] {
  const keys: FlowKey[] = [];
  for (let i = 0; i < n; i++) {
    const f = flow(1, 1 + (i % 2), 2, 1 + ((i >> 1) % 2), 10000 + i);
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1 + (i % 2)), f.frame), i));
    keys.push(f.key);
  }
  return keys;
}

describe('routing core: failures', () => {
  it('link down: every route over the link is re-pinned to a surviving spine within the same call', () => {
    const { topo, core, run } = setup();
    const keys = pinMany(core, run, 30);
    const before = core.routes();
    const victims = before.filter((r) => spineOf(r) === spineDpid(2));
    expect(victims.length).to.be.greaterThan(0);
    run.clear();
    topo.failCable(leafDpid(1), spineDpid(2)); // synchronous: the subscription re-pins before this returns
    const after = core.routes();
    expect(after).to.have.length(before.length);
    for (const r of after) {
      const was = before.find((b) => b.cookie === r.cookie || JSON.stringify(b.flowKey) === JSON.stringify(r.flowKey))!;
      if (spineOf(was) === spineDpid(2)) {
        expect(spineOf(r)).to.not.equal(spineDpid(2));
        expect(r.repinned).to.equal(1);
        expect(r.repinnedMs).to.equal(5000);
        expect(r.cookie).to.not.equal(was.cookie);
      } else {
        expect(r.cookie).to.equal(was.cookie);
        expect(r.repinned).to.equal(0);
      }
    }
    // every flow still crosses the fabric, and nothing remains on the failed spine
    for (const k of keys) {
      const r = core.route(k)!;
      const t = run.sim.trace(topo, k, { dpid: leafDpid(1), portNo: r.path[0]!.inPort });
      expect(t.delivered?.dpid).to.equal(leafDpid(2));
      expect(t.switches).to.not.include(spineDpid(2));
    }
    expect(run.sim.entries(spineDpid(2))).to.have.length(0);
    // order: for each re-pinned route, its new adds (egress first, ingress last) come before its stale deletes
    for (const v of victims) {
      const r = core.route(v.flowKey)!;
      const newCookie = BigInt(`0x${r.cookie}`);
      const oldCookie = BigInt(`0x${v.cookie}`);
      const idx = (pred: (s: (typeof run.sent)[number]) => boolean): number[] => run.sent.flatMap((s, i) => (pred(s) ? [i] : []));
      const adds = idx((s) => s.msg.type === 'OFPT_FLOW_MOD' && s.msg.command === OFPFC.ADD && s.msg.cookie === newCookie);
      const dels = idx((s) => s.msg.type === 'OFPT_FLOW_MOD' && s.msg.command === OFPFC.DELETE && s.msg.cookie === oldCookie);
      expect(adds).to.have.length(3);
      expect(run.sent[adds[0]!]!.dpid).to.equal(leafDpid(2));
      expect(run.sent[adds[2]!]!.dpid).to.equal(leafDpid(1));
      expect(dels.length).to.equal(3);
      expect(Math.min(...dels)).to.be.greaterThan(Math.max(...adds));
    }
  });

  it('re-pinned routes spread at random over the surviving equal-cost paths, not onto the first one', () => {
    // 4 spines: a cable between leaf 1 and spine 2 fails; the routes that crossed it must be re-pinned
    // uniformly at random among the 3 surviving spines (as a new flow would be), so a re-pin that always
    // takes the first surviving path piles them all onto one spine and fails here.
    const topo = FakeLeafSpine.leafSpine({ spines: 4, leaves: 2, hostsPerLeaf: 2 });
    const core = new RoutingCore(topo, { seed: 11 });
    const run = new EffectRunner(core);
    topo.subscribe((events) => run.run(core.fabricEvents(events, 5000)));
    for (let i = 0; i < 80; i++) {
      const f = flow(1, 1 + (i % 2), 2, 1 + ((i >> 1) % 2), 20000 + i);
      run.run(core.packetIn(packetIn(leafDpid(1), 4 + 1 + (i % 2), f.frame), i));
    }
    const victims = core.routes().filter((r) => spineOf(r) === spineDpid(2)).map((r) => r.flowKey);
    expect(victims.length).to.be.at.least(12);
    topo.failCable(leafDpid(1), spineDpid(2));
    const perSpine = new Map<bigint, number>();
    for (const k of victims) {
      const r = core.route(k)!;
      expect(r.repinned).to.equal(1);
      expect(r.choice.of).to.equal(3);
      perSpine.set(spineOf(r), (perSpine.get(spineOf(r)) ?? 0) + 1);
    }
    expect(perSpine.has(spineDpid(2))).to.equal(false);
    // every surviving spine takes some of them, none takes more than 2/3
    expect([...perSpine.keys()].sort((a, b) => Number(a - b))).to.deep.equal([spineDpid(1), spineDpid(3), spineDpid(4)]);
    for (const n of perSpine.values()) expect(n).to.be.at.most(Math.ceil((victims.length * 2) / 3));
  });

  it('a FLOW_REMOVED for the entries of the old path (our own delete) does not remove the re-pinned route', () => {
    const { topo, core, run } = setup();
    pinMany(core, run, 12);
    const victim = core.routes().find((r) => spineOf(r) === spineDpid(1))!;
    topo.failCable(leafDpid(2), spineDpid(1));
    expect(core.flowRemoved(spineDpid(1), BigInt(`0x${victim.cookie}`))).to.deep.equal([]);
    expect(core.route(victim.flowKey)).to.not.equal(undefined);
  });

  it('switch removed (a spine): its routes move to the other spines; (a leaf): routes to its hosts are removed', () => {
    const { topo, core, run } = setup();
    pinMany(core, run, 20);
    const n = core.routes().length;
    topo.removeSwitch(spineDpid(3));
    expect(core.routes()).to.have.length(n);
    for (const r of core.routes()) expect(spineOf(r)).to.not.equal(spineDpid(3));
    run.clear();
    topo.removeSwitch(leafDpid(2));
    expect(core.routes()).to.have.length(0);
    expect(run.sent.every((s) => s.msg.type === 'OFPT_FLOW_MOD' && s.msg.command === OFPFC.DELETE)).to.equal(true);
    expect(run.sim.entries(leafDpid(1))).to.have.length(0);
  });

  it('no surviving path: the route is removed with all its entries', () => {
    const { topo, core, run } = setup();
    pinMany(core, run, 6);
    topo.failCable(leafDpid(2), spineDpid(1));
    topo.failCable(leafDpid(2), spineDpid(2));
    expect(core.routes().length).to.equal(6);
    topo.failCable(leafDpid(2), spineDpid(3));
    expect(core.routes()).to.have.length(0);
    expect(run.sim.count()).to.equal(0);
    // and a new flow to the cut-off leaf is dropped (no route, no entries)
    run.clear();
    const f = flow(1, 1, 2, 1, 999);
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), f.frame), 9000));
    expect(core.routes()).to.have.length(0);
    expect(run.sent).to.have.length(0);
  });

  it('a re-pin during an install in progress supersedes it; the old install completing is cleaned up', () => {
    const { topo, core, run } = setup();
    run.defer = true;
    const f = flow(1, 1, 3, 1, 777);
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), f.frame), 0));
    const spine = spineOf(core.route(f.key)!);
    const firstOut = core.route(f.key)!.path[0]!.outPort;
    topo.failCable(leafDpid(3), spine);
    // one install in flight per route: the new path waits for the old install to report
    expect(run.pending).to.have.length(1);
    expect(spineOf(core.route(f.key)!)).to.not.equal(spine);
    run.complete(run.pending.shift()!);
    expect(run.pending).to.have.length(1);
    expect(run.sent.filter((s) => s.msg.type === 'OFPT_FLOW_MOD' && s.msg.command === OFPFC.DELETE)).to.have.length(3);
    run.flush();
    expect(run.sim.entries(spine)).to.have.length(0);
    const t = run.sim.trace(topo, f.key, { dpid: leafDpid(1), portNo: hostPort(1) });
    expect(t.delivered).to.deep.equal({ dpid: leafDpid(3), portNo: hostPort(1) });
    // the first packet left at once on the ingress hop of the path chosen then; nothing was held
    const outs = run.packetOuts();
    expect(outs).to.have.length(1);
    const po = outs[0]!.msg;
    if (po.type !== 'OFPT_PACKET_OUT') throw new Error('unreachable');
    const out = po.actions[0]!;
    expect(out.type === 'OFPAT_OUTPUT' && out.port).to.equal(firstOut);
  });

  it('host moved: its routes are re-pinned to the new attachment (both directions)', () => {
    const { topo, core, run } = setup();
    const a = flow(1, 1, 2, 2, 1111);
    const b = flow(2, 2, 3, 1, 2222);
    run.run(core.packetIn(packetIn(leafDpid(1), hostPort(1), a.frame), 0));
    run.run(core.packetIn(packetIn(leafDpid(2), hostPort(2), b.frame), 0));
    const untouched = flow(3, 1, 1, 2, 3333);
    run.run(core.packetIn(packetIn(leafDpid(3), hostPort(1), untouched.frame), 0));
    topo.forgetHost(hostMac(3, 2));
    topo.moveHost(hostMac(2, 2), { dpid: leafDpid(3), portNo: hostPort(2) });
    const ra = core.route(a.key)!;
    expect(ra.repinned).to.equal(1);
    expect(ra.path[ra.path.length - 1]).to.deep.equal({ dpid: '0000000000000003', inPort: ra.path[ra.path.length - 1]!.inPort, outPort: hostPort(2) });
    const rb = core.route(b.key)!;
    expect(rb.repinned).to.equal(1);
    expect(rb.path).to.deep.equal([{ dpid: '0000000000000003', inPort: hostPort(2), outPort: hostPort(1) }]);
    expect(core.route(untouched.key)!.repinned).to.equal(0);
    expect(run.sim.trace(topo, a.key, { dpid: leafDpid(1), portNo: hostPort(1) }).delivered).to.deep.equal({ dpid: leafDpid(3), portNo: hostPort(2) });
    expect(run.sim.trace(topo, b.key, { dpid: leafDpid(3), portNo: hostPort(2) }).delivered).to.deep.equal({ dpid: leafDpid(3), portNo: hostPort(1) });
    expect(run.sim.entries(leafDpid(2))).to.have.length(0);
  });

  it('applying the same fabric events twice changes nothing the second time (idempotence)', () => {
    const { topo, core, run } = setup();
    pinMany(core, run, 10);
    topo.failCable(leafDpid(1), spineDpid(1));
    const snapshot = JSON.stringify(core.routes());
    const last = topo.emitted[topo.emitted.length - 1]!;
    expect(core.fabricEvents(last, 6000)).to.deep.equal([]);
    expect(JSON.stringify(core.routes())).to.equal(snapshot);
  });
});
