/**
 * GET /api/v1/qos (README.md "REST API"; ARCHITECTURE.md "Commitments" 1, 3, 4): per switch port the queues with rates and DSCP values,
 * the DSCP → queue map, the ECN threshold, whether each part (OVSDB queues, tc DSCP classifier, RED/ECN)
 * applied and why not, and queue counters from both sides: OFPMP_QUEUE from the switch and the tc HTB
 * class counters of the port. The schema (TypeBox) and the pure projection live here; the route is
 * registered by server.ts when a QoS source is given.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { PortQosStatus, PriorityThresholds, QueueCounters } from '../../apps/qos/index.js';
import { dpidHex } from '../../lib/log.js';

/** What the route reads (the QoS app satisfies it). */
export interface QosSource {
  ports(): readonly PortQosStatus[];
  ecnProbe(): { readonly supported: boolean; readonly detail: string } | undefined;
  counters(dpid: bigint, portNo: number): Promise<readonly QueueCounters[]>;
}

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Part = Type.Object(
  {
    required: Type.Boolean({ description: 'wanted on this platform' }),
    applied: Type.Boolean(),
    detail: Type.String({ description: 'how it was applied, or why not' }),
  },
  { title: 'QosPart' },
);

const QueueJson = Type.Object(
  {
    id: Type.Integer({ description: 'OpenFlow queue id; 0 best effort, highest id served first' }),
    priority: Type.Integer({ description: 'linux-htb prio (lower served first)' }),
    minRateBps: Type.Number(),
    maxRateBps: Type.Number(),
    dscp: Type.Array(Type.Integer(), { description: 'DSCP values steered here (queue 0: every unmapped DSCP)' }),
    counters: Type.Object({
      ofTxBytes: Nullable(Type.Number({ description: 'OFPMP_QUEUE tx_bytes (null: not reported)' })),
      ofTxPackets: Nullable(Type.Number()),
      tcBytes: Nullable(Type.Number({ description: 'tc HTB class 1:(id+1) Sent bytes (null: no such class)' })),
      tcPackets: Nullable(Type.Number()),
      tcDropped: Nullable(Type.Number()),
      tcBacklogBytes: Nullable(Type.Number()),
    }),
  },
  { title: 'QosQueue' },
);

export const QosPortJson = Type.Object(
  {
    dpid: Type.String({ pattern: '^[0-9a-f]{16}$' }),
    port: Type.Integer(),
    name: Type.String({ description: 'OVS port / interface name' }),
    datapathType: Nullable(Type.String({ description: 'Bridge.datapath_type (netdev: userspace datapath)' })),
    capacityBps: Type.Number({ description: 'shaping rate = link capacity, bit/s' }),
    queues: Type.Array(QueueJson),
    dscpMap: Type.Record(Type.String(), Type.Integer(), { description: 'DSCP → queue (unlisted DSCPs: queue 0)' }),
    ecn: Type.Object({
      thresholdPackets: Type.Integer(),
      thresholdBytes: Type.Integer(),
      source: Type.Union([Type.Literal('port'), Type.Literal('speed')]),
    }),
    buffer: Type.Object({
      packets: Type.Integer({ description: 'drop-tail buffer under each queue, packets' }),
      bytes: Type.Integer(),
      delayMs: Type.Number({ description: 'queueing delay of a full buffer at the capacity, ms' }),
      source: Type.Union([Type.Literal('config'), Type.Literal('delay')], { description: 'qos.bufferPackets, or derived from qos.bufferDelayMs' }),
    }),
    applied: Type.Object({ queues: Part, classifier: Part, ecn: Part }),
    appliedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'QosPort' },
);

const PriorityThresholdsJson = Type.Object(
  {
    cdfFile: Type.String({ description: 'the flow-size distribution they come from (config qos.priorityThresholds.cdfFile)' }),
    load: Type.Number(),
    queues: Type.Integer(),
    thresholdsBytes: Type.Array(Type.Number(), { description: 'demotion thresholds α1 < α2 < …, bytes sent (PIAS)' }),
    meanSlowdown: Type.Number({ description: 'expected FCT ÷ the mean flow’s transmission time, M/G/1 with priorities' }),
    fifoMeanSlowdown: Type.Number({ description: 'the same with one FIFO queue' }),
  },
  { title: 'PriorityThresholds' },
);

export const QosResponse = Type.Object(
  {
    priorityThresholds: Nullable(PriorityThresholdsJson),
    ecnProbe: Nullable(Type.Object({ supported: Type.Boolean(), detail: Type.String() })),
    ports: Type.Array(QosPortJson),
  },
  { title: 'Qos' },
);

export type QosPortJsonT = Static<typeof QosPortJson>;

/** One port's JSON (pure). */
export function qosPortJson(s: PortQosStatus, counters: readonly QueueCounters[]): QosPortJsonT {
  const p = s.plan;
  return {
    dpid: dpidHex(p.dpid),
    port: p.portNo,
    name: p.portName,
    datapathType: s.datapathType ?? null,
    capacityBps: p.capacityBps,
    queues: p.queues.map((q) => {
      const c = counters.find((x) => x.queueId === q.id);
      return {
        id: q.id,
        priority: q.priority,
        minRateBps: q.minRateBps,
        maxRateBps: q.maxRateBps,
        dscp: [...q.dscp],
        counters: {
          ofTxBytes: c?.ofBytes ?? null,
          ofTxPackets: c?.ofPackets ?? null,
          tcBytes: c?.tc?.bytes ?? null,
          tcPackets: c?.tc?.packets ?? null,
          tcDropped: c?.tc?.dropped ?? null,
          tcBacklogBytes: c?.tc?.backlogBytes ?? null,
        },
      };
    }),
    dscpMap: Object.fromEntries([...p.dscpToQueue].sort((a, b) => a[0] - b[0]).map(([d, q]) => [String(d), q])),
    ecn: { thresholdPackets: p.ecn.thresholdPackets, thresholdBytes: p.ecn.thresholdBytes, source: p.ecn.source },
    buffer: { ...p.buffer },
    applied: { queues: pick(s.queues), classifier: pick(s.classifier), ecn: pick(s.ecn) },
    appliedAt: new Date(s.appliedAtMs).toISOString(),
  };
}

function pick(p: { required: boolean; applied: boolean; detail: string }): { required: boolean; applied: boolean; detail: string } {
  return { required: p.required, applied: p.applied, detail: p.detail };
}

/** The whole response; counters fetched for all ports at once. */
export async function qosJson(src: QosSource, thresholds?: PriorityThresholds): Promise<Static<typeof QosResponse>> {
  const ports = src.ports();
  const counters = await Promise.all(ports.map((s) => src.counters(s.plan.dpid, s.plan.portNo)));
  return {
    priorityThresholds: thresholds ? { ...thresholds, thresholdsBytes: [...thresholds.thresholdsBytes] } : null,
    ecnProbe: src.ecnProbe() ?? null,
    ports: ports.map((s, i) => qosPortJson(s, counters[i]!)),
  };
}
