/**
 * lib/ovsdb and apps/qos/ovsdb-txn.ts: the stream splitter (messages split at every byte) and the pure QoS transaction
 * builder — fresh insert, reuse on a restart (no operations at all when up to date), in-place update,
 * duplicate cleanup, foreign rows never deleted, removal of Rivulet's rows only.
 */
import { expect } from 'chai';
import {
  JsonSplitter,
  OvsdbError,
  txnFailure,
  type OvsdbOpResult,
} from '../../../lib/ovsdb/index.js';
import {
  applyOps,
  orphanOps,
  parseObserved,
  removeOps,
  upToDate,
  type ObservedPortQos,
  type PortQosRows,
} from '../../../apps/qos/ovsdb-txn.js';

const PLAN: PortQosRows = {
  portName: 's1-eth1',
  type: 'linux-htb',
  maxRateBps: 50_000_000,
  queues: [
    { id: 0, minRateBps: 500_000, maxRateBps: 50_000_000, priority: 1 },
    { id: 1, minRateBps: 500_000, maxRateBps: 50_000_000, priority: 0 },
  ],
};

const m = (rec: Record<string, string>) => ['map', Object.entries(rec)] as const;
const qosIds = { rivulet: 'qos', 'rivulet-port': 's1-eth1' };
const qIds = (id: number) => ({ rivulet: 'queue', 'rivulet-port': 's1-eth1', 'rivulet-queue': String(id) });
const qCfg = (q: PortQosRows['queues'][number]) => ({ 'min-rate': String(q.minRateBps), 'max-rate': String(q.maxRateBps), priority: String(q.priority) });

/** Select results as ovsdb-server returns them for a port already holding PLAN (rows a1 / b0, b1). */
function selectResults(over: { qosCfg?: Record<string, string>; extraQos?: boolean; extraQueue?: boolean; portQos?: string } = {}): OvsdbOpResult[] {
  const qos = (u: string) => ({
    _uuid: ['uuid', u],
    type: 'linux-htb',
    other_config: m(over.qosCfg ?? { 'max-rate': '50000000' }),
    queues: ['map', [[0, ['uuid', 'b0']], [1, ['uuid', 'b1']]]],
    external_ids: m(qosIds),
  });
  const queue = (u: string, id: number) => ({ _uuid: ['uuid', u], other_config: m(qCfg(PLAN.queues[id]!)), external_ids: m(qIds(id)) });
  return [
    { rows: [{ _uuid: ['uuid', 'p1'], qos: ['uuid', over.portQos ?? 'a1'] }] },
    { rows: [qos('a1'), ...(over.extraQos ? [qos('a2')] : [])] },
    { rows: [queue('b0', 0), queue('b1', 1), ...(over.extraQueue ? [queue('b9', 1)] : [])] },
  ];
}

describe('ovsdb: JsonSplitter (RFC 7047 §4: back-to-back JSON texts)', () => {
  const texts = ['{"id":1,"result":[{"rows":[]}],"error":null}', '{"method":"echo","params":["a}\\"{"],"id":"echo"}', '{"x":[1,{"y":"]"}]}'];
  const stream = Buffer.from(texts.join('\n'));

  it('cuts a stream split at every byte boundary into the same texts', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const s = new JsonSplitter();
      const got = [...s.push(stream.subarray(0, cut)), ...s.push(stream.subarray(cut))];
      expect(got, `cut at ${cut}`).to.deep.equal(texts);
    }
    const s = new JsonSplitter();
    const one = [...stream].flatMap((b) => s.push(Buffer.from([b])));
    expect(one).to.deep.equal(texts);
  });

  it('rejects non-objects and oversized messages with OVSDB_PROTOCOL', () => {
    expect(() => new JsonSplitter().push(Buffer.from('42'))).to.throw(OvsdbError).with.property('code', 'OVSDB_PROTOCOL');
    expect(() => new JsonSplitter(8).push(Buffer.from('{"aaaaaaaaaaaa'))).to.throw(OvsdbError).with.property('code', 'OVSDB_PROTOCOL');
  });

  it('txnFailure names the failing operation', () => {
    const e = txnFailure([{ count: 1 }, { error: 'constraint violation', details: 'bad' }]);
    expect(e?.code).to.equal('OVSDB_TXN');
    expect(e?.opIndex).to.equal(1);
    expect(e?.message).to.include('constraint violation: bad');
  });
});

describe('ovsdb: QoS transaction builder', () => {
  const fresh: ObservedPortQos = parseObserved('s1-eth1', [{ rows: [{ _uuid: ['uuid', 'p1'], qos: ['set', []] }] }, { rows: [] }, { rows: [] }]);

  it('a port without rows: inserts QoS (linux-htb, max-rate) and one Queue per queue, attaches it, bumps next_cfg', () => {
    const ops = applyOps(PLAN, fresh);
    const inserts = ops.filter((o) => o.op === 'insert');
    expect(inserts.map((o) => (o as { table: string }).table)).to.deep.equal(['Queue', 'Queue', 'QoS']);
    const qos = inserts[2] as { row: Record<string, unknown> };
    expect(qos.row['type']).to.equal('linux-htb');
    expect(qos.row['other_config']).to.deep.equal(['map', [['max-rate', '50000000']]]);
    expect(qos.row['queues']).to.deep.equal(['map', [[0, ['named-uuid', 'rivq0']], [1, ['named-uuid', 'rivq1']]]]);
    expect(qos.row['external_ids']).to.deep.equal(['map', [['rivulet', 'qos'], ['rivulet-port', 's1-eth1']]]);
    const q1 = inserts[1] as { row: Record<string, unknown> };
    expect(q1.row['other_config']).to.deep.equal(['map', [['max-rate', '50000000'], ['min-rate', '500000'], ['priority', '0']]]);
    expect(ops).to.deep.include({ op: 'update', table: 'Port', where: [['_uuid', '==', ['uuid', 'p1']]], row: { qos: ['named-uuid', 'rivqos'] } });
    expect(ops.at(-2)).to.deep.equal({ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] });
    expect(ops.filter((o) => o.op === 'delete')).to.have.length(0);
  });

  it('a restart that finds its rows as planned writes nothing (idempotent)', () => {
    const obs = parseObserved('s1-eth1', selectResults());
    expect(upToDate(PLAN, obs)).to.equal(true);
    expect(applyOps(PLAN, obs)).to.deep.equal([]);
  });

  it('a changed rate updates the same rows in place (no insert, no delete)', () => {
    const obs = parseObserved('s1-eth1', selectResults({ qosCfg: { 'max-rate': '10000000' } }));
    const ops = applyOps(PLAN, obs);
    expect(ops.filter((o) => o.op === 'insert' || o.op === 'delete')).to.have.length(0);
    expect(ops.filter((o) => o.op === 'update').map((o) => (o as { table: string }).table)).to.deep.equal(['Queue', 'Queue', 'QoS', 'Port']);
  });

  it('duplicates left by a crash are deleted, the row the port uses is kept', () => {
    const obs = parseObserved('s1-eth1', selectResults({ extraQos: true, extraQueue: true, portQos: 'a2' }));
    const ops = applyOps(PLAN, obs);
    const deletes = ops.filter((o) => o.op === 'delete').map((o) => [(o as { table: string }).table, (o as unknown as { where: unknown[][] }).where[0]![2]]);
    expect(deletes).to.deep.equal([['QoS', ['uuid', 'a1']], ['Queue', ['uuid', 'b9']]]);
    expect(ops).to.deep.include({ op: 'update', table: 'Port', where: [['_uuid', '==', ['uuid', 'p1']]], row: { qos: ['uuid', 'a2'] } });
  });

  it('a foreign QoS on the port is replaced by a new row of ours but never deleted', () => {
    const obs = parseObserved('s1-eth1', [{ rows: [{ _uuid: ['uuid', 'p1'], qos: ['uuid', 'foreign'] }] }, { rows: [] }, { rows: [] }]);
    const ops = applyOps(PLAN, obs);
    expect(ops.filter((o) => o.op === 'delete')).to.have.length(0);
    expect(ops.filter((o) => o.op === 'insert')).to.have.length(3);
  });

  it('no Port row: RangeError naming the port', () => {
    const obs = parseObserved('nope', [{ rows: [] }, { rows: [] }, { rows: [] }]);
    expect(() => applyOps({ ...PLAN, portName: 'nope' }, obs)).to.throw(RangeError, 'nope');
  });

  it('removeOps detaches and deletes only Rivulet rows', () => {
    const ops = removeOps(parseObserved('s1-eth1', selectResults({ extraQueue: true })));
    expect(ops[1]).to.deep.equal({ op: 'update', table: 'Port', where: [['_uuid', '==', ['uuid', 'p1']]], row: { qos: ['set', []] } });
    expect(ops.filter((o) => o.op === 'delete')).to.have.length(4);
    expect(removeOps(fresh)).to.deep.equal([]);
    const foreign = removeOps(parseObserved('s1-eth1', [{ rows: [{ _uuid: ['uuid', 'p1'], qos: ['uuid', 'x'] }] }, { rows: [] }, { rows: [] }]));
    expect(foreign).to.deep.equal([]);
  });
});

describe('ovsdb: orphaned rows', () => {
  it('deletes only marked rows whose port is gone and that no Port uses', () => {
    const ids = (port: string) => ['map', [['rivulet', 'qos'], ['rivulet-port', port]]];
    const ops = orphanOps([
      { rows: [{ name: 'alive', qos: ['uuid', 'q1'] }, { name: 'other', qos: ['uuid', 'q3'] }] },
      { rows: [{ _uuid: ['uuid', 'q1'], external_ids: ids('alive') }, { _uuid: ['uuid', 'q2'], external_ids: ids('gone') }, { _uuid: ['uuid', 'q3'], external_ids: ids('gone2') }] },
      { rows: [{ _uuid: ['uuid', 'u1'], external_ids: ids('gone') }, { _uuid: ['uuid', 'u2'], external_ids: ids('alive') }] },
    ]);
    expect(ops.slice(1)).to.deep.equal([
      { op: 'delete', table: 'QoS', where: [['_uuid', '==', ['uuid', 'q2']]] },
      { op: 'delete', table: 'Queue', where: [['_uuid', '==', ['uuid', 'u1']]] },
    ]);
    expect(orphanOps([{ rows: [] }, { rows: [] }, { rows: [] }])).to.deep.equal([]);
  });
});
