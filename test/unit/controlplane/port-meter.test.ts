/**
 * Per-port packet-in meters (apps/controlplane/port-meter-plan.ts, port-meter.ts): the METER_MOD and the
 * FLOW_MOD on the wire (OpenFlow 1.3.5 §7.3.4.5, §7.3.4.1), the meter ids at the top of the switch's
 * range, the book's decisions (install once per port, bounded per switch, slots reused, lost meters,
 * totals that never go down), and the shell against a fake switch: probe, ADD or MODIFY with the entry,
 * band counts read on the clock, removal when the port goes.
 */
import { expect } from 'chai';
import { encodeMessageAs } from '../../../openflow/codec/index.js';
import { OFPET, OFPMC, OFPPR, OFPPS } from '../../../openflow/codec/index.js';
import { SwitchError } from '../../../openflow/errors.js';
import type { App, AppContext, OutMessage, SwitchHandle } from '../../../openflow/app-api.js';
import type { OfpMessage } from '../../../openflow/codec/index.js';
import {
  PortMeterBook, portMeterCookie, portMeterPriority, portMeterDelete, portMeterEntriesDeleteAll, portMeterEntry, portMeterEntryDelete, portMeterId, portMeterMod, portMeterRatePps,
} from '../../../apps/controlplane/port-meter-plan.js';
import { portMeterSettings } from '../../../apps/controlplane/config.js';
import { createPortMeterApp } from '../../../apps/controlplane/port-meter.js';
import { addOrModifyMeter } from '../../../apps/controlplane/controller-meter.js';
import { ManualClock } from '../../../lib/clock.js';
import { createLogger } from '../../../lib/log.js';

const hex = (m: OutMessage): string => encodeMessageAs(m as OfpMessage, 1).toString('hex');

describe('per-port packet-in meters: messages', () => {
  it('METER_MOD ADD: PKTPS|BURST|STATS, one drop band in packets/s, on the wire', () => {
    expect(hex(portMeterMod(OFPMC.ADD, 262144, 600, 600))).to.equal(
      '041d0020' + '00000001' // OFPT_METER_MOD, 32 bytes, xid 1
      + '0000' + '000e' + '00040000' // OFPMC_ADD, flags PKTPS(2)|BURST(4)|STATS(8), meter 262144
      + '0001' + '0010' + '00000258' + '00000258' + '00000000', // OFPMBT_DROP, 16 bytes, rate 600, burst 600, pad
    );
  });

  it('the entry: table 0, priority 1, in_port + eth_type IPv4 → meter, output CONTROLLER whole, on the wire', () => {
    expect(hex(portMeterEntry(3, 262144, 1))).to.equal(
      '040e0068' + '00000001' // OFPT_FLOW_MOD, 104 bytes
      + '5256040000000003' + '0000000000000000' // cookie: "RV", app 0x04, serial = port 3; mask 0
      + '00' + '00' + '0000' + '0000' + '0001' // table 0, OFPFC_ADD, no timeouts, priority 1
      + 'ffffffff' + 'ffffffff' + 'ffffffff' + '0000' + '0000' // no buffer, out port/group ANY, flags 0, pad
      + '0001' + '0012' + '80000004' + '00000003' + '80000a02' + '0800' + '000000000000' // OXM match: in_port 3, eth_type 0x0800
      + '0006' + '0008' + '00040000' // OFPIT_METER 262144
      + '0004' + '0018' + '00000000' // OFPIT_APPLY_ACTIONS, 24 bytes
      + '0000' + '0010' + 'fffffffd' + 'ffff' + '000000000000', // output CONTROLLER, max_len NO_BUFFER
    );
  });

  it('deletes: the entry strictly, the meter, every entry of the cookie prefix', () => {
    const del = portMeterEntryDelete(3, 1002) as Extract<OutMessage, { type: 'OFPT_FLOW_MOD' }>;
    expect([del.command, del.priority, del.tableId]).to.deep.equal([4, 1002, 0]); // OFPFC_DELETE_STRICT
    expect(del.match).to.deep.equal([{ field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x0800 }]);
    expect(hex(portMeterDelete(262144))).to.equal('041d0010' + '00000001' + '0002' + '0000' + '00040000');
    const all = portMeterEntriesDeleteAll() as Extract<OutMessage, { type: 'OFPT_FLOW_MOD' }>;
    expect([all.command, all.tableId, all.cookie, all.cookieMask]).to.deep.equal([3, 0xff, 0x5256040000000000n, 0xffffff0000000000n]);
    expect(portMeterCookie(7)).to.equal(0x5256040000000007n);
  });

  it('rate: the budget plus the headroom, rounded up; no meter for an unlimited class', () => {
    expect(portMeterRatePps(500, 20)).to.equal(600);
    expect(portMeterRatePps(7, 10)).to.equal(8);
    expect(portMeterRatePps(0, 20)).to.equal(0);
    const base = { perPortPps: { ipv4: 500 }, burstS: 1 };
    const pm = { enabled: true, mode: 'port' as const, headroomPct: 20, maxPortsPerSwitch: 64, statsIntervalMs: 1000, releaseAfterMs: 2000 };
    expect(portMeterSettings({ ...base, portMeter: pm }, 1000))
      .to.deep.equal({ ratePps: 600, burstPkts: 600, maxPortsPerSwitch: 64, statsIntervalMs: 1000, priority: 1002, releaseAfterMs: 2000 });
    expect(portMeterSettings({ ...base, portMeter: { ...pm, enabled: false } }, 1000).ratePps).to.equal(0);
  });

  it('priority: port mode above pinned routes (and enforcement\'s entries at +1), below LLDP; new-flows mode just above the table-miss', () => {
    expect(portMeterPriority('port', 1000)).to.equal(1002);
    expect(portMeterPriority('port', 65535)).to.equal(64999);
    expect(portMeterPriority('new-flows', 1000)).to.equal(1);
  });

  it('ids count down from the top of the switch range, below OFPM_MAX', () => {
    expect(portMeterId(262144, 0)).to.equal(262144);
    expect(portMeterId(262144, 63)).to.equal(262081);
    expect(portMeterId(0xffffffff, 0)).to.equal(0xffff0000 - 1);
    expect(() => portMeterId(4, 4)).to.throw(RangeError);
  });
});

describe('per-port packet-in meters: the book', () => {
  it('one meter per port, installed once, ids from the top, bounded per switch, slots reused', () => {
    const b = new PortMeterBook(2);
    b.switchUp(1n);
    expect(b.overBudget(1n, 3)).to.deep.equal({ kind: 'none', why: 'unprobed' });
    b.setMaxMeter(1n, 100);
    const v = b.overBudget(1n, 3);
    expect(v.kind === 'install' && [v.meter.meterId, v.meter.state]).to.deep.equal([100, 'installing']);
    expect(b.overBudget(1n, 3)).to.deep.equal({ kind: 'none', why: 'present' });
    const w = b.overBudget(1n, 4);
    expect(w.kind === 'install' && w.meter.meterId).to.equal(99);
    expect(b.overBudget(1n, 5)).to.deep.equal({ kind: 'none', why: 'full' });
    b.remove(1n, 3);
    const x = b.overBudget(1n, 5);
    expect(x.kind === 'install' && x.meter.meterId, 'the freed slot').to.equal(100);
  });

  it('a switch that cannot meter gets none; an unknown switch neither', () => {
    const b = new PortMeterBook(4);
    b.switchUp(1n);
    b.setMaxMeter(1n, 0);
    expect(b.overBudget(1n, 3)).to.deep.equal({ kind: 'none', why: 'unsupported' });
    expect(b.overBudget(9n, 3)).to.deep.equal({ kind: 'none', why: 'unprobed' });
  });

  it('band counts: applied meters read theirs, a missing one is reported lost; totals never go down', () => {
    const b = new PortMeterBook(4);
    b.switchUp(1n);
    b.setMaxMeter(1n, 100);
    const a = b.overBudget(1n, 3);
    const c = b.overBudget(1n, 4);
    if (a.kind !== 'install' || c.kind !== 'install') throw new Error('expected installs');
    a.meter.state = 'applied';
    c.meter.state = 'applied';
    expect(b.meteredSwitches()).to.deep.equal([1n]);
    const lost = b.readStats(1n, new Map([[100, { dropped: 1000, packetsIn: 1600 }]]), 5000);
    expect(lost.map((m) => m.port)).to.deep.equal([4]);
    expect(b.droppedTotal()).to.equal(1000);
    b.readStats(1n, new Map([[100, { dropped: 1000, packetsIn: 2000 }]]), 6000);
    expect(b.quiet(6999, 2000).map((m) => m.port), 'dropping 2 s ago: not yet quiet').to.deep.equal([4]);
    expect(b.quiet(7000, 2000).map((m) => m.port)).to.deep.equal([3, 4]);
    b.remove(1n, 3);
    expect(b.droppedTotal(), 'a removed meter keeps its count in the total').to.equal(1000);
    b.switchUp(1n); // reconnect: the book of the switch starts empty
    expect(b.meters()).to.deep.equal([]);
    expect(b.droppedTotal()).to.equal(1000);
  });
});

/** A switch handle that records what it is sent and answers the multiparts the app asks. */
function fakeSwitch(dpid: bigint, opts: { maxMeter: number; existing?: boolean; bandDropped?: () => number }) {
  const sent: OutMessage[][] = [];
  let exists = opts.existing ?? false;
  const sw = {
    dpid, alive: true,
    async transact(msgs: readonly OutMessage[]) {
      sent.push([...msgs]);
      const add = msgs.find((m) => m.type === 'OFPT_METER_MOD' && m.command === OFPMC.ADD);
      if (add && exists) throw new SwitchError(dpid, { type: 'OFPT_ERROR', xid: 0, errType: OFPET.METER_MOD_FAILED, code: 1, data: Buffer.alloc(0) }); // OFPMMFC_METER_EXISTS
    },
    async multipart(body: { mpType: string }) {
      if (body.mpType === 'OFPMP_METER_FEATURES') return { mpType: body.mpType, maxMeter: opts.maxMeter, bandTypes: 2, capabilities: 0xf, maxBands: 1, maxColor: 0 };
      return { mpType: 'OFPMP_METER', meters: [{ meterId: opts.maxMeter, flowCount: 1, packetInCount: 5000n, byteInCount: 0n, durationSec: 1, durationNsec: 0, bandStats: [{ packetBandCount: BigInt(opts.bandDropped?.() ?? 0), byteBandCount: 0n }] }] };
    },
  } as unknown as SwitchHandle;
  return { sw, sent, setExists: (v: boolean) => { exists = v; } };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('per-port packet-in meters: the app', () => {
  const setup = (existing = false) => {
    const clock = new ManualClock();
    let dropped = 0;
    const f = fakeSwitch(1n, { maxMeter: 1000, existing, bandDropped: () => dropped });
    const pm = createPortMeterApp({ ratePps: 600, burstPkts: 600, maxPortsPerSwitch: 4, statsIntervalMs: 200, priority: 1002, releaseAfterMs: 1000, clock, log: createLogger({ level: 'silent' }) });
    const ctx = { log: createLogger({ level: 'silent' }), switch: (d: bigint) => (d === 1n ? f.sw : undefined), switches: () => [f.sw] } as AppContext;
    const app: App = pm.app;
    app.attach?.(ctx);
    const up = app.handlers.switchUp!({ dpid: 1n, features: {} as never, ports: [], sw: f.sw }, ctx);
    return { clock, f, pm, app, ctx, up, setDropped: (n: number) => { dropped = n; } };
  };

  it('switch-up clears earlier entries; an overspending port gets its meter and entry once, in one transaction', async () => {
    const { f, pm, up } = setup();
    expect(up).to.deep.equal([portMeterEntriesDeleteAll()]);
    pm.overBudget(1n, 3);
    pm.overBudget(1n, 3);
    await flush(); await flush(); await flush();
    pm.overBudget(1n, 3);
    await flush();
    expect(f.sent).to.deep.equal([[portMeterMod(OFPMC.ADD, 1000, 600, 600), portMeterEntry(3, 1000, 1002)]]);
    expect(pm.statuses()).to.deep.equal([{ dpid: '0000000000000001', port: 3, meterId: 1000, state: 'applied', ratePps: 600, droppedAtSwitch: 0 }]);
  });

  it('a meter left by an earlier run is modified; band counts are read on the clock; a deleted port loses its meter', async () => {
    const { f, pm, app, ctx, clock, setDropped } = setup(true);
    pm.overBudget(1n, 3);
    await flush(); await flush(); await flush(); await flush();
    expect(f.sent[1]).to.deep.equal([portMeterMod(OFPMC.MODIFY, 1000, 600, 600), portMeterEntry(3, 1000, 1002)]);
    setDropped(18_000);
    clock.advance(200);
    await flush(); await flush();
    expect(pm.droppedAtSwitch()).to.equal(18_000);
    expect(pm.statuses()[0]!.droppedAtSwitch).to.equal(18_000);
    app.handlers.portStatus!({ dpid: 1n, msg: { type: 'OFPT_PORT_STATUS', xid: 0, reason: OFPPR.MODIFY, desc: { portNo: 3, state: OFPPS.LINK_DOWN } as never } }, ctx);
    expect(f.sent.at(-1)).to.deep.equal([portMeterEntryDelete(3, 1002), portMeterDelete(1000)]);
    expect(pm.statuses()).to.deep.equal([]);
    expect(pm.droppedAtSwitch(), 'the count stays in the total').to.equal(18_000);
    pm.stop();
  });

  it('a port whose meter stops dropping is released after releaseAfterMs', async () => {
    const { f, pm, clock, setDropped } = setup();
    pm.overBudget(1n, 3);
    await flush(); await flush(); await flush();
    setDropped(500);
    clock.advance(200);
    await flush(); await flush();
    for (let i = 0; i < 4; i++) { clock.advance(200); await flush(); await flush(); }
    expect(pm.statuses().length, '800 ms without a drop').to.equal(1);
    clock.advance(200);
    await flush(); await flush();
    expect(pm.statuses()).to.deep.equal([]);
    expect(f.sent.at(-1)).to.deep.equal([portMeterEntryDelete(3, 1002), portMeterDelete(1000)]);
    expect(pm.droppedAtSwitch()).to.equal(500);
    pm.stop();
  });
});

describe('addOrModifyMeter', () => {
  const switchError = (code: number): SwitchError =>
    new SwitchError(1n, { type: 'OFPT_ERROR', xid: 0, errType: OFPET.METER_MOD_FAILED, code, data: Buffer.alloc(0) });
  const recorder = (fail: (cmd: number) => Error | undefined) => {
    const commands: number[] = [];
    const sw = {
      async transact(msgs: readonly OutMessage[]) {
        const cmd = (msgs[0] as { command: number }).command;
        commands.push(cmd);
        const err = fail(cmd);
        if (err) throw err;
      },
    } as unknown as SwitchHandle;
    return { sw, commands };
  };
  const mods = (command: number): OutMessage[] => [{ type: 'OFPT_METER_MOD', command, flags: 0, meterId: 9, bands: [] }];

  it('ADD first; MODIFY only when the switch answers OFPMMFC_METER_EXISTS', async () => {
    const ok = recorder(() => undefined);
    await addOrModifyMeter(ok.sw, mods);
    expect(ok.commands).to.deep.equal([OFPMC.ADD]);
    const exists = recorder((cmd) => (cmd === OFPMC.ADD ? switchError(1) : undefined));
    await addOrModifyMeter(exists.sw, mods);
    expect(exists.commands).to.deep.equal([OFPMC.ADD, OFPMC.MODIFY]);
  });

  it('any other error is the caller\'s: a bad rate, or a session error naming METER_EXISTS, is not retried', async () => {
    const badRate = recorder(() => switchError(6)); // OFPMMFC_BAD_RATE
    let err: unknown;
    await addOrModifyMeter(badRate.sw, mods).catch((e: unknown) => { err = e; });
    expect(err).to.be.instanceOf(SwitchError);
    expect(badRate.commands).to.deep.equal([OFPMC.ADD]);
    const text = recorder(() => new Error('OFPMMFC_METER_EXISTS'));
    err = undefined;
    await addOrModifyMeter(text.sw, mods).catch((e: unknown) => { err = e; });
    expect(String(err)).to.contain('METER_EXISTS');
    expect(text.commands).to.deep.equal([OFPMC.ADD]);
  });
});
