/**
 * The `qos` section of the configuration (README.md "Configuration"): strict-priority queues by DSCP,
 * per-class buffers, ECN thresholds (Karuna, DCTCP K), the PIAS demotion thresholds — its schema,
 * composed into the file's schema by controller/config, and the checks that span keys (the schema
 * checks each key alone). The QoS app receives this section as it is. Pure.
 */
import { Type, type StaticDecode } from '@sinclair/typebox';
import { ConfigError } from '../../lib/config-error.js';
import { BIT_RATE_PATTERN, int, LINK_KEY_PATTERN, SECTION } from '../../lib/config-schema.js';

/** Queues per port linux-htb on OVS (and PicOS) offer to Rivulet: OpenFlow queue ids 0…7. */
export const PLATFORM_MAX_QUEUES = 8;
/** DSCP → queue defaults for 4 queues (highest queue = highest priority): EF/CS6 top, AF3x/AF4x, AF1x/AF2x. */
export const DEFAULT_DSCP_MAP: Readonly<Record<string, readonly number[]>> = { '3': [46, 48], '2': [26, 34], '1': [10, 18] };

const dscpList = Type.Array(
  Type.Integer({ minimum: 0, maximum: 63, errorMessage: 'must be a DSCP 0–63' }),
  { description: 'DSCP values (0–63) steered to this queue', errorMessage: 'must be a list of DSCP values 0–63' },
);

export const EcnSection = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'configure ECN marking (RED with ecn under each class, where the platform has it)' }),
    bySpeed: Type.Record(Type.String({ pattern: BIT_RATE_PATTERN }), Type.Integer({ minimum: 1, errorMessage: 'must be a threshold in packets ≥ 1' }), {
      additionalProperties: false,
      default: { '1G': 20, '10G': 65 },
      description: 'marking threshold K in packets by link speed (DCTCP: ≈20 at 1 Gbit/s, 65 at 10 Gbit/s); interpolated between speeds, scaled in proportion below the lowest',
      keyMessage: 'is not a link speed such as "1G" or "10Gbit/s"',
    }),
    minPackets: int(1, 100_000, 2, 'smallest threshold the speed scaling may give, packets'),
    ports: Type.Record(Type.String({ pattern: LINK_KEY_PATTERN }), Type.Integer({ minimum: 1, errorMessage: 'must be a threshold in packets ≥ 1' }), {
      additionalProperties: false,
      default: {},
      description: 'per-port thresholds in packets, "<dpid hex>:<port>" → packets (override bySpeed)',
      keyMessage: 'is not a port key "<dpid hex>:<port number>" (e.g. "0000000000000001:3")',
    }),
    packetBytes: int(64, 9216, 1500, 'bytes per packet when a threshold is given to the platform in bytes'),
  },
  { ...SECTION, description: 'per-port ECN marking thresholds (Karuna, DCTCP K)' },
);

export const PriorityThresholdsSection = Type.Object(
  {
    cdfFile: Type.Optional(Type.String({ minLength: 1, description: 'flow-size distribution (.cdf: "bytes cumulative_probability" lines; `rivulet trace --json` gives one from a capture); absent: no thresholds' })),
    load: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.6, description: 'offered load ρ of the PIAS model', errorMessage: 'must be a load between 0 and 1 (exclusive)' }),
  },
  { ...SECTION, description: 'PIAS/Karuna demotion thresholds for the queues, computed at start from a flow-size distribution' },
);

export const QosSection = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'apply the QoS plan (queues, DSCP classifier, ECN) to every switch port' }),
    queues: Type.Integer({
      minimum: 1,
      maximum: PLATFORM_MAX_QUEUES,
      default: 4,
      description: `strict-priority queues per port (queue 0 best effort, the highest queue served first), 1–${PLATFORM_MAX_QUEUES}`,
      errorMessage: `must be an integer 1–${PLATFORM_MAX_QUEUES} (more queues than the platform offers: OVS linux-htb and PicOS give ${PLATFORM_MAX_QUEUES} per port)`,
    }),
    dscpMap: Type.Record(Type.String({ pattern: '^[0-7]$' }), dscpList, {
      additionalProperties: false,
      default: DEFAULT_DSCP_MAP,
      description: 'queue → DSCP values steered to it (a DSCP in no list goes to queue 0); one DSCP in one queue only',
      keyMessage: `is not a queue number 0–${PLATFORM_MAX_QUEUES - 1}`,
    }),
    bufferPackets: Type.Optional(Type.Integer({
      minimum: 1, maximum: 1_000_000,
      description: 'per-class buffer of every port, packets (a marking threshold must fit in it); absent: derived per port from bufferDelayMs',
      errorMessage: 'must be an integer 1–1000000',
    })),
    bufferDelayMs: Type.Number({
      exclusiveMinimum: 0, maximum: 10_000, default: 20,
      description: "per-class buffer when bufferPackets is absent: this many ms of queueing at the port's capacity (in ecn.packetBytes packets), at least bufferMinPackets and the port's ECN threshold",
      errorMessage: 'must be a number of ms > 0',
    }),
    bufferMinPackets: int(1, 1_000_000, 32, 'floor of the derived per-class buffer, packets'),
    minQueueShare: Type.Number({
      exclusiveMinimum: 0, maximum: 1, default: 0.01,
      description: 'share of the port capacity guaranteed to every queue (HTB rate; the rest goes by strict priority): what a queue starved by the ones above still sends. queues × share ≤ 1',
      errorMessage: 'must be a share of the capacity in (0, 1]',
    }),
    ecn: EcnSection,
    dscpClassifier: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
      default: 'auto',
      description: 'tc u32 DSCP filters on the port: auto = where set_queue does not steer (userspace datapath, datapath_type=netdev)',
      errorMessage: 'must be one of auto|on|off',
    }),
    ovsdb: Type.String({ minLength: 1, default: 'unix:/var/run/openvswitch/db.sock', description: 'OVSDB of the switches (unix:/path or tcp:host:port)' }),
    priorityThresholds: PriorityThresholdsSection,
  },
  { ...SECTION, description: 'strict-priority queues by DSCP and ECN thresholds on every switch port (Karuna)' },
);

/** The `qos` section, validated, defaults filled in. */
export type QosSectionConfig = StaticDecode<typeof QosSection>;

interface QosLike {
  readonly queues: number;
  readonly minQueueShare?: number | undefined;
  readonly dscpMap: Readonly<Record<string, readonly number[]>>;
  readonly bufferPackets?: number | undefined;
  readonly ecn: { readonly bySpeed: Readonly<Record<string, number>>; readonly ports: Readonly<Record<string, number>> };
}

/**
 * Rejects a plan the schema alone cannot: a queue in `dscpMap` beyond `queues`, a DSCP mapped twice
 * (overlapping map), guarantees summing above the capacity (`minQueueShare` × `queues` > 1), an ECN
 * threshold larger than the buffer.
 * @throws ConfigError CONFIG_INVALID naming the key (`qos.dscpMap.2`, `qos.minQueueShare`, `qos.ecn.ports.…`)
 */
export function checkQos(q: QosLike, file?: string): void {
  const owner = new Map<number, string>();
  for (const queue of Object.keys(q.dscpMap).sort()) {
    const key = `qos.dscpMap.${queue}`;
    if (Number(queue) >= q.queues) {
      throw new ConfigError('CONFIG_INVALID', key, `queue ${queue} does not exist: qos.queues is ${q.queues} (queues 0–${q.queues - 1})`, file);
    }
    for (const dscp of q.dscpMap[queue]!) {
      const other = owner.get(dscp);
      if (other !== undefined) {
        const why = other === queue ? `lists DSCP ${dscp} twice` : `overlaps qos.dscpMap.${other}: DSCP ${dscp} is in both`;
        throw new ConfigError('CONFIG_INVALID', key, why, file);
      }
      owner.set(dscp, queue);
    }
  }
  if (q.minQueueShare !== undefined && q.minQueueShare * q.queues > 1 + 1e-9) {
    throw new ConfigError('CONFIG_INVALID', 'qos.minQueueShare',
      `${q.minQueueShare} × ${q.queues} queues guarantees more than the capacity (at most ${(1 / q.queues).toFixed(4)} with ${q.queues} queues)`, file);
  }
  const tooBig = (key: string, packets: number): void => {
    // a derived buffer (bufferPackets absent) is never smaller than the port's threshold
    if (q.bufferPackets !== undefined && packets > q.bufferPackets) {
      throw new ConfigError('CONFIG_INVALID', key, `threshold ${packets} packets is larger than the buffer (qos.bufferPackets = ${q.bufferPackets})`, file);
    }
  };
  for (const [speed, k] of Object.entries(q.ecn.bySpeed)) tooBig(`qos.ecn.bySpeed.${speed}`, k);
  for (const [port, k] of Object.entries(q.ecn.ports)) tooBig(`qos.ecn.ports.${port}`, k);
}

