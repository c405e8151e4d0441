/**
 * The agents' sessions on the enforcement app's channels (agent-server.ts carries the bytes): who may
 * register as which agent — a hello registers at once, or is held behind an HMAC challenge on the
 * WebSocket, on the unix socket when `agents.auth.unix`, and whenever the agent id is already connected
 * elsewhere — the limits and address checks of agent-guard.ts, the `welcome` each registered agent gets,
 * and the hand-over of each admitted message to the {@link EnforcementCore} (hello, events, seen,
 * agentGone). Errors never escape: a refused channel is logged, counted and closed.
 */
import { randomBytes } from 'node:crypto';
import { agentAuthValid, type AgentMessage, type HelloMsg, type Thresholds, type WelcomeMsg } from '../../protocol/agent.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { TopologyView } from '../../topology/types.js';
import { AgentGuard, type AgentRejectReason } from './agent-guard.js';
import type { AgentChannel } from './agent-server.js';
import type { EnforcementConfig } from './config.js';
import type { EnforcementCore } from './core.js';
import type { Now } from './types.js';

export interface AgentSessionsOptions {
  readonly core: EnforcementCore;
  readonly config: EnforcementConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly topology: TopologyView;
  /** the Karuna classes pushed in `welcome` (app.ts agentThresholds) */
  readonly thresholds: Thresholds | undefined;
  /** strict-priority bands by DSCP for the agents' host egress (fca priority enforcement), band 0 first */
  readonly hostBands?: readonly (readonly number[])[];
  /** the time of an event (injected clock ms, wall clock µs) */
  readonly now: () => Now;
  /** an allocation run after the current batch of messages */
  readonly schedule: () => void;
  /** the app is stopping: messages are ignored */
  readonly stopped: () => boolean;
}

export class AgentSessions {
  private readonly log: Logger;
  private readonly byAgent = new Map<string, AgentChannel>();
  private readonly guard: AgentGuard;
  /** channels waiting for their `auth` (hello held, nonce sent), and the agent id each proved */
  private readonly challenges = new Map<AgentChannel, { hello: HelloMsg; nonce: string; timer: TimerHandle }>();
  private readonly authenticated = new Map<AgentChannel, string>();
  /** last `error` sent per channel for rejected items, ms (one a second at most) */
  private readonly lastRejectNotice = new Map<AgentChannel, number>();

  constructor(private readonly opts: AgentSessionsOptions) {
    const c = opts.config;
    this.log = opts.log;
    this.guard = new AgentGuard(
      { maxActiveFlowletsPerAgent: c.agents.maxActiveFlowletsPerAgent, maxEventsPerSecond: c.agents.maxEventsPerSecond },
      (ip) => opts.topology.hostByIpv4(ip)?.mac,
    );
  }

  /** The open channel of agent `agentId`, if registered. */
  channel(agentId: string): AgentChannel | undefined {
    return this.byAgent.get(agentId);
  }

  /** Closes an agent's channel (REST, bearer token): false when it is not connected. */
  disconnect(agentId: string, reason: string): boolean {
    const ch = this.byAgent.get(agentId);
    if (!ch?.open) return false;
    this.log.warn({ event: 'agent_disconnected_by_api', agentId, reason }, 'agent disconnected through the REST API');
    ch.close(`disconnected by the operator: ${reason}`);
    return true;
  }

  /** Agent messages and items rejected (authentication, limits, foreign addresses), by reason. */
  rejectedCounts(): Record<AgentRejectReason, number> {
    return this.guard.rejectedCounts();
  }

  /** The `welcome` an agent gets. */
  welcome(agentId: string): WelcomeMsg {
    const c = this.opts.config;
    return {
      type: 'welcome', agentId, heartbeatMs: c.agents.heartbeatMs, smallFlowletBytes: c.allocator.smallFlowletBytes,
      ...(c.agents.idleGapMs !== undefined ? { idleGapMs: c.agents.idleGapMs } : {}),
      ...(this.opts.thresholds ? { thresholds: this.opts.thresholds } : {}),
      ...(this.opts.hostBands ? { hostBands: this.opts.hostBands.map((b) => [...b]) } : {}),
    };
  }

  /** Whether any agent secret is configured (the WebSocket channel is served only then). */
  authConfigured(): boolean {
    const a = this.opts.config.agents.auth;
    return a.sharedSecret !== undefined || Object.keys(a.secrets).length > 0;
  }

  /** The secret agent `id` must prove: its own, else the shared one. */
  private secretFor(id: string): string | undefined {
    const a = this.opts.config.agents.auth;
    return Object.hasOwn(a.secrets, id) ? a.secrets[id] : a.sharedSecret;
  }

  private refuse(ch: AgentChannel, reason: AgentRejectReason, message: string): void {
    this.guard.count(reason);
    this.log.warn({ event: 'agent_refused', channel: ch.id, kind: ch.kind, peer: ch.peer, reason }, message);
    ch.close(message);
  }

  /** A message of a channel (AgentServer's onMessage). */
  onMessage(ch: AgentChannel, msg: AgentMessage): void {
    if (this.opts.stopped()) return;
    switch (msg.type) {
      case 'hello':
        return this.onHello(ch, msg);
      case 'auth': {
        const pending = this.challenges.get(ch);
        if (!pending) return this.refuse(ch, 'unauthenticated', 'auth without a challenge');
        this.challenges.delete(ch);
        this.opts.clock.clearTimeout(pending.timer);
        const secret = this.secretFor(pending.hello.agentId);
        if (msg.agentId !== pending.hello.agentId || secret === undefined || !agentAuthValid(secret, msg.agentId, pending.nonce, msg.mac)) {
          return this.refuse(ch, 'unauthenticated', `authentication as agent ${pending.hello.agentId} failed`);
        }
        this.authenticated.set(ch, msg.agentId);
        this.log.info({ event: 'agent_authenticated', channel: ch.id, kind: ch.kind, agentId: msg.agentId }, 'agent authenticated');
        return this.register(ch, pending.hello);
      }
      case 'events': {
        if (ch.agentId === undefined) {
          ch.close('events before hello');
          return;
        }
        const f = this.guard.events(ch.agentId, msg, this.opts.clock.now());
        this.noticeRejected(ch, f.rejected);
        const v = f.value;
        if (v.starts.length + v.progress.length + v.ends.length + v.enforced.length === 0) return;
        // allocate at flowlet starts and ends; plain progress waits for the periodic run
        if (this.opts.core.events(ch.agentId, v, this.opts.now()) || this.opts.config.allocator.runOnProgress) this.opts.schedule();
        return;
      }
      case 'ping':
        if (ch.agentId !== undefined) this.opts.core.seen(ch.agentId, this.opts.now());
        return;
      case 'error':
        this.log.warn({ event: 'agent_error', agentId: ch.agentId, message: msg.message }, 'agent reported an error');
        return;
    }
  }

  /**
   * A hello: registered at once, or held behind a challenge when the channel must authenticate — always
   * on the WebSocket, on the unix socket when `agents.auth.unix`, and whenever the agent id is already
   * connected on another channel (only the agent itself may take its id over).
   */
  private onHello(ch: AgentChannel, msg: HelloMsg): void {
    if (ch.agentId !== undefined && ch.agentId !== msg.agentId) {
      ch.close('one agent per channel: a second hello with another agentId');
      return;
    }
    if (this.challenges.has(ch)) return this.refuse(ch, 'unauthenticated', 'a second hello before answering the challenge');
    const id = msg.agentId;
    const prev = this.byAgent.get(id);
    const idInUse = prev !== undefined && prev !== ch && prev.open;
    const must = ch.kind === 'ws' || this.opts.config.agents.auth.unix || idInUse;
    if (!must || this.authenticated.get(ch) === id) return this.register(ch, msg);
    const secret = this.secretFor(id);
    if (secret === undefined) {
      return idInUse
        ? this.refuse(ch, 'idInUse', `agent ${id} is connected on another channel; a second connection must authenticate as it, and no secret is configured for it`)
        : this.refuse(ch, 'unauthenticated', `agent ${id} must authenticate on this channel and no secret is configured for it`);
    }
    const nonce = randomBytes(32).toString('hex');
    const timeoutMs = this.opts.config.agents.auth.timeoutMs;
    const timer = this.opts.clock.setTimeout(() => {
      if (this.challenges.delete(ch)) this.refuse(ch, 'unauthenticated', `no auth within ${timeoutMs} ms of the challenge`);
    }, timeoutMs);
    this.challenges.set(ch, { hello: msg, nonce, timer });
    ch.send({ type: 'challenge', nonce });
  }

  /** An admitted hello: limits, address checks (agent-guard.ts), the allocator resync, `welcome`. */
  private register(ch: AgentChannel, msg: HelloMsg): void {
    const id = msg.agentId;
    const prev = this.byAgent.get(id);
    if (!prev && this.byAgent.size >= this.opts.config.agents.maxAgents) {
      return this.refuse(ch, 'agentLimit', `agent limit reached (${this.opts.config.agents.maxAgents} agents)`);
    }
    if (prev && prev !== ch) {
      prev.agentId = undefined; // replaced: its close is not the agent going away
      prev.close(`replaced by an authenticated connection of agent ${id}`);
    }
    const f = this.guard.hello(msg, this.opts.clock.now());
    if (f.droppedAddresses.length > 0) {
      this.log.warn({ event: 'agent_addresses_refused', agentId: id, addresses: f.droppedAddresses }, 'addresses the host table places at another MAC are not registered for this agent');
    }
    ch.agentId = id;
    this.byAgent.set(id, ch);
    this.opts.core.hello(f.value, this.opts.now());
    ch.send(this.welcome(id));
    this.noticeRejected(ch, f.rejected);
    this.opts.schedule();
  }

  /** Tells the agent (at most once a second) what was rejected; counted in agent-guard.ts. */
  private noticeRejected(ch: AgentChannel, rejected: Partial<Record<AgentRejectReason, number>>): void {
    const parts = Object.entries(rejected).filter(([, n]) => (n ?? 0) > 0).map(([r, n]) => `${r} ${n}`);
    if (parts.length === 0) return;
    const now = this.opts.clock.now();
    const last = this.lastRejectNotice.get(ch);
    if (last !== undefined && now - last < 1000) return;
    this.lastRejectNotice.set(ch, now);
    this.log.warn({ event: 'agent_items_rejected', agentId: ch.agentId, rejected }, `agent items rejected: ${parts.join(', ')}`);
    ch.send({ type: 'error', message: `rejected, not stored: ${parts.join(', ')}` });
  }

  /** A channel closed (AgentServer's onClose). */
  onClose(ch: AgentChannel): void {
    const pending = this.challenges.get(ch);
    if (pending) this.opts.clock.clearTimeout(pending.timer);
    this.challenges.delete(ch);
    this.authenticated.delete(ch);
    this.lastRejectNotice.delete(ch);
    const id = ch.agentId;
    if (id === undefined || this.byAgent.get(id) !== ch) return;
    this.byAgent.delete(id);
    this.guard.gone(id);
    if (this.opts.stopped()) return;
    this.opts.core.agentGone(id, this.opts.now());
    this.opts.schedule();
  }
}
