/**
 * The REST API (README.md "REST API"): fastify, prefix /api/v1, JSON. Read endpoints over the controller's
 * connected switches, the topology view and the routing app's pinned flows; an OpenAPI 3.1 document at
 * /api/v1/openapi.json; Ryu-compatible aliases under /v1.0/topology. Every error is
 * `{ error: { code, message } }` (errors.ts) with its HTTP status.
 *
 * This is an I/O edge: handlers only call the pure projections of views.ts.
 */
import { readFileSync } from 'node:fs';
import { fastify, type FastifyError, type FastifyInstance, type FastifySchema } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import { MAX_MESSAGE_BYTES } from '../../protocol/agent.js';
import type { EnforcementSource } from '../../apps/enforcement/app.js';
import { portLinkId } from '../../apps/enforcement/links.js';
import type { TSchema } from '@sinclair/typebox';
import type { RouteInfo } from '../../apps/routing/types.js';
import type { TopologyView } from '../../topology/types.js';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock.js';
import type { RivuletConfig } from '../config/index.js';
import { dpidHex } from '../../lib/dpid.js';
import type { Logger } from '../../lib/log.js';
import { parseApiDpid } from './dpid.js';
import { bearerAuth } from './auth.js';
import { ApiError, errorBody } from './errors.js';
import { page, PageQuery, type PageRequest } from './page.js';
import { QosResponse, qosJson, type QosSource } from './qos.js';
import { enforcementRoutes, ryuMeterRoutes } from './enforcement.js';
import { createMetrics, type RoutingStats } from './metrics.js';
import type { PacketInStats } from '../../openflow/listener.js';
import type { ControllerMeterStatus } from '../../apps/controlplane/controller-meter.js';
import type { PortMeterStatus } from '../../apps/controlplane/port-meter.js';

const ZERO = { lldp: 0, arp: 0, ipv4: 0, other: 0 };
const EMPTY_PACKET_INS: PacketInStats = { admitted: ZERO, dropped: ZERO, queueOverflow: 0, queued: 0, switches: [] };

/** Packet-ins the control plane dropped since start: over a budget (every class) or at a full new-flow queue. */
export function droppedPacketInsTotal(p: PacketInStats): number {
  return p.dropped.lldp + p.dropped.arp + p.dropped.ipv4 + p.dropped.other + p.queueOverflow;
}
import type { PriorityThresholds } from '../../apps/qos/index.js';
import * as S from './schemas.js';
import * as V from './views.js';
import { registerUiRoutes, uiSourcesOf, type UiRoutes, type UiRoutesOptions } from './ui.js';

export interface RestServerOptions {
  /** The controller (or anything with its map of connected switches). */
  readonly controller: { readonly switches: ReadonlyMap<bigint, V.SwitchInfo>; packetIns?(): PacketInStats };
  /** the OFPM_CONTROLLER meter per switch (GET /packet-ins) */
  readonly controllerMeters?: () => readonly ControllerMeterStatus[];
  /** the per-port packet-in meters and their drops at the switch (GET /packet-ins, /metrics) */
  readonly portMeters?: () => { readonly meters: readonly PortMeterStatus[]; readonly droppedAtSwitch: number };
  /** routing's table size and bound counters (/metrics; its `routes` also answers /health's count without building every route's view) */
  readonly routingStats?: () => RoutingStats;
  readonly topology: TopologyView;
  /** The routing app's pinned flows. */
  readonly routes: () => readonly RouteInfo[];
  readonly config: RivuletConfig;
  readonly log: Logger;
  /** The clock of the topology's and routing's timestamps (default the system clock). */
  readonly clock?: Clock;
  /** When the controller started, on `clock` (default: now). */
  readonly startedAtMs?: number;
  /** The QoS app (GET /api/v1/qos); absent: the route answers with no ports. */
  readonly qos?: QosSource;
  /** PIAS/Karuna thresholds computed at start (GET /api/v1/qos); absent: null there. */
  readonly priorityThresholds?: PriorityThresholds;
  /** Reported by /health and the OpenAPI document (default: package.json's). */
  readonly version?: string;
  /**
   * Live allocation (apps/enforcement): /api/v1/flowlets, /allocator, /meters, /agents, the agent
   * WebSocket /api/v1/agents/ws, Ryu /stats/meter/:dpid, allocated load in /links, and its metrics.
   */
  readonly enforcement?: EnforcementSource;
  /** The live web view at `/` (controller/rest/ui.ts): push interval, page limit, assets, auth hook. */
  readonly ui?: Partial<Pick<UiRoutesOptions, 'pushIntervalMs' | 'maxClients' | 'assetsDir' | 'authorize'>> & { readonly enabled?: boolean };
}

export interface RestAddress {
  readonly host: string;
  readonly port: number;
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
}

export interface RestServer {
  /** The fastify instance (later issues add routes to it before listen; tests inject requests). */
  readonly fastify: FastifyInstance;
  /** The web view's routes (absent when `ui.enabled` is false). */
  readonly ui?: UiRoutes;
  /** Starts listening (port 0: any free port). @throws the listen error (EADDRINUSE…) as a rejection */
  listen(port: number, host: string): Promise<RestAddress>;
  /** Ends pending health waits, closes the listener and every connection. Idempotent. */
  close(): Promise<void>;
}

/** package.json's version (dist/controller/rest → the package root). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const ERRORS = { '4xx': S.ErrorBody, '5xx': S.ErrorBody };

function schema(tags: string[], summary: string, ok: TSchema, extra: Omit<FastifySchema, 'response'> = {}): FastifySchema {
  return { tags, summary, ...extra, response: { 200: ok, ...ERRORS } };
}

/** Polls `ready()` on the clock until it holds or `ms` pass; `cancel` ends every wait at once. */
class ReadyWaits {
  private readonly pending = new Set<() => void>();
  constructor(
    private readonly clock: Clock,
    private readonly ready: () => boolean,
  ) {}

  wait(ms: number): Promise<void> {
    if (ms <= 0 || this.ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const deadline = this.clock.now() + ms;
      let timer: TimerHandle | undefined;
      const finish = (): void => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        this.pending.delete(finish);
        resolve();
      };
      const poll = (): void => {
        timer = undefined;
        if (this.ready() || this.clock.now() >= deadline) return finish();
        timer = this.clock.setTimeout(poll, Math.min(50, deadline - this.clock.now()));
      };
      this.pending.add(finish);
      poll();
    });
  }

  cancel(): void {
    for (const f of [...this.pending]) f();
  }
}

/** A route's stable page key: its 5-tuple. */
function routeKey(r: RouteInfo): string {
  const k = r.flowKey;
  return `${k.ipv4Src}|${k.ipv4Dst}|${k.ipProto}|${k.srcPort ?? ''}|${k.dstPort ?? ''}`;
}

/** Builds the server (routes registered, not listening). */
export function createRestServer(opts: RestServerOptions): RestServer {
  const clock = opts.clock ?? systemClock;
  const startedAtMs = opts.startedAtMs ?? clock.now();
  const version = opts.version ?? packageVersion();
  const log = opts.log;
  const tlsFiles = opts.config.api.tls;
  const app = fastify({
    ...(tlsFiles ? { https: { key: readFileSync(tlsFiles.keyFile), cert: readFileSync(tlsFiles.certFile) } } : {}),
    logger: false,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true },
    // errors fastify raises before any route runs (a URL that does not decode, FST_ERR_BAD_URL), in the
    // API's one error shape too
    frameworkErrors: (err, _req, reply) => {
      const r = reply as unknown as { status(n: number): { send(b: unknown): unknown } };
      void r.status(err.statusCode ?? 400).send(errorBody(err.code ?? 'BAD_REQUEST', err.message));
    },
  }) as unknown as FastifyInstance;
  const waits = new ReadyWaits(clock, () => opts.topology.ready());
  const enforcement = opts.enforcement;
  const ctx = (): V.ViewContext => {
    const base = { topology: opts.topology, connected: opts.controller.switches, nowMs: clock.now(), wallMs: Date.now() };
    if (!enforcement) return base;
    const loads = enforcement.linkLoads();
    return { ...base, linkLoadBps: (src) => loads.get(portLinkId(src.dpid, src.portNo)) ?? 0 };
  };
  const metrics = createMetrics({
    switches: () => opts.controller.switches.size,
    ...(opts.controller.packetIns ? { packetIns: () => opts.controller.packetIns!() } : {}),
    ...(opts.portMeters ? { portMeters: opts.portMeters } : {}),
    ...(opts.routingStats ? { routing: opts.routingStats } : {}),
    ...(enforcement ? { enforcement } : {}),
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) return reply.status(err.status).send(errorBody(err.code, err.message));
    if (err.validation) return reply.status(400).send(errorBody('BAD_REQUEST', err.message));
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.status(status).send(errorBody(err.code ?? 'BAD_REQUEST', err.message));
    log.error({ event: 'rest_error', err, method: req.method, url: req.url }, 'REST handler failed');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url}`)));
  app.addHook('onResponse', async (req, reply) => {
    log.debug({ event: 'http', method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'http');
  });

  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rivulet REST API',
        version,
        description: 'OpenFlow 1.3 leaf-spine controller. dpids: 16 hex digits; rates and capacities: bit/s; ages: ms.',
      },
      tags: [
        { name: 'topology', description: 'switches, links, hosts (LLDP discovery, host tracking)' },
        { name: 'routing', description: 'flows pinned to explicit paths' },
        { name: 'qos', description: 'strict-priority queues by DSCP and ECN thresholds per port' },
        { name: 'health', description: 'liveness and the topology-ready signal' },
        { name: 'allocation', description: 'live allocation: flowlets reported by host agents, the allocator, meters, agents' },
        { name: 'ryu', description: 'Ryu-compatible aliases (/v1.0/topology, /stats/meter)' },
        { name: 'metrics', description: 'Prometheus text' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  void app.register(fastifyWebsocket, { options: { maxPayload: MAX_MESSAGE_BYTES } });

  // the count alone: /health is polled often, and routes() builds the view of every pinned route
  const routeCount = opts.routingStats ? (): number => opts.routingStats!().routes : (): number => opts.routes().length;
  const ui = opts.ui?.enabled === false ? undefined : registerUiRoutes(app, {
    ...uiSourcesOf({
      ctx, ready: () => opts.topology.ready(), routes: opts.routes, routeCount, startedEpochMs: Date.now() - (clock.now() - startedAtMs), version,
      tenants: opts.config.tenants, ...(enforcement ? { enforcement } : {}), ...(opts.qos ? { qos: opts.qos } : {}),
      ...(opts.controller.packetIns ? { droppedPacketIns: () => droppedPacketInsTotal(opts.controller.packetIns!()) } : {}),
      capacity: { links: opts.config.topology.links, ...(opts.config.topology.defaultCapacityBps === undefined ? {} : { defaultBps: opts.config.topology.defaultCapacityBps }) },
    }),
    clock, log, ...opts.ui,
  });

  app.get('/metrics', { schema: { tags: ['metrics'], summary: 'Prometheus text exposition', produces: ['text/plain'] } }, async (_req, reply) => {
    const text = await metrics.metrics();
    return reply.type(metrics.contentType).send(text);
  });
  if (enforcement) ryuMeterRoutes(app, enforcement);

  void app.register(
    async (api) => {
      if (enforcement) enforcementRoutes(api, enforcement, clock, bearerAuth(opts.config.api.token));
      api.get('/switches', { schema: schema(['topology'], 'connected and discovered switches', S.SwitchList) }, async () => ({
        switches: V.switchesJson(ctx()),
      }));
      api.get(
        '/switches/:dpid',
        { schema: schema(['topology'], 'one switch: ports with speeds, role, features, peer', S.SwitchSchema, { params: S.DpidParams }) },
        async (req) => {
          const dpid = parseApiDpid((req.params as { dpid: string }).dpid);
          const sw = V.switchJson(ctx(), dpid);
          if (!sw) throw new ApiError('UNKNOWN_DPID', `no switch with datapath id ${dpidHex(dpid)}`);
          return sw;
        },
      );
      api.get('/links', { schema: schema(['topology'], 'directed inter-switch links, and the LLDP sightings the link guard refused (host ports, probe delay)', S.LinkList) }, async () => {
        const c = ctx();
        return { links: V.linksJson(c), ...V.linkGuardJson(c) };
      });
      api.get('/hosts', { schema: schema(['topology'], 'hosts and their attachment points (paginated: limit, cursor)', S.HostList, { querystring: PageQuery }) }, async (req) => {
        const c = ctx();
        const p = page(opts.topology.hosts(), (h) => h.mac, req.query as PageRequest);
        return { hosts: p.items.map((h) => V.hostJson(c, h)), nextCursor: p.nextCursor };
      });
      api.get('/topology', { schema: schema(['topology'], 'switches, links, hosts and the ready flag', S.TopologySchema) }, async () => {
        const c = ctx();
        return { ready: opts.topology.ready(), switches: V.switchesJson(c), links: V.linksJson(c), hosts: V.hostsJson(c) };
      });
      api.get('/routes', { schema: schema(['routing'], 'pinned flows and their paths (paginated: limit, cursor)', S.RouteList, { querystring: PageQuery }) }, async (req) => {
        const c = ctx();
        const p = page(opts.routes(), routeKey, req.query as PageRequest);
        return { routes: p.items.map((r) => V.routeJson(c, r)), nextCursor: p.nextCursor };
      });
      api.get('/packet-ins', { schema: schema(['health'], 'packet-in protection: admitted and dropped per class, per switch and ingress port', S.PacketInsSchema) }, async () => {
        const p = opts.controller.packetIns?.() ?? EMPTY_PACKET_INS;
        const pm = opts.portMeters?.();
        return {
          admitted: p.admitted, dropped: p.dropped, queueOverflow: p.queueOverflow, queued: p.queued,
          controllerMeters: opts.controllerMeters?.() ?? [],
          droppedAtSwitch: { lldp: 0, arp: 0, ipv4: pm?.droppedAtSwitch ?? 0, other: 0 },
          portMeters: pm?.meters ?? [],
          switches: p.switches.map((sw) => ({
            dpid: dpidHex(sw.dpid), total: sw.total,
            ports: [...sw.ports].sort((a, b) => a[0] - b[0]).map(([port, counts]) => ({ port, counts })),
          })),
        };
      });
      api.get('/qos', { schema: schema(['qos'], 'per port: queues, rates, DSCP map, ECN threshold, what applied, queue counters', QosResponse) }, async () =>
        opts.qos ? qosJson(opts.qos, opts.priorityThresholds) : { priorityThresholds: null, ecnProbe: null, ports: [] },
      );
      api.get(
        '/health',
        { schema: schema(['health'], 'status, uptime, connected switches, topology ready', S.HealthSchema, { querystring: S.HealthQuery }) },
        async (req) => {
          await waits.wait((req.query as { waitReadyMs?: number }).waitReadyMs ?? 0);
          return {
            status: 'ok' as const,
            ready: opts.topology.ready(),
            uptimeS: Math.max(0, Math.round(clock.now() - startedAtMs)) / 1000,
            switches: opts.controller.switches.size,
            links: opts.topology.links().length,
            hosts: opts.topology.hosts().length,
            routes: routeCount(),
            version,
          };
        },
      );
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );

  void app.register(
    async (ryu) => {
      const only = (req: { params: unknown }): bigint => parseApiDpid((req.params as { dpid: string }).dpid);
      const list = (t: TSchema) => ({ type: 'array', items: t }) as unknown as TSchema;
      const ryuSchema = (summary: string, item: TSchema, params?: TSchema) =>
        schema(['ryu'], summary, list(item), params ? { params } : {});
      ryu.get('/switches', { schema: ryuSchema('switches (Ryu format)', S.RyuSwitch) }, async () => V.ryuSwitchesJson(ctx()));
      ryu.get('/switches/:dpid', { schema: ryuSchema('one switch (Ryu format)', S.RyuSwitch, S.DpidParams) }, async (req) => V.ryuSwitchesJson(ctx(), only(req)));
      ryu.get('/links', { schema: ryuSchema('links (Ryu format)', S.RyuLink) }, async () => V.ryuLinksJson(ctx()));
      ryu.get('/links/:dpid', { schema: ryuSchema('links leaving one switch (Ryu format)', S.RyuLink, S.DpidParams) }, async (req) => V.ryuLinksJson(ctx(), only(req)));
      ryu.get('/hosts', { schema: ryuSchema('hosts (Ryu format)', S.RyuHost) }, async () => V.ryuHostsJson(ctx()));
      ryu.get('/hosts/:dpid', { schema: ryuSchema('hosts on one switch (Ryu format)', S.RyuHost, S.DpidParams) }, async (req) => V.ryuHostsJson(ctx(), only(req)));
    },
    { prefix: '/v1.0/topology' },
  );

  let closing: Promise<void> | undefined;
  return {
    fastify: app,
    ...(ui ? { ui } : {}),
    async listen(port: number, host: string): Promise<RestAddress> {
      await app.listen({ port, host });
      const addr = app.server.address();
      const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      const url = `${tlsFiles ? 'https' : 'http'}://${shownHost}:${bound}`;
      log.info({ event: 'rest_listening', host, port: bound }, `REST API on ${url}/api/v1`);
      return { host, port: bound, url };
    },
    close(): Promise<void> {
      closing ??= (async () => {
        waits.cancel();
        await app.close();
      })();
      return closing;
    },
  };
}
