/**
 * The live web view's routes (I/O edge; the model is ui-model.ts):
 *   GET /            the page (dist/web/index.html, bundled at build time by scripts/build-web.ts)
 *   GET /ui/*        its assets (@fastify/static; no CDN)
 *   GET /ui/ws       WebSocket: a `snapshot` on connect, then `delta`s with the sections that changed,
 *                    at most one per `pushIntervalMs` (default 250 ms: ≤ 4 pushes/s, whatever the number
 *                    of events); the page may ask `{type:'detail', reqId, dpid}` for a switch's ports,
 *                    QoS, meters and pinned routes and gets `{type:'detail', reqId, detail}`.
 * One timer runs while at least one page is connected; each state is serialized once for every page.
 * Read-only: nothing a page sends changes the controller. `authorize`, when given, guards the page, its
 * assets and the WebSocket (a browser cannot set headers on a WebSocket: the page passes the token of its
 * URL fragment `#token=…` as `?token=` on the socket's URL).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { EnforcementSource } from '../../apps/enforcement/app.js';
import type { RouteInfo } from '../../apps/routing/types.js';
import { dpidHex, parseDpid } from '../../lib/dpid.js';
import { qosPortJson, type QosSource } from './qos.js';
import { parseUiRequest, switchDetail, UiFeed, UI_PROTOCOL_VERSION, type UiInput, type UiSwitchDetail } from './ui-model.js';
import * as V from './views.js';

export interface UiRoutesOptions {
  /** The state now (called once per push interval while a page is connected). */
  readonly input: () => UiInput;
  /** A switch's details (dpid: 16 hex digits); undefined when the switch is unknown. */
  readonly detail: (dpid: string) => Promise<UiSwitchDetail | undefined>;
  readonly clock: Clock;
  readonly log: Logger;
  /** ms between pushes (default 250) */
  readonly pushIntervalMs?: number;
  /** pages connected at once; more are closed with 1013 (default 32) */
  readonly maxClients?: number;
  /** a page whose socket holds more unsent bytes than this is skipped and resynced later (default 8 MiB) */
  readonly maxBufferedBytes?: number;
  /** the bundled assets (default dist/web beside this module's dist/controller/rest) */
  readonly assetsDir?: string;
  /** guards the page and its socket (default: open, like the REST API's read endpoints) */
  readonly authorize?: (req: FastifyRequest) => boolean | Promise<boolean>;
}

export interface UiRoutes {
  /** pages connected now */
  clients(): number;
}

/** dist/controller/rest/ui.js → dist/web */
export function defaultAssetsDir(): string {
  return fileURLToPath(new URL('../../web/', import.meta.url));
}

interface Page {
  readonly ws: WebSocket;
  /** missed a delta (back-pressure): gets a full snapshot when its buffer drains */
  stale: boolean;
  detailBusy: boolean;
}

/** Registers the page, its assets and its WebSocket (call after @fastify/websocket is registered). */
export function registerUiRoutes(app: FastifyInstance, opts: UiRoutesOptions): UiRoutes {
  const intervalMs = opts.pushIntervalMs ?? 250;
  const maxClients = opts.maxClients ?? 32;
  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  const assetsDir = opts.assetsDir ?? defaultAssetsDir();
  const feed = new UiFeed();
  const pages = new Set<Page>();
  let timer: TimerHandle | undefined;
  let closed = false;

  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!opts.authorize) return;
    if (!(await opts.authorize(req))) {
      await reply.status(401).header('www-authenticate', 'Bearer realm="rivulet"').send({ error: { code: 'UNAUTHORIZED', message: 'the web view needs the API token (open it as /#token=<token>)' } });
    }
  };

  const send = (p: Page, text: string): void => {
    if (p.ws.readyState !== 1) return;
    p.ws.send(text);
  };

  const tick = (): void => {
    timer = undefined;
    if (closed || pages.size === 0) return;
    let delta: string | null;
    try {
      delta = feed.update(opts.input());
    } catch (err) {
      opts.log.error({ event: 'ui_snapshot_failed', err }, 'web view snapshot failed');
      delta = null;
    }
    const wall = Date.now();
    let full: string | null | undefined;
    for (const p of pages) {
      if (p.ws.bufferedAmount > maxBuffered) {
        p.stale = true;
        continue;
      }
      if (p.stale) {
        full ??= feed.full(wall);
        if (full) send(p, full);
        p.stale = false;
      } else if (delta) send(p, delta);
    }
    schedule();
  };

  const schedule = (): void => {
    if (timer === undefined && !closed && pages.size > 0) timer = opts.clock.setTimeout(tick, intervalMs);
  };

  app.addHook('onClose', async () => {
    closed = true;
    if (timer !== undefined) opts.clock.clearTimeout(timer);
    timer = undefined;
    for (const p of pages) p.ws.terminate();
    pages.clear();
  });

  void app.register(async (ui) => {
    ui.addHook('onRequest', guard);
    const built = existsSync(`${assetsDir}/index.html`);
    if (built) {
      await ui.register(fastifyStatic, { root: assetsDir, prefix: '/ui/', index: false, wildcard: true, maxAge: 0 });
      ui.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html'));
    } else {
      opts.log.warn({ event: 'ui_assets_missing', assetsDir }, 'web view assets not built (npm run build)');
      ui.get('/', { schema: { hide: true } }, async (_req, reply) =>
        reply.status(503).type('text/plain; charset=utf-8').send(`Rivulet's web view is not built: run npm run build (missing ${assetsDir}index.html)\n`));
    }

    ui.get('/ui/ws', { websocket: true, schema: { hide: true } }, (ws: WebSocket) => {
      if (closed || pages.size >= maxClients) {
        ws.close(1013, 'too many web view pages');
        return;
      }
      const page: Page = { ws, stale: false, detailBusy: false };
      // A fresh state for the newcomer; the delta it produces goes to the pages already there.
      if (pages.size > 0 && timer !== undefined) {
        opts.clock.clearTimeout(timer);
        tick();
      } else {
        try {
          feed.update(opts.input());
        } catch (err) {
          opts.log.error({ event: 'ui_snapshot_failed', err }, 'web view snapshot failed');
        }
      }
      pages.add(page);
      const full = feed.full(Date.now());
      if (full) send(page, full);
      schedule();
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const req = isBinary ? null : parseUiRequest(String(data));
        if (!req || page.detailBusy) return;
        page.detailBusy = true;
        opts.detail(req.dpid).then(
          (d) => send(page, JSON.stringify({ type: 'detail', v: UI_PROTOCOL_VERSION, reqId: req.reqId, detail: d ?? null, ...(d ? {} : { error: `no switch ${req.dpid}` }) })),
          (err: unknown) => {
            opts.log.warn({ event: 'ui_detail_failed', err }, 'web view switch detail failed');
            send(page, JSON.stringify({ type: 'detail', v: UI_PROTOCOL_VERSION, reqId: req.reqId, detail: null, error: 'internal error' }));
          },
        ).finally(() => (page.detailBusy = false));
      });
      ws.on('close', () => {
        pages.delete(page);
        if (pages.size === 0 && timer !== undefined) {
          opts.clock.clearTimeout(timer);
          timer = undefined;
        }
      });
      ws.on('error', () => ws.terminate());
    });
  });

  return { clients: () => pages.size };
}

/** What the web view reads of the REST server's sources (server.ts passes its own). */
export interface UiSources {
  readonly ctx: () => V.ViewContext;
  readonly ready: () => boolean;
  readonly routes: () => readonly RouteInfo[];
  /** pinned routes now (without building their views) */
  readonly routeCount: () => number;
  readonly startedEpochMs: number;
  readonly version: string;
  readonly tenants: readonly { readonly name: string; readonly weight: number }[];
  readonly enforcement?: EnforcementSource;
  readonly qos?: QosSource;
  /** packet-ins dropped by the control plane's limits, when counted */
  readonly droppedPacketIns?: () => number;
  /** at most this many flowlet rows a push (default 20,000) */
  readonly maxFlowlets?: number;
  /** host-link capacities (config topology.links and defaultCapacityBps) */
  readonly capacity?: UiInput['capacity'];
}

/** The `input` and `detail` of {@link registerUiRoutes} over the REST server's sources. */
export function uiSourcesOf(s: UiSources): Pick<UiRoutesOptions, 'input' | 'detail'> {
  const enf = s.enforcement;
  return {
    input: () => {
      const c = s.ctx();
      return {
        switches: V.switchesJson(c),
        links: V.linksJson(c),
        hosts: V.hostsJson(c),
        routes: s.routeCount(),
        ready: s.ready(),
        startedEpochMs: s.startedEpochMs,
        version: s.version,
        ...(enf ? { enforcement: { flowlets: enf.flowlets(), allocator: enf.allocator(), agents: enf.agents(), linkLoads: enf.linkLoads() } } : {}),
        tenants: s.tenants,
        droppedPacketIns: s.droppedPacketIns ? s.droppedPacketIns() : null,
        nowMs: c.nowMs,
        wallMs: c.wallMs,
        maxFlowlets: s.maxFlowlets ?? 20_000,
        ...(s.capacity ? { capacity: s.capacity } : {}),
      };
    },
    detail: async (dpid) => {
      const c = s.ctx();
      const sw = V.switchJson(c, parseDpid(dpid));
      if (!sw) return undefined;
      const qos = s.qos;
      const ports = qos ? qos.ports().filter((p) => dpidHex(p.plan.dpid) === dpid) : [];
      const counters = qos ? await Promise.all(ports.map((p) => qos.counters(p.plan.dpid, p.plan.portNo))) : [];
      return switchDetail(dpid, {
        switch: sw,
        qosPorts: ports.map((p, i) => qosPortJson(p, counters[i]!)),
        ecnProbe: qos?.ecnProbe() ?? null,
        meters: enf?.meters() ?? [],
        meterSupport: enf?.meterSupport() ?? [],
        routes: s.routes().map((r) => V.routeJson(c, r)),
      });
    },
  };
}
