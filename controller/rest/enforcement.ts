/**
 * REST routes of live allocation: GET /api/v1/flowlets, /allocator, /meters, /agents (long lists paginated,
 * page.ts), DELETE /api/v1/agents/:id (bearer token), the agent
 * WebSocket /api/v1/agents/ws (protocol/agent.ts, one message a text frame), and Ryu's
 * /stats/meter/{dpid}. Handlers only read the enforcement app's views.
 */
import type { FastifyInstance, FastifySchema, preHandlerAsyncHookHandler } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import type { EnforcementSource } from '../../apps/enforcement/app.js';
import type { Clock } from '../../lib/clock.js';
import { dpidHex } from '../../lib/log.js';
import { parseApiDpid } from './dpid.js';
import * as E from './enforcement-schemas.js';
import { ApiError } from './errors.js';
import { page, PageQuery, type PageRequest } from './page.js';
import { ErrorBody } from './schemas.js';

const ERRORS = { '4xx': ErrorBody, '5xx': ErrorBody };

function schema(tags: string[], summary: string, ok: TSchema, extra: Omit<FastifySchema, 'response'> = {}): FastifySchema {
  return { tags, summary, ...extra, response: { 200: ok, ...ERRORS } };
}

/** Registers the /api/v1 routes (call inside the /api/v1 prefix, with @fastify/websocket registered). */
export function enforcementRoutes(api: FastifyInstance, src: EnforcementSource, clock: Clock, auth: preHandlerAsyncHookHandler): void {
  api.get('/flowlets', { schema: schema(['allocation'], 'active flowlets (or ?state=ended: the recently ended ones) with path, tenant, allocated and measured rates, timestamps; paginated (limit, cursor)', E.FlowletList, { querystring: E.FlowletQuery }) }, async (req) => {
    const q = req.query as { state?: 'active' | 'ended' } & PageRequest;
    if ((q.state ?? 'active') === 'ended') {
      const p = page(src.endedFlowlets(), (f) => `${f.agentId}/${f.id}`, q);
      return { flowlets: p.items, nextCursor: p.nextCursor };
    }
    const p = page(src.flowletKeys(), (k) => k, q);
    return { flowlets: p.items.map((k) => src.flowletByKey(k)).filter((f) => f !== undefined), nextCursor: p.nextCursor };
  });
  api.get('/allocator', { schema: schema(['allocation'], 'policy, mode, iterations, run timing, events/s, updates sent, reaction times', E.AllocatorSchema) }, async () => src.allocator());
  api.get('/meters', { schema: schema(['allocation'], 'meters on the ingress leaves (rate, burst, state, measured rate; paginated: limit, cursor) and each switch’s meter support', E.MeterList, { querystring: PageQuery }) }, async (req) => {
    const p = page(src.meters(), (m) => m.key, req.query as PageRequest);
    return { meters: p.items, nextCursor: p.nextCursor, switches: src.meterSupport() };
  });
  api.delete('/agents/:id', {
    preHandler: auth,
    schema: schema(['allocation'], 'disconnects an agent (bearer token api.token): its channel is closed with the reason; it may reconnect (and must authenticate where required)', E.AgentDisconnect, { params: E.AgentIdParams, security: [{ bearer: [] }] }),
  }, async (req) => {
    const { id } = req.params as { id: string };
    if (!src.disconnectAgent(id, 'DELETE /api/v1/agents/:id')) throw new ApiError('NOT_FOUND', `agent ${id} is not connected`);
    return { disconnected: id };
  });
  api.get('/agents', { schema: schema(['allocation'], 'host agents (paginated: limit, cursor) and the rejections by reason', E.AgentList, { querystring: PageQuery }) }, async (req) => {
    const now = clock.now();
    const wall = Date.now();
    const p = page(src.agents(), (a) => a.id, req.query as PageRequest);
    return {
      nextCursor: p.nextCursor,
      agents: p.items.map((a) => ({
        id: a.id, hostname: a.hostname, interface: a.interface, ipv4: [...a.ipv4], connected: a.connected,
        since: new Date(wall - Math.max(0, now - a.sinceMs)).toISOString(), lastSeenMs: Math.max(0, now - a.lastSeenMs), flowlets: a.flowlets,
      })),
      rejected: src.agentRejections(),
    };
  });
  // the agents' channel: served only when agent authentication is configured (agents.auth)
  if (src.agentWebSocket()) api.get('/agents/ws', { websocket: true, schema: { hide: true } }, (socket, req) => {
    src.adoptWebSocket(socket, `${req.ip}:${req.socket.remotePort ?? 0}`);
  });
}

/** Ryu's /stats/meter/{dpid} (registered at the root). */
export function ryuMeterRoutes(app: FastifyInstance, src: EnforcementSource): void {
  app.get('/stats/meter/:dpid', { schema: schema(['ryu'], 'meter statistics of one switch (Ryu format)', E.RyuMeterStats, { params: { type: 'object', properties: { dpid: { type: 'string' } } } }) }, async (req) => {
    const dpid = parseApiDpid((req.params as { dpid: string }).dpid);
    const hex = dpidHex(dpid);
    const meters = src.meters().filter((m) => m.dpid === hex && m.meterId > 0);
    return {
      [dpid.toString(10)]: meters.map((m) => ({
        meter_id: m.meterId, flow_count: 1, packet_in_count: m.stats?.packets ?? 0, byte_in_count: m.stats?.bytes ?? 0,
        rate_kbps: Math.round(m.rateBps / 1000), measured_bps: m.stats?.measuredBps ?? null, key: m.key,
      })),
    };
  });
}
