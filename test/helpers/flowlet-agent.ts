/**
 * A scripted host agent for loopback tests (the web view's): speaks the agent protocol (agent/protocol.ts, NDJSON) on the
 * controller's unix socket, answers pings, and reports flowlets (starts, progress with byte counts, so
 * the controller measures rates, and ends) exactly as `rivulet agent` would, without a capture.
 */
import { connect, type Socket } from 'node:net';
import { encodeLine, parseControllerMessage, type AgentMessage, type ControllerMessage, type FiveTuple } from '../../agent/protocol.js';

export interface FakeFlowlet {
  readonly id: string;
  readonly flow: FiveTuple;
  bytes: number;
  tenant?: string;
  /** when its bytes were last reported, µs since the epoch */
  lastAtEpochUs?: number;
}

export class FlowletAgent {
  readonly received: ControllerMessage[] = [];
  closed = false;
  private buf = '';
  private seq = 0;
  readonly flowlets = new Map<string, FakeFlowlet>();

  private constructor(readonly id: string, readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (!line.trim()) continue;
        const m = parseControllerMessage(line);
        if (m.type !== 'ping') this.received.push(m);
        if (m.type === 'ping') this.send({ type: 'ping', atEpochUs: epochUs() });
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  /** Connects and says hello (resolves once the `welcome` arrived). */
  static async connect(path: string, id: string, ipv4: string): Promise<FlowletAgent> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const sock = connect(path, () => resolve(sock));
      sock.once('error', reject);
    });
    const a = new FlowletAgent(id, s);
    a.send({ type: 'hello', version: 1, agentId: id, hostname: id, interface: `${id}-eth0`, ipv4: [ipv4], active: [] });
    const t0 = Date.now();
    while (!a.received.some((m) => m.type === 'welcome')) {
      if (a.closed || Date.now() - t0 > 5000) throw new Error(`fake agent ${id}: no welcome`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return a;
  }

  send(m: AgentMessage): void {
    this.socket.write(encodeLine(m));
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
    this.socket.destroy();
  }
}

function epochUs(): number {
  return Math.round(Date.now() * 1000);
}
