/**
 * The real MeterEnforcer against an Open vSwitch 3.x userspace bridge (ARCHITECTURE.md "Platform facts": meters work there with
 * drop bands): probe, install, modify, remove, statistics and the clean slate of a new controller run,
 * each read back with `ovs-ofctl -O OpenFlow13 dump-meters|dump-flows`. Needs root and a running
 * ovs-vswitchd; skipped otherwise. The bridge is `rvt<random>` and deleted by name in after(), pass or fail.
 */
import { expect } from 'chai';
import { OFPP, type Match } from '../../openflow/codec/index.js';
import { systemClock } from '../../lib/clock.js';
import { startController, type Controller } from '../../openflow/listener.js';
import { quietLogger } from '../../lib/log.js';
import { MeterEnforcer, type MeterTarget } from '../../apps/enforcement/meter-enforcer.js';
import { enforcementCookie, meterBurstBytes } from '../../apps/enforcement/meters.js';
import { canonMatch, parseDumpFlows, parseDumpMeters, type CanonFlow } from '../helpers/ofctl-text.js';
import { ovsUnavailable, createBridge, ovs, type Bridge } from '../../testing/ovs.js';
import { requirePrerequisite } from '../helpers/prereq.js';
import { dpidHex } from '../../lib/dpid.js';

const PRIORITY = 1001;
const MATCH: Match = [
  { field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 },
  { field: 'ipv4_src', value: '10.0.1.1' }, { field: 'ipv4_dst', value: '10.0.2.1' },
  { field: 'tcp_src', value: 40000 }, { field: 'tcp_dst', value: 5201 },
];
const OUT2 = [{ type: 'OFPAT_OUTPUT', port: 2, maxLen: 0 }] as const;

/** An Ethernet/IPv4/TCP frame of `len` bytes matching MATCH (checksums left zero: only matching matters). */
function tcpFrameHex(len: number): string {
  const f = Buffer.alloc(len);
  Buffer.from('020000000002020000000001', 'hex').copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f.writeUInt8(0x45, 14);
  f.writeUInt16BE(len - 14, 16);
  f.writeUInt8(64, 22);
  f.writeUInt8(6, 23);
  Buffer.from([10, 0, 1, 1, 10, 0, 2, 1]).copy(f, 26);
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(5201, 36);
  f.writeUInt8(0x50, 46);
  return f.toString('hex');
}

async function dumpMeters(br: Bridge) {
  return parseDumpMeters(await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-meters', br.name]));
}

/**
 * `dump-flows`, parsed. OVS prints the flags of an entry before its priority with a space, not a comma
 * (`…, send_flow_rem priority=1001,tcp,…`), which the shared parser does not split: put the comma in.
 */
async function dumpFlows(br: Bridge): Promise<CanonFlow[]> {
  const text = await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br.name]);
  return parseDumpFlows(text.replace(/ send_flow_rem /g, ' send_flow_rem, '));
}

async function enforcementFlows(br: Bridge): Promise<CanonFlow[]> {
  return (await dumpFlows(br)).filter((f) => f.cookie.startsWith('0x525602'));
}

describe('meter enforcement against Open vSwitch (userspace datapath) @slow', function () {
  this.timeout(60_000);
  let ctl: Controller | undefined;
  let br: Bridge | undefined;
  let dpid = 0n;
  const enforcers: MeterEnforcer[] = [];
  const figures: string[] = [];

  const newEnforcer = (): MeterEnforcer => {
    const e = new MeterEnforcer({
      switches: (d) => ctl!.switches.get(d), log: quietLogger(), clock: systemClock, priority: PRIORITY, idleTimeoutS: 0,
    });
    enforcers.push(e);
    return e;
  };
  const target = (rateBps: number, actions: MeterTarget['actions'] = OUT2): MeterTarget => ({ key: 'h1→h2', dpid, match: MATCH, actions, rateBps });

  before(async function () {
    requirePrerequisite(this, ovsUnavailable());
    ctl = await startController({ port: 0, host: '127.0.0.1', logger: quietLogger() });
    br = await createBridge({ ports: 2 });
    await br.setController(ctl.port);
    dpid = await br.waitConnected(ctl, 10_000);
  });

  after(async () => {
    for (const e of enforcers) await e.close().catch(() => undefined);
    await br?.destroy();
    await ctl?.close();
    if (figures.length) console.log(`      [figures] ${figures.join('; ')}`);
  });

  it('switchUp probes meter features: supported, max_meter > 0, drop band', async () => {
    const enf = newEnforcer();
    const t0 = performance.now();
    await enf.switchUp(dpid);
    figures.push(`switchUp (probe + clean slate) ${(performance.now() - t0).toFixed(1)} ms`);
    const s = enf.support(dpid)!;
    expect(s).to.include({ dpid: dpidHex(dpid), supported: true });
    expect(s.maxMeter).to.be.greaterThan(0);
    expect(s.bandTypes).to.include('OFPMBT_DROP');
    figures.push(`OVS max_meter ${s.maxMeter}, bands ${s.bandTypes.join(',')}`);
  });

  it('set() installs a kbit/s drop meter and the metered entry, read back by ovs-ofctl', async () => {
    const enf = enforcers[0]!;
    const t0 = performance.now();
    await enf.set(target(20_000_000));
    figures.push(`install (METER_MOD ADD + FLOW_MOD ADD + barrier) ${(performance.now() - t0).toFixed(1)} ms`);
    expect(meterBurstBytes(20_000_000)).to.equal(50_000);
    expect(await dumpMeters(br!)).to.deep.equal([{ meterId: 1, flags: 'kbps burst stats', bands: ['drop rate=20000 burst_size=400'] }]);
    expect(await enforcementFlows(br!)).to.deep.equal([{
      table: 0, priority: PRIORITY, cookie: `0x${enforcementCookie(1).toString(16)}`, match: canonMatch(MATCH),
      instructions: { meter: '1', apply: 'output:2' },
    }]);
    expect(enf.list()).to.have.length(1);
    expect(enf.list()[0]).to.include({ state: 'installed', meterId: 1, rateBps: 20_000_000, burstBytes: 50_000 });
  });

  it('set() again modifies the rate in place; new actions replace the entry', async () => {
    const enf = enforcers[0]!;
    let t0 = performance.now();
    await enf.set(target(5_000_500)); // rounds up to 5001 kbit/s; burst floor 15 140 B = 122 kbit
    figures.push(`modify (METER_MOD MODIFY + barrier) ${(performance.now() - t0).toFixed(1)} ms`);
    expect(await dumpMeters(br!)).to.deep.equal([{ meterId: 1, flags: 'kbps burst stats', bands: ['drop rate=5001 burst_size=122'] }]);
    expect((await enforcementFlows(br!)).map((f) => f.instructions)).to.deep.equal([{ meter: '1', apply: 'output:2' }]);

    const actions = [{ type: 'OFPAT_SET_QUEUE', queueId: 1 } as const, ...OUT2];
    t0 = performance.now();
    await enf.set(target(5_000_500, actions));
    figures.push(`entry replace (FLOW_MOD ADD + DELETE + barrier) ${(performance.now() - t0).toFixed(1)} ms`);
    const flows = await enforcementFlows(br!);
    expect(flows.map((f) => [f.cookie, f.instructions])).to.deep.equal([
      [`0x${enforcementCookie(2).toString(16)}`, { meter: '1', apply: 'set_queue:1,output:2' }],
    ]);
  });

  it('pollStats() reads OFPMP_METER and reports what passed the meter', async () => {
    const enf = enforcers[0]!;
    await enf.pollStats();
    const frame = tcpFrameHex(1000);
    const N = 20;
    for (let i = 0; i < N; i++) {
      await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'packet-out', br!.name, `in_port=1,packet=${frame},actions=output:${OFPP.TABLE}`]);
    }
    await new Promise((r) => setTimeout(r, 1100)); // OVS meter durations have ms resolution; leave a visible interval
    await enf.pollStats();
    const stats = enf.list()[0]!.stats;
    expect(stats, 'stats after two polls').to.not.equal(undefined);
    figures.push(`stats after ${N}×1000 B packet-outs: ${stats!.packets} packets, ${stats!.bytes} B passed, measured ${(stats!.measuredBps / 1000).toFixed(1)} kbit/s`);
    expect(stats!.packets).to.be.within(1, N);
    expect(stats!.bytes).to.equal(stats!.packets * 1000);
    expect(stats!.measuredBps).to.be.greaterThan(0);
  });

  it('the drop band drops what exceeds rate + burst, and stats count only what passed', async () => {
    const enf = enforcers[0]!;
    await enf.set(target(8_000, [...OUT2])); // 8 kbit/s; burst floor 15 140 B (122 kbit = 15 250 B)
    await enf.pollStats();
    const frame = tcpFrameHex(1000);
    const N = 40;
    for (let i = 0; i < N; i++) {
      await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'packet-out', br!.name, `in_port=1,packet=${frame},actions=output:${OFPP.TABLE}`]);
    }
    await enf.pollStats();
    const stats = enf.list()[0]!.stats!;
    figures.push(`8 kbit/s meter, ${N}×1000 B offered at once: ${stats.packets} passed (burst 15 250 B + refill)`);
    expect(stats.packets).to.be.within(14, 25);
    expect(stats.bytes).to.equal(stats.packets * 1000);
  });

  it('remove() deletes the meter and the entry', async () => {
    const enf = enforcers[0]!;
    const t0 = performance.now();
    await enf.remove('h1→h2');
    figures.push(`remove (FLOW_MOD DELETE + METER_MOD DELETE + barrier) ${(performance.now() - t0).toFixed(1)} ms`);
    expect(await dumpMeters(br!)).to.deep.equal([]);
    expect(await enforcementFlows(br!)).to.deep.equal([]);
    expect(enf.size).to.equal(0);
  });

  it('switchUp of a new controller run deletes the leftovers of the last one, and nothing else', async () => {
    const old = enforcers[0]!;
    await old.set(target(10_000_000));
    await old.set({ ...target(3_000_000), key: 'other', match: [...MATCH.slice(0, 5), { field: 'tcp_src', value: 40001 }, MATCH[6]!] });
    await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flow', br!.name, 'cookie=0x1234,priority=5,ip,actions=drop']);
    expect(await dumpMeters(br!)).to.have.length(2);
    expect(await enforcementFlows(br!)).to.have.length(2);

    const fresh = newEnforcer(); // what a restarted controller would build
    await fresh.switchUp(dpid);
    expect(await dumpMeters(br!)).to.deep.equal([]);
    expect(await enforcementFlows(br!)).to.deep.equal([]);
    const all = await dumpFlows(br!);
    expect(all.map((f) => f.cookie)).to.include('0x1234');
    await fresh.set(target(10_000_000));
    expect(fresh.list()[0]).to.include({ meterId: 1, state: 'installed' });
    await fresh.close();
    expect(await dumpMeters(br!)).to.deep.equal([]);
    expect(await enforcementFlows(br!)).to.deep.equal([]);
  });
});

describe('meters attached to the pinned entry (attachPriority) against Open vSwitch @slow', function () {
  this.timeout(60_000);
  let ctl: Controller | undefined;
  let br: Bridge | undefined;
  let enf: MeterEnforcer | undefined;
  const PINNED = 1000;
  const ROUTING_COOKIE = '0x5256010000000007';

  before(async function () {
    requirePrerequisite(this, ovsUnavailable());
    ctl = await startController({ port: 0, host: '127.0.0.1', logger: quietLogger() });
    br = await createBridge({ ports: 2 });
    await br.setController(ctl.port);
    const dpid = await br.waitConnected(ctl, 10_000);
    enf = new MeterEnforcer({
      switches: (d) => ctl!.switches.get(d), log: quietLogger(), clock: systemClock, priority: PINNED + 1, idleTimeoutS: 10, attachPriority: PINNED,
    });
    await enf.switchUp(dpid);
    // what routing pins: its cookie, idle timeout, flow-removed flag
    await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flow', br.name,
      `cookie=${ROUTING_COOKIE},priority=${PINNED},idle_timeout=10,send_flow_rem,in_port=1,tcp,nw_src=10.0.1.1,nw_dst=10.0.2.1,tp_src=40000,tp_dst=5201,actions=output:2`]);
  });

  after(async () => {
    await enf?.close().catch(() => undefined);
    await br?.destroy();
    await ctl?.close();
  });

  it('set() puts the meter on the pinned entry (its cookie and idle timeout kept); remove() gives it its plain actions back, then deletes the meter', async function () {
    const dpid = [...ctl!.switches.keys()][0]!;
    await enf!.set({ key: 'flowlet', dpid, match: MATCH, actions: OUT2, rateBps: 12_500_000 });
    let text = await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br!.name, 'tcp']);
    let flows = parseDumpFlows(text.replace(/ send_flow_rem /g, ' send_flow_rem, '));
    expect(flows, 'one entry for the flow: the pinned one').to.have.length(1);
    expect(flows[0]).to.include({ cookie: ROUTING_COOKIE, priority: PINNED });
    expect(flows[0]!.instructions).to.deep.equal({ meter: '1', apply: 'output:2' });
    expect(text).to.match(/idle_timeout=10/);
    expect(await dumpMeters(br!)).to.deep.equal([{ meterId: 1, flags: 'kbps burst stats', bands: ['drop rate=12500 burst_size=250'] }]);

    await enf!.set({ key: 'flowlet', dpid, match: MATCH, actions: OUT2, rateBps: 20_000_000 });
    expect(await dumpMeters(br!)).to.deep.equal([{ meterId: 1, flags: 'kbps burst stats', bands: ['drop rate=20000 burst_size=400'] }]);

    await enf!.remove('flowlet');
    text = await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br!.name, 'tcp']);
    flows = parseDumpFlows(text.replace(/ send_flow_rem /g, ' send_flow_rem, '));
    expect(flows, 'the pinned entry survives the meter delete').to.have.length(1);
    expect(flows[0]).to.include({ cookie: ROUTING_COOKIE, priority: PINNED });
    expect(flows[0]!.instructions).to.deep.equal({ apply: 'output:2' });
    expect(await dumpMeters(br!)).to.deep.equal([]);
  });

  it('one host-pair meter attached to the pinned entries of two flows; an attachment dropped is detached', async () => {
    const dpid = [...ctl!.switches.keys()][0]!;
    const match2: Match = [...MATCH.slice(0, 5), { field: 'tcp_src', value: 40001 }, MATCH[6]!];
    await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flow', br!.name,
      `cookie=0x5256010000000008,priority=${PINNED},idle_timeout=10,send_flow_rem,in_port=1,tcp,nw_src=10.0.1.1,nw_dst=10.0.2.1,tp_src=40001,tp_dst=5201,actions=output:2`]);
    const both = [{ match: MATCH, actions: OUT2 }, { match: match2, actions: OUT2 }];
    await enf!.set({ key: 'pair', dpid, match: MATCH, actions: OUT2, rateBps: 30_000_000, attachments: both });
    const metered = async (): Promise<string[]> => {
      const text = await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br!.name, 'tcp']);
      return parseDumpFlows(text.replace(/ send_flow_rem /g, ' send_flow_rem, ')).map((f) => `${f.cookie} ${f.instructions.meter ?? '-'}`).sort();
    };
    expect(await metered()).to.deep.equal(['0x5256010000000007 1', '0x5256010000000008 1']);
    expect(await dumpMeters(br!)).to.have.length(1);
    await enf!.set({ key: 'pair', dpid, match: MATCH, actions: OUT2, rateBps: 15_000_000, attachments: [both[0]!] });
    expect(await metered()).to.deep.equal(['0x5256010000000007 1', '0x5256010000000008 -']);
    await enf!.remove('pair');
    expect(await metered()).to.deep.equal(['0x5256010000000007 -', '0x5256010000000008 -']);
    expect(await dumpMeters(br!)).to.deep.equal([]);
    await ovs('ovs-ofctl', ['-O', 'OpenFlow13', '--strict', 'del-flows', br!.name,
      `priority=${PINNED},in_port=1,tcp,nw_src=10.0.1.1,nw_dst=10.0.2.1,tp_src=40001,tp_dst=5201`]);
  });

  it('a restarted controller\'s switchUp detaches the last run\'s meter from the pinned entry before deleting the meters: the entry survives', async () => {
    const dpid = [...ctl!.switches.keys()][0]!;
    await enf!.set({ key: 'flowlet', dpid, match: MATCH, actions: OUT2, rateBps: 12_500_000 });
    expect(await dumpMeters(br!)).to.have.length(1);
    const fresh = new MeterEnforcer({
      switches: (d) => ctl!.switches.get(d), log: quietLogger(), clock: systemClock, priority: PINNED + 1, idleTimeoutS: 10, attachPriority: PINNED,
    });
    try {
      await fresh.switchUp(dpid);
      const text = await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', br!.name, 'tcp']);
      const flows = parseDumpFlows(text.replace(/ send_flow_rem /g, ' send_flow_rem, '));
      expect(flows, 'the pinned entry is still there').to.have.length(1);
      expect(flows[0]).to.include({ cookie: ROUTING_COOKIE, priority: PINNED });
      expect(flows[0]!.instructions).to.deep.equal({ apply: 'output:2' });
      expect(await dumpMeters(br!)).to.deep.equal([]);
    } finally {
      await fresh.close();
    }
  });
});
