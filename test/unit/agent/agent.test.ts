/**
 * agent/agent.ts on a fake clock with recording writers: rates → tc lines and `enforced` acks at the
 * write time; a flowlet end removes its class/filter; the BwE §6.5 fallback timeline (limits kept for
 * the grace period, then all removed; left on the next welcome); the resync hello carries the active
 * flowlets; overrides (controller DSCP, declared size) in the nft map; kernel detection (logged starts,
 * polls of the live set); stop removes the qdisc and the nft table.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../lib/clock.js';
import { quietLogger } from '../../../lib/log.js';
import { HostAgent, type EventSink } from '../../../agent/agent.js';
import type { Enforced, FiveTuple, FlowletEnd, FlowletProgress, FlowletStart, WelcomeMsg } from '../../../protocol/agent.js';

const T0 = 1_700_000_000_000_000;
const F: FiveTuple = { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 40000, dport: 5001 };
const WELCOME: WelcomeMsg = {
  type: 'welcome', agentId: 'h1', heartbeatMs: 1000, smallFlowletBytes: 3000,
  thresholds: { thresholdsBytes: [10_000], dscpByPriority: [46, 0] },
};

class Recorder implements EventSink {
  starts: FlowletStart[] = [];
  progress: FlowletProgress[] = [];
  ends: FlowletEnd[] = [];
  /** ids of the ends passed as deferrable */
  deferred: string[] = [];
  enforced: Enforced[] = [];
  addStart(s: FlowletStart): void { this.starts.push(s); }
  addProgress(p: FlowletProgress): void { this.progress.push(p); }
  addEnd(e: FlowletEnd, deferrable?: boolean): void {
    this.ends.push(e);
    if (deferrable === true) this.deferred.push(e.id);
  }
  addEnforced(e: Enforced): void { this.enforced.push(e); }
}

function setup(graceMs = 10_000, detector: 'packets' | 'kernel' = 'packets', listing: () => string = () => '{"nftables": []}') {
  const clock = new ManualClock();
  const now = (): number => T0 + Math.round(clock.now() * 1000);
  const tcLines: string[][] = [];
  const nftBatches: string[][] = [];
  const events = new Recorder();
  const agent = new HostAgent(
    { agentId: 'h1', hostname: 'h1', interface: 'h1-eth0', ipv4: ['10.0.0.1'], linkRateBps: 100e6, graceMs, idleGapMs: 100, tickMs: 20, detector, pollMs: 20, smallPollMs: 20 },
    {
      clock, nowEpochUs: now, log: quietLogger(), events,
      tc: { write: (l) => (tcLines.push([...l]), now()) },
      nft: {
        available: true,
        run: async (l: readonly string[]) => {
          nftBatches.push([...l]);
          return { ok: true, output: l[0]?.startsWith('list') ? [listing()] : [] };
        },
      },
    },
  );
  /** sends `n` full packets of `flow`, one per ms, advancing the clock */
  const send = (n: number, flow: FiveTuple = F): void => {
    for (let i = 0; i < n; i++) {
      agent.packet({ tsUs: now(), flow, ipBytes: 1500, payloadBytes: 1448 });
      clock.advance(1);
    }
  };
  const tcText = (): string => tcLines.flat().join('\n');
  return { clock, now, agent, events, tcLines, nftBatches, send, tcText };
}

describe('agent: orchestrator on a fake clock', () => {
  it('start installs the HTB root and the nft table; stop removes both', async () => {
    const s = setup();
    await s.agent.start();
    expect(s.tcLines[0]![0]).to.equal('qdisc replace dev h1-eth0 root handle 1: htb default ffff');
    expect(s.nftBatches[0]).to.include('add table ip rivulet');
    await s.agent.stop();
    expect(s.tcLines.at(-1)).to.deep.equal(['qdisc del dev h1-eth0 root']);
    expect(s.nftBatches.at(-1)).to.deep.equal(['add table ip rivulet', 'delete table ip rivulet']);
    expect(s.clock.pending).to.equal(0);
  });

  it('rates: set → class + filter, acked at the write time; clear → removed, acked with null', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    s.send(5);
    expect(s.events.starts.map((x) => x.id)).to.deep.equal(['f1']);
    expect(s.events.progress).to.have.length(1); // 3000 bytes crossed at the 2nd packet
    const at = s.now();
    s.agent.message({ type: 'rates', seq: 7, set: [{ id: 'f1', rateBps: 20e6 }, { id: 'nope', rateBps: 1e6 }], clear: [] });
    expect(s.tcText()).to.contain('classid 1:2 htb rate 20000000bit').and.contain('handle 800::2 u32');
    expect(s.events.enforced).to.deep.equal([{ id: 'f1', rateBps: 20e6, atEpochUs: at }]);
    expect(s.agent.flowlets()[0]).to.include({ rateLimitBps: 20e6 });
    expect(s.agent.health()).to.include({ lastRatesSeq: 7, limits: 1, connected: true, state: 'connected' });
    s.agent.message({ type: 'rates', seq: 8, set: [], clear: ['f1'] });
    expect(s.tcLines.at(-1)).to.deep.equal(['filter del dev h1-eth0 parent 1: protocol ip prio 10 handle 800::2 u32', 'class del dev h1-eth0 classid 1:2']);
    expect(s.events.enforced.at(-1)).to.deep.include({ id: 'f1', rateBps: null });
  });

  it('a flowlet end removes its class, filter and DSCP element', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    s.send(3);
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: 'f1', rateBps: 5e6, dscp: 10 }], clear: [] });
    expect(s.nftBatches.flat().join('\n')).to.contain('goto dscp10');
    s.clock.advance(200); // idle > 100 ms: the tick ends it
    expect(s.events.ends.map((e) => e.id)).to.deep.equal(['f1']);
    expect(s.tcLines.flat()).to.include('class del dev h1-eth0 classid 1:2');
    expect(s.nftBatches.at(-1)).to.deep.equal(['delete element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5001 }']);
    expect(s.agent.health().limits).to.equal(0);
  });

  it('a small flowlet\'s end is deferrable; a large, limited, classed or declared flowlet\'s is not', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    const flow = (sport: number): FiveTuple => ({ ...F, sport });
    s.send(1, flow(1)); // 1500 bytes < smallFlowletBytes 3000: small
    s.send(3, flow(2)); // 4500 bytes: large (crossed)
    s.send(1, flow(3)); // small, but the controller gives it a DSCP
    s.send(1, flow(4)); // small, but the controller limits it
    s.agent.declare({ dst: F.dst, dport: F.dport, proto: 6, sport: 5, sizeBytes: 1000 });
    s.send(1, flow(5)); // small, declared
    const id = (sport: number): string => s.events.starts.find((x) => x.flow.sport === sport)!.id;
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: id(3), rateBps: 1e12, dscp: 10 }, { id: id(4), rateBps: 1e6 }], clear: [] });
    s.clock.advance(200); // idle > 100 ms: the tick ends them all
    expect(s.events.ends.map((e) => e.id).sort()).to.deep.equal([1, 2, 3, 4, 5].map(id).sort());
    expect(s.events.deferred).to.deep.equal([id(1)]);
  });

  it('a set above the link rate (FCA order by priority) keeps no HTB class, only the DSCP; welcome.hostBands installs the DSCP bands', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message({ ...WELCOME, hostBands: [[46], [26]] });
    expect(s.tcLines.at(-1)).to.include('filter add dev h1-eth0 parent 1: protocol ip prio 20 u32 match ip dsfield 0x68 0xfc flowid 1:ff01');
    s.send(3);
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: 'f1', rateBps: 5e6 }], clear: [] });
    expect(s.agent.health().limits).to.equal(1);
    s.agent.message({ type: 'rates', seq: 2, set: [{ id: 'f1', rateBps: 1e12, dscp: 26 }], clear: [] });
    expect(s.agent.health().limits, 'the limit removed').to.equal(0);
    expect(s.tcLines.at(-1)).to.include('class del dev h1-eth0 classid 1:2');
    expect(s.events.enforced.at(-1)).to.deep.include({ id: 'f1', rateBps: null });
    expect(s.nftBatches.flat().join('\n')).to.contain('goto dscp26');
  });

  it('a flowlet that ends before its declared message is sent keeps its controller class for the message\'s next flowlet; a new message starts unclassed', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message({ ...WELCOME, thresholds: { thresholdsBytes: [], dscpByPriority: [46] } });
    s.agent.declare({ ...F, sizeBytes: 100_000, transferId: 't1' });
    s.send(10); // 14,480 of 100,000 bytes
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: 'f1', rateBps: 1e12, dscp: 10 }], clear: [] });
    const mark = 'add element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5001 : goto dscp10 }';
    const unmark = 'delete element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5001 }';
    expect(s.nftBatches.flat()).to.include(mark);
    // a stall longer than the idle gap (a starved class, a timeout): the flowlet ends, its class stays
    s.clock.advance(300);
    s.agent.tick();
    expect(s.events.ends.map((e) => e.id)).to.deep.equal(['f1']);
    expect(s.nftBatches.flat(), 'class kept across the gap').to.not.include(unmark);
    // the message goes on: the next flowlet carries the rest and rides the same class until the controller says otherwise
    s.send(5);
    expect(s.events.starts.at(-1)).to.deep.include({ id: 'f2', transferId: 't1' });
    expect(s.nftBatches.flat(), 'no move to the top class').to.not.include(unmark);
    expect(s.agent.flowlets()[0]).to.include({ dscp: 10 });
    s.agent.message({ type: 'rates', seq: 2, set: [{ id: 'f2', rateBps: 1e12, dscp: 26 }], clear: [] });
    expect(s.agent.flowlets()[0]).to.include({ dscp: 26 });
    // the rest is sent (100,000 bytes in all); after the gap the override goes
    s.send(60);
    s.clock.advance(300);
    s.agent.tick();
    expect(s.nftBatches.flat()).to.include(unmark);
    // a new message on the kept-alive connection starts without a class (top, unranked)
    s.agent.declare({ ...F, sizeBytes: 5_000, transferId: 't2' });
    s.send(2);
    expect(s.agent.flowlets()[0]).to.include({ dscp: null });
  });

  it('one class only (fca by priority): a declared size needs no per-flow override, the classify chain marks it', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message({ ...WELCOME, thresholds: { thresholdsBytes: [], dscpByPriority: [46] } });
    const before = s.nftBatches.length;
    s.agent.declare({ dst: '10.0.0.2', dport: 5002, proto: 6, sizeBytes: 5000 });
    s.send(1, { ...F, dport: 5002 });
    expect(s.nftBatches.slice(before).flat().join('\n')).to.not.contain('add element ip rivulet classes');
  });

  it('classes: no per-packet re-marking; a declared size or the controller\'s DSCP is a per-flow override', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    const before = s.nftBatches.length;
    s.send(12); // 18 000 bytes > the 10 000 threshold: the kernel demotes by the flow's bytes, not the agent
    s.clock.advance(20);
    expect(s.nftBatches.length, 'no nft work for an undeclared flowlet').to.equal(before);
    expect(s.agent.flowlets()[0]).to.include({ priority: 1, dscp: null });
    s.agent.declare({ dst: '10.0.0.2', dport: 5002, proto: 6, sizeBytes: 5000 });
    s.send(1, { ...F, dport: 5002 });
    expect(s.nftBatches.at(-1)).to.deep.equal([
      'add chain ip rivulet dscp46', 'flush chain ip rivulet dscp46', 'add rule ip rivulet dscp46 ip dscp set 46 counter accept',
      'add element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5002 : goto dscp46 }',
    ]);
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: 'f2', rateBps: 1e6, dscp: 10 }], clear: [] });
    expect(s.nftBatches.at(-1)).to.include('add element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5002 : goto dscp10 }');
    s.agent.message({ type: 'rates', seq: 2, set: [{ id: 'f2', rateBps: 1e6 }], clear: [] });
    expect(s.nftBatches.at(-1), 'back to the declared class').to.include('add element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5002 : goto dscp46 }');
  });

  it('kernel detection: a logged start is reported at once; polls of the live set give progress and the end', async () => {
    let elements: { bytes: number; packets: number }[] = [];
    const listing = (): string => JSON.stringify({ nftables: [{ set: { name: 'live', elem: elements.map((e) => ({ elem: { val: { concat: [F.src, F.dst, 'tcp', F.sport, F.dport] }, counter: e } })) } }] });
    const s = setup(10_000, 'kernel', listing);
    await s.agent.start();
    expect(s.nftBatches[0]!.join('\n')).to.contain('log group 7').and.contain('update @live');
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    const t = s.now();
    s.agent.flowletLogged({ tsUs: t, flow: F, ipBytes: 1500 });
    expect(s.events.starts).to.deep.equal([{ id: 'f1', flow: F, firstPacketEpochUs: t, bytes: 1500 }]);
    elements = [{ bytes: 4500, packets: 3 }];
    s.clock.advance(20); // tick → poll
    await Promise.resolve();
    await Promise.resolve();
    expect(s.events.progress.map((p) => p.bytes)).to.deep.equal([4500]);
    expect(s.agent.health()).to.include({ detector: 'kernel', startsLogged: 1 });
    elements = [];
    s.clock.advance(20);
    await Promise.resolve();
    await Promise.resolve();
    expect(s.events.ends).to.deep.equal([{ id: 'f1', lastPacketEpochUs: t + 20_000, bytes: 4500 }]);
    expect(s.nftBatches.filter((b) => b[0] === 'list set ip rivulet live').length).to.equal(2);
    s.clock.advance(500); // nothing live: the idle poll period (1 s) applies
    expect(s.nftBatches.filter((b) => b[0] === 'list set ip rivulet live').length).to.equal(2);
  });

  it('kernel detection: the welcome\'s threshold goes into the crossing rule; a logged crossing is the first progress at once', async () => {
    const s = setup(10_000, 'kernel');
    await s.agent.start();
    expect(s.nftBatches[0]!.join('\n'), 'the default threshold at start').to.contain('quota over 49999 bytes } update @big');
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    expect(s.nftBatches.some((b) => b.includes('flush chain ip rivulet young') && b.join('\n').includes('quota over 2999 bytes')), 'rewritten for 3000 bytes').to.equal(true);
    const t = s.now();
    s.agent.flowletLogged({ tsUs: t, flow: F, ipBytes: 1500 });
    s.clock.advance(3);
    s.agent.flowletCrossed({ tsUs: s.now(), flow: F, ipBytes: 1500 });
    expect(s.events.progress).to.deep.equal([{ id: 'f1', bytes: 3000, atEpochUs: t + 3000 }]);
    expect(s.agent.health()).to.include({ startsLogged: 1, crossingsLogged: 1 });
  });

  it('kernel detection: the timer wakes for polls only (idle: once a second; small flowlets only: every 500 ms; a large one: every 100 ms); a start or a crossing brings the next poll forward', async () => {
    const clock = new ManualClock();
    const now = (): number => T0 + Math.round(clock.now() * 1000);
    const polls: number[] = [];
    const agent = new HostAgent(
      { agentId: 'h1', hostname: 'h1', interface: 'h1-eth0', ipv4: ['10.0.0.1'], linkRateBps: 100e6, idleGapMs: 100, detector: 'kernel' },
      {
        clock, nowEpochUs: now, log: quietLogger(), events: new Recorder(), tc: { write: () => now() },
        nft: { available: true, run: async (l: readonly string[]) => (l[0]?.startsWith('list') && polls.push(clock.now()), { ok: true, output: l[0]?.startsWith('list') ? ['{"nftables": []}'] : [] }) },
      },
    );
    await agent.start();
    for (let i = 0; i < 54; i++) {
      clock.advance(20);
      await Promise.resolve();
    }
    expect(polls, 'idle: one poll a second, at 20 ms ticks').to.deep.equal([20, 1020]);
    expect(clock.pending, 'one timer, due at the next poll').to.equal(1);
    const advance = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        clock.advance(20);
        await Promise.resolve();
      }
    };
    agent.message(WELCOME);
    agent.flowletLogged({ tsUs: now(), flow: F, ipBytes: 1500 }); // at 1080 ms: the idle tick was due at 2020
    await advance(24);
    expect(polls, 'a small flowlet: polled 500 ms after the last poll').to.deep.equal([20, 1020, 1520]);
    // the empty listing ended it; a new one at 1560 ms crosses the threshold at 1580 ms
    agent.flowletLogged({ tsUs: now(), flow: F, ipBytes: 1500 });
    await advance(1);
    agent.flowletCrossed({ tsUs: now(), flow: F, ipBytes: 1500 });
    await advance(12);
    expect(polls, 'a large flowlet: polled 100 ms after the last poll (at a 20 ms tick)').to.deep.equal([20, 1020, 1520, 1620]);
    await agent.stop();
  });

  it('fallback: limits kept for the grace period, then all removed; a welcome leaves it; hello resyncs', async () => {
    const s = setup(10_000);
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    const G: FiveTuple = { ...F, sport: 40001 };
    s.send(3);
    s.send(3, G);
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: 'f1', rateBps: 10e6 }, { id: 'f2', rateBps: 30e6 }], clear: [] });
    expect(s.agent.health().limits).to.equal(2);
    s.agent.channelDown('socket closed');
    for (let t = 0; t < 9_900; t += 50) s.send(1, F), s.send(1, G), s.clock.advance(48); // traffic continues
    expect(s.agent.health()).to.include({ state: 'grace', limits: 2, connected: false });
    expect(s.agent.health().graceEndsAtEpochUs).to.be.a('number');
    const before = s.tcLines.length;
    for (let t = 0; t < 200; t += 50) s.send(1, F), s.send(1, G), s.clock.advance(48);
    expect(s.agent.health()).to.include({ state: 'fallback', limits: 0 });
    const removed = s.tcLines.slice(before).flat();
    expect(removed.filter((l) => l.startsWith('class del'))).to.have.length(2);
    expect(removed.filter((l) => l.startsWith('filter del'))).to.have.length(2);
    // reconnect: the hello carries both live flowlets with their bytes; the welcome leaves the fallback
    const hello = s.agent.hello();
    expect(hello.active.map((f) => f.id)).to.deep.equal(['f1', 'f2']);
    expect(hello.active[0]!.bytes).to.be.greaterThan(100_000);
    s.agent.channelUp(WELCOME);
    expect(s.agent.health()).to.include({ state: 'connected', connected: true });
    s.agent.message({ type: 'rates', seq: 2, set: [{ id: 'f2', rateBps: 1e6 }], clear: [] });
    expect(s.agent.flowlets().find((f) => f.id === 'f2')).to.include({ rateLimitBps: 1e6 });
  });

  it('in grace a flowlet that ends keeps its limit on the 5-tuple (the next flowlet runs at it); the controller back clears it', async () => {
    const s = setup(10_000);
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.send(3);
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: 'f1', rateBps: 10e6 }], clear: [] });
    s.agent.channelDown('socket closed');
    s.clock.advance(300); // a TCP timeout: idle > 100 ms ends f1
    expect(s.events.ends.map((e) => e.id)).to.deep.equal(['f1']);
    expect(s.tcLines.flat().filter((l) => l.startsWith('class del')), 'the limit stays in grace').to.have.length(0);
    expect(s.agent.health()).to.include({ state: 'grace', limits: 1 });
    s.send(3); // the flow's next flowlet, still policed by the 5-tuple's filter
    expect(s.events.starts.map((x) => x.id)).to.deep.equal(['f1', 'f2']);
    s.agent.channelUp(WELCOME);
    expect(s.tcLines.at(-1)).to.deep.equal(['filter del dev h1-eth0 parent 1: protocol ip prio 10 handle 800::2 u32', 'class del dev h1-eth0 classid 1:2']);
    expect(s.agent.health()).to.include({ state: 'connected', limits: 0 });
  });

  it('a reconnect within the grace period keeps the limits', async () => {
    const s = setup(10_000);
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.send(3);
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: 'f1', rateBps: 10e6 }], clear: [] });
    s.agent.channelDown('heartbeat');
    for (let t = 0; t < 5000; t += 50) s.send(1), s.clock.advance(49);
    s.agent.channelUp(WELCOME);
    for (let t = 0; t < 20_000; t += 50) s.send(1), s.clock.advance(49);
    expect(s.agent.health()).to.include({ state: 'connected', limits: 1 });
  });
});
