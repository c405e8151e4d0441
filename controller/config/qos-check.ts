/**
 * Checks of the `qos` section that span keys (the schema checks each key alone). Pure. The ECN threshold
 * rule the section describes is the QoS app's (apps/qos/ecn-threshold.ts), re-exported here.
 */
import { ConfigError } from './errors.js';
export { ecnThresholdPackets } from '../../apps/qos/ecn-threshold.js';

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

