/**
 * agent/channel.ts against an in-process unix-socket controller (NDJSON): hello on every connect,
 * batched events, acknowledgements that wait for other events, reconnect after the controller drops
 * the connection, heartbeat loss, an invalid message answered with `error` and a reconnect; and the
 * back-off schedule on a fake clock.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock.js';
import { quietLogger } from '../../../lib/log.js';
import { AgentChannel, backoffDelayMs, LineSplitter, type ChannelOptions } from '../../../agent/channel.js';
import { encodeLine, nowEpochUs, parseAgentMessage, type AgentMessage, type ControllerMessage, type HelloMsg } from '../../../protocol/agent.js';
import { until } from '../../../testing/until.js';

const log = quietLogger();
const WELCOME = { type: 'welcome', agentId: 'h1', heartbeatMs: 1000, smallFlowletBytes: 50_000 } as const;

/** A fake controller: records what each connection received, answers hello with `welcome` (or what `onHello` says). */
class FakeController {
  readonly server: Server;
  readonly conns: { sock: Socket; got: AgentMessage[] }[] = [];
  onHello: (c: { sock: Socket }) => void = (c) => c.sock.write(encodeLine(WELCOME));

  constructor(readonly path: string) {
    this.server = createServer((sock) => {
      const c = { sock, got: [] as AgentMessage[] };
      this.conns.push(c);
      const split = new LineSplitter();
      sock.on('data', (d: Buffer) => {
        for (const l of split.push(d)) {
          const m = parseAgentMessage(l);
          c.got.push(m);
          if (m.type === 'hello') this.onHello(c);
        }
      });
      sock.on('error', () => undefined);
    });
  }

  listen(): Promise<void> {
    return new Promise((res) => this.server.listen(this.path, res));
  }

  close(): Promise<void> {
    for (const c of this.conns) c.sock.destroy();
    return new Promise((res) => this.server.close(() => res()));
  }

  all(type: string): AgentMessage[] {
    return this.conns.flatMap((c) => c.got.filter((m) => m.type === type));
  }
}

const hello = (n: number): HelloMsg => ({
  type: 'hello', version: 1, agentId: 'h1', hostname: 'h1', interface: 'h1-eth0', ipv4: ['10.0.0.1'],
  active: Array.from({ length: n }, (_, i) => ({ id: `f${i + 1}`, flow: { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 40000 + i, dport: 5001 }, firstPacketEpochUs: 1, bytes: 100 })),
});

describe('agent: channel client (unix socket, NDJSON)', function () {
  this.timeout(10_000);
  let dir: string;
  let ctl: FakeController;
  let ch: AgentChannel | undefined;
  const got: ControllerMessage[] = [];
  let ups = 0;
  let downs = 0;
  let active = 0;

  const open = (extra: Partial<ChannelOptions> = {}): AgentChannel => {
    ch = new AgentChannel({
      address: { kind: 'unix', path: ctl.path }, log, nowEpochUs, hello: () => hello(active),
      onMessage: (m) => got.push(m), onUp: () => ups++, onDown: () => downs++, backoffInitialMs: 10, backoffMaxMs: 40, ...extra,
    });
    ch.start();
    return ch;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rvag-ch-'));
    ctl = new FakeController(join(dir, 'agents.sock'));
    await ctl.listen();
    got.length = 0;
    ups = downs = active = 0;
  });

  afterEach(async () => {
    ch?.close();
    ch = undefined;
    await ctl.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends hello, goes up on welcome, batches events into one message', async () => {
    active = 2;
    open();
    await until('welcome', () => ch!.up);
    expect(ups).to.equal(1);
    expect((ctl.all('hello')[0] as HelloMsg).active).to.have.length(2);
    expect(got[0]).to.deep.include({ type: 'welcome' });
    const flow = { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 1, dport: 2 };
    ch!.addStart({ id: 'f9', flow, firstPacketEpochUs: 5, bytes: 1500 });
    ch!.addProgress({ id: 'f9', bytes: 60_000, atEpochUs: 6 });
    ch!.addEnforced({ id: 'f9', rateBps: 1e6, atEpochUs: 7 });
    ch!.addEnd({ id: 'f9', lastPacketEpochUs: 8, bytes: 70_000 });
    await until('events', () => ctl.all('events').length === 1);
    await new Promise((r) => setTimeout(r, 40));
    const ev = ctl.all('events');
    expect(ev).to.have.length(1);
    expect(ev[0]).to.deep.include({ seq: 0 });
    expect(ev[0]).to.have.nested.property('starts[0].id', 'f9');
    expect(ev[0]).to.have.nested.property('enforced[0].rateBps', 1e6);
  });

  it('an enforced acknowledgement alone waits; a start takes it along at once', async () => {
    open({ flushMs: 0 });
    await until('welcome', () => ch!.up);
    ch!.addEnforced({ id: 'f2', rateBps: 2e6, atEpochUs: 8 });
    await new Promise((r) => setTimeout(r, 50));
    expect(ctl.all('events'), 'held: nothing to ride with yet').to.have.length(0);
    ch!.addStart({ id: 'f3', flow: { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 1, dport: 2 }, firstPacketEpochUs: 9, bytes: 100 });
    await until('start with the ack', () => ctl.all('events').length === 1, 100);
    const ev = ctl.all('events')[0]!;
    expect(ev).to.have.nested.property('enforced[0].id', 'f2');
    expect(ev).to.have.nested.property('starts[0].id', 'f3');
  });

  it('by default a lone acknowledgement rides with the next heartbeat: no timer of its own', async () => {
    ctl.onHello = (c) => c.sock.write(encodeLine({ ...WELCOME, heartbeatMs: 300 }));
    open({ flushMs: 0 });
    await until('welcome', () => ch!.up);
    const pings0 = ctl.all('ping').length;
    ch!.addEnforced({ id: 'f1', rateBps: 1e6, atEpochUs: 7 });
    await new Promise((r) => setTimeout(r, 150));
    expect(ctl.all('events'), 'held: nothing to ride with yet').to.have.length(0);
    await until('the ack at the heartbeat', () => ctl.all('events').length === 1, 1000);
    expect(ctl.all('ping').length, 'the acknowledgement stood for the ping').to.equal(pings0);
    expect(ctl.all('events')[0]).to.have.nested.property('enforced[0].id', 'f1');
  });

  it('a deferrable end waits for the next message or heartbeat; an end that is not goes at once', async () => {
    ctl.onHello = (c) => c.sock.write(encodeLine({ ...WELCOME, heartbeatMs: 300 }));
    open({ flushMs: 0 });
    await until('welcome', () => ch!.up);
    ch!.addEnd({ id: 'f1', lastPacketEpochUs: 7, bytes: 1200 }, true);
    ch!.addEnd({ id: 'f2', lastPacketEpochUs: 8, bytes: 900 }, true);
    await new Promise((r) => setTimeout(r, 100));
    expect(ctl.all('events'), 'held: nothing to ride with yet').to.have.length(0);
    ch!.addEnd({ id: 'f3', lastPacketEpochUs: 9, bytes: 80_000 });
    await until('the urgent end, with the held ones', () => ctl.all('events').length === 1, 200);
    expect((ctl.all('events')[0] as { ends: { id: string }[] }).ends.map((e) => e.id)).to.deep.equal(['f1', 'f2', 'f3']);
    ch!.addEnd({ id: 'f4', lastPacketEpochUs: 10, bytes: 100 }, true);
    await until('the held end at the heartbeat', () => ctl.all('events').length === 2, 1000);
    expect(ctl.all('events')[1]).to.have.nested.property('ends[0].id', 'f4');
  });

  it('a ping goes out only after a heartbeat period in which nothing was sent', async () => {
    ctl.onHello = (c) => c.sock.write(encodeLine({ ...WELCOME, heartbeatMs: 100 }));
    open({ flushMs: 0 });
    await until('welcome', () => ch!.up);
    const flow = { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 1, dport: 2 };
    const t0 = Date.now();
    // events every 40 ms for 0.6 s: no ping needed
    for (let i = 0; Date.now() - t0 < 600; i++) {
      ch!.addStart({ id: `f${i}`, flow, firstPacketEpochUs: i, bytes: 100 });
      await new Promise((r) => setTimeout(r, 40));
    }
    const busyPings = ctl.all('ping').length;
    expect(busyPings, 'at most the one before the first event').to.be.at.most(1);
    await until('pings when idle', () => ctl.all('ping').length >= busyPings + 2, 1000);
  });

  it('a large batch is flushed at once', async () => {
    open({ maxBatch: 3, flushMs: 60_000 });
    await until('welcome', () => ch!.up);
    for (let i = 0; i < 3; i++) ch!.addProgress({ id: `f${i}`, bytes: i, atEpochUs: 1 });
    await until('events', () => ctl.all('events').length === 1, 1000);
  });

  it('reconnects after the controller drops it and resyncs with a fresh hello', async () => {
    open();
    await until('welcome', () => ch!.up);
    active = 3;
    ctl.conns[0]!.sock.destroy();
    await until('second hello', () => ctl.all('hello').length === 2);
    await until('up again', () => ch!.up);
    expect(downs).to.equal(1);
    expect(ups).to.equal(2);
    expect((ctl.all('hello')[1] as HelloMsg).active.map((f) => f.id)).to.deep.equal(['f1', 'f2', 'f3']);
  });

  it('3 silent heartbeat periods drop the channel; pings are sent meanwhile', async () => {
    ctl.onHello = (c) => c.sock.write(encodeLine({ ...WELCOME, heartbeatMs: 20 }));
    open();
    await until('welcome', () => ch!.up);
    await until('reconnect after silence', () => ctl.all('hello').length >= 2, 2000);
    expect(ctl.conns[0]!.got.filter((m) => m.type === 'ping').length).to.be.at.least(2);
    expect(downs).to.be.at.least(1);
  });

  it('an invalid controller message is answered with error and the channel reconnects', async () => {
    let first = true;
    ctl.onHello = (c) => {
      c.sock.write(first ? '{"type":"rates","seq":-1,"set":[],"clear":[]}\n' : encodeLine(WELCOME));
      first = false;
    };
    open();
    await until('second hello', () => ctl.all('hello').length === 2);
    const err = ctl.conns[0]!.got.find((m) => m.type === 'error');
    expect(err).to.have.property('message').that.matches(/seq/);
    await until('up', () => ch!.up);
    expect(got.every((m) => m.type === 'welcome')).to.equal(true);
  });

  it('back-off: 100 ms doubling to 5 s, jittered within [d/2, d], on a fake clock', () => {
    expect([0, 1, 2, 5, 6, 20].map((a) => backoffDelayMs(a, 100, 5000, 1))).to.deep.equal([100, 200, 400, 3200, 5000, 5000]);
    expect(backoffDelayMs(3, 100, 5000, 0)).to.equal(400);
    const clock = new ManualClock();
    const attempts: number[] = [];
    const c = new AgentChannel({
      address: { kind: 'unix', path: '/nonexistent' }, log, clock, nowEpochUs, hello: () => hello(0), onMessage: () => undefined, random: () => 1,
      transport: (_a, h) => {
        attempts.push(clock.now());
        h.onClose('refused'); // fails at once (synchronously)
        return { send: () => undefined, close: () => undefined };
      },
    });
    c.start();
    clock.advance(20_000);
    c.close();
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps.slice(0, 8)).to.deep.equal([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });
});
