/**
 * Checks of the `qos` section that span keys (the schema checks each key alone), and the ECN threshold
 * rule the section describes. Pure.
 */
import { ConfigError } from './errors.js';
import { parseBitRate } from './schema.js';

interface QosLike {
  readonly queues: number;
  readonly dscpMap: Readonly<Record<string, readonly number[]>>;
  readonly bufferPackets?: number | undefined;
  readonly ecn: { readonly bySpeed: Readonly<Record<string, number>>; readonly ports: Readonly<Record<string, number>> };
}

/**
 * Rejects a plan the schema alone cannot: a queue in `dscpMap` beyond `queues`, a DSCP mapped twice
 * (overlapping map), an ECN threshold larger than the buffer.
 * @throws ConfigError CONFIG_INVALID naming the key (`qos.dscpMap.2`, `qos.ecn.ports.…`)
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
  const tooBig = (key: string, packets: number): void => {
    // a derived buffer (bufferPackets absent) is never smaller than the port's threshold
    if (q.bufferPackets !== undefined && packets > q.bufferPackets) {
      throw new ConfigError('CONFIG_INVALID', key, `threshold ${packets} packets is larger than the buffer (qos.bufferPackets = ${q.bufferPackets})`, file);
    }
  };
  for (const [speed, k] of Object.entries(q.ecn.bySpeed)) tooBig(`qos.ecn.bySpeed.${speed}`, k);
  for (const [port, k] of Object.entries(q.ecn.ports)) tooBig(`qos.ecn.ports.${port}`, k);
}

/**
 * DCTCP's K for a link speed (Karuna §3, DCTCP §3.4: K grows with C·RTT): linear between the configured
 * (speed, packets) points, along the last segment above the fastest, in proportion to speed below the
 * slowest, never under `minPackets`; rounded to whole packets. Speeds as in `bySpeed` keys ("1G").
 */
export function ecnThresholdPackets(speedBps: number, bySpeed: Readonly<Record<string, number>>, minPackets: number): number {
  const pts = Object.entries(bySpeed)
    .map(([s, k]) => [parseBitRate(s), k] as const)
    .sort((a, b) => a[0] - b[0]);
  if (pts.length === 0 || speedBps <= 0) return minPackets;
  let k: number;
  if (speedBps <= pts[0]![0]) k = (pts[0]![1] * speedBps) / pts[0]![0];
  else {
    let i = pts.findIndex((p) => p[0] >= speedBps);
    if (i < 0) i = pts.length - 1;
    if (i === 0) k = pts[0]![1];
    else {
      const [s0, k0] = pts[i - 1]!;
      const [s1, k1] = pts[i]!;
      k = k0 + ((k1 - k0) * (speedBps - s0)) / (s1 - s0);
    }
  }
  return Math.max(minPackets, Math.round(k));
}
