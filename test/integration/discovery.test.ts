/**
 * Discovery end to end over loopback TCP, without OVS or root: the real controller (sessions, app host)
 * with the topology app, and a fake 2 × 4 × 2 leaf-spine fabric of OpenFlow 1.3 switches with flow tables
 * (testing/fake-fabric.ts) that carries every packet-out across its wires and turns LLDP into
 * packet-ins only through the entry the topology app installs (the session's table-miss entry is off).
 *
 * Measured and printed: time from the last switch connecting to all 16 directed links, time to ready(),
 * port-down removal latency and link-expiry latency.
 */
import { expect } from 'chai';
import { OFPFC, OFPP } from '../../openflow/codec/index.js';
import { startController, type Controller } from '../../openflow/listener.js';
import { systemClock } from '../../lib/clock.js';
import { quietLogger } from '../../lib/log.js';
import { createTopologyApp, type TopologyApp } from '../../topology/app.js';
import type { FabricEvent } from '../../topology/types.js';
import { FakeFabric } from '../../testing/fake-fabric.js';
import { pollUntil } from '../../testing/until.js';

const SHAPE = { spines: 2, leaves: 4, hostsPerLeaf: 2 };

/** Polls `cond` every 2 ms; resolves with the time it became true (performance.now), rejects after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<number> {
  await pollUntil(what, cond, { timeoutMs: ms, everyMs: 2 });
  return performance.now();
}

interface Rig {
  ctl: Controller;
  topo: TopologyApp;
  fabric: FakeFabric;
  lastUpMs: number;
  events: FabricEvent[];
}

async function rig(config: Parameters<typeof createTopologyApp>[0]['config'] = {}): Promise<Rig> {
  const topo = createTopologyApp({ clock: systemClock, log: quietLogger(), config });
  // no session table-miss entry: LLDP reaches the controller only through the topology app's entry
  const ctl = await startController({ port: 0, host: '127.0.0.1', logger: quietLogger(), apps: [topo.app], session: { installTableMiss: false } });
  const r: Rig = { ctl, topo, fabric: undefined as unknown as FakeFabric, lastUpMs: 0, events: [] };
  ctl.on('switchUp', () => void (r.lastUpMs = performance.now()));
  topo.view.subscribe((ev) => r.events.push(...ev));
  r.fabric = await FakeFabric.connect(ctl.port, { shape: SHAPE, record: false });
  return r;
}

async function teardown(r: Rig | undefined): Promise<void> {
  if (!r) return;
  r.fabric?.close();
  r.topo.stop();
  await r.ctl.close();
}

const key = (l: { src: { dpid: bigint; portNo: number }; dst: { dpid: bigint; portNo: number } }): string =>
  `${l.src.dpid}:${l.src.portNo}>${l.dst.dpid}:${l.dst.portNo}`;

describe('integration: LLDP discovery of a 2×4 leaf-spine over loopback (fake fabric)', function () {
  this.timeout(30_000);
  let r: Rig | undefined;
  afterEach(async () => {
    await teardown(r);
    r = undefined;
  });

  it('finds all 16 directed links and the roles within 3 s of the last switch connecting', async () => {
    r = await rig();
    const rr = r;
    await until(() => rr.ctl.switches.size === 6, 5000, 'six switches up');
    const doneAt = await until(() => rr.topo.view.links().length === 16, 5000, '16 links');
    const took = doneAt - rr.lastUpMs;
    console.log(`      discovery: 16 directed links ${took.toFixed(1)} ms after the last switch connected`);
    expect(took).to.be.below(3000);
    expect(rr.topo.view.links().map(key).sort()).to.deep.equal(rr.fabric.directedLinks().map(key).sort());
    for (const s of rr.fabric.spines) expect(rr.topo.view.switch(s.dpid)?.role, `spine ${s.dpid}`).to.equal('spine');
    for (const s of rr.fabric.leaves) expect(rr.topo.view.switch(s.dpid)?.role, `leaf ${s.dpid}`).to.equal('leaf');
    expect(rr.topo.view.paths(rr.fabric.leaves[0]!.dpid, rr.fabric.leaves[3]!.dpid)).to.have.length(2);
    const readyAt = await until(() => rr.topo.view.ready(), 5000, 'ready');
    console.log(`      discovery: ready() ${(readyAt - rr.lastUpMs).toFixed(0)} ms after the last switch connected`);
  });

  it('removes a link at once when its port goes down, and rediscovers it when it comes back', async () => {
    r = await rig();
    const rr = r;
    await until(() => rr.topo.view.links().length === 16, 5000, '16 links');
    const t0 = performance.now();
    rr.fabric.setWire(0, 1, false);
    const goneAt = await until(() => rr.topo.view.links().length === 14, 1000, 'link removal');
    console.log(`      port down → both directions removed in ${(goneAt - t0).toFixed(1)} ms`);
    expect(goneAt - t0, 'at once, not by expiry').to.be.below(500);
    expect(rr.events.filter((e) => e.type === 'linkDown').every((e) => e.type === 'linkDown' && e.reason === 'portDown')).to.equal(true);
    const t1 = performance.now();
    rr.fabric.setWire(0, 1, true);
    const backAt = await until(() => rr.topo.view.links().length === 16, 3000, 'rediscovery');
    console.log(`      port up → link rediscovered in ${(backAt - t1).toFixed(1)} ms`);
  });

  it('expires links whose LLDP stops arriving (LLDP entry removed on a spine)', async () => {
    r = await rig({ lldpIntervalMs: 200, linkTimeoutPeriods: 3 });
    const rr = r;
    await until(() => rr.topo.view.links().length === 16, 5000, '16 links');
    const spine = rr.fabric.spines[0]!.dpid;
    const t0 = performance.now();
    rr.ctl.switches.get(spine)!.send({
      type: 'OFPT_FLOW_MOD', cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC.DELETE, idleTimeout: 0, hardTimeout: 0,
      priority: 0, bufferId: 0xffffffff, outPort: OFPP.ANY, outGroup: 0xffffffff, flags: 0, match: [{ field: 'eth_type', value: 0x88cc }], instructions: [],
    });
    const goneAt = await until(() => rr.topo.view.links().length === 12, 3000, 'expiry');
    console.log(`      LLDP silenced → 4 links expired after ${(goneAt - t0).toFixed(0)} ms (timeout 3 × 200 ms)`);
    expect(goneAt - t0).to.be.within(400, 1500);
    expect(rr.topo.view.links().every((l) => l.dst.dpid !== spine)).to.equal(true);
    expect(rr.events.some((e) => e.type === 'linkDown' && e.reason === 'timeout')).to.equal(true);
  });
});
