/**
 * Per-tenant host limits at the agent (agent/tenant-classes.ts, and the agent steering a declared
 * tenant's flows on a fake clock with a recording tc writer): one HTB class per limited tenant under the
 * link class; a declared flow of that tenant is steered into it before its first packet (declaration
 * with its source port) or at its flowlet's start, so it is never unlimited; the flowlet's own rate is
 * acknowledged without a class of its own; the steering filter outlives the flowlet on a kept-alive
 * connection and goes after its idle time; fallback and stop leave nothing.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../lib/clock.js';
import { quietLogger } from '../../../lib/log.js';
import { HostAgent, type EventSink } from '../../../agent/agent.js';
import { LimitNumbers } from '../../../agent/tc.js';
import { DEFAULT_STEER_IDLE_MS, TenantClasses } from '../../../agent/tenant-classes.js';
import type { Enforced, FiveTuple, FlowletEnd, FlowletProgress, FlowletStart, WelcomeMsg } from '../../../protocol/agent.js';

const K = { dst: '10.0.0.3', proto: 6, sport: 40000, dport: 5001 };

describe('tenant classes: tc lines', () => {
  it('a class per tenant under 1:1; a steering filter per flow (dst, proto, ports) to it; numbers shared with flowlet limits', () => {
    const numbers = new LimitNumbers();
    numbers.take(); // 2: a flowlet limit
    const t = new TenantClasses('h1-eth0', 20e6, numbers);
    expect(t.steer('a', K, 0).steered, 'no class yet').to.equal(false);
    const set = t.setLimit('a', 5e6);
    expect(set.created).to.equal(true);
    expect(set.lines).to.deep.equal(['class add dev h1-eth0 parent 1:1 classid 1:3 htb rate 5000000bit ceil 5000000bit burst 1600 cburst 1600 quantum 1514']);
    expect(t.steer('a', K, 0, 'f1').lines).to.deep.equal([
      'filter add dev h1-eth0 parent 1: protocol ip prio 10 handle 800::4 u32 match ip dst 10.0.0.3/32 match ip protocol 6 0xff match ip sport 40000 0xffff match ip dport 5001 0xffff flowid 1:3',
    ]);
    expect(t.steer('a', K, 1, 'f2').lines, 'already steered').to.deep.equal([]);
    expect(t.setLimit('a', 5e6).lines).to.deep.equal([]);
    expect(t.setLimit('a', 30e6).lines).to.deep.equal(['class change dev h1-eth0 parent 1:1 classid 1:3 htb rate 20000000bit ceil 20000000bit burst 2500 cburst 2500 quantum 1514']);
    expect(t.limits()).to.deep.equal([{ tenant: 'a', n: 3, rateBps: 20e6, steered: 1 }]);
    expect(t.setLimit('a', null).lines).to.deep.equal([
      'filter del dev h1-eth0 parent 1: protocol ip prio 10 handle 800::4 u32', 'class del dev h1-eth0 classid 1:3',
    ]);
    expect(numbers.inUse).to.equal(1);
  });

  it('a flow idles only when all its flowlets ended; idle filters go after steerIdleMs; bounded, the oldest idle evicted', () => {
    const t = new TenantClasses('d', 20e6, new LimitNumbers(), { maxSteered: 2, steerIdleMs: 1000 });
    t.setLimit('a', 5e6);
    t.steer('a', K, 0, 'f1');
    t.steer('a', K, 0, 'f2');
    t.release(K, 'f1', 100);
    expect(t.sweep(5000)).to.deep.equal([]);
    t.release(K, 'f2', 200);
    expect(t.sweep(1100)).to.deep.equal([]);
    const K2 = { ...K, sport: 40001 };
    const K3 = { ...K, sport: 40002 };
    t.steer('a', K2, 300, 'g');
    const third = t.steer('a', K3, 400, 'h');
    expect(third.steered).to.equal(true);
    expect(third.lines[0]).to.match(/^filter del .* handle 800::3 u32$/); // K (idle) evicted for K3
    expect(t.tenantOf(K)).to.equal(undefined);
    expect(t.steer('a', { ...K, sport: 40003 }, 500, 'i').steered, 'full, none idle').to.equal(false);
    t.release(K2, 'g', 600);
    expect(t.sweep(1600)).to.deep.equal(['filter del dev d parent 1: protocol ip prio 10 handle 800::4 u32']);
  });
});

/* ------------------------------------------------------------ the agent */

const T0 = 1_700_000_000_000_000;
const WELCOME: WelcomeMsg = { type: 'welcome', agentId: 'h1', heartbeatMs: 1000, smallFlowletBytes: 0 };
const F: FiveTuple = { src: '10.0.0.1', dst: '10.0.0.3', proto: 6, sport: 40000, dport: 5001 };

class Recorder implements EventSink {
  starts: FlowletStart[] = [];
  ends: FlowletEnd[] = [];
  enforced: Enforced[] = [];
  progress: FlowletProgress[] = [];
  addStart(s: FlowletStart): void { this.starts.push(s); }
  addProgress(p: FlowletProgress): void { this.progress.push(p); }
  addEnd(e: FlowletEnd): void { this.ends.push(e); }
  addEnforced(e: Enforced): void { this.enforced.push(e); }
}

function setup() {
  const clock = new ManualClock();
  const now = (): number => T0 + Math.round(clock.now() * 1000);
  const tcLines: string[] = [];
  const events = new Recorder();
  const agent = new HostAgent(
    { agentId: 'h1', hostname: 'h1', interface: 'h1-eth0', ipv4: ['10.0.0.1'], linkRateBps: 20e6, graceMs: 1000, idleGapMs: 100, tickMs: 20 },
    { clock, nowEpochUs: now, log: quietLogger(), events, tc: { write: (l) => (tcLines.push(...l), now()) } },
  );
  const send = (n: number, flow: FiveTuple = F): void => {
    for (let i = 0; i < n; i++) {
      agent.packet({ tsUs: now(), flow, ipBytes: 1500, payloadBytes: 1448 });
      clock.advance(1);
    }
  };
  /** the class a packet of `flow` is steered to: the first filter (in node order) matching it */
  const classOf = (flow: FiveTuple): string => {
    const filters = new Map<number, string>();
    for (const l of tcLines) {
      const add = /^filter add .* handle 800::([0-9a-f]+) u32 (.*) flowid (1:[0-9a-f]+)$/.exec(l);
      if (add) filters.set(parseInt(add[1]!, 16), l);
      const del = /^filter del .* handle 800::([0-9a-f]+) u32$/.exec(l);
      if (del) filters.delete(parseInt(del[1]!, 16));
    }
    for (const [, l] of [...filters].sort((a, b) => a[0] - b[0])) {
      const m = (re: RegExp): string | undefined => re.exec(l)?.[1];
      if ((m(/match ip src (\S+)\/32/) ?? flow.src) !== flow.src || m(/match ip dst (\S+)\/32/) !== flow.dst) continue;
      if (Number(m(/match ip sport (\d+)/)) !== flow.sport || Number(m(/match ip dport (\d+)/)) !== flow.dport) continue;
      return m(/flowid (1:[0-9a-f]+)$/)!;
    }
    return '1:ffff';
  };
  /** the rate of class `id` as last added or changed, bit/s (undefined: no such class) */
  const rateOf = (id: string): number | undefined => {
    let r: number | undefined;
    for (const l of tcLines) {
      if (l.includes(`classid ${id} htb`)) r = Number(/ rate (\d+)bit/.exec(l)![1]);
      if (l === `class del dev h1-eth0 classid ${id}`) r = undefined;
    }
    return r;
  };
  return { clock, agent, events, tcLines, send, classOf, rateOf };
}

describe('agent: a declared tenant flow is bounded by its tenant class from its first packet', () => {
  it('steered at declaration (before any packet) once the tenant has a limit; its own rate is acked without a class', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    s.agent.message({ type: 'rates', seq: 1, set: [], clear: [], tenants: [{ tenant: 'a', rateBps: 5e6 }] });
    expect(s.agent.health().tenantLimits).to.deep.equal([{ tenant: 'a', n: 2, rateBps: 5e6, steered: 0 }]);
    s.agent.declare({ dst: F.dst, dport: F.dport, proto: 6, sport: F.sport, sizeBytes: 12_000, tenant: 'a' });
    // before the first packet: the flow's packets go to a's class at 5 Mbit/s, not the unlimited 1:ffff
    expect(s.classOf(F)).to.equal('1:2');
    expect(s.rateOf('1:2')).to.equal(5e6);
    s.send(3);
    expect(s.events.starts[0]).to.deep.include({ id: 'f1', tenant: 'a' });
    const before = s.tcLines.length;
    s.agent.message({ type: 'rates', seq: 2, set: [{ id: 'f1', rateBps: 1e6 }], clear: [] });
    expect(s.tcLines.length, 'no per-flowlet class under 1:1 (it would escape the aggregate)').to.equal(before);
    expect(s.events.enforced).to.deep.include({ id: 'f1', rateBps: 1e6, atEpochUs: T0 + 3000 });
    expect(s.classOf(F)).to.equal('1:2');
  });

  it('a tenant flowlet that started before the limit is moved into the class when the limit arrives (its own limit dropped)', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    s.agent.declare({ dst: F.dst, dport: F.dport, proto: 6, tenant: 'a' }); // any source port
    s.send(2);
    s.agent.message({ type: 'rates', seq: 1, set: [{ id: 'f1', rateBps: 8e6 }], clear: [] });
    expect(s.classOf(F)).to.equal('1:2'); // its own flowlet class
    s.agent.message({ type: 'rates', seq: 2, set: [], clear: [], tenants: [{ tenant: 'a', rateBps: 5e6 }] });
    expect(s.rateOf('1:2'), 'flowlet class removed').to.equal(undefined);
    const cls = s.classOf(F);
    expect(s.rateOf(cls)).to.equal(5e6);
    expect(s.agent.health().limits).to.equal(0);
  });

  it('kept-alive connection: the next request (a new flowlet) is in the class at its first packet; the filter goes after the idle time', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    s.agent.message({ type: 'rates', seq: 1, set: [], clear: [], tenants: [{ tenant: 'a', rateBps: 5e6 }] });
    s.agent.declare({ dst: F.dst, dport: F.dport, proto: 6, tenant: 'a' }); // wildcard port: steered at the flowlet start
    s.send(2);
    expect(s.classOf(F)).to.equal('1:2');
    s.clock.advance(200); // idle: the flowlet ends
    expect(s.events.ends.map((e) => e.id)).to.deep.equal(['f1']);
    expect(s.classOf(F), 'the connection keeps its tenant').to.equal('1:2');
    s.send(2); // the next request, not declared: the connection's tenant
    expect(s.events.starts.map((x) => [x.id, x.tenant])).to.deep.equal([['f1', 'a'], ['f2', 'a']]);
    expect(s.classOf(F)).to.equal('1:2');
    s.clock.advance(200 + DEFAULT_STEER_IDLE_MS);
    expect(s.classOf(F), 'idle filter removed').to.equal('1:ffff');
    expect(s.agent.health().tenantLimits).to.deep.equal([{ tenant: 'a', n: 2, rateBps: 5e6, steered: 0 }]);
    s.agent.message({ type: 'rates', seq: 2, set: [], clear: [], tenants: [{ tenant: 'a', rateBps: null }] });
    expect(s.rateOf('1:2')).to.equal(undefined);
    expect(s.agent.health().tenantLimits).to.deep.equal([]);
  });

  it('fallback removes tenant classes and filters like flowlet limits; undeclared flows are never steered', async () => {
    const s = setup();
    await s.agent.start();
    s.agent.channelUp(WELCOME);
    s.agent.message(WELCOME);
    s.agent.message({ type: 'rates', seq: 1, set: [], clear: [], tenants: [{ tenant: 'a', rateBps: 5e6 }] });
    const other: FiveTuple = { ...F, sport: 40100 };
    s.agent.declare({ dst: F.dst, dport: F.dport, proto: 6, sport: F.sport, tenant: 'a' });
    s.send(2);
    s.send(2, other);
    expect(s.classOf(other)).to.equal('1:ffff');
    s.agent.channelDown('test');
    s.clock.advance(500);
    expect(s.classOf(F), 'kept in grace').to.equal('1:2');
    s.clock.advance(600);
    expect(s.agent.health().state).to.equal('fallback');
    expect(s.classOf(F)).to.equal('1:ffff');
    expect(s.rateOf('1:2')).to.equal(undefined);
    expect(s.agent.health().tenantLimits).to.deep.equal([]);
    await s.agent.stop();
    expect(s.tcLines.at(-1)).to.equal('qdisc del dev h1-eth0 root');
  });
});
