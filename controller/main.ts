/**
 * The one place where Rivulet is wired together (ARCHITECTURE.md "Principles": explicit wiring, no global registries):
 * the OpenFlow controller, the topology app (registered first, so a host is learnt before routing sees
 * its packet), the routing app and the REST API, all from one validated {@link RivuletConfig}. Each app
 * gets its own section (its schema lives with the app) and only the keys of other sections it names.
 */
import type { RoutingApp } from '../apps/routing/app.js';
import { createRoutingApp } from '../apps/routing/app.js';
import { createEnforcementApp, type EnforcementApp } from '../apps/enforcement/app.js';
import { computePriorityThresholds, createQosApp, dscpQueueRule, type QosApp } from '../apps/qos/index.js';
import { createTopologyApp, type TopologyApp } from '../topology/app.js';
import type { ControllerStats } from '../openflow/app-api.js';
import { CountingClock, systemClock, type Clock } from '../lib/clock.js';
import type { RivuletConfig } from './config/index.js';
import { readFileSync } from 'node:fs';
import { startController, type Controller, type ControllerTls } from '../openflow/listener.js';
import { PROBE_MAC } from '../apps/routing/arp.js';
import { createControllerMeterApp } from '../apps/controlplane/controller-meter.js';
import { controllerMeterRatePps, portMeterSettings } from '../apps/controlplane/config.js';
import { createPortMeterApp } from '../apps/controlplane/port-meter.js';
import { topologySettings } from '../topology/config.js';
import { createLogger, type Logger } from '../lib/log.js';
import { createRestServer, type RestAddress, type RestServer } from './rest/index.js';

export interface RivuletOptions {
  readonly config: RivuletConfig;
  /** Time source of the controller and the apps (default the system clock). */
  readonly clock?: Clock;
  /** Logger (default: one at `config.log.level`). */
  readonly logger?: Logger;
}

export interface RivuletStats {
  readonly controller: ControllerStats;
  /** Timers the apps and the REST server armed through the clock and still pending. */
  readonly appTimers: number;
  /** The REST listener is open. */
  readonly restListening: boolean;
}

export interface Rivulet {
  readonly controller: Controller;
  readonly topology: TopologyApp;
  readonly routing: RoutingApp;
  /** The QoS app (queues, DSCP classifier, ECN on every switch port through OVSDB and tc). */
  readonly qos: QosApp;
  /**
   * Live allocation: host agents (unix socket `agents.socketPath`, WebSocket /api/v1/agents/ws),
   * the allocator over routing's paths, rates to agents and meters. `enforcement.core` is the pure core
   * (tests read it), `enforcement.meters` the MeterEnforcer, `enforcement.agentServer` the channels.
   */
  readonly enforcement: EnforcementApp;
  readonly rest: RestServer;
  /** Where switches connect (the port actually bound). */
  readonly openflow: { readonly host: string; readonly port: number };
  /** Where the REST API listens. */
  readonly api: RestAddress;
  readonly log: Logger;
  stats(): RivuletStats;
  /** Stops everything started here: REST server, OpenFlow listener and sessions, app timers. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the controller, its apps and the REST API.
 * @throws the first start-up failure (EADDRINUSE on either port…), after closing what had started
 */
export async function startRivulet(opts: RivuletOptions): Promise<Rivulet> {
  const { config } = opts;
  const log = opts.logger ?? createLogger({ level: config.log.level });
  const clock = new CountingClock(opts.clock ?? systemClock);
  const startedAtMs = clock.now();

  // Before anything starts: a bad distribution file is a config error, with nothing to stop.
  const priorityThresholds = computePriorityThresholds(config.qos.priorityThresholds, config.qos.queues);
  const topology = createTopologyApp({
    clock,
    log: log.child({ app: 'topology' }),
    // the controller's own ARP probes are never learnt as hosts
    config: { ...topologySettings(config.topology), ignoredMacs: [PROBE_MAC] },
  });
  let controller: Controller | undefined;
  const routing = createRoutingApp({
    topology: topology.view,
    clock,
    log,
    config: config.routing,
    ...(config.qos.enabled ? { queueOf: dscpQueueRule(config.qos.dscpMap) } : {}),
  });
  const qos = createQosApp({
    topology: topology.view,
    config: config.qos,
    capacity: {
      links: config.topology.links,
      ...(config.topology.defaultCapacityBps === undefined ? {} : { defaultBps: config.topology.defaultCapacityBps }),
    },
    log,
  });
  const enforcement = createEnforcementApp({
    topology: topology.view,
    route: (key) => routing.core.route(key),
    config: {
      allocator: config.allocator, enforcement: config.enforcement, agents: config.agents, tenants: config.tenants,
      routing: { priority: config.routing.priority, idleTimeoutS: config.routing.idleTimeoutS },
      qos: { enabled: config.qos.enabled, queues: config.qos.queues, dscpMap: config.qos.dscpMap },
      topology: { links: config.topology.links, defaultCapacityBps: config.topology.defaultCapacityBps },
    },
    clock,
    log,
    ...(priorityThresholds ? { priorityThresholds } : {}),
    // the per-port packet-in meters take the top ids of each switch's range
    ...(config.packetIn.portMeter.enabled ? { reservedMeterIds: config.packetIn.portMeter.maxPortsPerSwitch } : {}),
  });
  const controllerMeter = createControllerMeterApp({ ratePps: controllerMeterRatePps(config.packetIn), log });
  const portMeter = createPortMeterApp({ ...portMeterSettings(config.packetIn, config.routing.priority), clock, log });
  const stopApps = (): void => {
    portMeter.stop();
    void enforcement.stop();
    void qos.stop();
    routing.stop();
    topology.stop();
  };

  try {
    controller = await startController({
      port: config.openflow.port,
      host: config.openflow.host,
      logger: log,
      clock,
      session: {
        missSendLen: config.openflow.missSendLen,
        echoIntervalMs: config.openflow.echoIntervalMs,
        echoMaxUnanswered: config.openflow.echoMaxUnanswered,
        batchWrites: true,
      },
      packetIn: {
        gate: { perPortPps: config.packetIn.perPortPps, perSwitchPps: config.packetIn.perSwitchPps, burstS: config.packetIn.burstS },
        maxQueued: config.packetIn.maxQueued,
        batch: config.packetIn.batch,
        transitPort: (dpid, portNo) => topology.view.isFabricPort({ dpid, portNo }),
        overBudget: (dpid, portNo) => portMeter.overBudget(dpid, portNo),
      },
      apps: [topology.app, routing.app, qos.app, enforcement.app, controllerMeter.app, portMeter.app],
      ...(config.openflow.tls ? { tls: openflowTls(config.openflow.tls) } : {}),
    });
  } catch (err) {
    stopApps();
    throw err;
  }
  const ctl = controller;

  if (priorityThresholds) log.info({ event: 'priority_thresholds', ...priorityThresholds }, 'PIAS demotion thresholds computed');
  const rest = createRestServer({
    controller: ctl, topology: topology.view, routes: () => routing.routes(), qos, config, log, clock, startedAtMs,
    controllerMeters: () => controllerMeter.statuses(),
    portMeters: () => ({ meters: portMeter.statuses(), droppedAtSwitch: portMeter.droppedAtSwitch() }),
    routingStats: () => ({ routes: routing.core.size, evictions: routing.core.evictions, probesSuppressed: routing.core.probesSuppressed }),
    ...(priorityThresholds ? { priorityThresholds } : {}),
    enforcement: enforcement.source,
  });
  let api: RestAddress;
  try {
    api = await rest.listen(config.api.port, config.api.host);
  } catch (err) {
    await rest.close();
    await enforcement.stop();
    await ctl.close();
    stopApps();
    throw err;
  }
  await enforcement.start();

  let closing: Promise<void> | undefined;
  return {
    controller: ctl,
    topology,
    routing,
    qos,
    enforcement,
    rest,
    openflow: { host: ctl.host, port: ctl.port },
    api,
    log,
    stats: () => ({ controller: ctl.stats(), appTimers: clock.active, restListening: rest.fastify.server.listening }),
    close(): Promise<void> {
      closing ??= (async () => {
        await rest.close();
        // Agents and meters go first, while the sessions are up: the meters' deletes reach the switches.
        await enforcement.stop();
        // Apps stop reacting before the sessions close: otherwise the first session to close raises
        // switchDown/linkDown and routing deletes its entries on the switches still connected, cutting
        // every flow for the length of a controller restart (measured: 1.8 s without traffic).
        await routing.settled();
        routing.stop();
        await qos.stop();
        await ctl.close();
        await ctl.idle();
        stopApps();
        log.info({ event: 'rivulet_closed' }, 'rivulet stopped');
      })();
      return closing;
    },
  };
}

/** Reads the OpenFlow TLS files named in the config. @throws the read error (ENOENT…) */
function openflowTls(t: NonNullable<RivuletConfig['openflow']['tls']>): ControllerTls {
  const dpids = t.dpidsByCertificate;
  return {
    key: readFileSync(t.keyFile), cert: readFileSync(t.certFile), ca: readFileSync(t.caFile),
    ...(dpids ? { dpidsBySubject: Object.fromEntries(Object.entries(dpids).map(([cn, list]) => [cn, list.map((d) => BigInt(d.startsWith('0x') ? d : `0x${d}`))])) } : {}),
  };
}
