/**
 * The agent's real shells in a scratch network namespace (root; skipped otherwise) @slow: the persistent
 * `tc -force -batch -` (tc-batch.ts) and `nft -j -i` (nft-session.ts) driven by agent.ts on a veth pair. A rate
 * set by the controller shows up in `tc -s class show` / `tc filter show` / `nft list table ip rivulet`
 * while tc's stdin stays open (lines run as they arrive); a clear removes class and filter; the flowlet's
 * end removes its override element; stop removes the root qdisc and the table. The namespace (`rvag<pid>`, with
 * the veths inside it) is created and deleted here by name, even on failure.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { systemClock } from '../../lib/clock.js';
import { quietLogger } from '../../lib/log.js';
import { HostAgent } from '../../agent/agent.js';
import { NftSession } from '../../agent/nft-session.js';
import { tableLines, teardownLines } from '../../agent/nft-rules.js';
import { nowEpochUs, type FiveTuple, type WelcomeMsg } from '../../protocol/agent.js';
import { TcBatch, type TcFailure } from '../../agent/tc-batch.js';
import { until } from '../../testing/until.js';
import { requirePrerequisite } from '../helpers/prereq.js';

const NS = `rvag${process.pid % 100000}`;
const DEV = `${NS}a`;
const FLOW: FiveTuple = { src: '10.99.0.1', dst: '10.99.0.2', proto: 6, sport: 40000, dport: 5001 };

/** Why the namespace test cannot run here (not root, no tc or ip), or undefined. */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    execFileSync('tc', ['-V']);
    execFileSync('ip', ['-V']);
    return undefined;
  } catch {
    return 'tc or ip (iproute2) is not installed';
  }
}

const inNs = (...argv: string[]): string => execFileSync('ip', ['netns', 'exec', NS, ...argv], { encoding: 'utf8' });
const nftTable = (): string => {
  try {
    return inNs('nft', 'list', 'table', 'ip', 'rivulet');
  } catch {
    return '';
  }
};

describe('agent: tc batch and nft shells in a network namespace @slow', function () {
  this.timeout(30_000);
  let tc: TcBatch | undefined;
  let nftSession: NftSession | undefined;
  let agent: HostAgent | undefined;
  let feeder: NodeJS.Timeout | undefined;

  before(function () {
    requirePrerequisite(this, unavailable());
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'add', DEV, 'type', 'veth', 'peer', 'name', `${NS}b`]);
    execFileSync('ip', ['-n', NS, 'addr', 'add', '10.99.0.1/24', 'dev', DEV]);
    execFileSync('ip', ['-n', NS, 'link', 'set', DEV, 'up']);
    execFileSync('ip', ['-n', NS, 'link', 'set', `${NS}b`, 'up']);
  });

  after(async () => {
    clearInterval(feeder);
    await agent?.stop().catch(() => undefined);
    await tc?.stop().catch(() => undefined);
    await nftSession?.stop().catch(() => undefined);
    try {
      execFileSync('ip', ['netns', 'del', NS]);
    } catch {
      // not created (skipped) or already gone
    }
  });

  it('sets, reads back, clears and tears down a flowlet limit and its DSCP mark', async () => {
    const log = quietLogger();
    const failures: TcFailure[] = [];
    tc = new TcBatch({ log, command: ['ip', 'netns', 'exec', NS, 'tc', '-force', '-batch', '-'], onFailure: (f) => failures.push(f) });
    const nft = new NftSession({ log, command: ['ip', 'netns', 'exec', NS, 'nft'] });
    nftSession = nft;
    const enforced: unknown[] = [];
    agent = new HostAgent(
      { agentId: 't', hostname: 't', interface: DEV, ipv4: ['10.99.0.1'], linkRateBps: 100e6, idleGapMs: 1000 }, // a long gap: the synchronous reads below block the feeder
      { clock: systemClock, nowEpochUs, log, tc, nft, events: { addStart: () => undefined, addProgress: () => undefined, addEnd: () => undefined, addEnforced: (e) => enforced.push(e) } },
    );
    await agent.start();
    const send = (): void => agent!.packet({ tsUs: nowEpochUs(), flow: FLOW, ipBytes: 1500, payloadBytes: 1448 });
    send();
    feeder = setInterval(send, 20);
    const welcome: WelcomeMsg = { type: 'welcome', agentId: 't', heartbeatMs: 1000, smallFlowletBytes: 50_000, thresholds: { thresholdsBytes: [1e12], dscpByPriority: [46, 0] } };
    agent.channelUp(welcome);
    agent.message(welcome);
    agent.message({ type: 'rates', seq: 1, set: [{ id: 'f1', rateBps: 5e6, dscp: 10 }], clear: [] });
    expect(tc.pid, 'tc stays running').to.be.a('number');

    await until('class, filter and element installed', () => /class htb 1:2 parent 1:1 .*rate 5Mbit ceil 5Mbit/.test(inNs('tc', '-s', 'class', 'show', 'dev', DEV)) && /goto dscp10/.test(nftTable()));
    const classes = inNs('tc', '-s', 'class', 'show', 'dev', DEV);
    expect(classes).to.match(/class htb 1:1 root rate 100Mbit ceil 100Mbit/);
    expect(classes).to.match(/class htb 1:ffff parent 1:1 .*rate 100Mbit/);
    const filters = inNs('tc', 'filter', 'show', 'dev', DEV);
    expect(filters).to.match(/fh 800::2 .*flowid 1:2/);
    expect(filters).to.contain('match 0a630001/ffffffff at 12').and.contain('match 0a630002/ffffffff at 16').and.contain('match 9c401389/ffffffff at 20');
    const table = nftTable();
    expect(table).to.contain('10.99.0.1 . 10.99.0.2 . tcp . 40000 . 5001 : goto dscp10');
    expect(table).to.contain('ip saddr . ip daddr . meta l4proto . th sport . th dport vmap @classes');
    expect(table).to.match(/chain dscp10 \{\s+ip dscp set af11 counter packets \d+ bytes \d+ accept/);
    expect(table, 'PIAS classes by the message\'s bytes').to.match(/update @sent0 \{ ip saddr . ip daddr . meta l4proto . th sport . th dport quota over \d+ [kmg]?bytes \} goto dscp0/);
    expect(enforced).to.have.length(1);

    agent.message({ type: 'rates', seq: 2, set: [], clear: ['f1'] });
    await until('class and filter removed', () => !/1:2/.test(inNs('tc', 'class', 'show', 'dev', DEV)) && !/800::2/.test(inNs('tc', 'filter', 'show', 'dev', DEV)));
    await until('override removed with the controller\'s DSCP', () => !/10\.99\.0\.2 \. tcp/.test(nftTable()));
    agent.message({ type: 'rates', seq: 3, set: [{ id: 'f1', rateBps: 5e6, dscp: 26 }], clear: [] });
    await until('override again', () => /goto dscp26/.test(nftTable()));

    clearInterval(feeder);
    await until('flowlet ended, element removed', () => agent!.flowlets().length === 0 && !/10\.99\.0\.2/.test(nftTable()));

    await agent.stop();
    await tc.stop();
    expect(inNs('tc', 'qdisc', 'show', 'dev', DEV)).to.not.contain('htb');
    expect(inNs('nft', 'list', 'tables')).to.not.contain('rivulet');
    expect(failures, JSON.stringify(failures)).to.deep.equal([]);
  });

  it('marks a message by the bytes it has sent: top class first, demoted past the threshold, on top again after the message gap', async () => {
    const log = quietLogger();
    const nft = new NftSession({ log, command: ['ip', 'netns', 'exec', NS, 'nft'] });
    nftSession = nft;
    const thresholds = { thresholdsBytes: [3000], dscpByPriority: [46, 0] };
    const r = await nft.run(tableLines({ idleGapMs: 100, maxFlowlets: 100, thresholds, messageGapMs: 2000 }));
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    inNs('ip', 'neigh', 'replace', '10.99.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', DEV);
    // UDP datagrams of 972 bytes = 1,000 IP bytes each, all from one source port (one 5-tuple)
    const send = (n: number): void => {
      inNs('python3', '-c', `import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("10.99.0.1",40001))
for i in range(${n}): s.sendto(b"x"*972,("10.99.0.2",5001))`);
    };
    const classBytes = (dscp: number): number => {
      const m = /counter packets \d+ bytes (\d+)/.exec(inNs('nft', 'list', 'chain', 'ip', 'rivulet', `dscp${dscp}`));
      return Number(m?.[1] ?? NaN);
    };
    send(5);
    expect([classBytes(46), classBytes(0)], 'the first 3,000 bytes on top, the rest demoted').to.deep.equal([3000, 2000]);
    send(2);
    expect([classBytes(46), classBytes(0)], 'within the message gap: still the same message').to.deep.equal([3000, 4000]);
    await new Promise((res) => setTimeout(res, 2500));
    send(4);
    expect([classBytes(46), classBytes(0)], 'after the gap: a new message, on top again').to.deep.equal([6000, 5000]);
    // traffic inside the host (the agent's local API on 127.0.0.1) is left alone: not marked, not a flowlet
    inNs('ip', 'link', 'set', 'lo', 'up');
    inNs('python3', '-c', `import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
for i in range(4): s.sendto(b"x"*972,("127.0.0.1",5001))`);
    expect([classBytes(46), classBytes(0)], 'loopback: no class counted it').to.deep.equal([6000, 5000]);
    await nft.run(teardownLines());
  });
});
