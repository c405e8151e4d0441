/**
 * A restarted controller takes every running flowlet back, whatever the order in which agents,
 * switches and discovery return — over loopback, without OVS or root. A first controller pins two long
 * flows (h1 → h3, h2 → h3) on a fake 2 spines × 3 leaves × 1 host fabric and is stopped; the switches keep
 * its entries (like OVS in fail-secure mode), so the flows' packets never reach the second controller and
 * it has no route for them. The second controller must read their paths back from the switches' tables
 * (or, where that fails, remove the stale entries so routing pins the flow afresh at its next packet),
 * allocate them, push the rates to the agents and set their meters, within a bound measured from the
 * moment both the agents have registered and discovery has settled. Orders:
 *  - agents before switches (the flowlets wait for discovery, and say so in GET /api/v1/flowlets);
 *  - switches before agents;
 *  - slow discovery (switches connect one by one, LLDP every 400 ms) with the agents in between;
 *  - a path that cannot be read (one switch lost its entry): the stale entries are removed and the flow's
 *    next packet is pinned afresh.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowletStart } from '../../protocol/agent.js';
import { flowMod } from '../../openflow/codec/builders.js';
import { OFPFC, OFPMC } from '../../openflow/codec/index.js';
import { defaultConfig, type ConfigInput } from '../../controller/config/index.js';
import { quietLogger } from '../../lib/log.js';
import { startRivulet, type Rivulet } from '../../controller/main.js';
import { FakeAgent } from '../../testing/fake-agent.js';
import { FakeFabric, type FabricSwitch, type FakeHost, type FlowEntry } from '../../testing/fake-fabric.js';
import { until } from '../../testing/until.js';

/** Allocation must follow within this of max(agents registered, discovery settled), ms: adoptAfterMs 500 + ticks + reads. */
const BOUND_MS = 1500;
const measure = (text: string): void => console.log(`      [measure] restart adoption: ${text}`);

interface Flow {
  readonly agent: string;
  readonly host: FakeHost;
  readonly sport: number;
}

describe('integration: a restarted controller takes running flowlets back (fake fabric, fake agents)', function () {
  this.timeout(30_000);
  let dir: string;
  let fabric: FakeFabric;
  let dst: FakeHost;
  let flows: Flow[];
  const agents: FakeAgent[] = [];
  let rivulet: Rivulet | undefined;

  function config(socketPath: string, over: ConfigInput = {}): ReturnType<typeof defaultConfig> {
    return defaultConfig({
      openflow: { port: 0, host: '127.0.0.1' }, api: { port: 0, host: '127.0.0.1' },
      topology: { lldpIntervalMs: 100, defaultCapacityBps: '100M' },
      routing: { idleTimeoutS: 600 },
      qos: { enabled: false },
      agents: { socketPath, heartbeatMs: 1000 },
      allocator: { policy: 'maxmin' },
      enforcement: { mode: 'both' },
      ...over,
    });
  }

  /** The first run: pins the two flows, then stops (the switches keep its entries). */
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-restart-'));
    const first = await startRivulet({ config: config(join(dir, 'first.sock'), { enforcement: { mode: 'agents' } }), logger: quietLogger() });
    fabric = await FakeFabric.connect(first.openflow.port, { shape: { spines: 2, leaves: 3, hostsPerLeaf: 1 }, expiryPeriodMs: 0 });
    const view = first.topology.view;
    await until('first discovery', () => view.ready() && view.links().length === 12, 8000);
    for (const h of fabric.hosts) h.announce();
    await until('hosts', () => view.hosts().filter((h) => h.ipv4 !== undefined).length === 3);
    dst = fabric.host(2, 0);
    flows = [{ agent: 'h1', host: fabric.host(0, 0), sport: 40001 }, { agent: 'h2', host: fabric.host(1, 0), sport: 40002 }];
    for (const f of flows) f.host.tcp(dst, f.sport, 5201);
    await until('routes pinned', () => first.routing.routes().filter((r) => r.installed).length === 2);
    await first.close();
    await until('switches see the first controller gone', () => fabric.switches.every((s) => s.closed));
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) a.socket.destroy();
    for (const s of fabric.switches) s.close();
    await rivulet?.close();
    rivulet = undefined;
  });

  after(() => {
    fabric?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startOf(f: Flow): FlowletStart {
    return {
      id: `f${f.sport}`, flow: { src: f.host.ip, dst: dst.ip, proto: 6, sport: f.sport, dport: 5201 },
      firstPacketEpochUs: Math.round(Date.now() * 1000) - 20e6, bytes: 60e6,
    };
  }

  /** Connects one fake agent per flow and says hello with its running flowlet; resolves when welcomed. */
  async function agentsHello(socketPath: string): Promise<number> {
    for (const f of flows) {
      const a = await FakeAgent.connect(socketPath);
      agents.push(a);
      a.send({ type: 'hello', version: 1, agentId: f.agent, hostname: f.agent, interface: `${f.agent}-eth0`, ipv4: [f.host.ip], active: [startOf(f)] });
    }
    await until('welcomed', () => agents.every((a) => a.of('welcome').length === 1));
    return Date.now();
  }

  async function connectSwitches(r: Rivulet, switches: readonly FabricSwitch[], gapMs = 0): Promise<void> {
    for (const s of switches) {
      await s.connect(r.openflow.port);
      if (gapMs > 0) await new Promise((res) => setTimeout(res, gapMs));
    }
    await Promise.all(switches.map((s) => s.up));
  }

  async function settled(r: Rivulet): Promise<number> {
    const view = r.topology.view;
    await until('discovery settled', () => view.ready() && view.links().length === 12, 10_000);
    return Date.now();
  }

  /** Waits until both flowlets are allocated, their rates pushed and their meters set; returns when. */
  async function allAllocated(r: Rivulet, fromMs: number, label: string): Promise<{ ms: number; adopted: number }> {
    const core = r.enforcement.core;
    const done = (f: Flow, i: number): boolean => {
      const v = core.flowlet(f.agent, `f${f.sport}`);
      const rates = agents[i]!.of('rates').some((m) => m.set.some((s) => s.id === `f${f.sport}`));
      return v?.state === 'allocated' && v.allocatedBps !== null && rates && v.meterEnforcedEpochUs !== null;
    };
    await until(`${label}: both flowlets allocated, rates pushed, meters set`, () => flows.every(done), BOUND_MS + 5000, 10).catch((err: Error) => {
      const state = flows.map((f, i) => ({ f: f.agent, done: done(f, i), view: core.flowlet(f.agent, `f${f.sport}`), rates: agents[i]!.of('rates') }));
      throw new Error(`${err.message}: ${JSON.stringify(state)}`);
    });
    const ms = Date.now() - fromMs;
    const adopted = flows.filter((f) => core.flowlet(f.agent, `f${f.sport}`)!.pathAdopted).length;
    measure(`${label}: both flowlets allocated ${ms} ms after agents registered and discovery settled (${adopted} of 2 paths read back)`);
    for (const f of flows) {
      const m = f.host.leaf.meters;
      expect(m.size, `a meter on ${f.host.leaf.name}`).to.be.at.least(1);
    }
    expect(core.allocatorView(Date.now()).pendingFlowlets).to.equal(0);
    return { ms, adopted };
  }

  it('agents before switches: the flowlets wait for discovery (and say so), then are taken back', async () => {
    const sock = join(dir, 'a.sock');
    rivulet = await startRivulet({ config: config(sock), logger: quietLogger() });
    const registered = await agentsHello(sock);
    await new Promise((res) => setTimeout(res, 300));
    rivulet.enforcement.runNow();
    for (const f of flows) {
      expect(rivulet.enforcement.core.flowlet(f.agent, `f${f.sport}`)!.pending?.reason, 'no switch yet').to.equal('waiting-for-discovery');
    }
    const res = await fetch(`${rivulet.api.url}/metrics`);
    expect(await res.text()).to.match(/rivulet_flowlets_not_allocated\{reason="waiting-for-discovery"\} 2/);
    const body = await (await fetch(`${rivulet.api.url}/api/v1/flowlets`)).json() as { flowlets: { pending: { reason: string } | null }[] };
    expect(body.flowlets.map((f) => f.pending?.reason)).to.deep.equal(['waiting-for-discovery', 'waiting-for-discovery']);
    await connectSwitches(rivulet, fabric.switches);
    const ready = await settled(rivulet);
    const { ms, adopted } = await allAllocated(rivulet, Math.max(registered, ready), 'agents before switches');
    expect(adopted).to.equal(2);
    expect(ms).to.be.at.most(BOUND_MS);
  });

  it('switches before agents: taken back within the bound of the agents registering', async () => {
    const sock = join(dir, 'b.sock');
    rivulet = await startRivulet({ config: config(sock), logger: quietLogger() });
    await connectSwitches(rivulet, fabric.switches);
    const ready = await settled(rivulet);
    const registered = await agentsHello(sock);
    const { ms, adopted } = await allAllocated(rivulet, Math.max(registered, ready), 'switches before agents');
    expect(adopted).to.equal(2);
    expect(ms).to.be.at.most(BOUND_MS);
  });

  it('slow discovery: switches one by one, LLDP every 400 ms, agents registering in between', async () => {
    const sock = join(dir, 'c.sock');
    rivulet = await startRivulet({ config: config(sock, { topology: { lldpIntervalMs: 400, defaultCapacityBps: '100M' } }), logger: quietLogger() });
    const [first, ...rest] = fabric.switches;
    await connectSwitches(rivulet, [first!]);
    const registered = await agentsHello(sock);
    await connectSwitches(rivulet, rest, 150);
    const ready = await settled(rivulet);
    const { ms, adopted } = await allAllocated(rivulet, Math.max(registered, ready), 'slow discovery');
    expect(adopted).to.equal(2);
    expect(ms).to.be.at.most(BOUND_MS);
  });

  it('a path that cannot be read back: the reason is shown, the stale entries removed, the flow pinned afresh', async () => {
    // the spine on h1's path loses its entry of h1's flow: the read stops there
    const f = flows[0]!;
    const ofFlow = (s: FabricSwitch): FlowEntry[] => [...s.tables.entries()].filter((e) => e.match.some((m) => m.field === 'tcp_src' && 'value' in m && m.value === f.sport));
    const spine = fabric.spines.find((s) => ofFlow(s).length > 0)!;
    for (const e of ofFlow(spine)) {
      spine.tables.apply({ ...flowMod({ command: OFPFC.DELETE_STRICT, tableId: e.tableId, priority: e.priority, match: e.match }), xid: 0 }, Date.now());
    }
    expect(ofFlow(spine)).to.have.length(0);
    const sock = join(dir, 'd.sock');
    rivulet = await startRivulet({ config: config(sock), logger: quietLogger() });
    await connectSwitches(rivulet, fabric.switches);
    const ready = await settled(rivulet);
    const registered = await agentsHello(sock);
    const core = rivulet.enforcement.core;
    await until('read failed', () => core.flowlet(f.agent, `f${f.sport}`)!.pending?.reason === 'adoption-failed', 3000, 10);
    expect(core.flowlet(f.agent, `f${f.sport}`)!.pending!.detail).to.match(/no entry of the flow .* on 00000000000001/);
    await until('stale entries removed', () => core.flowlet(f.agent, `f${f.sport}`)!.pending?.reason === 'repinning', 5000, 10);
    expect(ofFlow(f.host.leaf), 'the last run’s entry of the flow is gone from the ingress leaf').to.have.length(0);
    f.host.tcp(dst, f.sport, 5201); // the flow's next packet
    const { ms, adopted } = await allAllocated(rivulet, Math.max(registered, ready), 'unreadable path, fresh pin');
    expect(adopted, 'the other flow read back, this one pinned afresh').to.equal(1);
    expect(core.flowlet(f.agent, `f${f.sport}`)!.pathAdopted).to.equal(false);
    expect(ms).to.be.at.most(BOUND_MS + 2000);
    const meterMods = f.host.leaf.received.filter((m) => m.type === 'OFPT_METER_MOD' && m.command === OFPMC.ADD);
    expect(meterMods.length).to.be.at.least(1);
  });
});
