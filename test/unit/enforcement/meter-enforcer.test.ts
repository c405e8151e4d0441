/**
 * The meter enforcer's shell against model switches (no sockets): each fake SwitchHandle applies the
 * METER_MODs and FLOW_MODs it is sent to an in-memory meter table and flow table, answers
 * OFPMP_METER_FEATURES and OFPMP_METER from them, and can hold transactions or fail chosen messages with
 * a SwitchError — so the tests assert what is left on the switch, not only which messages went out.
 */
import { expect } from 'chai';
import type { OutMessage, SwitchHandle } from '../../../openflow/app-api.js';
import { ManualClock } from '../../../lib/clock.js';
import {
  OFPET, OFPFC, OFPM, OFPMC, OFPTT_ALL, type Instruction, type Match, type MessageOf, type MeterBand, type MultipartRequestBody,
} from '../../../openflow/codec/index.js';
import { SwitchError } from '../../../openflow/errors.js';
import { createLogger } from '../../../lib/log.js';
import { MeterEnforcer, MeterEnforcerError, type MeterTarget } from '../../../apps/enforcement/meter-enforcer.js';
import { ENFORCEMENT_COOKIE_PREFIX, ENFORCEMENT_COOKIE_PREFIX_MASK, enforcementCookie, isEnforcementCookie } from '../../../apps/enforcement/meters.js';
import { routingCookie } from '../../../apps/routing/builders.js';

type FlowModMsg = Omit<MessageOf<'OFPT_FLOW_MOD'>, 'xid'>;
type MeterModMsg = Omit<MessageOf<'OFPT_METER_MOD'>, 'xid'>;

interface ModelFlow {
  readonly cookie: bigint;
  readonly tableId: number;
  readonly priority: number;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
  readonly hardTimeout?: number;
  /** clock ms of the ADD that put it there (a replacing ADD restarts it, OpenFlow 1.3.5 §6.4) */
  readonly addedMs?: number;
}

interface ModelMeter {
  readonly flags: number;
  readonly bands: readonly MeterBand[];
  readonly createdMs: number;
  packetsIn: bigint;
  bytesIn: bigint;
  bytesDropped: bigint;
}

const ALL64 = (1n << 64n) - 1n;
const meterError = (code: number): MessageOf<'OFPT_ERROR'> => ({ type: 'OFPT_ERROR', xid: 0, errType: OFPET.METER_MOD_FAILED, code, data: Buffer.alloc(0) });
const flowError = (code: number): MessageOf<'OFPT_ERROR'> => ({ type: 'OFPT_ERROR', xid: 0, errType: OFPET.FLOW_MOD_FAILED, code, data: Buffer.alloc(0) });

/** One switch: meter and flow tables, a log of what it was asked, failure and hold hooks. */
class ModelSwitch {
  readonly meters = new Map<number, ModelMeter>();
  flows: ModelFlow[] = [];
  /** every transact's message types (and 'barrier' for a bare barrier) */
  readonly log: string[][] = [];
  readonly sent: (readonly OutMessage[])[] = [];
  alive = true;
  features = { maxMeter: 262144, bandTypes: 1 << 1, capabilities: 0xf, maxBands: 8, maxColor: 0 };
  nTables = 254;
  featuresError?: Error;
  /** a message this returns an error for is not applied, and the transaction rejects with it */
  failIf?: (m: OutMessage) => MessageOf<'OFPT_ERROR'> | undefined;
  private hold?: Promise<void>;
  private releaseHold?: () => void;

  constructor(
    readonly dpid: bigint,
    private readonly clock: ManualClock,
  ) {}

  /** Holds every transaction until release(). */
  holdTransactions(): void {
    this.hold = new Promise((r) => (this.releaseHold = r));
  }

  release(): void {
    this.releaseHold?.();
    this.hold = undefined;
  }

  flowsOfEnforcement(): ModelFlow[] {
    return this.flows.filter((f) => isEnforcementCookie(f.cookie));
  }

  handle(): SwitchHandle {
    const model = this;
    const h = {
      dpid: this.dpid,
      dpidHex: this.dpid.toString(16).padStart(16, '0'),
      get features() {
        return { datapathId: model.dpid, nBuffers: 0, nTables: model.nTables, auxiliaryId: 0, capabilities: 0, reserved: 0 };
      },
      get alive() {
        return model.alive;
      },
      transact: async (msgs: readonly OutMessage[]): Promise<void> => {
        this.log.push(msgs.map(label));
        this.sent.push(msgs);
        if (this.hold) await this.hold;
        await new Promise((r) => setImmediate(r));
        if (!this.alive) throw new Error('session closed');
        let first: SwitchError | undefined;
        for (const m of msgs) {
          const err = this.failIf?.(m) ?? this.apply(m);
          if (err && !first) first = new SwitchError(this.dpid, err, m.type);
        }
        if (first) throw first;
      },
      barrier: async (): Promise<void> => {
        this.log.push(['barrier']);
        await new Promise((r) => setImmediate(r));
      },
      multipart: async (body: MultipartRequestBody): Promise<unknown> => {
        await new Promise((r) => setImmediate(r));
        if (body.mpType === 'OFPMP_METER_FEATURES') {
          if (this.featuresError) throw this.featuresError;
          return { mpType: 'OFPMP_METER_FEATURES', ...this.features };
        }
        if (body.mpType === 'OFPMP_METER') {
          const now = this.clock.now();
          return {
            mpType: 'OFPMP_METER',
            meters: [...this.meters].map(([meterId, m]) => ({
              meterId, flowCount: 1, packetInCount: m.packetsIn, byteInCount: m.bytesIn,
              durationSec: Math.floor((now - m.createdMs) / 1000), durationNsec: ((now - m.createdMs) % 1000) * 1e6,
              bandStats: [{ packetBandCount: 0n, byteBandCount: m.bytesDropped }],
            })),
          };
        }
        if (body.mpType === 'OFPMP_FLOW') return { mpType: 'OFPMP_FLOW', flows: this.flows.map((f) => ({ ...f })) };
        throw new Error(`unexpected multipart ${body.mpType}`);
      },
    };
    return h as unknown as SwitchHandle;
  }

  /** Applies one message like OVS would; returns the error it answers, if any. */
  apply(m: OutMessage): MessageOf<'OFPT_ERROR'> | undefined {
    if (m.type === 'OFPT_METER_MOD') return this.meterMod(m);
    if (m.type === 'OFPT_FLOW_MOD') return this.flowMod(m);
    return undefined;
  }

  private meterMod(m: MeterModMsg): MessageOf<'OFPT_ERROR'> | undefined {
    if (m.command === OFPMC.ADD) {
      if (this.meters.has(m.meterId)) return meterError(1); // METER_EXISTS
      this.meters.set(m.meterId, { flags: m.flags, bands: m.bands, createdMs: this.clock.now(), packetsIn: 0n, bytesIn: 0n, bytesDropped: 0n });
    } else if (m.command === OFPMC.MODIFY) {
      if (!this.meters.has(m.meterId)) return meterError(3); // UNKNOWN_METER
      this.meters.set(m.meterId, { flags: m.flags, bands: m.bands, createdMs: this.meters.get(m.meterId)!.createdMs, packetsIn: 0n, bytesIn: 0n, bytesDropped: 0n });
    } else if (m.command === OFPMC.DELETE) {
      const gone = m.meterId === OFPM.ALL ? [...this.meters.keys()] : [m.meterId];
      for (const id of gone) this.meters.delete(id);
      this.flows = this.flows.filter((f) => !f.instructions.some((i) => i.type === 'OFPIT_METER' && gone.includes(i.meterId)));
    }
    return undefined;
  }

  private flowMod(m: FlowModMsg): MessageOf<'OFPT_ERROR'> | undefined {
    if (m.command === OFPFC.ADD) {
      for (const i of m.instructions) if (i.type === 'OFPIT_METER' && !this.meters.has(i.meterId)) return meterError(2); // INVALID_METER
      const same = (f: ModelFlow): boolean => f.tableId === m.tableId && f.priority === m.priority && JSON.stringify(f.match) === JSON.stringify(m.match);
      this.flows = [...this.flows.filter((f) => !same(f)), {
        cookie: m.cookie, tableId: m.tableId, priority: m.priority, match: m.match, instructions: m.instructions, hardTimeout: m.hardTimeout, addedMs: this.clock.now(),
      }];
    } else if (m.command === OFPFC.MODIFY_STRICT) {
      for (const i of m.instructions) if (i.type === 'OFPIT_METER' && !this.meters.has(i.meterId)) return meterError(2);
      this.flows = this.flows.map((f) => (this.strict(f, m) ? { ...f, instructions: m.instructions } : f));
    } else if (m.command === OFPFC.DELETE_STRICT) {
      this.flows = this.flows.filter((f) => !this.strict(f, m));
    } else if (m.command === OFPFC.DELETE) {
      this.flows = this.flows.filter((f) => !((m.tableId === OFPTT_ALL || f.tableId === m.tableId) && (f.cookie & m.cookieMask) === (m.cookie & m.cookieMask)));
    }
    return undefined;
  }

  private strict(f: ModelFlow, m: FlowModMsg): boolean {
    return f.tableId === m.tableId && f.priority === m.priority && JSON.stringify(f.match) === JSON.stringify(m.match);
  }

  /** Removes the entries whose hard timeout has run out at the clock's now. */
  expire(): void {
    const now = this.clock.now();
    this.flows = this.flows.filter((f) => !(f.hardTimeout && f.addedMs !== undefined && now - f.addedMs >= f.hardTimeout * 1000));
  }

  /** Where a packet of `m` goes, like a switch's pipeline: the first table's entry, on through goto_table. */
  verdict(m: Match): { readonly meters: number[]; readonly actions: unknown[] } | undefined {
    const out = { meters: [] as number[], actions: [] as unknown[] };
    const covers = (f: ModelFlow): boolean => f.match.every((x) => m.some((y) => JSON.stringify(x) === JSON.stringify(y)));
    for (let table: number | undefined = 0; table !== undefined;) {
      const t: number = table;
      const hit = this.flows.filter((f) => f.tableId === t && covers(f)).sort((a, b) => b.priority - a.priority)[0];
      if (!hit) return undefined; // no table-miss entry: dropped
      table = undefined;
      for (const i of hit.instructions) {
        if (i.type === 'OFPIT_METER') out.meters.push(i.meterId);
        else if (i.type === 'OFPIT_APPLY_ACTIONS' || i.type === 'OFPIT_WRITE_ACTIONS') out.actions.push(...i.actions);
        else if (i.type === 'OFPIT_GOTO_TABLE') table = i.tableId;
      }
    }
    return out;
  }
}

/** `meter:add:1`, `meter:delete:all`, `flow:add`, `flow:delete`. */
function label(m: OutMessage): string {
  if (m.type === 'OFPT_METER_MOD') return `meter:${['add', 'modify', 'delete'][m.command]}:${m.meterId === OFPM.ALL ? 'all' : m.meterId}`;
  if (m.type === 'OFPT_FLOW_MOD') return `flow:${['add', 'modify', 'modify-strict', 'delete', 'delete-strict'][m.command]}`;
  return m.type;
}
const DPID = 0x1n;
const DPID2 = 0x2n;
const match = (srcPort: number): Match => [
  { field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 },
  { field: 'ipv4_src', value: '10.0.1.1' }, { field: 'ipv4_dst', value: '10.0.2.1' }, { field: 'tcp_src', value: srcPort }, { field: 'tcp_dst', value: 5201 },
];
const OUT1 = [{ type: 'OFPAT_OUTPUT', port: 1, maxLen: 0 }] as const;
const target = (key: string, rateBps: number, o: Partial<MeterTarget> = {}): MeterTarget => ({
  key, dpid: DPID, match: match(40000 + Number(key.replace(/\D/g, '') || 0)), actions: OUT1, rateBps, ...o,
});

describe('MeterEnforcer (shell, model switches)', () => {
  let clock: ManualClock;
  let sws: Map<bigint, ModelSwitch>;
  let sw: ModelSwitch;
  let enf: MeterEnforcer;
  let lines: Record<string, unknown>[];
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown): void => void unhandled.push(r);

  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => process.off('unhandledRejection', onUnhandled));

  beforeEach(async () => {
    clock = new ManualClock(1000);
    sws = new Map([[DPID, new ModelSwitch(DPID, clock)], [DPID2, new ModelSwitch(DPID2, clock)]]);
    sw = sws.get(DPID)!;
    lines = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
    enf = new MeterEnforcer({
      switches: (d) => sws.get(d)?.handle(), log, clock, priority: 1001, idleTimeoutS: 10,
    });
    await enf.switchUp(DPID);
    sw.log.length = 0;
    sw.sent.length = 0;
  });

  afterEach(async () => {
    await enf.close();
    await new Promise((r) => setImmediate(r));
    expect(unhandled.splice(0), 'unhandled rejections').to.deep.equal([]);
  });

  it('switchUp probes meter features and reports them', () => {
    expect(enf.support(DPID)).to.deep.equal({ dpid: '0000000000000001', supported: true, maxMeter: 262144, bandTypes: ['OFPMBT_DROP'] });
    expect(enf.support(DPID2)).to.equal(undefined);
    expect(lines.find((l) => l['event'] === 'meter_probe')).to.include({ dpid: '0000000000000001', supported: true });
  });

  it('switchUp wipes the enforcement entries and every meter of an earlier run, and nothing else', async () => {
    sw.meters.set(1, { flags: 13, bands: [], createdMs: 0, packetsIn: 0n, bytesIn: 0n, bytesDropped: 0n });
    sw.meters.set(77, { flags: 13, bands: [], createdMs: 0, packetsIn: 0n, bytesIn: 0n, bytesDropped: 0n });
    sw.flows.push(
      { cookie: enforcementCookie(9), tableId: 0, priority: 1001, match: match(1), instructions: [] },
      { cookie: routingCookie(9), tableId: 0, priority: 1000, match: match(1), instructions: [] },
      { cookie: 0n, tableId: 0, priority: 0, match: [], instructions: [] },
    );
    await enf.switchUp(DPID);
    expect(sw.log).to.deep.equal([['flow:delete', 'meter:delete:all']]);
    const del = sw.sent[sw.sent.length - 1]![0] as FlowModMsg;
    expect(del).to.include({ cookie: ENFORCEMENT_COOKIE_PREFIX, cookieMask: ENFORCEMENT_COOKIE_PREFIX_MASK, tableId: OFPTT_ALL });
    expect(sw.meters.size).to.equal(0);
    expect(sw.flows.map((f) => f.cookie)).to.deep.equal([routingCookie(9), 0n]);
  });

  it('set → METER_MOD ADD + metered FLOW_MOD ADD with a barrier; resolves with the clock at confirmation', async () => {
    clock.advance(234);
    const at = await enf.set(target('f1', 20_000_000));
    expect(at).to.equal(1234);
    expect(sw.log).to.deep.equal([['meter:add:1', 'flow:add']]);
    expect(sw.meters.get(1)).to.deep.include({ flags: 13, bands: [{ type: 'OFPMBT_DROP', rate: 20_000, burstSize: 400 }] });
    const [flow] = sw.flowsOfEnforcement();
    expect(flow).to.deep.include({ priority: 1001, tableId: 0, match: match(40001) });
    expect(flow!.instructions).to.deep.equal([{ type: 'OFPIT_METER', meterId: 1 }, { type: 'OFPIT_APPLY_ACTIONS', actions: OUT1 }]);
    expect(enf.list()).to.deep.equal([{
      key: 'f1', dpid: '0000000000000001', meterId: 1, rateBps: 20_000_000, burstBytes: 50_000, state: 'installed', installedAtMs: 1234,
    }]);
    expect(enf.size).to.equal(1);
  });

  it('set again → METER_MOD MODIFY only; the same kbit/s → just a barrier; new actions → FLOW_MOD ADD + delete of the old cookie', async () => {
    await enf.set(target('f1', 20_000_000));
    await enf.set(target('f1', 5_000_000));
    await enf.set(target('f1', 5_000_400)); // rounds up to 5001 kbit/s: a change
    await enf.set(target('f1', 5_000_900)); // 5001 kbit/s again: nothing to change
    expect(sw.log.slice(1)).to.deep.equal([['meter:modify:1'], ['meter:modify:1'], ['barrier']]);
    expect(sw.meters.get(1)!.bands).to.deep.equal([{ type: 'OFPMBT_DROP', rate: 5_001, burstSize: 122 }]);
    const oldCookie = sw.flowsOfEnforcement()[0]!.cookie;
    const actions = [{ type: 'OFPAT_SET_QUEUE', queueId: 2 } as const, ...OUT1];
    await enf.set(target('f1', 5_000_900, { actions }));
    expect(sw.log[sw.log.length - 1]).to.deep.equal(['flow:add', 'flow:delete']);
    const flows = sw.flowsOfEnforcement();
    expect(flows).to.have.length(1);
    expect(flows[0]!.cookie).to.not.equal(oldCookie);
    expect(flows[0]!.instructions[1]).to.deep.equal({ type: 'OFPIT_APPLY_ACTIONS', actions });
    await enf.set(target('f1', 5_000_900, { actions, match: match(50000) })); // a new match: the old entry is deleted
    expect(sw.flowsOfEnforcement().map((f) => f.match)).to.deep.equal([match(50000)]);
    expect(sw.meters.size).to.equal(1);
  });

  it('remove → entry and meter deleted, the id recycled lowest-first; unknown key is a no-op', async () => {
    await enf.set(target('f1', 1e7));
    await enf.set(target('f2', 2e7));
    await enf.set(target('f3', 3e7));
    expect(enf.list().map((m) => m.meterId)).to.deep.equal([1, 2, 3]);
    await enf.remove('f2');
    expect(sw.log[sw.log.length - 1]).to.deep.equal(['flow:delete', 'meter:delete:2']);
    const del = sw.sent[sw.sent.length - 1]![0] as FlowModMsg;
    expect(del.cookieMask).to.equal(ALL64);
    expect([...sw.meters.keys()]).to.deep.equal([1, 3]);
    expect(sw.flowsOfEnforcement()).to.have.length(2);
    expect(enf.size).to.equal(2);
    await enf.set(target('f4', 4e7));
    expect(enf.list().find((m) => m.key === 'f4')!.meterId).to.equal(2);
    const before = sw.log.length;
    await enf.remove('nope');
    expect(sw.log.length).to.equal(before);
  });

  it('concurrent sets on one key are serialized and coalesced: the latest wins, every caller is answered', async () => {
    sw.holdTransactions();
    const p1 = enf.set(target('f1', 10e6));
    await new Promise((r) => setImmediate(r));
    const p2 = enf.set(target('f1', 20e6));
    const p3 = enf.set(target('f1', 30e6));
    expect(enf.list()[0]).to.include({ state: 'installing', rateBps: 30e6 });
    sw.release();
    const [a1, a2, a3] = await Promise.all([p1, p2, p3]);
    expect(sw.log).to.deep.equal([['meter:add:1', 'flow:add'], ['meter:modify:1']]);
    expect(sw.sent[1]![0]).to.deep.include({ bands: [{ type: 'OFPMBT_DROP', rate: 30_000, burstSize: 600 }] });
    expect(a2).to.equal(a3);
    expect(a1).to.be.a('number');
    expect(enf.list()[0]).to.include({ state: 'installed', rateBps: 30e6, meterId: 1 });
  });

  it('a flow entry the switch rejects → state failed, logged with the dpid, no meter left, id recycled', async () => {
    sw.failIf = (m) => (m.type === 'OFPT_FLOW_MOD' && m.command === OFPFC.ADD ? flowError(1) : undefined); // TABLE_FULL
    const err = await enf.set(target('f1', 1e7)).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(SwitchError).and.include({ errCodeName: 'OFPFMFC_TABLE_FULL' });
    expect(sw.log).to.deep.equal([['meter:add:1', 'flow:add'], ['flow:delete', 'meter:delete:1']]);
    expect(sw.meters.size).to.equal(0);
    expect(sw.flowsOfEnforcement()).to.have.length(0);
    const info = enf.list()[0]!;
    expect(info).to.include({ key: 'f1', state: 'failed', meterId: 0 });
    expect(info.error).to.match(/OFPFMFC_TABLE_FULL/);
    expect(lines.find((l) => l['event'] === 'meter_set_failed')).to.include({ dpid: '0000000000000001', key: 'f1' });
    sw.failIf = undefined;
    await enf.set(target('f1', 1e7)); // a retry starts afresh with the recycled id
    expect(enf.list()[0]).to.include({ state: 'installed', meterId: 1 });
  });

  it('a rejected modify leaves nothing installed either (fall back to the unmetered pinned entry)', async () => {
    await enf.set(target('f1', 1e7));
    sw.failIf = (m) => (m.type === 'OFPT_METER_MOD' && m.command === OFPMC.MODIFY ? meterError(6) : undefined); // BAD_RATE
    await enf.set(target('f1', 2e7)).then(() => expect.fail('resolved'), (e: SwitchError) => expect(e.errCodeName).to.equal('OFPMMFC_BAD_RATE'));
    expect(sw.meters.size).to.equal(0);
    expect(sw.flowsOfEnforcement()).to.have.length(0);
    expect(enf.list()[0]).to.include({ state: 'failed' });
  });

  it('a switch without usable meters: support says why, set() rejects ENF_UNSUPPORTED and sends nothing', async () => {
    const sw2 = sws.get(DPID2)!;
    sw2.features = { ...sw2.features, maxMeter: 0 };
    await enf.switchUp(DPID2);
    expect(enf.support(DPID2)).to.include({ supported: false, reason: 'max_meter is 0' });
    expect(sw2.log).to.deep.equal([['flow:delete']]); // clean slate of entries only
    const err = await enf.set(target('x', 1e7, { dpid: DPID2 })).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(MeterEnforcerError).and.include({ code: 'ENF_UNSUPPORTED' });
    expect(enf.list()[0]).to.include({ state: 'failed' });
    expect(sw2.log).to.have.length(1);
    expect(lines.some((l) => l['event'] === 'meter_probe' && l['dpid'] === '0000000000000002' && l['level'] === 40)).to.equal(true);
  });

  it('a failed probe counts as unsupported', async () => {
    sws.get(DPID2)!.featuresError = new SwitchError(DPID2, { type: 'OFPT_ERROR', xid: 0, errType: 1, code: 2, data: Buffer.alloc(0) }, 'METER_FEATURES');
    await enf.switchUp(DPID2);
    expect(enf.support(DPID2)!.supported).to.equal(false);
    expect(enf.support(DPID2)!.reason).to.match(/OFPMP_METER_FEATURES failed/);
  });

  it('set() on a switch never seen in switchUp probes it (and cleans its slate) first', async () => {
    const sw2 = sws.get(DPID2)!;
    await enf.set(target('y', 1e7, { dpid: DPID2 }));
    expect(sw2.log).to.deep.equal([['flow:delete', 'meter:delete:all'], ['meter:add:1', 'flow:add']]);
    expect(enf.support(DPID2)!.supported).to.equal(true);
  });

  it('switchUp again forgets the keys (queued set()s reject) and the ids start over', async () => {
    await enf.set(target('f1', 1e7));
    await enf.set(target('f2', 1e7));
    await enf.switchUp(DPID);
    expect(enf.size).to.equal(0);
    expect(sw.meters.size).to.equal(0);
    expect(sw.flowsOfEnforcement()).to.have.length(0);
    await enf.set(target('f3', 1e7));
    expect(enf.list()[0]!.meterId).to.equal(1);
  });

  it('switchDown forgets the switch; set() on a disconnected switch rejects ENF_NO_SWITCH', async () => {
    await enf.set(target('f1', 1e7));
    enf.switchDown(DPID);
    expect(enf.size).to.equal(0);
    expect(enf.support(DPID)).to.equal(undefined);
    sw.alive = false;
    const err = await enf.set(target('f1', 1e7)).then(() => undefined, (e: unknown) => e);
    expect(err).to.include({ code: 'ENF_NO_SWITCH' });
    expect(enf.list()[0]).to.include({ state: 'failed' });
  });

  it('remove() while a set() is still queued: the set is superseded and nothing stays', async () => {
    sw.holdTransactions();
    const p1 = enf.set(target('f1', 1e7));
    await new Promise((r) => setImmediate(r));
    const p2 = enf.set(target('f1', 2e7)).then(() => undefined, (e: unknown) => e);
    const pr = enf.remove('f1');
    sw.release();
    await p1;
    const e2 = await p2;
    expect(e2).to.include({ code: 'ENF_SUPERSEDED' });
    await pr;
    expect(sw.meters.size).to.equal(0);
    expect(enf.size).to.equal(0);
  });

  it('a key that moves to another switch is deleted from the old one', async () => {
    await enf.switchUp(DPID2);
    await enf.set(target('f1', 1e7));
    await enf.set(target('f1', 1e7, { dpid: DPID2 }));
    expect(sw.meters.size).to.equal(0);
    expect(sws.get(DPID2)!.meters.size).to.equal(1);
    expect(enf.list()[0]).to.include({ dpid: '0000000000000002', state: 'installed' });
  });

  it('pollStats: measured bit/s of what passed the band, from successive samples', async () => {
    await enf.set(target('f1', 20e6));
    await enf.pollStats();
    expect(enf.list()[0]!.stats).to.equal(undefined); // one sample is no rate
    clock.advance(2000);
    const m = sw.meters.get(1)!;
    m.bytesIn = 7_000_000n; // 7 MB offered in 2 s, 2 MB dropped → 5 MB passed = 20 Mbit/s
    m.packetsIn = 5000n;
    m.bytesDropped = 2_000_000n;
    await enf.pollStats();
    expect(enf.list()[0]!.stats).to.deep.equal({ packets: 5000, bytes: 5_000_000, measuredBps: 20_000_000, sampledAtMs: 3000 });
    await enf.set(target('f1', 10e6)); // modify restarts the counters: the next poll re-baselines
    await enf.pollStats();
    expect(enf.list()[0]!.stats).to.equal(undefined);
  });

  it('close() deletes what it installed, refuses further set()s and is idempotent', async () => {
    await enf.set(target('f1', 1e7));
    await enf.set(target('f2', 1e7));
    sw.flows.push({ cookie: routingCookie(1), tableId: 0, priority: 1000, match: [], instructions: [] });
    await Promise.all([enf.close(), enf.close()]);
    expect(sw.meters.size).to.equal(0);
    expect(sw.flows.map((f) => f.cookie)).to.deep.equal([routingCookie(1)]);
    expect(enf.size).to.equal(0);
    const err = await enf.set(target('f3', 1e7)).then(() => undefined, (e: unknown) => e);
    expect(err).to.include({ code: 'ENF_CLOSED' });
  });

  it('rejects a bad rate without touching the switch', async () => {
    for (const rateBps of [0, -5, NaN]) {
      const err = await enf.set(target('bad', rateBps)).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(RangeError);
    }
    expect(sw.log).to.have.length(0);
    expect(enf.size).to.equal(0);
  });
});

describe('MeterEnforcer: meters that expire with the controller (model switch)', () => {
  const EXPIRY_S = 10;
  const PINNED = 1000;
  let clock: ManualClock;
  let sw: ModelSwitch;
  let enf: MeterEnforcer;
  const pinned = (srcPort: number): ModelFlow => ({
    cookie: routingCookie(srcPort), tableId: 0, priority: PINNED, match: match(srcPort), instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: OUT1 }],
  });
  const make = (): MeterEnforcer => new MeterEnforcer({
    switches: (d) => (d === DPID ? sw.handle() : undefined), log: createLogger({ level: 'silent' }), clock, priority: PINNED + 1,
    idleTimeoutS: 10, attachPriority: PINNED, expiryS: EXPIRY_S,
  });

  beforeEach(async () => {
    clock = new ManualClock(1000);
    sw = new ModelSwitch(DPID, clock);
    sw.flows.push(pinned(40001), { cookie: 0n, tableId: 0, priority: 0, match: [], instructions: [] });
    enf = make();
    await enf.switchUp(DPID);
  });

  afterEach(async () => {
    await enf.close();
  });

  it('set: the pinned entry writes its actions and goes on to table 1, where an entry with a hard timeout holds the meter', async () => {
    await enf.set(target('f1', 20_000_000));
    const t1 = sw.flows.filter((f) => f.tableId === 1);
    expect(t1.find((f) => f.priority === 0)).to.deep.include({ match: [], instructions: [] }); // table-miss: the action set runs
    const metered = t1.find((f) => f.priority === PINNED)!;
    expect(metered).to.deep.include({ match: match(40001), hardTimeout: EXPIRY_S, instructions: [{ type: 'OFPIT_METER', meterId: 1 }] });
    const pin = sw.flows.find((f) => f.tableId === 0 && f.priority === PINNED)!;
    expect(pin.cookie).to.equal(routingCookie(40001)); // still routing's entry, so its FLOW_REMOVED is routing's
    expect(pin.instructions).to.deep.equal([{ type: 'OFPIT_WRITE_ACTIONS', actions: OUT1 }, { type: 'OFPIT_GOTO_TABLE', tableId: 1 }]);
    expect(sw.verdict(match(40001))).to.deep.equal({ meters: [1], actions: OUT1 });
  });

  it('refreshed every third of the expiry, the meter stays; once refreshes stop (controller dead) it is gone within the expiry and the flow is forwarded unmetered', async () => {
    await enf.set(target('f1', 20_000_000));
    expect(enf.refreshIntervalMs).to.equal(3333);
    sw.log.length = 0;
    for (let t = 0; t < 60_000; t += enf.refreshIntervalMs) {
      clock.advance(enf.refreshIntervalMs);
      sw.expire();
      expect(await enf.refresh()).to.equal(1);
      expect(sw.verdict(match(40001))?.meters, `at ${t} ms`).to.deep.equal([1]);
    }
    // a refresh is one ADD of the metered entry: the meter (bucket, band, counters) is never touched
    expect(new Set(sw.log.flat())).to.deep.equal(new Set(['flow:add']));
    const diedAt = clock.now();
    let goneAfterMs: number | undefined;
    for (let dt = 0; dt <= 2 * EXPIRY_S * 1000 && goneAfterMs === undefined; dt += 100) {
      clock.advance(100);
      sw.expire();
      if (sw.verdict(match(40001))!.meters.length === 0) goneAfterMs = clock.now() - diedAt;
    }
    expect(goneAfterMs).to.be.at.most(EXPIRY_S * 1000);
    expect(sw.verdict(match(40001))).to.deep.equal({ meters: [], actions: OUT1 }); // never dropped, never to the controller
  });

  it('a refresh that fails on a live switch warns; one whose switch disconnects meanwhile is logged at debug as abandoned', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
    const logged = new MeterEnforcer({
      switches: (d) => (d === DPID ? sw.handle() : undefined), log, clock, priority: PINNED + 1,
      idleTimeoutS: 10, attachPriority: PINNED, expiryS: EXPIRY_S,
    });
    await logged.switchUp(DPID);
    await logged.set(target('f1', 20_000_000));
    sw.failIf = (m) => (m.type === 'OFPT_FLOW_MOD' ? flowError(1) : undefined);
    expect(await logged.refresh()).to.equal(0);
    expect(lines.filter((l) => l['event'] === 'meter_refresh_failed').map((l) => l['level'])).to.deep.equal([40]);
    sw.failIf = undefined;
    sw.holdTransactions();
    const pending = logged.refresh();
    await new Promise((r) => setImmediate(r));
    sw.alive = false; // the connection drops while the refresh waits for its barrier
    sw.release();
    expect(await pending).to.equal(0);
    expect(lines.filter((l) => l['event'] === 'meter_refresh_failed')).to.have.length(1); // only the live switch's failure
    expect(lines.filter((l) => l['event'] === 'meter_refresh_abandoned').map((l) => l['level'])).to.deep.equal([20]);
    sw.alive = true;
    await logged.close();
  });

  it('remove: the pinned entry gets its apply-actions back, its table-1 entry and the meter go', async () => {
    await enf.set(target('f1', 20_000_000));
    await enf.remove('f1');
    expect(sw.flows.find((f) => f.tableId === 0 && f.priority === PINNED)!.instructions).to.deep.equal([{ type: 'OFPIT_APPLY_ACTIONS', actions: OUT1 }]);
    expect(sw.flows.filter((f) => f.tableId === 1).map((f) => f.priority)).to.deep.equal([0]);
    expect(sw.meters.size).to.equal(0);
    expect(await enf.refresh()).to.equal(0);
  });

  it("a restarted controller gives an earlier run's pinned entries their apply-actions back and keeps the table-miss", async () => {
    await enf.set(target('f1', 20_000_000));
    const next = make(); // the old one is gone without cleaning up (SIGKILL)
    await next.switchUp(DPID);
    expect(sw.flows.find((f) => f.tableId === 0 && f.priority === PINNED)!.instructions).to.deep.equal([{ type: 'OFPIT_APPLY_ACTIONS', actions: OUT1 }]);
    expect(sw.flows.filter((f) => f.tableId === 1).map((f) => f.priority)).to.deep.equal([0]);
    expect(sw.meters.size).to.equal(0);
    await next.set(target('f1', 5_000_000));
    expect(sw.verdict(match(40001))).to.deep.equal({ meters: [1], actions: OUT1 });
    await next.close();
  });

  it('a switch with a single table cannot expire meters: unsupported, and set() rejects', async () => {
    sw.nTables = 1;
    await enf.switchUp(DPID);
    expect(enf.support(DPID)).to.include({ supported: false });
    expect(enf.support(DPID)!.reason).to.match(/table 1/);
    const err = await enf.set(target('f1', 1_000_000)).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(MeterEnforcerError).with.property('code', 'ENF_UNSUPPORTED');
  });
});
