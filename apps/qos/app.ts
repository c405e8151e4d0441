/**
 * The QoS app's shell (apps/qos): for every switch port the TopologyView reports (switchAdded,
 * portChanged, linkUp — a link's capacity may differ from the port default), computes the port's plan
 * (plan.ts, pure) and applies it: OVSDB rows (QoS linux-htb + Queues, reused across restarts), then —
 * on the userspace datapath, where `set_queue` does not steer — the tc u32 DSCP classifier, and RED/ECN
 * under each class where the kernel has sch_red (probed once). One apply at a time, in arrival order;
 * a port whose plan did not change since its last successful apply is skipped.
 *
 * Errors never escape: a failed part is recorded in the port's status (REST /api/v1/qos) and logged with
 * the dpid and port.
 */
import type { App, AppContext } from '../../openflow/app-api.js';
import { OFPQ_ALL, type QueueStats } from '../../openflow/codec/index.js';
import { dpidHex, type Logger } from '../../lib/log.js';
import { connectOvsdb, type OvsdbClient } from '../../lib/ovsdb/index.js';
import { orphanOps, ownedRowsOps, OVS_DB } from './ovsdb-txn.js';
import type { FabricEvent, FabricPort, TopologyView } from '../../topology/types.js';
import { ovsRows, planPort, portKey, type PortPlan, type QosPlanConfig } from './plan.js';
import { datapathTypeOf, foreignRootQdisc, ovsApply, probeRedEcn, tcBatch, tcClassStats, waitHtbRoot, type EcnProbe } from './shell.js';
import type { PartStatus, PortQosStatus } from './status.js';
import { bufferBatch, classifierBatch, CLASSIFIER_CLEAR_LINES, ecnBatch, type TcClassStats } from './tc.js';

/** Highest physical port number (OpenFlow 1.3.5 OFPP_MAX). */
const OFPP_MAX = 0xffffff00;

export interface QosAppConfig extends QosPlanConfig {
  readonly enabled: boolean;
  readonly dscpClassifier: 'auto' | 'on' | 'off';
  readonly ovsdb: string;
}

export interface QosAppOptions {
  readonly topology: TopologyView;
  readonly config: QosAppConfig;
  /** per-link capacities and the default (the topology section), bit/s, keys `<16 hex>:<port>` */
  readonly capacity: { readonly links: Readonly<Record<string, number>>; readonly defaultBps?: number };
  readonly log: Logger;
  /** Probe for RED/ECN (tests inject a verdict; default {@link probeRedEcn}). */
  readonly probeEcn?: () => Promise<EcnProbe>;
}

/** Counters of one queue of one port. */
export interface QueueCounters {
  readonly queueId: number;
  /** OFPMP_QUEUE tx_bytes / tx_packets (null when the switch did not report the queue) */
  readonly ofBytes: number | null;
  readonly ofPackets: number | null;
  /** tc class 1:(q+1) Sent bytes / pkt, drops (null when tc has no such class) */
  readonly tc: TcClassStats | null;
}

export interface QosApp {
  /** Registered with the controller like every app: its context reaches the switches (queue counters). */
  readonly app: App;
  /** Statuses of every port planned so far, by `<dpid hex>:<port>`. */
  ports(): readonly PortQosStatus[];
  /** ECN probe verdict (undefined until probed). */
  ecnProbe(): EcnProbe | undefined;
  /** Queue counters of one port: OFPMP_QUEUE from the switch and the tc classes. */
  counters(dpid: bigint, portNo: number): Promise<QueueCounters[]>;
  /** Resolves when every apply queued so far has finished. */
  settled(): Promise<void>;
  /** Unsubscribes and closes the OVSDB connection (the rows stay: a restart reuses them). */
  stop(): Promise<void>;
}

/** Creates the app and starts applying to the ports the topology already knows. */
export function createQosApp(opts: QosAppOptions): QosApp {
  const log = opts.log.child({ app: 'qos' });
  const cfg = opts.config;
  const statuses = new Map<string, PortQosStatus>();
  const lastApplied = new Map<string, string>();
  const dpTypes = new Map<bigint, string | undefined>();
  let client: Promise<OvsdbClient> | undefined;
  let probe: Promise<EcnProbe> | undefined;
  let probed: EcnProbe | undefined;
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  // the context the app host gives at registration (App.attach)
  let ctx: AppContext | undefined;

  const ovsdb = (): Promise<OvsdbClient> => {
    client ??= connectOvsdb({ address: cfg.ovsdb })
      .then(async (c) => {
        await collectOrphans(c);
        return c;
      })
      .catch((e: unknown) => {
        client = undefined;
        throw e;
      });
    return client;
  };
  /** Once per connection: Rivulet's rows of ports gone since (a crash, a deleted bridge) are deleted. */
  const collectOrphans = async (c: OvsdbClient): Promise<void> => {
    try {
      const ops = orphanOps(await c.transact(OVS_DB, ownedRowsOps()));
      if (ops.length > 0) {
        await c.transact(OVS_DB, ops);
        log.info({ event: 'qos_orphans_deleted', rows: ops.length - 1 }, 'deleted QoS/Queue rows of ports that no longer exist');
      }
    } catch (e) {
      log.warn({ event: 'qos_orphans_failed', err: e }, 'could not collect orphaned QoS rows');
    }
  };
  const ecnProbe = (): Promise<EcnProbe> => {
    probe ??= (opts.probeEcn ?? probeRedEcn)().then((p) => {
      probed = p;
      log.info({ event: 'qos_ecn_probe', supported: p.supported, detail: p.detail }, 'ECN probe');
      return p;
    });
    return probe;
  };

  const capacityOf = (dpid: bigint, port: FabricPort): number => {
    const link = opts.topology.links().find((l) => l.src.dpid === dpid && l.src.portNo === port.portNo);
    if (link) return link.capacityBps;
    return opts.capacity.links[portKey(dpid, port.portNo)] ?? opts.capacity.defaultBps ?? port.currSpeedBps;
  };

  const applyPort = async (plan: PortPlan): Promise<void> => {
    const key = portKey(plan.dpid, plan.portNo);
    const fail = (e: unknown): PartStatus => ({ required: true, applied: false, detail: (e as Error).message });
    let queues: PortQosStatus['queues'];
    let dpType: string | undefined;
    const c = await ovsdb().catch((e: unknown) => e as Error);
    if (c instanceof Error) {
      queues = { ...fail(c), changed: false };
    } else {
      try {
        if (dpTypes.get(plan.dpid) === undefined) dpTypes.set(plan.dpid, await datapathTypeOf(c, plan.dpid));
        dpType = dpTypes.get(plan.dpid);
        if (dpType === undefined) throw new Error(`no OVS bridge with datapath_id ${dpidHex(plan.dpid)} in ${cfg.ovsdb}`);
        const foreign = cfg.ovsdb.startsWith('unix:') ? await foreignRootQdisc(plan.portName) : undefined;
        if (foreign !== undefined) {
          throw new Error(`not applied: ${plan.portName}'s root qdisc (${foreign}) belongs to another layer (e.g. Mininet TCLink); one owner per qdisc`);
        }
        const r = await ovsApply(c, ovsRows(plan));
        queues = { required: true, applied: true, changed: r.changed, detail: r.changed ? 'QoS/Queue rows written (linux-htb)' : 'QoS/Queue rows already as planned (reused)' };
      } catch (e) {
        queues = { ...fail(e), changed: false };
      }
    }
    const needClassifier = cfg.dscpClassifier === 'on' || (cfg.dscpClassifier === 'auto' && dpType === 'netdev');
    const ecnP = cfg.ecn.enabled && queues.applied ? await ecnProbe() : undefined;
    const lines: string[] = [];
    if (queues.applied && needClassifier) lines.push(...classifierBatch(plan));
    const ecnLines = queues.applied && ecnP?.supported ? ecnBatch(plan, plan.buffer.packets, cfg.ecn.packetBytes) : [];
    // without RED, a pfifo of the configured buffer under each class (part of the classifier batch)
    if (queues.applied && needClassifier && ecnLines.length === 0) lines.push(...bufferBatch(plan, plan.buffer.packets));
    lines.push(...ecnLines);
    let classifier: PartStatus = {
      required: needClassifier,
      applied: false,
      detail: needClassifier ? 'not applied: the queues are not in place' : `not needed: set_queue steers on datapath_type "${dpType ?? 'unknown'}"`,
    };
    let ecn: PartStatus = { required: cfg.ecn.enabled, applied: false, detail: cfg.ecn.enabled ? (ecnP?.detail ?? 'not probed') : 'disabled by qos.ecn.enabled' };
    if (lines.length > 0) {
      const ready = await waitHtbRoot(plan.portName);
      const res = ready ? await tcBatch(lines) : { failed: lines.map((_, i) => i + 1), stderr: `no htb root qdisc on ${plan.portName}` };
      const nClassifier = lines.length - ecnLines.length;
      // the first lines (deletes of old filters) may fail harmlessly when there are none
      const classifierFailed = res.failed.filter((n) => n > CLASSIFIER_CLEAR_LINES && n <= nClassifier);
      const ecnFailed = res.failed.filter((n) => n > nClassifier);
      if (needClassifier) {
        classifier = classifierFailed.length === 0 && ready
          ? { required: true, applied: true, detail: `tc u32 DSCP filters (prio 21), LLDP and ARP to the top queue (prio 22, 23) and per-class buffers of ${plan.buffer.packets} packets (${plan.buffer.delayMs.toFixed(1)} ms) on ${plan.portName}` }
          : { required: true, applied: false, detail: `tc failed on lines ${classifierFailed.join(',')}: ${res.stderr}` };
      }
      if (ecnLines.length > 0) {
        ecn = ecnFailed.length === 0
          ? { required: true, applied: true, detail: `RED ecn under ${ecnLines.length} classes, K = ${plan.ecn.thresholdPackets} packets` }
          : { required: true, applied: false, detail: `tc failed on lines ${ecnFailed.join(',')}: ${res.stderr}` };
      }
    }
    statuses.set(key, { plan, datapathType: dpType, queues, classifier, ecn, appliedAtMs: Date.now() });
    const ok = queues.applied && (!classifier.required || classifier.applied);
    if (ok) lastApplied.set(key, signature(plan));
    else lastApplied.delete(key);
    const level = ok ? 'info' : 'warn';
    log[level]({ event: 'qos_applied', dpid: dpidHex(plan.dpid), port: plan.portNo, name: plan.portName, queues: queues.detail, classifier: classifier.applied, ecn: ecn.applied }, `QoS on ${plan.portName}`);
  };

  const enqueue = (dpid: bigint, port: FabricPort): void => {
    if (stopped || !cfg.enabled || port.portNo > OFPP_MAX || port.name === '') return;
    const capacity = capacityOf(dpid, port);
    if (!(capacity > 0)) {
      log.warn({ event: 'qos_no_capacity', dpid: dpidHex(dpid), port: port.portNo }, 'no capacity known: port left unshaped');
      return;
    }
    const plan = planPort(cfg, dpid, port.portNo, port.name, capacity);
    const key = portKey(dpid, port.portNo);
    if (lastApplied.get(key) === signature(plan)) return;
    lastApplied.set(key, signature(plan)); // claimed: later identical events skip
    chain = chain.then(() => (stopped ? undefined : applyPort(plan))).catch((e: unknown) => {
      lastApplied.delete(key);
      log.error({ event: 'qos_apply_failed', dpid: dpidHex(dpid), port: port.portNo, err: e }, 'QoS apply failed');
    });
  };

  const onEvents = (events: readonly FabricEvent[]): void => {
    for (const e of events) {
      if (e.type === 'switchAdded') for (const p of e.sw.ports.values()) enqueue(e.sw.dpid, p);
      else if (e.type === 'portChanged') enqueue(e.dpid, e.port);
      else if (e.type === 'linkUp') {
        const p = opts.topology.switch(e.link.src.dpid)?.ports.get(e.link.src.portNo);
        if (p) enqueue(e.link.src.dpid, p);
      } else if (e.type === 'switchRemoved') {
        // a switch that went away leaves nothing behind (strangers with ever new dpids must not grow these
        // tables); when it comes back its ports are planned and applied afresh
        dpTypes.delete(e.dpid);
        // both tables are keyed by portKey(dpid, portNo)
        const prefix = portKey(e.dpid, 0).slice(0, -1);
        for (const table of [statuses, lastApplied]) for (const key of [...table.keys()]) if (key.startsWith(prefix)) table.delete(key);
      }
    }
  };
  const unsubscribe = opts.topology.subscribe(onEvents);
  for (const sw of opts.topology.switches()) for (const p of sw.ports.values()) enqueue(sw.dpid, p);

  return {
    app: {
      name: 'qos',
      handlers: {},
      attach: (c) => {
        ctx = c;
      },
    },
    ports: () => [...statuses.values()].sort((a, b) => (a.plan.dpid < b.plan.dpid ? -1 : a.plan.dpid > b.plan.dpid ? 1 : a.plan.portNo - b.plan.portNo)),
    ecnProbe: () => probed,
    async counters(dpid, portNo) {
      const st = statuses.get(portKey(dpid, portNo));
      if (!st) return [];
      const sw = ctx?.switch(dpid);
      let of: readonly QueueStats[] = [];
      if (sw?.alive) {
        try {
          of = (await sw.multipart({ mpType: 'OFPMP_QUEUE', portNo, queueId: OFPQ_ALL }, { timeoutMs: 2000 })).queues;
        } catch (e) {
          log.debug({ event: 'qos_queue_stats_failed', dpid: dpidHex(dpid), port: portNo, err: e }, 'OFPMP_QUEUE failed');
        }
      }
      const tc = await tcClassStats(st.plan.portName);
      return st.plan.queues.map((q) => {
        const o = of.find((x) => x.queueId === q.id && x.portNo === portNo);
        return {
          queueId: q.id,
          ofBytes: o ? Number(o.txBytes) : null,
          ofPackets: o ? Number(o.txPackets) : null,
          tc: tc.find((c) => c.classId === `1:${(q.id + 1).toString(16)}`) ?? null,
        };
      });
    },
    settled: async () => {
      let seen: Promise<void>;
      do {
        seen = chain;
        await seen;
      } while (seen !== chain);
    },
    async stop() {
      stopped = true;
      unsubscribe();
      await chain;
      if (client) (await client.catch(() => undefined))?.close();
    },
  };
}

/** What identifies a plan's effect (capacity, queues, DSCP map, ECN): equal signatures need no re-apply. */
function signature(p: PortPlan): string {
  return JSON.stringify([p.portName, p.capacityBps, p.queues, [...p.dscpToQueue].sort((a, b) => a[0] - b[0]), p.ecn]);
}


