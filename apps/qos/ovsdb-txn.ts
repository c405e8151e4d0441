/**
 * Pure builders of the OVSDB transactions that put a per-port QoS plan into Open vSwitch's database
 * (vswitch schema: Port.qos → QoS {type, other_config:max-rate, queues: {id → Queue}},
 * Queue {other_config: min-rate, max-rate, priority}).
 *
 * Ownership: every row Rivulet writes carries `external_ids:rivulet` (`qos` or `queue`) and
 * `external_ids:rivulet-port` (the port name); queues also `rivulet-queue` (the queue id). A restart
 * reads them back ({@link observeOps} → {@link parseObserved}) and {@link applyOps} REUSES them: it updates
 * rows in place, inserts only what is missing, deletes only its own surplus rows (duplicates left by a
 * crash between two transactions), and returns no operations at all when the database already matches
 * the plan. Rows without the mark are never deleted. {@link removeOps} undoes everything for one port.
 *
 * linux-htb (ovs-vswitchd.conf.db(5), QoS/Queue tables): queue N is HTB class 1:(N+1); `priority` is
 * HTB's prio, lower number served first when classes borrow, so strict priority with the highest queue
 * on top = priority (nQueues − 1 − N) and a small min-rate for every queue.
 */
import {
  intRefMap,
  namedUuid,
  readMap,
  readSet,
  readUuid,
  strMap,
  uuid,
  type OvsdbOperation,
  type OvsdbOpResult,
} from '../../lib/ovsdb/types.js';

export const OVS_DB = 'Open_vSwitch';
export const OWNER_KEY = 'rivulet';
export const OWNER_PORT_KEY = 'rivulet-port';
export const OWNER_QUEUE_KEY = 'rivulet-queue';

export interface QueueRowPlan {
  /** queue id (OpenFlow queue_id, key of QoS.queues), 0…7 */
  readonly id: number;
  readonly minRateBps: number;
  readonly maxRateBps: number;
  /** linux-htb priority: lower is served first */
  readonly priority: number;
}

export interface PortQosRows {
  /** OVS Port (and Interface) name, e.g. `s1-eth3` */
  readonly portName: string;
  /** QoS type (`linux-htb`) */
  readonly type: string;
  /** QoS other_config:max-rate, bit/s (the link capacity) */
  readonly maxRateBps: number;
  readonly queues: readonly QueueRowPlan[];
}

export interface ObservedRow {
  readonly uuid: string;
  readonly otherConfig: ReadonlyMap<string, string>;
  readonly externalIds: ReadonlyMap<string, string>;
}

export interface ObservedQos extends ObservedRow {
  readonly type: string;
  /** queue id → Queue uuid */
  readonly queues: ReadonlyMap<number, string>;
}

/** What the database holds for one port, as far as QoS goes. */
export interface ObservedPortQos {
  readonly portName: string;
  /** undefined: no such Port row (the port is not on an OVS bridge) */
  readonly portUuid: string | undefined;
  /** the QoS row the Port points to now, ours or not */
  readonly portQos: string | undefined;
  /** QoS rows marked as Rivulet's for this port */
  readonly ownedQos: readonly ObservedQos[];
  /** Queue rows marked as Rivulet's for this port */
  readonly ownedQueues: readonly ObservedRow[];
}

const ownedBy = (portName: string) => ['external_ids', 'includes', strMap({ [OWNER_PORT_KEY]: portName })] as const;

/** The read-only transaction whose results {@link parseObserved} reads. */
export function observeOps(portName: string): OvsdbOperation[] {
  return [
    { op: 'select', table: 'Port', where: [['name', '==', portName]], columns: ['_uuid', 'qos'] },
    { op: 'select', table: 'QoS', where: [ownedBy(portName)], columns: ['_uuid', 'type', 'other_config', 'queues', 'external_ids'] },
    { op: 'select', table: 'Queue', where: [ownedBy(portName)], columns: ['_uuid', 'other_config', 'external_ids'] },
  ];
}

function strMapOf(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, x] of readMap(v)) if (typeof k === 'string' && typeof x === 'string') out.set(k, x);
  return out;
}

function rowOf(r: Readonly<Record<string, unknown>>): ObservedRow {
  return { uuid: readUuid(r['_uuid']) ?? '', otherConfig: strMapOf(r['other_config']), externalIds: strMapOf(r['external_ids']) };
}

/** Reads the results of {@link observeOps}. Rows are sorted by uuid, so the choice of which to reuse is stable. */
export function parseObserved(portName: string, results: readonly OvsdbOpResult[]): ObservedPortQos {
  const port = results[0]?.rows?.[0];
  const byUuid = (a: ObservedRow, b: ObservedRow): number => a.uuid.localeCompare(b.uuid);
  const ownedQos = (results[1]?.rows ?? []).map((r): ObservedQos => {
    const queues = new Map<number, string>();
    for (const [k, v] of readMap(r['queues'])) {
      const u = readUuid(v);
      if (typeof k === 'number' && u) queues.set(k, u);
    }
    return { ...rowOf(r), type: typeof r['type'] === 'string' ? r['type'] : '', queues };
  });
  return {
    portName,
    portUuid: port ? readUuid(port['_uuid']) : undefined,
    portQos: port ? readSet(port['qos']).map(readUuid).find((u) => u !== undefined) : undefined,
    ownedQos: ownedQos.sort(byUuid),
    ownedQueues: (results[2]?.rows ?? []).map(rowOf).sort(byUuid),
  };
}

function qosOtherConfig(p: PortQosRows): Record<string, string> {
  return { 'max-rate': String(Math.round(p.maxRateBps)) };
}

function queueOtherConfig(q: QueueRowPlan): Record<string, string> {
  return { 'min-rate': String(Math.round(q.minRateBps)), 'max-rate': String(Math.round(q.maxRateBps)), priority: String(q.priority) };
}

function qosExternalIds(portName: string): Record<string, string> {
  return { [OWNER_KEY]: 'qos', [OWNER_PORT_KEY]: portName };
}

function queueExternalIds(portName: string, id: number): Record<string, string> {
  return { [OWNER_KEY]: 'queue', [OWNER_PORT_KEY]: portName, [OWNER_QUEUE_KEY]: String(id) };
}

function sameMap(a: ReadonlyMap<string, string>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(b);
  return a.size === keys.length && keys.every((k) => a.get(k) === b[k]);
}

/** The owned Queue row to reuse for each queue id (the first by uuid), and the surplus ones. */
function assignQueues(plan: PortQosRows, obs: ObservedPortQos): { reuse: Map<number, ObservedRow>; surplus: ObservedRow[] } {
  const wanted = new Set(plan.queues.map((q) => q.id));
  const reuse = new Map<number, ObservedRow>();
  const surplus: ObservedRow[] = [];
  for (const row of obs.ownedQueues) {
    const id = Number(row.externalIds.get(OWNER_QUEUE_KEY));
    if (wanted.has(id) && !reuse.has(id)) reuse.set(id, row);
    else surplus.push(row);
  }
  return { reuse, surplus };
}

/** True when the database already holds exactly the plan for this port (then {@link applyOps} returns []). */
export function upToDate(plan: PortQosRows, obs: ObservedPortQos): boolean {
  if (obs.ownedQos.length !== 1 || obs.ownedQos[0]!.uuid !== obs.portQos) return false;
  const qos = obs.ownedQos[0]!;
  if (qos.type !== plan.type || !sameMap(qos.otherConfig, qosOtherConfig(plan)) || !sameMap(qos.externalIds, qosExternalIds(plan.portName))) return false;
  const { reuse, surplus } = assignQueues(plan, obs);
  if (surplus.length > 0 || reuse.size !== plan.queues.length || qos.queues.size !== plan.queues.length) return false;
  return plan.queues.every((q) => {
    const row = reuse.get(q.id)!;
    return qos.queues.get(q.id) === row.uuid && sameMap(row.otherConfig, queueOtherConfig(q)) && sameMap(row.externalIds, queueExternalIds(plan.portName, q.id));
  });
}

/** Bumps Open_vSwitch.next_cfg and reads it back, so the caller can wait for ovs-vswitchd's cur_cfg to reach it. */
export function nextCfgOps(): OvsdbOperation[] {
  return [
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    { op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] },
  ];
}

/**
 * The ONE transaction that makes the database hold `plan` for its port, reusing Rivulet's rows; [] when
 * {@link upToDate}. Ends with {@link nextCfgOps} (its last result's rows[0].next_cfg is the value to wait for).
 * @throws RangeError when the port has no Port row (nothing to attach QoS to)
 */
export function applyOps(plan: PortQosRows, obs: ObservedPortQos): OvsdbOperation[] {
  if (obs.portUuid === undefined) throw new RangeError(`no OVS Port named "${plan.portName}"`);
  if (upToDate(plan, obs)) return [];
  const ops: OvsdbOperation[] = [{ op: 'comment', comment: `rivulet: QoS of port ${plan.portName}` }];
  const { reuse, surplus } = assignQueues(plan, obs);
  const refs: [number, ReturnType<typeof uuid> | ReturnType<typeof namedUuid>][] = [];
  for (const q of plan.queues) {
    const row = { other_config: strMap(queueOtherConfig(q)), external_ids: strMap(queueExternalIds(plan.portName, q.id)) };
    const old = reuse.get(q.id);
    if (old) {
      ops.push({ op: 'update', table: 'Queue', where: [['_uuid', '==', uuid(old.uuid)]], row });
      refs.push([q.id, uuid(old.uuid)]);
    } else {
      ops.push({ op: 'insert', table: 'Queue', row, 'uuid-name': `rivq${q.id}` });
      refs.push([q.id, namedUuid(`rivq${q.id}`)]);
    }
  }
  const keep = obs.ownedQos.find((r) => r.uuid === obs.portQos) ?? obs.ownedQos[0];
  const qosRow = { type: plan.type, other_config: strMap(qosOtherConfig(plan)), queues: intRefMap(refs), external_ids: strMap(qosExternalIds(plan.portName)) };
  const qosRef = keep ? uuid(keep.uuid) : namedUuid('rivqos');
  if (keep) ops.push({ op: 'update', table: 'QoS', where: [['_uuid', '==', qosRef]], row: qosRow });
  else ops.push({ op: 'insert', table: 'QoS', row: qosRow, 'uuid-name': 'rivqos' });
  ops.push({ op: 'update', table: 'Port', where: [['_uuid', '==', uuid(obs.portUuid)]], row: { qos: qosRef } });
  for (const r of obs.ownedQos) if (r !== keep) ops.push({ op: 'delete', table: 'QoS', where: [['_uuid', '==', uuid(r.uuid)]] });
  for (const r of surplus) ops.push({ op: 'delete', table: 'Queue', where: [['_uuid', '==', uuid(r.uuid)]] });
  return [...ops, ...nextCfgOps()];
}

/** Detaches and deletes Rivulet's QoS and Queue rows of one port (and nothing else); [] when there are none. */
export function removeOps(obs: ObservedPortQos): OvsdbOperation[] {
  if (obs.ownedQos.length === 0 && obs.ownedQueues.length === 0) return [];
  const ops: OvsdbOperation[] = [{ op: 'comment', comment: `rivulet: remove QoS of port ${obs.portName}` }];
  const ours = new Set(obs.ownedQos.map((r) => r.uuid));
  if (obs.portUuid !== undefined && obs.portQos !== undefined && ours.has(obs.portQos)) {
    ops.push({ op: 'update', table: 'Port', where: [['_uuid', '==', uuid(obs.portUuid)]], row: { qos: ['set', []] } });
  }
  for (const r of obs.ownedQos) ops.push({ op: 'delete', table: 'QoS', where: [['_uuid', '==', uuid(r.uuid)]] });
  for (const r of obs.ownedQueues) ops.push({ op: 'delete', table: 'Queue', where: [['_uuid', '==', uuid(r.uuid)]] });
  return [...ops, ...nextCfgOps()];
}

/** Reads every Port name and every Rivulet-marked QoS/Queue row (for {@link orphanOps}). */
export function ownedRowsOps(): OvsdbOperation[] {
  return [
    { op: 'select', table: 'Port', where: [], columns: ['name', 'qos'] },
    { op: 'select', table: 'QoS', where: [['external_ids', 'includes', strMap({ [OWNER_KEY]: 'qos' })]], columns: ['_uuid', 'external_ids'] },
    { op: 'select', table: 'Queue', where: [['external_ids', 'includes', strMap({ [OWNER_KEY]: 'queue' })]], columns: ['_uuid', 'external_ids'] },
  ];
}

/**
 * Deletes Rivulet's rows whose port no longer exists (a bridge deleted under a running controller, a
 * test fabric torn down): marked rows only, and never a QoS row some Port still points to. [] when none.
 */
export function orphanOps(results: readonly OvsdbOpResult[]): OvsdbOperation[] {
  const ports = new Set<string>();
  const used = new Set<string>();
  for (const r of results[0]?.rows ?? []) {
    if (typeof r['name'] === 'string') ports.add(r['name']);
    for (const u of readSet(r['qos']).map(readUuid)) if (u) used.add(u);
  }
  const ops: OvsdbOperation[] = [];
  for (const [i, table] of [[1, 'QoS'], [2, 'Queue']] as const) {
    for (const r of results[i]?.rows ?? []) {
      const u = readUuid(r['_uuid']);
      const port = strMapOf(r['external_ids']).get(OWNER_PORT_KEY);
      if (u && port !== undefined && !ports.has(port) && !used.has(u)) ops.push({ op: 'delete', table, where: [['_uuid', '==', uuid(u)]] });
    }
  }
  return ops.length === 0 ? [] : [{ op: 'comment', comment: 'rivulet: delete QoS rows of ports that no longer exist' }, ...ops];
}
