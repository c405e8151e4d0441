/**
 * A scripted host agent for loopback tests (the web view's): speaks the agent protocol (protocol/agent.ts, NDJSON) on the
 * controller's unix socket, answers pings, and reports flowlets (starts, progress with byte counts, so
 * the controller measures rates, and ends) exactly as `rivulet agent` would, without a capture.
 */
import type { AgentMessage, ControllerMessage, FiveTuple } from '../protocol/agent.js';
import { FakeAgent } from './fake-agent.js';
import { until } from './until.js';

export interface FakeFlowlet {
  readonly id: string;
  readonly flow: FiveTuple;
  bytes: number;
  tenant?: string;
  /** when its bytes were last reported, µs since the epoch */
  lastAtEpochUs?: number;
}

/** A registered {@link FakeAgent} that also keeps its flowlets' byte counts. */
export class FlowletAgent {
  private seq = 0;
  readonly flowlets = new Map<string, FakeFlowlet>();

  private constructor(readonly id: string, private readonly agent: FakeAgent) {}

  /**
   * Connects and says hello (resolves once the `welcome` arrived). `mac`: the host's MAC, which the
   * controller checks against its host table before it accepts the address as the agent's.
   */
  static async connect(path: string, id: string, ipv4: string, mac?: string): Promise<FlowletAgent> {
    const agent = await FakeAgent.connect(path);
    agent.send({ type: 'hello', version: 1, agentId: id, hostname: id, interface: `${id}-eth0`, ipv4: [ipv4], ...(mac ? { mac } : {}), active: [] });
    await until(`fake agent ${id}: welcome`, () => {
      if (agent.closed) throw new Error(`fake agent ${id}: closed before its welcome`);
      return agent.of('welcome').length > 0;
    }, 5000, 10);
    return new FlowletAgent(id, agent);
  }

  /** Every controller message but pings. */
  get received(): ControllerMessage[] {
    return this.agent.received.filter((m) => m.type !== 'ping');
  }

  get closed(): boolean {
    return this.agent.closed;
  }

  send(m: AgentMessage): void {
    this.agent.send(m);
  }

  /** Reports flowlet starts (bytes so far ≥ the small-flowlet threshold makes them allocated). */
  start(fs: readonly FakeFlowlet[]): void {
    const now = epochUs();
    for (const f of fs) this.flowlets.set(f.id, { ...f, lastAtEpochUs: now });
    this.send({
      type: 'events', seq: ++this.seq, progress: [], ends: [], enforced: [],
      starts: fs.map((f) => ({ id: f.id, flow: f.flow, firstPacketEpochUs: now, bytes: f.bytes, ...(f.tenant ? { tenant: f.tenant } : {}) })),
    });
  }

  /**
   * Reports progress: each flowlet sent at `rateBps` since its last report (its start, else the last
   * progress), by the clock, so the controller measures exactly that rate however late the timer fired.
   */
  progress(ids: readonly string[], rateBps: number): void {
    const at = epochUs();
    const progress = ids.flatMap((id) => {
      const f = this.flowlets.get(id);
      if (!f) return [];
      f.bytes += Math.round((rateBps * (at - (f.lastAtEpochUs ?? at))) / 8e6);
      f.lastAtEpochUs = at;
      return [{ id, bytes: f.bytes, atEpochUs: at }];
    });
    this.send({ type: 'events', seq: ++this.seq, starts: [], progress, ends: [], enforced: [] });
  }

  end(ids: readonly string[]): void {
    const at = epochUs();
    const ends = ids.flatMap((id) => {
      const f = this.flowlets.get(id);
      this.flowlets.delete(id);
      return f ? [{ id, lastPacketEpochUs: at, bytes: f.bytes }] : [];
    });
    this.send({ type: 'events', seq: ++this.seq, starts: [], progress: [], ends, enforced: [] });
  }

  close(): void {
    this.agent.socket.destroy();
  }
}

function epochUs(): number {
  return Math.round(Date.now() * 1000);
}
