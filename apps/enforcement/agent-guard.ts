/**
 * What an agent may report, pure (no I/O; `nowMs` passed in). Agents are trusted only for their own
 * traffic, and within limits:
 * - **Addresses.** An agent registers the IPv4 addresses of its hello; an address the host table
 *   (topology) knows belongs to another MAC than the agent's is not registered. A flowlet whose source is
 *   not a registered address, or whose source the host table places at another MAC, is rejected.
 * - **Active flowlets.** At most `maxActiveFlowletsPerAgent` live at once per agent; further starts are
 *   rejected (the hello's resync list included).
 * - **Event rate.** A token bucket per agent: `maxEventsPerSecond` items (starts, progress, ends,
 *   acknowledgements) per second with a burst of one second. When a batch does not fit, ends and
 *   acknowledgements are kept first (they shrink state), then progress, then starts.
 * Rejected items are counted by reason and never reach the allocator's table. State per agent is dropped
 * when its channel closes (the allocator keeps its flowlets until they expire; a reconnect's hello
 * resyncs them through here again).
 */
import type { EventsMsg, FlowletStart, HelloMsg } from '../../protocol/agent.js';

export interface AgentLimits {
  readonly maxActiveFlowletsPerAgent: number;
  readonly maxEventsPerSecond: number;
}

export type AgentRejectReason =
  | 'foreignSource' // a flowlet whose source is not one of the agent's registered addresses
  | 'hostMismatch' // the host table places that address at another MAC
  | 'activeLimit' // over maxActiveFlowletsPerAgent
  | 'rateLimit' // over maxEventsPerSecond
  | 'agentLimit' // over agents.maxAgents
  | 'unauthenticated' // no or a wrong proof of identity
  | 'idInUse'; // a second connection for a connected agent id that did not authenticate as it

export const REJECT_REASONS: readonly AgentRejectReason[] = ['foreignSource', 'hostMismatch', 'activeLimit', 'rateLimit', 'agentLimit', 'unauthenticated', 'idInUse'];

/** The host table's answer for an address: the MAC of the host that has it (topology). */
export type HostMacOf = (ipv4: string) => string | undefined;

interface AgentState {
  readonly addresses: Set<string>;
  readonly mac: string | undefined;
  readonly active: Set<string>;
  tokens: number;
  lastMs: number;
}

/** Outcome of a filter: what passes, and how many items were rejected for each reason. */
export interface Filtered<T> {
  readonly value: T;
  readonly rejected: Partial<Record<AgentRejectReason, number>>;
}

export class AgentGuard {
  private readonly agents = new Map<string, AgentState>();
  private readonly counts = new Map<AgentRejectReason, number>(REJECT_REASONS.map((r) => [r, 0]));

  constructor(
    private readonly limits: AgentLimits,
    private readonly hostMacOf: HostMacOf,
  ) {}

  /** Rejections so far by reason (every reason present). */
  rejectedCounts(): Record<AgentRejectReason, number> {
    return Object.fromEntries(this.counts) as Record<AgentRejectReason, number>;
  }

  /** Counts rejections decided elsewhere (authentication, agent limit). */
  count(reason: AgentRejectReason, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }

  /** The addresses an agent registered (after the host-table check). */
  addresses(agentId: string): readonly string[] {
    return [...(this.agents.get(agentId)?.addresses ?? [])];
  }

  /**
   * Registers an agent from its hello (replacing any earlier registration of that id): the addresses
   * that do not contradict the host table, and the resync list filtered like starts (no rate limit: the
   * hello's size is bounded by the protocol). Returns the hello to hand to the allocator.
   */
  hello(hello: HelloMsg, nowMs: number): Filtered<HelloMsg> & { readonly droppedAddresses: readonly string[] } {
    const mac = hello.mac?.toLowerCase();
    const addresses = new Set<string>();
    const dropped: string[] = [];
    for (const ip of hello.ipv4) {
      const owner = this.hostMacOf(ip);
      if (owner !== undefined && owner !== mac) dropped.push(ip);
      else addresses.add(ip);
    }
    const st: AgentState = { addresses, mac, active: new Set(), tokens: this.limits.maxEventsPerSecond, lastMs: nowMs };
    this.agents.set(hello.agentId, st);
    const rejected: Partial<Record<AgentRejectReason, number>> = {};
    if (dropped.length > 0) this.tally(rejected, 'hostMismatch', dropped.length);
    const active = hello.active.filter((s) => this.admitStart(st, s, rejected));
    return { value: { ...hello, ipv4: [...addresses], active }, rejected, droppedAddresses: dropped };
  }

  /** The agent's channel closed: its state goes (a reconnect registers again). */
  gone(agentId: string): void {
    this.agents.delete(agentId);
  }

  /** Filters one `events` batch of a registered agent (an unregistered one gets everything rejected). */
  events(agentId: string, msg: EventsMsg, nowMs: number): Filtered<EventsMsg> {
    const rejected: Partial<Record<AgentRejectReason, number>> = {};
    const st = this.agents.get(agentId);
    const total = msg.ends.length + msg.enforced.length + msg.progress.length + msg.starts.length;
    if (!st) {
      this.tally(rejected, 'foreignSource', total);
      return { value: { ...msg, starts: [], progress: [], ends: [], enforced: [] }, rejected };
    }
    const rate = this.limits.maxEventsPerSecond;
    st.tokens = Math.min(rate, st.tokens + (Math.max(0, nowMs - st.lastMs) / 1000) * rate);
    st.lastMs = nowMs;
    const budget = (): boolean => {
      if (st.tokens < 1) {
        this.tally(rejected, 'rateLimit');
        return false;
      }
      st.tokens -= 1;
      return true;
    };
    const ends = msg.ends.filter((e) => {
      if (!budget()) return false;
      st.active.delete(e.id);
      return true;
    });
    const enforced = msg.enforced.filter(budget);
    const progress = msg.progress.filter(budget);
    const starts = msg.starts.filter((s) => budget() && this.admitStart(st, s, rejected));
    return { value: { ...msg, starts, progress, ends, enforced }, rejected };
  }

  private admitStart(st: AgentState, s: FlowletStart, rejected: Partial<Record<AgentRejectReason, number>>): boolean {
    if (!st.addresses.has(s.flow.src)) return this.tally(rejected, 'foreignSource');
    const owner = this.hostMacOf(s.flow.src);
    if (owner !== undefined && owner !== st.mac) return this.tally(rejected, 'hostMismatch');
    if (!st.active.has(s.id) && st.active.size >= this.limits.maxActiveFlowletsPerAgent) return this.tally(rejected, 'activeLimit');
    st.active.add(s.id);
    return true;
  }

  private tally(into: Partial<Record<AgentRejectReason, number>>, reason: AgentRejectReason, n = 1): false {
    into[reason] = (into[reason] ?? 0) + n;
    this.count(reason, n);
    return false;
  }
}
