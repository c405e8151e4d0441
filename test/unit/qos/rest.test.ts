/**
 * GET /api/v1/qos over fastify inject with a hand-built QoS source: per port the queues with DSCP
 * values, rates and both counters, the DSCP map, the ECN threshold and what applied (checked against
 * the route's own schema); no source → no ports.
 */
import { expect } from 'chai';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { defaultConfig } from '../../../controller/config/index.js';
import { quietLogger } from '../../../lib/log.js';
import { createRestServer } from '../../../controller/rest/index.js';
import { QosResponse, type QosSource } from '../../../controller/rest/qos.js';
import { planPort, type PortQosStatus } from '../../../apps/qos/index.js';
import { FakeTopology } from '../../../testing/fake-topology.js';

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

const status: PortQosStatus = {
  plan: planPort(defaultConfig().qos, 0x101n, 3, 's101-eth3', 50e6),
  datapathType: 'netdev',
  queues: { required: true, applied: true, changed: false, detail: 'reused' },
  classifier: { required: true, applied: true, detail: '6 filters' },
  ecn: { required: true, applied: false, detail: 'kernel lacks sch_red' },
  appliedAtMs: Date.UTC(2026, 0, 1),
};

const source: QosSource = {
  ports: () => [status],
  ecnProbe: () => ({ supported: false, detail: 'kernel lacks sch_red' }),
  counters: async () => [
    { queueId: 0, ofBytes: 1000, ofPackets: 10, tc: { classId: '1:1', bytes: 1100, packets: 11, dropped: 1, overlimits: 0, backlogBytes: 0, backlogPackets: 0 } },
    { queueId: 3, ofBytes: 5000, ofPackets: 50, tc: null },
  ],
};

function server(qos?: QosSource) {
  const base = { controller: { switches: new Map() }, topology: new FakeTopology(0), routes: () => [], config: defaultConfig(), log: quietLogger() };
  return createRestServer(qos ? { ...base, qos } : base);
}

describe('rest: GET /api/v1/qos', () => {
  it('per port: queues, rates, DSCP, counters, ECN threshold and what applied', async () => {
    const s = server(source);
    const res = await s.fastify.inject({ method: 'GET', url: '/api/v1/qos' });
    expect(res.statusCode).to.equal(200);
    const body = JSON.parse(res.body);
    expect([...Value.Errors(QosResponse, body)]).to.deep.equal([]);
    const p = body.ports[0];
    expect(p).to.include({ dpid: '0000000000000101', port: 3, name: 's101-eth3', capacityBps: 50e6, datapathType: 'netdev' });
    expect(p.dscpMap).to.deep.equal({ '10': 1, '18': 1, '26': 2, '34': 2, '46': 3, '48': 3 });
    expect(p.queues[3]).to.deep.include({ id: 3, priority: 0, dscp: [46, 48] });
    expect(p.queues[3].counters).to.deep.equal({ ofTxBytes: 5000, ofTxPackets: 50, tcBytes: null, tcPackets: null, tcDropped: null, tcBacklogBytes: null });
    expect(p.queues[0].counters).to.include({ ofTxBytes: 1000, tcBytes: 1100, tcDropped: 1 });
    expect(p.queues[1].counters.ofTxBytes).to.equal(null);
    expect(p.ecn).to.deep.equal({ thresholdPackets: 2, thresholdBytes: 3000, source: 'speed' });
    expect(p.applied.ecn).to.deep.equal({ required: true, applied: false, detail: 'kernel lacks sch_red' });
    expect(body.ecnProbe.supported).to.equal(false);
    await s.close();
  });

  it('without a QoS app: no ports', async () => {
    const s = server();
    const res = await s.fastify.inject({ method: 'GET', url: '/api/v1/qos' });
    expect(JSON.parse(res.body)).to.deep.equal({ priorityThresholds: null, ecnProbe: null, ports: [] });
    await s.close();
  });
});
