/**
 * The agent's local API (fastify on 127.0.0.1 inside the host; FCA §5.2: applications declare what they
 * know about a flow before sending it). Errors are `{ error: { code, message } }` like the controller's.
 *
 *   POST /api/v1/flows      {dst, dport, proto? (6), sport?, sizeBytes?, deadlineMs?, transferId?, tenant?}
 *                           → 201 {declared}; 400 BAD_REQUEST naming the bad field. The declaration
 *                           attaches to the next flowlet of the 5-tuple (or to its live flowlet, when
 *                           that carries no declared message yet), and a declared size to its
 *                           later flowlets too until that many bytes are sent (detector.ts).
 *   GET  /api/v1/flowlets   → {flowlets: [{id, flow, bytes, packets, firstPacketEpochUs, lastPacketEpochUs,
 *                           declared?, rateLimitBps|null, priority|null, dscp|null}], pendingDeclarations}
 *   GET  /api/v1/health     → {agentId, interface, connected, state, sinceEpochUs, lastRatesSeq,
 *                           graceEndsAtEpochUs, limits, liveFlowlets, marking}
 *
 * Bodies are validated with the typebox schema below (Value.Errors, not fastify's coercing ajv, so
 * `"dport": "80"` or an unknown key is an error, not silently fixed).
 *
 * The same declarations as DATAGRAMS, for senders that declare every flow and cannot afford a request per
 * flow: UDP on 127.0.0.1, the same port, each datagram one or more declaration bodies as JSON lines (at
 * most {@link MAX_DATAGRAM_DECLARATIONS}). No answer; a bad line is counted ({@link LocalApi.datagrams})
 * and logged at debug level. One send() and, in the agent, one read and a JSON.parse per flow: measured in
 * the shuffle experiment, an HTTP declaration cost the agent a fastify request and a response (p50 7.8 ms
 * to the answer on a busy host) for every flow.
 */
import { createSocket, type Socket } from 'node:dgram';
import { fastify, type FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from '../lib/log.js';
import type { AgentHealth, FlowletStatus } from './agent.js';
import type { FlowDeclaration } from './detector.js';

const Ipv4 = Type.String({ pattern: '^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$' });

/** POST /api/v1/flows body. */
export const DeclareBody = Type.Object(
  {
    dst: Ipv4,
    dport: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** 6 TCP (default) or 17 UDP */
    proto: Type.Optional(Type.Union([Type.Literal(6), Type.Literal(17)])),
    /** 0/absent: any source port */
    sport: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    sizeBytes: Type.Optional(Type.Number({ minimum: 0 })),
    deadlineMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    transferId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type DeclareBody = Static<typeof DeclareBody>;

/** What the API needs of the agent. */
export interface LocalApiSource {
  declare(d: FlowDeclaration): void;
  flowlets(): FlowletStatus[];
  health(): AgentHealth;
  readonly detector: { pendingDeclarations(): readonly FlowDeclaration[] };
}

export interface LocalApi {
  readonly fastify: FastifyInstance;
  /** e.g. http://127.0.0.1:7070 */
  readonly url: string;
  /** the datagram endpoint's counts: declarations taken, lines rejected */
  readonly datagrams: DatagramCounts;
  close(): Promise<void>;
}

/** Declaration lines one datagram may carry (the rest are rejected). */
export const MAX_DATAGRAM_DECLARATIONS = 64;

/** What the datagram endpoint has read. */
export interface DatagramCounts {
  declared: number;
  rejected: number;
}

/**
 * The declarations of one datagram (JSON lines, see the file comment); every line that is not a valid
 * declaration body, and every line past {@link MAX_DATAGRAM_DECLARATIONS}, is a rejection.
 */
export function parseDatagram(buf: Buffer): { declarations: FlowDeclaration[]; rejected: string[] } {
  const declarations: FlowDeclaration[] = [];
  const rejected: string[] = [];
  const lines = buf.toString('utf8').split('\n').filter((l) => l.trim() !== '');
  for (const [i, line] of lines.entries()) {
    if (i >= MAX_DATAGRAM_DECLARATIONS) {
      rejected.push(`more than ${MAX_DATAGRAM_DECLARATIONS} declarations in one datagram`);
      break;
    }
    let body: unknown;
    try {
      body = JSON.parse(line);
    } catch {
      rejected.push('not JSON');
      continue;
    }
    const r = checkDeclaration(body);
    if (r.ok) declarations.push(r.value);
    else rejected.push(r.message);
  }
  return { declarations, rejected };
}

/** The declaration of a valid body, or the first problem as `"/field: message"`. */
export function checkDeclaration(body: unknown): { ok: true; value: FlowDeclaration } | { ok: false; message: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, message: 'body must be a JSON object' };
  const first = Value.Errors(DeclareBody, body).First();
  if (first) return { ok: false, message: `${first.path || '/'}: ${first.message}` };
  const b = body as DeclareBody;
  const value: FlowDeclaration = {
    dst: b.dst,
    dport: b.dport,
    proto: b.proto ?? 6,
    ...(b.sport !== undefined ? { sport: b.sport } : {}),
    ...(b.sizeBytes !== undefined ? { sizeBytes: b.sizeBytes } : {}),
    ...(b.deadlineMs !== undefined ? { deadlineMs: b.deadlineMs } : {}),
    ...(b.transferId !== undefined ? { transferId: b.transferId } : {}),
    ...(b.tenant !== undefined ? { tenant: b.tenant } : {}),
  };
  return { ok: true, value };
}

const err = (code: string, message: string): { error: { code: string; message: string } } => ({ error: { code, message } });

/** Builds the routes (not listening). */
export function buildLocalApi(agent: LocalApiSource, log: Logger): FastifyInstance {
  const app = fastify({ logger: false, forceCloseConnections: true });
  app.setErrorHandler((e: { statusCode?: number; message: string }, req, reply) => {
    const status = e.statusCode ?? 500;
    if (status < 500) return reply.status(status).send(err('BAD_REQUEST', e.message));
    log.error({ event: 'local_api_error', err: e, url: req.url }, 'local API handler failed');
    return reply.status(500).send(err('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(err('NOT_FOUND', `no route ${req.method} ${req.url}`)));
  app.post('/api/v1/flows', async (req, reply) => {
    const r = checkDeclaration(req.body);
    if (!r.ok) return reply.status(400).send(err('BAD_REQUEST', r.message));
    agent.declare(r.value);
    log.info({ event: 'flow_declared', ...r.value }, `flow to ${r.value.dst}:${r.value.dport} declared`);
    return reply.status(201).send({ declared: r.value });
  });
  app.get('/api/v1/flowlets', async () => ({ flowlets: agent.flowlets(), pendingDeclarations: agent.detector.pendingDeclarations() }));
  app.get('/api/v1/health', async () => agent.health());
  return app;
}

/**
 * Listens on 127.0.0.1:`port`, TCP (HTTP) and UDP (declaration datagrams) alike.
 * @throws the listen or bind error (EADDRINUSE…); nothing is left listening then
 */
export async function startLocalApi(opts: { readonly agent: LocalApiSource; readonly port: number; readonly log: Logger }): Promise<LocalApi> {
  const app = buildLocalApi(opts.agent, opts.log);
  await app.listen({ host: '127.0.0.1', port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `http://127.0.0.1:${port}`;
  let udp: Socket;
  const datagrams: DatagramCounts = { declared: 0, rejected: 0 };
  try {
    udp = await bindDatagrams(port, opts.agent, opts.log, datagrams);
  } catch (err) {
    await app.close();
    throw err;
  }
  opts.log.info({ event: 'local_api', url }, `local API on ${url}/api/v1 (declarations also as UDP datagrams to 127.0.0.1:${port})`);
  return {
    fastify: app, url, datagrams,
    close: async () => {
      await new Promise<void>((res) => udp.close(() => res()));
      await app.close();
    },
  };
}

function bindDatagrams(port: number, agent: LocalApiSource, log: Logger, counts: DatagramCounts): Promise<Socket> {
  const udp = createSocket('udp4');
  udp.on('message', (buf) => {
    const { declarations, rejected } = parseDatagram(buf);
    for (const d of declarations) agent.declare(d);
    counts.declared += declarations.length;
    if (rejected.length > 0) {
      counts.rejected += rejected.length;
      log.debug({ event: 'declaration_rejected', reasons: rejected }, `declaration datagram: ${rejected.length} line(s) rejected`);
    }
  });
  return new Promise((res, rej) => {
    udp.once('error', rej);
    udp.bind(port, '127.0.0.1', () => {
      udp.removeListener('error', rej);
      udp.on('error', (err) => log.warn({ event: 'declaration_socket_error', err }, 'declaration datagram socket error'));
      res(udp);
    });
  });
}
