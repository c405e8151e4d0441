/**
 * The controller against a real Open vSwitch 3.x userspace bridge (acceptance 1, 2 and 4 of the
 * OpenFlow-core issue). Needs root and a running ovs-vswitchd; skipped otherwise. The bridge is named
 * `rvt<random>` and deleted by name in after(), pass or fail.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  OFPCML_NO_BUFFER, OFPFC, OFPG, OFPGC, OFPGT, OFPMC, OFPMF, OFPP, OFPTT_ALL, OFP_NO_BUFFER,
  type Bucket, type MessageOf,
} from '../../openflow/codec/index.js';
import type { AppEvents, OutMessage } from '../../openflow/app-api.js';
import { startController, type Controller } from '../../openflow/listener.js';
import { quietLogger } from '../../lib/log.js';
import {
  canonGroupDesc, canonInstructions, canonMatch, canonMeterConfig, parseDumpFlows, parseDumpGroups, parseDumpMeters,
  type CanonFlow,
} from '../helpers/ofctl-text.js';
import { ovsUnavailable, createBridge, ovs, type Bridge } from '../../testing/ovs.js';
import { requirePrerequisite } from '../helpers/prereq.js';
import { pollUntil } from '../../testing/until.js';

type FlowMod = Omit<MessageOf<'OFPT_FLOW_MOD'>, 'xid'>;

const METER_ID = 7;
const GROUP_ID = 5;

function flowMod(f: Pick<FlowMod, 'cookie' | 'tableId' | 'priority' | 'match' | 'instructions'>): FlowMod {
  return {
    type: 'OFPT_FLOW_MOD', cookieMask: 0n, command: OFPFC.ADD, idleTimeout: 0, hardTimeout: 0,
    bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY, flags: 0, ...f,
  };
}

const out = (port: number) => ({ type: 'OFPAT_OUTPUT', port, maxLen: 0 }) as const;

/** Rich matches and several instruction kinds (OpenFlow 1.3.5 §7.2.3, §7.2.4). */
const FLOWS: readonly FlowMod[] = [
  flowMod({
    cookie: 0x52560001n, tableId: 0, priority: 100,
    match: [
      { field: 'eth_type', value: 0x0800 }, { field: 'vlan_vid', value: 0x1000 | 10 }, { field: 'ip_dscp', value: 46 },
      { field: 'ip_proto', value: 6 }, { field: 'ipv4_src', value: '10.1.0.0', mask: '255.255.0.0' },
      { field: 'ipv4_dst', value: '10.2.3.0', mask: '255.255.255.0' }, { field: 'tcp_src', value: 1000 }, { field: 'tcp_dst', value: 80 },
    ],
    instructions: [
      { type: 'OFPIT_METER', meterId: METER_ID },
      { type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_GROUP', groupId: GROUP_ID }] },
      { type: 'OFPIT_WRITE_METADATA', metadata: 0xabn, metadataMask: 0xffn },
      { type: 'OFPIT_GOTO_TABLE', tableId: 1 },
    ],
  }),
  flowMod({
    cookie: 0x52560002n, tableId: 1, priority: 200,
    match: [
      { field: 'metadata', value: 0xabn, mask: 0xffn }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 },
      { field: 'ip_dscp', value: 10 }, { field: 'udp_dst', value: 53 },
    ],
    instructions: [
      {
        type: 'OFPIT_APPLY_ACTIONS',
        actions: [
          { type: 'OFPAT_SET_FIELD', field: { field: 'ip_dscp', value: 46 } }, { type: 'OFPAT_DEC_NW_TTL' },
          { type: 'OFPAT_SET_FIELD', field: { field: 'ipv4_dst', value: '10.0.0.1' } }, out(2),
        ],
      },
      { type: 'OFPIT_WRITE_ACTIONS', actions: [out(1)] },
    ],
  }),
  flowMod({
    cookie: 0x52560003n, tableId: 0, priority: 90,
    match: [{ field: 'eth_type', value: 0x86dd }, { field: 'vlan_vid', value: 0x1000, mask: 0x1000 }],
    instructions: [{ type: 'OFPIT_GOTO_TABLE', tableId: 1 }],
  }),
  flowMod({
    cookie: 0x52560004n, tableId: 1, priority: 150,
    match: [{ field: 'eth_type', value: 0x0806 }, { field: 'arp_op', value: 1 }],
    instructions: [
      { type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port: OFPP.CONTROLLER, maxLen: 128 }] },
      { type: 'OFPIT_CLEAR_ACTIONS' },
    ],
  }),
  flowMod({
    cookie: 0x52560005n, tableId: 0, priority: 80,
    match: [
      { field: 'in_port', value: 1 }, { field: 'eth_src', value: '02:00:00:00:00:00', mask: 'ff:ff:ff:00:00:00' },
      { field: 'eth_type', value: 0x0800 },
    ],
    instructions: [{
      type: 'OFPIT_APPLY_ACTIONS',
      actions: [{ type: 'OFPAT_PUSH_VLAN', ethertype: 0x8100 }, { type: 'OFPAT_SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 100 } }, out(3)],
    }],
  }),
];

const METER: Omit<MessageOf<'OFPT_METER_MOD'>, 'xid'> = {
  type: 'OFPT_METER_MOD', command: OFPMC.ADD, flags: OFPMF.KBPS | OFPMF.BURST | OFPMF.STATS, meterId: METER_ID,
  bands: [{ type: 'OFPMBT_DROP', rate: 10_000, burstSize: 1_000 }],
};

const bucket = (port: number): Bucket => ({ weight: 50, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [out(port)] });
const GROUP: Omit<MessageOf<'OFPT_GROUP_MOD'>, 'xid'> = {
  type: 'OFPT_GROUP_MOD', command: OFPGC.ADD, groupType: OFPGT.SELECT, groupId: GROUP_ID, buckets: [bucket(1), bucket(2)],
};

function expected(f: FlowMod): CanonFlow {
  return {
    table: f.tableId, priority: f.priority, cookie: `0x${f.cookie.toString(16)}`,
    match: canonMatch(f.match), instructions: canonInstructions(f.instructions),
  };
}

function byCookie(flows: readonly CanonFlow[]): Map<string, CanonFlow> {
  return new Map(flows.map((f) => [f.cookie, f]));
}

/** Waits for `check`; resolves with the ms it took. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  return (await pollUntil(what, check, { timeoutMs, everyMs: 10 })).elapsedMs;
}

const activeHandles = (): number => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

describe('controller against Open vSwitch (userspace datapath) @slow', function () {
  this.timeout(180_000);
  let ctl: Controller | undefined;
  let br: Bridge | undefined;
  let dpid = 0n;
  const ups: AppEvents['switchUp'][] = [];
  const downs: AppEvents['switchDown'][] = [];

  before(async function () {
    requirePrerequisite(this, ovsUnavailable());
    ctl = await startController({ port: 0, host: '127.0.0.1', logger: quietLogger() });
    ctl.on('switchUp', (e) => void ups.push(e));
    ctl.on('switchDown', (e) => void downs.push(e));
    br = await createBridge({ ports: 3 });
  });

  after(async () => {
    await br?.destroy();
    await ctl?.close();
  });

  /**
   * OVS refreshes the Controller table's `is_connected` column only in run_stats_update(), i.e. every
   * other_config:stats-update-interval (≥ 5000 ms; vswitchd/bridge.c), so `ovs-vsctl` lags the real
   * connection by up to 5 s whatever the controller does. The 3 s budget is asserted on what the
   * controller controls (switchUp, the table-miss entry visible to ovs-ofctl); the column is awaited for
   * 3 s + one refresh period, and all three times are printed.
   */
  it('acceptance 1: the bridge connects within 3 s and gets the table-miss entry', async () => {
    const c = ctl!;
    const t0 = performance.now();
    await br!.setController(c.port);
    dpid = await br!.waitConnected(c, 3000);
    const upMs = performance.now() - t0;
    await waitFor('table-miss entry in dump-flows', async () =>
      /priority=0 actions=CONTROLLER:65535/.test(await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br!.name])), 3000);
    const flowMs = performance.now() - t0;
    await waitFor('ovs-vsctl reports is_connected', () => br!.isConnected(), 8000);
    const ovsMs = performance.now() - t0;
    console.log(`      [figures] switchUp ${upMs.toFixed(0)} ms; table-miss in dump-flows ${flowMs.toFixed(0)} ms; ` +
      `ovs-vsctl is_connected ${ovsMs.toFixed(0)} ms after set-controller`);
    expect(upMs).to.be.below(3000);
    expect(flowMs).to.be.below(3000);
    expect(ups.map((e) => e.dpid)).to.deep.equal([dpid]);
    expect(ups[0]!.ports.map((p) => p.portNo)).to.include.members([1, 2, 3]);
    const flows = await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br!.name]);
    expect(flows).to.match(/table=0, .*priority=0 actions=CONTROLLER:65535/);
    expect(parseDumpFlows(flows)).to.deep.equal([
      { table: 0, priority: 0, cookie: '0x0', match: {}, instructions: { apply: `controller:${OFPCML_NO_BUFFER}` } },
    ]);
  });

  it('acceptance 2: flows, a meter and a select group installed through the controller read back identically', async () => {
    const sw = ctl!.switches.get(dpid)!;
    await sw.transact([METER, GROUP] as OutMessage[]);
    await sw.transact(FLOWS);

    const want = byCookie(FLOWS.map(expected));
    const viaOvs = byCookie(parseDumpFlows(await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br!.name])));
    const reply = await sw.multipart({
      mpType: 'OFPMP_FLOW', tableId: OFPTT_ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [],
    });
    const viaCtl = byCookie(reply.flows.map((f) => ({
      table: f.tableId, priority: f.priority, cookie: `0x${f.cookie.toString(16)}`,
      match: canonMatch(f.match), instructions: canonInstructions(f.instructions),
    })));
    for (const [cookie, flow] of want) {
      expect(viaOvs.get(cookie), `ovs-ofctl, flow ${cookie}`).to.deep.equal(flow);
      expect(viaCtl.get(cookie), `OFPMP_FLOW, flow ${cookie}`).to.deep.equal(flow);
    }
    expect(viaOvs.size).to.equal(FLOWS.length + 1); // + table-miss
    expect(viaCtl.size).to.equal(FLOWS.length + 1);

    const meters = await sw.multipart({ mpType: 'OFPMP_METER_CONFIG', meterId: 0xffffffff });
    const wantMeter = canonMeterConfig({ flags: METER.flags, meterId: METER.meterId, bands: METER.bands });
    expect(meters.meters.map(canonMeterConfig)).to.deep.equal([wantMeter]);
    expect(meters.meters[0]).to.deep.equal({ flags: METER.flags, meterId: METER_ID, bands: METER.bands });
    expect(parseDumpMeters(await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-meters', br!.name]))).to.deep.equal([wantMeter]);

    const groups = await sw.multipart({ mpType: 'OFPMP_GROUP_DESC' });
    const wantGroup = canonGroupDesc({ groupType: GROUP.groupType, groupId: GROUP.groupId, buckets: GROUP.buckets });
    expect(groups.groups.map(canonGroupDesc)).to.deep.equal([wantGroup]);
    expect(groups.groups[0]).to.deep.equal({ groupType: OFPGT.SELECT, groupId: GROUP_ID, buckets: GROUP.buckets });
    expect(parseDumpGroups(await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-groups', br!.name]))).to.deep.equal([wantGroup]);
  });

  it('reports a flow-mod the switch rejects as a typed SwitchError with names', async () => {
    const sw = ctl!.switches.get(dpid)!;
    const bad = flowMod({ cookie: 9n, tableId: 0, priority: 1, match: [], instructions: [{ type: 'OFPIT_METER', meterId: 4242 }] });
    const err = await sw.transact([bad]).then(() => undefined, (e: Error) => e);
    expect(err).to.include({ code: 'OFP_SWITCH_ERROR', errType: 12, errTypeName: 'OFPET_METER_MOD_FAILED' });
    expect(err).to.have.property('errCodeName').that.matches(/^OFPMMFC_(INVALID|UNKNOWN)_METER$/); // OVS 3.1: INVALID_METER
    expect(ctl!.switches.get(dpid)?.alive).to.equal(true); // the connection carries on
  });

  it('acceptance 4: 50 connect/disconnect cycles, each seen as switchUp/switchDown, leak nothing', async () => {
    const c = ctl!;
    await br!.delController();
    await waitFor('first switchDown', () => downs.length === 1, 5000);
    await waitFor('socket released', () => c.stats().sockets === 0, 3000);
    const baseline = { handles: activeHandles(), stats: c.stats() };
    const [up0, down0] = [ups.length, downs.length];
    const t0 = performance.now();
    for (let i = 1; i <= 50; i++) {
      await br!.setController(c.port);
      await waitFor(`switchUp #${i}`, () => ups.length === up0 + i, 5000);
      await br!.delController();
      await waitFor(`switchDown #${i}`, () => downs.length === down0 + i, 5000);
    }
    const cycleMs = (performance.now() - t0) / 50;
    expect(ups.slice(up0).every((e) => e.dpid === dpid)).to.equal(true);
    expect(downs.slice(down0).every((e) => e.dpid === dpid)).to.equal(true);
    await waitFor('sockets, sessions, timers, listeners back to zero', () => {
      const s = c.stats();
      return s.sockets === 0 && s.sessions === 0 && s.switches === 0 && s.timers === 0 && s.listeners === 0;
    }, 5000);
    await waitFor('active handles back to baseline', () => activeHandles() <= baseline.handles, 5000);
    const after = { handles: activeHandles(), stats: c.stats() };
    console.log(`      [figures] ${(cycleMs).toFixed(0)} ms per cycle; before ${JSON.stringify(baseline)}; after ${JSON.stringify(after)}`);
    expect(after.stats).to.deep.equal(baseline.stats);
    expect(after.stats).to.include({ sessions: 0, sockets: 0, timers: 0, listeners: 0, pendingRequests: 0 });
  });

  it('`rivulet controller` (the CLI) accepts the bridge and exits cleanly on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('../../cli/rivulet.js', import.meta.url));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [cli, 'controller', '--of-port', String(port), '--api-port', '0', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('CLI listening', () => output.includes('"event":"listening"') || child.exitCode !== null, 10_000);
      expect(child.exitCode, output).to.equal(null);
      await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'del-flows', br!.name]);
      const t0 = performance.now();
      await br!.setController(port);
      await waitFor('switch_up logged', () => output.includes('"event":"switch_up"'), 3000);
      const upMs = performance.now() - t0;
      await waitFor('is_connected to the CLI', () => br!.isConnected(), 8000);
      console.log(`      [figures] CLI: switch_up ${upMs.toFixed(0)} ms, ovs-vsctl is_connected ${(performance.now() - t0).toFixed(0)} ms`);
      await waitFor('table-miss installed', async () =>
        /priority=0 actions=CONTROLLER:65535/.test(await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br!.name])), 3000);
      expect(output, 'the CLI logs where OpenFlow and the REST API listen').to.match(/"event":"started"[^\n]*"api":"http:\/\/[^"]+\/api\/v1"/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
    expect(output).to.match(/"event":"shutdown"/);
    await br!.delController();
  });
});

