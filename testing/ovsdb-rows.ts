/**
 * Counting and deleting Rivulet's QoS/Queue rows of named ports through OVSDB (tests: "no duplicate
 * rows after a restart", and cleanup of only what the test's controller created).
 */
import { connectOvsdb, DEFAULT_OVSDB_ADDRESS, strMap } from '../lib/ovsdb/index.js';
import { OVS_DB, OWNER_PORT_KEY } from '../apps/qos/ovsdb-txn.js';
import { ovsRemove } from '../apps/qos/shell.js';

export interface RowCount {
  readonly qos: number;
  readonly queue: number;
}

/** Rivulet's QoS and Queue rows of each port, summed. */
export async function countQosRows(portNames: readonly string[]): Promise<RowCount> {
  const c = await connectOvsdb({ address: DEFAULT_OVSDB_ADDRESS });
  try {
    let qos = 0;
    let queue = 0;
    for (const name of portNames) {
      const where = [['external_ids', 'includes', strMap({ [OWNER_PORT_KEY]: name })] as const];
      const [a, b] = await c.transact(OVS_DB, [
        { op: 'select', table: 'QoS', where, columns: ['_uuid'] },
        { op: 'select', table: 'Queue', where, columns: ['_uuid'] },
      ]);
      qos += a?.rows?.length ?? 0;
      queue += b?.rows?.length ?? 0;
    }
    return { qos, queue };
  } finally {
    c.close();
  }
}

/** Deletes Rivulet's rows of the given ports (detaching them first); nothing else. */
export async function removeQosRows(portNames: readonly string[]): Promise<void> {
  const c = await connectOvsdb({ address: DEFAULT_OVSDB_ADDRESS });
  try {
    for (const name of portNames) await ovsRemove(c, name);
  } finally {
    c.close();
  }
}

/** Deletes Rivulet's QoS/Queue rows of every port whose name starts with `prefix` (a Mininet run's own). */
export async function removeQosRowsByPrefix(prefix: string): Promise<string[]> {
  if (!/^[a-z]{2,6}$/.test(prefix)) throw new RangeError(`refusing to remove by prefix "${prefix}"`);
  const c = await connectOvsdb({ address: DEFAULT_OVSDB_ADDRESS });
  try {
    const names = new Set<string>();
    for (const table of ['QoS', 'Queue']) {
      const [r] = await c.transact(OVS_DB, [{ op: 'select', table, where: [], columns: ['external_ids'] }]);
      for (const row of r?.rows ?? []) {
        const ids = row['external_ids'];
        const pairs = Array.isArray(ids) && ids[0] === 'map' ? (ids[1] as [string, string][]) : [];
        const port = pairs.find(([k]) => k === OWNER_PORT_KEY)?.[1];
        if (port?.startsWith(prefix)) names.add(port);
      }
    }
    for (const name of names) await ovsRemove(c, name);
    return [...names];
  } finally {
    c.close();
  }
}
