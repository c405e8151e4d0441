/**
 * The agent channel protocol (ARCHITECTURE.md "Data path: a flowlet, from agent to meter"): the messages a host agent and the
 * controller exchange over one persistent channel. Both ends import this file; it is the contract.
 *
 * Transport: a unix stream socket carrying newline-delimited JSON (one message a line; Mininet hosts
 * share the file system, ARCHITECTURE.md "Platform facts"), or a WebSocket on the REST server (`/api/v1/agents/ws`, one
 * message a text frame) for real servers. The same JSON either way.
 *
 * Conversation:
 *   agent → `hello` (registers; carries the agent's active flowlets, so a reconnect resyncs)
 *   controller → `welcome` (thresholds, heartbeat period, small-flowlet threshold)
 *   agent → `events` batches (flowlet starts, progress, ends; rate-enforcement acknowledgements)
 *   controller → `rates` (per flowlet: set a rate in bit/s, or clear the limit; per tenant: its aggregate
 *   at this host), `thresholds` pushes
 *   either → `ping` at each heartbeat (every period) when it sent nothing else for half a period; a side
 *   that hears nothing for 3 periods drops the channel.
 *
 * Authentication (challenge-response, HMAC-SHA256 with a secret shared by the agent and the
 * controller's config, per agent or common to all): when the channel requires it (always on the
 * WebSocket; on the unix socket when configured, or when the hello names an agent id already connected)
 * the controller answers the hello with `challenge` (a fresh random nonce) and the agent proves it holds
 * the secret with `auth` (`mac` = {@link agentAuthMac}); only then does `welcome` come. No secret ever
 * crosses the channel, and a recorded `auth` is useless for another nonce.
 *
 * Times are µs since the Unix epoch of the sender's clock (`...EpochUs`): in Mininet both ends share
 * one clock, so reaction times can be computed across them. Sizes are bytes, rates bit/s.
 *
 * A message that does not validate is answered with `error` and the channel is closed (never the
 * process): {@link parseAgentMessage} / {@link parseControllerMessage} throw {@link ProtocolError}.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';

export const AGENT_PROTOCOL_VERSION = 1;

const Ipv4 = Type.String({ pattern: '^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$' });
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const EpochUs = Type.Number({ minimum: 0 });
const Bytes = Type.Number({ minimum: 0 });
const RateBps = Type.Number({ minimum: 0 });
/** Agent-local flowlet id (unique per agent run, e.g. "f17"); the controller keys by (agentId, id). */
const FlowletId = Type.String({ minLength: 1, maxLength: 64 });

/** The 5-tuple of a flow: TCP (6) / UDP (17) with ports; other protocols carry ports 0. */
export const FiveTuple = Type.Object({
  src: Ipv4,
  dst: Ipv4,
  proto: Type.Integer({ minimum: 0, maximum: 255 }),
  sport: Port,
  dport: Port,
}, { additionalProperties: false });
export type FiveTuple = Static<typeof FiveTuple>;

/** A flowlet start (also used, in `hello.active`, to resync after a reconnect). */
export const FlowletStart = Type.Object({
  id: FlowletId,
  flow: FiveTuple,
  /** first packet of the flowlet, as seen by the agent's capture */
  firstPacketEpochUs: EpochUs,
  /** bytes (IP length) sent so far in this flowlet */
  bytes: Bytes,
  /** declared by the application through the agent's local API (FCA §5.2) */
  sizeBytes: Type.Optional(Bytes),
  deadlineMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  transferId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
}, { additionalProperties: false });
export type FlowletStart = Static<typeof FlowletStart>;

/** Bytes sent so far by a live flowlet (sent when it crosses the small-flowlet threshold, and periodically). */
export const FlowletProgress = Type.Object({ id: FlowletId, bytes: Bytes, atEpochUs: EpochUs }, { additionalProperties: false });
export type FlowletProgress = Static<typeof FlowletProgress>;

/** A flowlet ended (idle longer than the gap): its total bytes. */
export const FlowletEnd = Type.Object({ id: FlowletId, lastPacketEpochUs: EpochUs, bytes: Bytes }, { additionalProperties: false });
export type FlowletEnd = Static<typeof FlowletEnd>;

/** The agent applied a `rates` entry (tc written) at `atEpochUs`; rateBps null = limit removed. */
export const Enforced = Type.Object({
  id: FlowletId,
  rateBps: Type.Union([RateBps, Type.Null()]),
  atEpochUs: EpochUs,
}, { additionalProperties: false });
export type Enforced = Static<typeof Enforced>;

export const HelloMsg = Type.Object({
  type: Type.Literal('hello'),
  version: Type.Literal(AGENT_PROTOCOL_VERSION),
  /** stable per host (default: the hostname); a second agent with the same id replaces the first */
  agentId: Type.String({ minLength: 1, maxLength: 128 }),
  hostname: Type.String({ maxLength: 256 }),
  interface: Type.String({ minLength: 1, maxLength: 64 }),
  ipv4: Type.Array(Ipv4, { maxItems: 64 }),
  mac: Type.Optional(Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' })),
  /** the interface's line rate the agent shapes under, bit/s */
  linkRateBps: Type.Optional(RateBps),
  active: Type.Array(FlowletStart, { maxItems: 100_000 }),
}, { additionalProperties: false });
export type HelloMsg = Static<typeof HelloMsg>;

export const EventsMsg = Type.Object({
  type: Type.Literal('events'),
  seq: Type.Integer({ minimum: 0 }),
  starts: Type.Array(FlowletStart, { maxItems: 100_000 }),
  progress: Type.Array(FlowletProgress, { maxItems: 100_000 }),
  ends: Type.Array(FlowletEnd, { maxItems: 100_000 }),
  enforced: Type.Array(Enforced, { maxItems: 100_000 }),
}, { additionalProperties: false });
export type EventsMsg = Static<typeof EventsMsg>;

export const PingMsg = Type.Object({ type: Type.Literal('ping'), atEpochUs: EpochUs }, { additionalProperties: false });
export type PingMsg = Static<typeof PingMsg>;

export const ErrorMsg = Type.Object({ type: Type.Literal('error'), message: Type.String({ maxLength: 4096 }) }, { additionalProperties: false });
export type ErrorMsg = Static<typeof ErrorMsg>;

/** Karuna/PIAS classes the agent marks by: DSCP of priority i is dscpByPriority[i] (0 = highest). */
export const Thresholds = Type.Object({
  /** demotion thresholds in bytes sent, ascending; length = dscpByPriority.length − 1 */
  thresholdsBytes: Type.Array(Bytes, { maxItems: 7 }),
  dscpByPriority: Type.Array(Type.Integer({ minimum: 0, maximum: 63 }), { minItems: 1, maxItems: 8 }),
}, { additionalProperties: false });
export type Thresholds = Static<typeof Thresholds>;

export const WelcomeMsg = Type.Object({
  type: Type.Literal('welcome'),
  agentId: Type.String({ minLength: 1 }),
  heartbeatMs: Type.Integer({ minimum: 10 }),
  /** flowlets smaller than this are not allocated (FCA §4.4): report `progress` when bytes cross it */
  smallFlowletBytes: Bytes,
  /** idle gap ending a flowlet, ms, when the controller's config sets one (else the agent's own) */
  idleGapMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  thresholds: Type.Optional(Thresholds),
  /**
   * strict-priority bands of the host's egress for unlimited traffic, by DSCP: band 0 (served first) = the
   * DSCPs of hostBands[0], …; other DSCPs go to a last band (the switches' queues mirrored at the host, so a
   * priority class holds on the host link too: Aalo, SIGCOMM 2015, §4); absent: one FIFO
   */
  hostBands: Type.Optional(Type.Array(Type.Array(Type.Integer({ minimum: 0, maximum: 63 }), { maxItems: 64 }), { maxItems: 7 })),
}, { additionalProperties: false });
export type WelcomeMsg = Static<typeof WelcomeMsg>;

/** One tenant's aggregate limit at a host, bit/s; null: no limit (see {@link RatesMsg} `tenants`). */
export const TenantRate = Type.Object({
  tenant: Type.String({ minLength: 1, maxLength: 128 }),
  rateBps: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()]),
}, { additionalProperties: false });
export type TenantRate = Static<typeof TenantRate>;

/** Rate updates: `set` limits a flowlet to rateBps (HTB class), `clear` removes its limit. */
export const RatesMsg = Type.Object({
  type: Type.Literal('rates'),
  seq: Type.Integer({ minimum: 0 }),
  set: Type.Array(Type.Object({
    id: FlowletId,
    rateBps: Type.Number({ exclusiveMinimum: 0 }),
    /**
     * The flowlet may borrow its host link's unused capacity up to this rate, bit/s (HTB ceil above the
     * rate; absent: ceil = rate, a hard limit). Optional, so version 1 stays (controller and agents are
     * upgraded together).
     */
    ceilBps: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** DSCP to mark the flowlet with (absent: the agent's own Karuna class) */
    dscp: Type.Optional(Type.Integer({ minimum: 0, maximum: 63 })),
  }, { additionalProperties: false }), { maxItems: 100_000 }),
  clear: Type.Array(FlowletId, { maxItems: 100_000 }),
  /**
   * Per-tenant aggregates at this host (BwE §4: a group's allocation is enforced at the sending host as
   * one limit, not per flow): `rateBps` bounds the sum of the tenant's declared flows from this host (one
   * HTB class), `null` removes the limit. Absent: no change. Optional, so version 1 stays (an agent that
   * predates the field rejects a message carrying it: controller and agents are upgraded together).
   */
  tenants: Type.Optional(Type.Array(TenantRate, { maxItems: 10_000 })),
}, { additionalProperties: false });
export type RatesMsg = Static<typeof RatesMsg>;

export const ThresholdsMsg = Type.Object({ type: Type.Literal('thresholds'), thresholds: Thresholds }, { additionalProperties: false });
export type ThresholdsMsg = Static<typeof ThresholdsMsg>;

/** The controller's challenge: prove you hold the secret of the agent id you said hello as. */
export const ChallengeMsg = Type.Object({
  type: Type.Literal('challenge'),
  /** 32 random octets, hex */
  nonce: Type.String({ pattern: '^[0-9a-f]{64}$' }),
}, { additionalProperties: false });
export type ChallengeMsg = Static<typeof ChallengeMsg>;

/** The agent's answer to a challenge: `mac` = agentAuthMac(secret, agentId, nonce), hex. */
export const AuthMsg = Type.Object({
  type: Type.Literal('auth'),
  agentId: Type.String({ minLength: 1, maxLength: 128 }),
  mac: Type.String({ pattern: '^[0-9a-f]{64}$' }),
}, { additionalProperties: false });
export type AuthMsg = Static<typeof AuthMsg>;

export const AgentMessage = Type.Union([HelloMsg, EventsMsg, PingMsg, ErrorMsg, AuthMsg]);
export type AgentMessage = Static<typeof AgentMessage>;
export const ControllerMessage = Type.Union([WelcomeMsg, RatesMsg, ThresholdsMsg, PingMsg, ErrorMsg, ChallengeMsg]);
export type ControllerMessage = Static<typeof ControllerMessage>;

/** Largest message accepted, bytes (a line / a frame). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** A message that is not JSON, too large, or not one of the protocol's shapes. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const BY_TYPE_AGENT: Record<string, TSchema> = { hello: HelloMsg, events: EventsMsg, ping: PingMsg, error: ErrorMsg, auth: AuthMsg };
const BY_TYPE_CONTROLLER: Record<string, TSchema> = { welcome: WelcomeMsg, rates: RatesMsg, thresholds: ThresholdsMsg, ping: PingMsg, error: ErrorMsg, challenge: ChallengeMsg };

const checks = new Map<TSchema, TypeCheck<TSchema>>();
function compiled(schema: TSchema): TypeCheck<TSchema> {
  let c = checks.get(schema);
  if (!c) checks.set(schema, (c = TypeCompiler.Compile(schema)));
  return c;
}

function parseWith<T>(text: string, byType: Record<string, TSchema>, side: string): T {
  if (text.length > MAX_MESSAGE_BYTES) throw new ProtocolError(`${side} message of ${text.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError(`${side} message is not JSON: ${(err as Error).message}`);
  }
  const type = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
  const schema = typeof type === 'string' ? byType[type] : undefined;
  if (!schema) throw new ProtocolError(`${side} message has unknown type ${JSON.stringify(type)} (expected one of ${Object.keys(byType).join('|')})`);
  // compiled check first (fast: a batch of 1000 events must not hold the event loop); errors only on failure
  if (compiled(schema).Check(v)) return v as T;
  const first = Value.Errors(schema, v).First();
  throw new ProtocolError(`${side} ${String(type)} message: ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}`);
}

/** Parses and validates one agent → controller message. @throws ProtocolError naming the bad field */
export function parseAgentMessage(text: string): AgentMessage {
  return parseWith<AgentMessage>(text, BY_TYPE_AGENT, 'agent');
}

/** Parses and validates one controller → agent message. @throws ProtocolError naming the bad field */
export function parseControllerMessage(text: string): ControllerMessage {
  return parseWith<ControllerMessage>(text, BY_TYPE_CONTROLLER, 'controller');
}

/** One NDJSON line of a message. */
export function encodeLine(msg: AgentMessage | ControllerMessage): string {
  return `${JSON.stringify(msg)}\n`;
}

/** µs since the epoch, from the wall clock with sub-ms precision. */
export function nowEpochUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * The channel address of `--controller`: `unix:/path` (or a bare absolute path), or `ws://host:port/path`
 * / `wss://…` (default path /api/v1/agents/ws). @throws RangeError for anything else
 */
export type ChannelAddress = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'ws'; readonly url: string };

export const AGENT_WS_PATH = '/api/v1/agents/ws';

export function parseChannelAddress(s: string): ChannelAddress {
  if (s.startsWith('unix:')) {
    const path = s.slice(5).replace(/^\/\/(?=\/)/, '');
    if (!path.startsWith('/')) throw new RangeError(`--controller ${s}: a unix socket path must be absolute`);
    return { kind: 'unix', path };
  }
  if (s.startsWith('/')) return { kind: 'unix', path: s };
  if (/^wss?:\/\//.test(s) || /^https?:\/\//.test(s)) {
    const u = new URL(s.replace(/^http/, 'ws'));
    if (u.pathname === '/' || u.pathname === '') u.pathname = AGENT_WS_PATH;
    return { kind: 'ws', url: u.toString() };
  }
  throw new RangeError(`--controller ${s}: expected unix:/path/to.sock, ws://host:port[/path] or http://host:port`);
}

/**
 * The proof of an agent's identity: HMAC-SHA256 under `secret` of "rivulet-agent-auth-v1", the agent
 * id and the controller's nonce (RFC 2104), lowercase hex (64 digits).
 */
export function agentAuthMac(secret: string, agentId: string, nonceHex: string): string {
  return createHmac('sha256', secret).update(`rivulet-agent-auth-v1\n${agentId}\n${nonceHex}`).digest('hex');
}

/** Constant-time check of an `auth` mac against the expected one. */
export function agentAuthValid(secret: string, agentId: string, nonceHex: string, macHex: string): boolean {
  const want = Buffer.from(agentAuthMac(secret, agentId, nonceHex), 'hex');
  const got = Buffer.from(macHex, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
