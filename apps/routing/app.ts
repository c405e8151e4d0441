/**
 * The routing app's shell (Faucet style: find the state, call the core with `now`, perform what it
 * returned). Packet-ins (LLDP excluded: the topology app owns those), FLOW_REMOVED and the fabric events
 * of the TopologyView go to {@link RoutingCore}; its effects are written to the switches here:
 * `send` effects with SwitchHandle.send, `install` effects stage by stage with SwitchHandle.transact
 * (messages + barrier, all switches of a stage at once), reporting the outcome back to the core.
 *
 * Errors never escape: a failed install is logged with the dpid and turned into the core's cleanup; a
 * failed send is logged with the dpid and skipped.
 */
import type { App, AppContext, OutMessage, SwitchHandle } from '../../openflow/app-api.js';
import { matchInPort } from '../../openflow/codec/index.js';
import type { Clock } from '../../lib/clock.js';
import { dpidHex, type Logger } from '../../lib/log.js';
import { parseFrameOnce } from '../../lib/packet/frame.js';
import type { FabricEvent, TopologyView } from '../../topology/types.js';
import { RoutingCore } from './core.js';
import type { RouteInfo, RoutingConfig, RoutingEffect, SwitchMessages } from './types.js';

const ETH_TYPE_LLDP = 0x88cc;

type InstallEffect = Extract<RoutingEffect, { kind: 'install' }>;

export interface RoutingAppOptions {
  readonly topology: TopologyView;
  readonly clock: Pick<Clock, 'now'>;
  readonly log: Logger;
  readonly config?: RoutingConfig;
  /** DSCP → OpenFlow queue (the QoS plan's map): pinned entries then carry set_queue. Absent: no set_queue. */
  readonly queueOf?: (dscp: number) => number;
}

export interface RoutingApp {
  readonly app: App;
  /** The pinned flows (REST `/api/v1/routes`). */
  routes(): readonly RouteInfo[];
  /** Resolves when every install started so far has finished (tests, shutdown). */
  settled(): Promise<void>;
  /** Unsubscribes from the topology; later events are ignored. */
  stop(): void;
  /** The core (tests and the REST layer read it; do not drive it from outside). */
  readonly core: RoutingCore;
}

/** Builds the routing app over a TopologyView. @throws RangeError for a bad config key */
export function createRoutingApp(opts: RoutingAppOptions): RoutingApp {
  const core = new RoutingCore(opts.topology, opts.config, opts.queueOf);
  const log = opts.log.child({ app: 'routing' });
  let ctx: AppContext | undefined;
  let stopped = false;
  /** installs started and not yet reported, and who waits for them all to finish */
  let running = 0;
  let settledWaiters: (() => void)[] = [];

  // the context the app host gives at registration (App.attach): switches outside a handler (re-pins)
  const lookup = (dpid: bigint): SwitchHandle | undefined => ctx?.switch(dpid);

  const send = (dpid: bigint, msgs: readonly OutMessage[]): void => {
    const sw = lookup(dpid);
    if (!sw || !sw.alive) {
      log.debug({ event: 'routing_send_skipped', dpid: dpidHex(dpid) }, 'switch not connected');
      return;
    }
    try {
      for (let i = 0; i < msgs.length; i++) sw.send(msgs[i]!);
    } catch (err) {
      log.warn({ event: 'routing_send_failed', dpid: dpidHex(dpid), err }, 'send failed');
    }
  };

  /** The install's outcome, reported to the core (the core's effects performed); settled() waiters woken. */
  const succeeded = (key: string, cookie: bigint): void => {
    try {
      perform(core.installed(key, cookie));
    } finally {
      finished(); // after: installs the report starts keep settled() waiting
    }
  };
  const failed = (key: string, cookie: bigint, err: unknown, dpid: bigint | undefined): void => {
    log.warn(
      { event: 'routing_install_failed', dpid: dpid !== undefined ? dpidHex(dpid) : undefined, flow: key, err },
      'pin install failed; route removed',
    );
    try {
      perform(core.installFailed(key, cookie));
    } finally {
      finished();
    }
  };

  /**
   * Stage `i` of an install and, once it is confirmed, the next (egress first): each switch of the stage
   * gets `transact` (messages + barrier). A stage on one switch costs one callback here (`transactThen`:
   * the flow-setup path, no promise per stage). The callbacks hold the key, the cookie and the stages
   * still to run, not the messages already sent: a setup in flight keeps little alive.
   */
  const runStage = (key: string, cookie: bigint, stages: readonly (readonly SwitchMessages[])[], i: number): void => {
    const rest = i + 1 < stages.length ? stages : undefined;
    // every switch of the stage answers (or fails) before the next stage starts or the failure is reported
    let left = stages[i]!.length;
    let firstErr: Error | undefined;
    let failedAt: bigint | undefined;
    const stage = stages[i]!;
    for (let s = 0; s < stage.length; s++) {
      const { dpid, msgs } = stage[s]!;
      const done = (err: Error | undefined): void => {
        if (err && !firstErr) {
          firstErr = err;
          failedAt = dpid;
        }
        if (--left > 0) return;
        if (firstErr) failed(key, cookie, firstErr, failedAt);
        else if (rest) runStage(key, cookie, rest, i + 1);
        else succeeded(key, cookie);
      };
      const sw = lookup(dpid);
      if (!sw || !sw.alive) queueMicrotask(() => done(new Error('switch not connected')));
      else if (sw.transactThen) sw.transactThen(msgs, done);
      else sw.transact(msgs).then(() => done(undefined), done);
    }
  };

  const finished = (): void => {
    if (--running > 0) return;
    const waiters = settledWaiters;
    settledWaiters = [];
    for (const w of waiters) w();
  };

  /** Runs an install; its outcome goes back to the core. */
  const install = (e: InstallEffect): void => {
    running++;
    runStage(e.key, e.cookie, e.stages, 0);
  };

  let lastLimitLogMs = -Infinity;
  let evictionsLogged = 0;
  /** Over-limit events, logged at most once per 10 s (never per packet). */
  const logLimits = (): void => {
    if (core.evictions === evictionsLogged) return;
    const now = opts.clock.now();
    if (now - lastLimitLogMs < 10_000) return;
    lastLimitLogMs = now;
    log.warn({ event: 'route_limit', evicted: core.evictions - evictionsLogged, evictedTotal: core.evictions, routes: core.size }, 'route limit reached: least recently used routes of the busiest ingress ports removed (logged once per 10 s)');
    evictionsLogged = core.evictions;
  };

  function perform(effects: readonly RoutingEffect[]): void {
    logLimits();
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i]!;
      if (e.kind === 'send') {
        send(e.dpid, e.msgs);
        continue;
      }
      install(e);
    }
  }

  const onFabric = (events: readonly FabricEvent[]): void => {
    if (stopped) return;
    try {
      const before = core.size;
      const effects = core.fabricEvents(events, opts.clock.now());
      perform(core.arpUnicast(events)); // the switches forward unicast ARP themselves (arp-unicast.ts)
      if (effects.length > 0) {
        log.info({ event: 'routing_repin', effects: effects.length, routesBefore: before, routesAfter: core.size }, 'routes re-pinned after fabric change');
      }
      perform(effects);
    } catch (err) {
      log.error({ event: 'routing_failed', on: 'fabric', err }, 'routing failed handling fabric events');
    }
  };
  const unsubscribe = opts.topology.subscribe(onFabric);

  const app: App = {
    name: 'routing',
    attach: (c) => {
      ctx = c;
    },
    handlers: {
      packetIn: (e) => {
        if (stopped) return;
        const parsed = parseFrameOnce(e.msg.data);
        if (!parsed.ok) {
          log.debug({ event: 'routing_bad_frame', dpid: dpidHex(e.dpid), code: parsed.error.code }, 'unparsable packet-in');
          return;
        }
        const frame = parsed.value;
        if (frame.ethertype === ETH_TYPE_LLDP || frame.lldp) return;
        const inPort = matchInPort(e.msg.match);
        if (inPort === undefined) return;
        perform(core.packetIn({ dpid: e.dpid, inPort, frame, data: e.msg.data, bufferId: e.msg.bufferId }, opts.clock.now()));
      },
      flowRemoved: (e) => {
        if (stopped) return;
        perform(core.flowRemoved(e.dpid, e.msg.cookie));
      },
    },
  };

  return {
    app,
    core,
    routes: () => core.routes(),
    settled: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => settledWaiters.push(resolve))),
    stop: () => {
      stopped = true;
      unsubscribe();
    },
  };
}
