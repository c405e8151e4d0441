/**
 * Live allocation end to end over loopback, without OVS or root: startRivulet with a fake 2 spines ×
 * 2 leaves × 1 host fabric (testing/fake-fabric.ts) and a fake host agent on the unix socket (a temp
 * path). A TCP flow's first packet makes routing pin it; the agent reports a flowlet of that flow; the
 * controller answers `welcome`, pushes a `rates` message, installs a meter and the metered entry on the
 * ingress leaf, shows the flowlet in GET /api/v1/flowlets, /allocator, /meters, /agents and /metrics;
 * the end clears the rate and deletes the meter; a malformed line closes only that agent's connection;
 * close() leaves no socket file, timer or socket.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { AgentChannel } from '../../agent/channel.js';
import { agentAuthMac, parseChannelAddress, parseControllerMessage, type ControllerMessage, type WelcomeMsg } from '../../protocol/agent.js';
import { FakeAgent } from '../../testing/fake-agent.js';
import { readPathFromSwitches } from '../../apps/enforcement/adopt.js';
import { OFPM, OFPMC } from '../../openflow/codec/index.js';
import { defaultConfig } from '../../controller/config/index.js';
import { quietLogger } from '../../lib/log.js';
import { startRivulet, type Rivulet } from '../../controller/main.js';
import { FakeFabric, type FakeHost } from '../../testing/fake-fabric.js';
import type { OfpMessage } from '../../openflow/codec/index.js';
import { until } from '../../testing/until.js';

const H2_SECRET = 'h2-secret-0123456789abcdef';
const H3_SECRET = 'h3-secret-0123456789abcdef';

async function getJson(url: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url);
  expect(res.status, url).to.equal(200);
  return res.json();
}

describe('integration: live allocation (fake fabric, fake agent on a unix socket)', function () {
  this.timeout(20_000);
  let dir: string;
  let socketPath: string;
  let rivulet: Rivulet;
  let fabric: FakeFabric;
  let agent: FakeAgent;
  const toLeaf: OfpMessage[] = [];
  let a: FakeHost;
  let b: FakeHost;
  const epochUs = (): number => Math.round(Date.now() * 1000);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-enf-'));
    socketPath = join(dir, 'sub', 'agents.sock'); // the directory is created by the server
    const config = defaultConfig({
      openflow: { port: 0, host: '127.0.0.1' }, api: { port: 0, host: '127.0.0.1' },
      topology: { lldpIntervalMs: 200, defaultCapacityBps: '100M' },
      agents: { socketPath, heartbeatMs: 500, idleGapMs: 5, auth: { secrets: { h2: H2_SECRET, h3ws: H3_SECRET }, timeoutMs: 500 } },
      allocator: { policy: 'maxmin' },
    });
    rivulet = await startRivulet({ config, logger: quietLogger() });
    fabric = await FakeFabric.connect(rivulet.openflow.port, { shape: { spines: 2, leaves: 2, hostsPerLeaf: 1 } });
    a = fabric.host(0, 0);
    b = fabric.host(1, 0);
    fabric.observe((e) => {
      if (e.kind === 'fromController' && e.sw.dpid === a.leaf.dpid) toLeaf.push(e.msg);
    });
    const view = rivulet.topology.view;
    await until('discovery', () => view.ready() && view.links().length === 8, 8000);
    for (const h of fabric.hosts) h.announce();
    await until('hosts', () => view.hosts().filter((h) => h.ipv4 !== undefined).length === 2);
    a.tcp(b, 40000, 5201);
    await until('route pinned', () => rivulet.routing.routes().some((r) => r.flowKey.srcPort === 40000 && r.installed));
  });

  after(async () => {
    fabric?.close();
    await rivulet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('welcomes an agent, pushes its flowlet’s rate, installs the meter and the metered entry on the ingress leaf', async () => {
    expect(existsSync(socketPath)).to.equal(true);
    agent = await FakeAgent.connect(socketPath);
    agent.send({ type: 'hello', version: 1, agentId: 'h1', hostname: 'h1', interface: 'h1-eth0', ipv4: [a.ip], mac: a.mac, active: [] });
    await until('welcome', () => agent.of('welcome').length === 1);
    expect(agent.of('welcome')[0]).to.deep.equal({
      type: 'welcome', agentId: 'h1', heartbeatMs: 500, smallFlowletBytes: 50000, idleGapMs: 5,
      // no flow-size distribution configured: small flowlets ride the top queue (DSCP 46), the rest best effort
      thresholds: { thresholdsBytes: [50000], dscpByPriority: [46, 0] },
    });
    const t0 = epochUs();
    agent.send({
      type: 'events', seq: 1, progress: [], ends: [], enforced: [],
      starts: [{ id: 'f1', flow: { src: a.ip, dst: b.ip, proto: 6, sport: 40000, dport: 5201 }, firstPacketEpochUs: t0, bytes: 80_000 }],
    });
    await until('rates', () => agent.of('rates').length > 0);
    const rates = agent.of('rates')[0]!;
    expect(rates.set).to.have.length(1);
    expect(rates.set[0]!.id).to.equal('f1');
    expect(rates.set[0]!.rateBps).to.equal(100e6);
    agent.send({ type: 'events', seq: 2, starts: [], progress: [], ends: [], enforced: [{ id: 'f1', rateBps: 100e6, atEpochUs: t0 + 2500 }] });

    await until('meter + metered entry', () =>
      toLeaf.some((m) => m.type === 'OFPT_METER_MOD' && m.command === OFPMC.ADD && m.meterId !== OFPM.CONTROLLER)
      && toLeaf.some((m) => m.type === 'OFPT_FLOW_MOD' && m.instructions.some((i) => i.type === 'OFPIT_METER')));
    const meterMod = toLeaf.find((m) => m.type === 'OFPT_METER_MOD' && m.command === OFPMC.ADD && m.meterId !== OFPM.CONTROLLER)!;
    expect(meterMod.type === 'OFPT_METER_MOD' && meterMod.bands[0]!.rate).to.equal(110_000); // kbit/s: 100 Mbit/s · 1.1
    await until('meter installed', () => rivulet.enforcement.meters.list().some((m) => m.state === 'installed'));
  });

  it('shows the flowlet, the allocator, meters, agents and metrics over REST', async () => {
    const api = rivulet.api.url;
    await until('meter reaction recorded', () => rivulet.enforcement.core.allocatorView(0).reaction.meter.count === 1);
    const { flowlets } = await getJson(`${api}/api/v1/flowlets`);
    expect(flowlets).to.have.length(1);
    const f = flowlets[0];
    expect(f).to.deep.include({ agentId: 'h1', id: 'f1', state: 'allocated', allocatedBps: 100e6, agentRateBps: 100e6, meterRateBps: 110e6, tenant: null, weight: 1 });
    expect(f.path.links).to.have.length(4);
    expect(f.path.links[0]).to.equal(`host:${a.ip}`);
    expect(f.path.hops.map((h: { dpid: string }) => h.dpid)[0]).to.equal('0000000000000001');
    expect(f.meterKey).to.equal('flowlet:h1/f1');
    expect(f.meterId).to.be.a('number');
    expect(f.reactionUs.agent).to.equal(2500);
    expect(f.reactionUs.meter).to.be.above(0);
    const alloc = await getJson(`${api}/api/v1/allocator`);
    expect(alloc).to.deep.include({ policy: 'maxmin', mode: 'both', activeFlowlets: 1, allocatedFlowlets: 1 });
    expect(alloc.runs).to.be.above(0);
    expect(alloc.updatesSent.agents).to.be.at.least(1);
    expect(alloc.updatesSent.meters).to.be.at.least(1);
    expect(alloc.reaction.agent).to.deep.equal({ count: 1, p50Us: 2500, p99Us: 2500 });
    expect(alloc.eventsPerSecond).to.be.above(0);
    const meters = await getJson(`${api}/api/v1/meters`);
    expect(meters.meters).to.have.length(1);
    expect(meters.meters[0]).to.deep.include({ key: 'flowlet:h1/f1', dpid: '0000000000000001', rateBps: 110e6, state: 'installed' });
    expect(meters.switches.map((s: { supported: boolean }) => s.supported)).to.deep.equal([true, true, true, true]);
    const agents = await getJson(`${api}/api/v1/agents`);
    expect(agents.agents).to.have.length(1);
    expect(agents.agents[0]).to.deep.include({ id: 'h1', connected: true, flowlets: 1, ipv4: [a.ip] });
    const links = await getJson(`${api}/api/v1/links`);
    const up = links.links.find((l: { src: { dpid: string; port: number } }) => l.src.dpid === '0000000000000001' && l.src.port === f.path.hops[0].outPort);
    expect(up.loadBps).to.equal(100e6);
    const ryu = await getJson(`${api}/stats/meter/1`);
    expect(ryu['1']).to.have.length(1);
    const res = await fetch(`${api}/metrics`);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await res.text();
    expect(text).to.match(/rivulet_flowlets\{state="allocated"\} 1/);
    expect(text).to.match(/rivulet_agents_connected 1/);
    expect(text).to.match(/rivulet_meters\{state="installed"\} 1/);
    expect(text).to.match(/rivulet_allocator_runs_total [1-9]/);
    expect(text).to.match(/rivulet_reaction_time_seconds_count\{enforcer="agent"\} 1/);
    const bad = await fetch(`${api}/api/v1/flowlets?state=bogus`);
    expect(bad.status).to.equal(400);
    expect((await bad.json()).error.code).to.equal('BAD_REQUEST');
    const openapi = await getJson(`${api}/api/v1/openapi.json`);
    for (const p of ['/api/v1/flowlets', '/api/v1/allocator', '/api/v1/meters', '/api/v1/agents']) expect(openapi.paths, p).to.have.property(p);
  });

  it('reads a pinned path back from the switches’ tables (adoption after a controller restart)', async () => {
    const route = rivulet.routing.routes().find((r) => r.flowKey.srcPort === 40000)!;
    const r = await readPathFromSwitches(route.flowKey, rivulet.topology.view, (d) => rivulet.controller.switches.get(d));
    if (!r.ok) expect.fail(`not read back: ${r.reason}`);
    const p = r.path;
    expect(p?.hops.map((h) => ({ dpid: h.dpid.toString(16).padStart(16, '0'), inPort: h.inPort, outPort: h.outPort }))).to.deep.equal(route.path);
    expect(p?.actions.some((x) => x.type === 'OFPAT_OUTPUT')).to.equal(true);
  });

  it('a malformed line closes only that agent’s connection', async () => {
    const bad = await FakeAgent.connect(socketPath);
    bad.socket.write('{"type":"hello","version":1}\n');
    await until('bad agent closed', () => bad.closed);
    expect(bad.of('error')).to.have.length(1);
    expect(bad.of('error')[0]!.message).to.match(/hello/);
    const pings = agent.of('ping').length;
    await until('good agent still pinged', () => agent.of('ping').length > pings);
    expect(agent.closed).to.equal(false);
    expect(rivulet.enforcement.core.agentViews().map((x) => x.connected)).to.deep.equal([true]);
  });

  it('agents also connect over the WebSocket /api/v1/agents/ws', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${rivulet.api.port}/api/v1/agents/ws`);
    const got: ControllerMessage[] = [];
    ws.on('message', (d) => got.push(parseControllerMessage(String(d))));
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    ws.send(JSON.stringify({ type: 'hello', version: 1, agentId: 'h2', hostname: 'h2', interface: 'h2-eth0', ipv4: [b.ip], mac: b.mac, active: [] }));
    await until('challenge', () => got.some((m) => m.type === 'challenge'));
    expect(got.some((m) => m.type === 'welcome'), 'no welcome before the proof').to.equal(false);
    const { nonce } = got.find((m) => m.type === 'challenge') as { nonce: string };
    ws.send(JSON.stringify({ type: 'auth', agentId: 'h2', mac: agentAuthMac(H2_SECRET, 'h2', nonce) }));
    await until('ws welcome', () => got.some((m) => m.type === 'welcome'));
    ws.close();
    await until('h2 gone', () => rivulet.enforcement.core.agentViews().find((x) => x.id === 'h2')?.connected === false);
  });

  it('the agent\'s own channel client (agent/channel.ts) registers over ws://…/api/v1/agents/ws and gets a welcome', async () => {
    const ups: WelcomeMsg[] = [];
    const ch = new AgentChannel({
      address: parseChannelAddress(`ws://127.0.0.1:${rivulet.api.port}`),
      log: quietLogger(),
      hello: () => ({ type: 'hello', version: 1, agentId: 'h3ws', hostname: 'h3', interface: 'h3-eth0', ipv4: [b.ip], mac: b.mac, active: [] }),
      secret: H3_SECRET,
      onMessage: () => undefined,
      onUp: (w) => ups.push(w),
      nowEpochUs: epochUs,
    });
    ch.start();
    try {
      await until('welcome over the agent\'s WebSocket transport', () => ups.length === 1);
      expect(ups[0]).to.include({ type: 'welcome', agentId: 'h3ws' });
      await until('listed as connected', () => rivulet.enforcement.core.agentViews().find((x) => x.id === 'h3ws')?.connected === true);
    } finally {
      ch.close();
    }
    await until('h3ws gone', () => rivulet.enforcement.core.agentViews().find((x) => x.id === 'h3ws')?.connected === false);
  });

  it('the WebSocket refuses a client without credentials, with a wrong proof, or with an id that has no secret', async () => {
    const attempt = async (agentId: string, answer?: (nonce: string) => string): Promise<ControllerMessage[]> => {
      const ws = new WebSocket(`ws://127.0.0.1:${rivulet.api.port}/api/v1/agents/ws`);
      const got: ControllerMessage[] = [];
      let closed = false;
      ws.on('message', (d) => {
        const m = parseControllerMessage(String(d));
        if (m.type === 'ping') return ws.send(JSON.stringify({ type: 'ping', atEpochUs: epochUs() })); // alive, just not proving anything
        got.push(m);
        if (m.type === 'challenge' && answer) ws.send(JSON.stringify({ type: 'auth', agentId, mac: answer(m.nonce) }));
      });
      ws.on('close', () => (closed = true));
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      ws.send(JSON.stringify({ type: 'hello', version: 1, agentId, hostname: 'x', interface: 'eth0', ipv4: [a.ip], active: [] }));
      await until('refused', () => closed);
      return got;
    };
    const before = (await getJson(`${rivulet.api.url}/api/v1/agents`)).rejected.unauthenticated as number;
    const wrong = await attempt('h2', (nonce) => agentAuthMac('not-the-secret-of-h2', 'h2', nonce));
    expect(wrong.map((m) => m.type)).to.deep.equal(['challenge', 'error']);
    const noSecret = await attempt('mallory');
    expect(noSecret.map((m) => m.type)).to.deep.equal(['error']);
    const silent = await attempt('h2'); // never answers the challenge: closed after agents.auth.timeoutMs
    expect(silent.map((m) => m.type)).to.deep.equal(['challenge', 'error']);
    expect((await getJson(`${rivulet.api.url}/api/v1/agents`)).rejected.unauthenticated).to.equal(before + 3);
    expect(rivulet.enforcement.core.agentViews().some((x) => x.id === 'mallory')).to.equal(false);
  });

  it('an agent cannot report flowlets for another host’s address, nor take over a connected agent’s id', async () => {
    const flowletsBefore = (await getJson(`${rivulet.api.url}/api/v1/flowlets`)).flowlets.length;
    const errorsBefore = agent.of('error').length;
    agent.send({
      type: 'events', seq: 9, progress: [], ends: [], enforced: [],
      starts: [{ id: 'victim', flow: { src: b.ip, dst: a.ip, proto: 17, sport: 5000, dport: 5001 }, firstPacketEpochUs: epochUs(), bytes: 1e6 }],
    });
    await until('error on the channel', () => agent.of('error').length > errorsBefore);
    expect(agent.of('error').at(-1)!.message).to.match(/foreignSource 1/);
    expect((await getJson(`${rivulet.api.url}/api/v1/flowlets`)).flowlets).to.have.length(flowletsBefore);
    expect((await getJson(`${rivulet.api.url}/api/v1/agents`)).rejected.foreignSource).to.be.at.least(1);
    // claiming b's address in a hello does not help: the host table has b at another MAC
    const liar = await FakeAgent.connect(socketPath);
    liar.send({ type: 'hello', version: 1, agentId: 'liar', hostname: 'liar', interface: 'eth0', ipv4: [b.ip], mac: a.mac, active: [
      { id: 'v2', flow: { src: b.ip, dst: a.ip, proto: 17, sport: 5000, dport: 5001 }, firstPacketEpochUs: epochUs(), bytes: 1e6 },
    ] });
    await until('liar welcomed without the address', () => liar.of('welcome').length === 1);
    expect(rivulet.enforcement.core.agentViews().find((x) => x.id === 'liar')?.ipv4).to.deep.equal([]);
    expect((await getJson(`${rivulet.api.url}/api/v1/flowlets`)).flowlets).to.have.length(flowletsBefore);
    liar.socket.destroy();
    // a second connection saying hello as h1 (connected, no secret configured for it) is refused; h1 stays
    const twin = await FakeAgent.connect(socketPath);
    twin.send({ type: 'hello', version: 1, agentId: 'h1', hostname: 'h1', interface: 'h1-eth0', ipv4: [a.ip], mac: a.mac, active: [] });
    await until('twin refused', () => twin.closed);
    expect(twin.of('error')[0]!.message).to.match(/connected on another channel/);
    expect(agent.closed).to.equal(false);
    const pings = agent.of('ping').length;
    await until('h1 still served', () => agent.of('ping').length > pings);
  });

  it('the end deletes the meter (the agent removed its own limit: no clear is sent)', async () => {
    const before = agent.of('rates').length;
    agent.send({ type: 'events', seq: 3, starts: [], progress: [], enforced: [], ends: [{ id: 'f1', lastPacketEpochUs: epochUs(), bytes: 2e6 }] });
    await until('meter delete', () => toLeaf.some((m) => m.type === 'OFPT_METER_MOD' && m.command === OFPMC.DELETE));
    await until('meter forgotten', () => rivulet.enforcement.meters.size === 0);
    expect(agent.of('rates').slice(before).some((r) => r.clear.includes('f1'))).to.equal(false);
    const ended = await getJson(`${rivulet.api.url}/api/v1/flowlets?state=ended`);
    expect(ended.flowlets.map((x: { id: string; endReason: string }) => [x.id, x.endReason])).to.deep.equal([['f1', 'ended']]);
    expect((await getJson(`${rivulet.api.url}/api/v1/flowlets`)).flowlets).to.deep.equal([]);
  });

  it('close() removes the socket file and leaves no timer, socket or agent connection', async () => {
    await rivulet.close();
    expect(existsSync(socketPath)).to.equal(false);
    await until('agent sees the close', () => agent.closed);
    await until('switch sockets closed', () => rivulet.stats().controller.sockets === 0);
    const st = rivulet.stats();
    expect(st.appTimers).to.equal(0);
    expect(st.controller).to.include({ sessions: 0, sockets: 0, timers: 0, pendingRequests: 0 });
    expect(rivulet.enforcement.agentServer.size).to.equal(0);
    expect(rivulet.enforcement.agentServer.listeningPath).to.equal(undefined);
  });
});
