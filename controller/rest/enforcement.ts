/**
 * REST routes of live allocation (live allocation): GET /api/v1/flowlets, /allocator, /meters, /agents, the agent
 * WebSocket /api/v1/agents/ws (agent/protocol.ts, one message a text frame), and Ryu's
 * /stats/meter/{dpid}. Handlers only read the enforcement app's views.
 */
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import type { EnforcementSource } from '../../apps/enforcement/app.js';
import type { Clock } from '../clock.js';
import { dpidHex } from '../log.js';
import { parseApiDpid } from './dpid.js';
import * as E from './enforcement-schemas.js';
import { ErrorBody } from './schemas.js';

const ERRORS = { '4xx': ErrorBody, '5xx': ErrorBody };

function schema(tags: string[], summary: string, ok: TSchema, extra: Omit<FastifySchema, 'response'> = {}): FastifySchema {
  return { tags, summary, ...extra, response: { 200: ok, ...ERRORS } };
}

/** Registers the /api/v1 routes (call inside the /api/v1 prefix, with @fastify/websocket registered). */
export function enforcementRoutes(api: FastifyInstance, src: EnforcementSource, clock: Clock): void {
  api.get('/flowlets', { schema: schema(['allocation'], 'active flowlets (or ?state=ended: the recently ended ones) with path, tenant, allocated and measured rates, timestamps', E.FlowletList, { querystring: E.FlowletQuery }) }, async (req) => {
    const state = (req.query as { state?: 'active' | 'ended' }).state ?? 'active';
    return { flowlets: state === 'ended' ? src.endedFlowlets() : src.flowlets() };
  });
  api.get('/allocator', { schema: schema(['allocation'], 'policy, mode, iterations, run timing, events/s, updates sent, reaction times', E.AllocatorSchema) }, async () => src.allocator());
  api.get('/meters', { schema: schema(['allocation'], 'meters on the ingress leaves (rate, burst, state, measured rate) and each switch’s meter support', E.MeterList) }, async () => ({
    meters: src.meters(), switches: src.meterSupport(),
  }));
  api.get('/agents', { schema: schema(['allocation'], 'host agents', E.AgentList) }, async () => {
    const now = clock.now();
    const wall = Date.now();
    return {
      agents: src.agents().map((a) => ({
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
