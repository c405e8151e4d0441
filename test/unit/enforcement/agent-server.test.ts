/**
 * The agent channel server (apps/enforcement/agent-server.ts) on real unix sockets in a temp directory:
 * NDJSON split at any byte, bad and oversized messages close only their channel, heartbeat pings and the
 * drop after 3 silent periods (manual clock), the socket file's life (stale removed, live one respected,
 * removed at close).
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLine, MAX_MESSAGE_BYTES, type AgentMessage } from '../../../protocol/agent.js';
import { AgentServer, type AgentChannel } from '../../../apps/enforcement/agent-server.js';
import { ManualClock } from '../../../lib/clock.js';
import { quietLogger } from '../../../lib/log.js';
import { until as untilHolds } from '../../../testing/until.js';

const until = (what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> => untilHolds(what, check, timeoutMs);

interface Client {
  readonly socket: Socket;
  lines: string[];
  closed: boolean;
}

function client(path: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const c: Client = { socket, lines: [], closed: false };
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      c.lines.push(...parts);
    });
    socket.on('close', () => (c.closed = true));
    socket.on('error', () => (c.closed = true));
    socket.once('connect', () => resolve(c));
    socket.once('error', reject);
  });
}

const hello = (agentId: string): AgentMessage => ({ type: 'hello', version: 1, agentId, hostname: agentId, interface: 'eth0', ipv4: ['10.0.0.1'], active: [] });

describe('enforcement: agent server (unix socket)', () => {
  let dir: string;
  let path: string;
  let clock: ManualClock;
  let server: AgentServer;
  let got: { ch: AgentChannel; msg: AgentMessage }[];
  let closedChannels: AgentChannel[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-agents-'));
    path = join(dir, 'a', 'b', 'agents.sock');
    clock = new ManualClock(0);
    got = [];
    closedChannels = [];
    server = new AgentServer({
      log: quietLogger(), clock, heartbeatMs: 100,
      onMessage: (ch, msg) => got.push({ ch, msg }),
      onClose: (ch) => closedChannels.push(ch),
    });
    expect(await server.listenUnix(path)).to.equal(true);
  });

  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads NDJSON split at every byte and several messages per chunk', async () => {
    const c = await client(path);
    const text = encodeLine(hello('h1')) + encodeLine({ type: 'ping', atEpochUs: 1 });
    for (const ch of text) c.socket.write(ch);
    await until('2 messages', () => got.length === 2);
    expect(got.map((g) => g.msg.type)).to.deep.equal(['hello', 'ping']);
    c.socket.write(encodeLine({ type: 'ping', atEpochUs: 2 }) + encodeLine({ type: 'ping', atEpochUs: 3 }));
    await until('4 messages', () => got.length === 4);
    c.socket.destroy();
  });

  it('a bad message gets `error` and closes that channel only', async () => {
    const good = await client(path);
    const bad = await client(path);
    good.socket.write(encodeLine(hello('good')));
    bad.socket.write('this is not json\n');
    await until('bad closed', () => bad.closed);
    expect(JSON.parse(bad.lines[0]!)).to.deep.include({ type: 'error' });
    expect(JSON.parse(bad.lines[0]!).message).to.match(/not JSON/);
    await until('good delivered', () => got.length === 1);
    expect(good.closed).to.equal(false);
    expect(server.size).to.equal(1);
    expect(closedChannels).to.have.length(1);
    good.socket.destroy();
  });

  it('an over-long line without a newline closes the channel', async () => {
    const c = await client(path);
    c.socket.write(Buffer.alloc(MAX_MESSAGE_BYTES + 1024, 0x20));
    await until('closed', () => c.closed, 10_000);
    expect(c.lines.some((l) => /exceeds/.test(l))).to.equal(true);
  });

  it('pings every heartbeat; drops a channel silent for 3 periods', async () => {
    const c = await client(path);
    await until('open', () => server.size === 1);
    clock.advance(100);
    await until('ping', () => c.lines.length === 1);
    expect(JSON.parse(c.lines[0]!).type).to.equal('ping');
    c.socket.write(encodeLine({ type: 'ping', atEpochUs: 1 }));
    await until('heard', () => got.length === 1);
    clock.advance(300);
    expect(c.closed).to.equal(false);
    clock.advance(100); // 400 ms silent > 3 × 100
    await until('dropped', () => c.closed);
    expect(c.lines.some((l) => /heartbeat/.test(l))).to.equal(true);
  });

  it('pings only a channel it sent nothing for half a heartbeat period', async () => {
    const c = await client(path);
    await until('open', () => server.size === 1);
    c.socket.write(encodeLine(hello('h1')));
    await until('heard', () => got.length === 1);
    clock.advance(60);
    got[0]!.ch.send({ type: 'rates', seq: 0, set: [], clear: [] });
    await until('rates', () => c.lines.length === 1);
    clock.advance(40); // the beat at 100 ms: the rates went out 40 ms before, under half a period
    await new Promise((r) => setTimeout(r, 50));
    expect(c.lines, 'no ping after the rates').to.have.length(1);
    c.socket.write(encodeLine({ type: 'ping', atEpochUs: 1 }));
    await until('heard again', () => got.length === 2);
    clock.advance(100); // the beat at 200 ms: 140 ms since the rates
    await until('ping', () => c.lines.length === 2);
    expect(c.lines.map((l) => (JSON.parse(l) as { type: string }).type)).to.deep.equal(['rates', 'ping']);
  });

  it('removes the socket file at close, and a stale one at start; leaves a live one alone', async () => {
    await server.close();
    expect(existsSync(path)).to.equal(false);
    writeFileSync(path, 'stale');
    server = new AgentServer({ log: quietLogger(), clock, heartbeatMs: 100, onMessage: () => {}, onClose: () => {} });
    expect(await server.listenUnix(path)).to.equal(true);
    const other = new AgentServer({ log: quietLogger(), clock, heartbeatMs: 100, onMessage: () => {}, onClose: () => {} });
    expect(await other.listenUnix(path), 'in use by a live server').to.equal(false);
    await other.close();
    expect(existsSync(path), 'the live server keeps its file').to.equal(true);
    const c = await client(path);
    await until('accepted', () => server.size === 1);
    c.socket.destroy();
  });

  it('never throws for an unusable path', async () => {
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    const s = new AgentServer({ log: quietLogger(), clock, heartbeatMs: 100, onMessage: () => {}, onClose: () => {} });
    expect(await s.listenUnix(join(blocker, 'agents.sock'))).to.equal(false);
    await s.close();
    // and a path another (non-agent) server listens on is left alone
    const foreign = createServer(() => {});
    const p2 = join(dir, 'foreign.sock');
    await new Promise<void>((r) => foreign.listen(p2, r));
    const s2 = new AgentServer({ log: quietLogger(), clock, heartbeatMs: 100, onMessage: () => {}, onClose: () => {} });
    expect(await s2.listenUnix(p2)).to.equal(false);
    await s2.close();
    await new Promise((r) => foreign.close(r));
  });
});
