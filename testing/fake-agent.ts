/**
 * A fake host agent on the controller's unix agent socket: NDJSON both ways (protocol/agent.ts), every
 * controller message kept, pings answered so the channel stays alive.
 */
import { connect, type Socket } from 'node:net';
import { encodeLine, parseControllerMessage, type AgentMessage, type ControllerMessage } from '../protocol/agent.js';

/** A fake agent on the unix socket: NDJSON both ways. */
export class FakeAgent {
  readonly received: ControllerMessage[] = [];
  closed = false;
  private buf = '';

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (!line.trim()) continue;
        const m = parseControllerMessage(line);
        this.received.push(m);
        if (m.type === 'ping') this.send({ type: 'ping', atEpochUs: Math.round(Date.now() * 1000) }); // keeps the channel alive
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  static connect(path: string): Promise<FakeAgent> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new FakeAgent(s)));
      s.once('error', reject);
    });
  }

  send(m: AgentMessage): void {
    this.socket.write(encodeLine(m));
  }

  of<T extends ControllerMessage['type']>(type: T): Extract<ControllerMessage, { type: T }>[] {
    return this.received.filter((m): m is Extract<ControllerMessage, { type: T }> => m.type === type);
  }
}

