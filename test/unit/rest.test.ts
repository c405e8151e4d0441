/**
 * The REST API (controller/rest) over fastify inject, against a hand-built topology, fake connected
 * switches and fake routes: every route's status and body (checked against its own JSON schema), dpid
 * forms, JSON errors with the right status, the OpenAPI document, the Ryu aliases, the bearer guard and
 * the topology-ready wait of /health.
 */
import { expect } from 'chai';
import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ManualClock, systemClock } from '../../lib/clock.js';
import { defaultConfig } from '../../controller/config/index.js';
import { quietLogger } from '../../lib/log.js';
import { bearerAuth, createRestServer, parseApiDpid, schemas as S, type RestServer, type SwitchInfo } from '../../controller/rest/index.js';
import type { RouteInfo } from '../../apps/routing/types.js';
import { FakeTopology, fakeHandle, fakeRoute } from '../../testing/fake-topology.js';

const NOW = 10_000;

// TypeBox checks formats only when told how; the API's timestamps are ISO-8601 UTC
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v)));
}

interface Setup {
  server: RestServer;
  topo: FakeTopology;
  connected: Map<bigint, SwitchInfo>;
  routes: RouteInfo[];
}

function setup(opts: { clock?: ManualClock | typeof systemClock; token?: string } = {}): Setup {
  const clock = opts.clock ?? new ManualClock(NOW);
  const topo = new FakeTopology(clock.now());
  const connected = new Map<bigint, SwitchInfo>([
    [0x1n, fakeHandle(0x1n, 3)],
    [0x2n, fakeHandle(0x2n, 3, '127.0.0.1:40001')],
    [0x101n, fakeHandle(0x101n, 2)],
    [0x999n, fakeHandle(0x999n, 2)], // connected, not (yet) in the topology
  ]);
  const routes = [fakeRoute(clock.now() - 1500)];
  const server = createRestServer({
    controller: { switches: connected },
    topology: topo,
    routes: () => routes,
    config: defaultConfig(opts.token === undefined ? {} : { api: { token: opts.token } }),
    log: quietLogger(),
    clock,
    startedAtMs: clock.now() - 5000,
    version: '9.9.9',
  });
  return { server, topo, connected, routes };
}

async function get(server: RestServer, url: string): Promise<{ status: number; body: any; headers: Record<string, unknown> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await server.fastify.inject({ method: 'GET', url });
  expect(res.headers['content-type']).to.match(/^application\/json/);
  return { status: res.statusCode, body: JSON.parse(res.body), headers: res.headers };
}

function expectShape(schema: TSchema, body: unknown): void {
  const errors = [...Value.Errors(schema, body)].map((e) => `${e.path}: ${e.message}`);
  expect(errors, JSON.stringify(body).slice(0, 300)).to.deep.equal([]);
}

function expectError(r: { status: number; body: any }, status: number, code: string): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(r.status).to.equal(status);
  expectShape(S.ErrorBody, r.body);
  expect(r.body.error.code).to.equal(code);
  expect(r.body.error.message).to.be.a('string').and.not.equal('');
}

describe('rest: read endpoints', () => {
  let s: Setup;
  beforeEach(() => {
    s = setup();
  });
  afterEach(async () => {
    await s.server.close();
  });

  it('GET /api/v1/switches: every connected or discovered switch, sorted, with roles, features, ports', async () => {
    const r = await get(s.server, '/api/v1/switches');
    expect(r.status).to.equal(200);
    expectShape(S.SwitchList, r.body);
    const list = r.body.switches as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(list.map((x) => x.dpid)).to.deep.equal(['0000000000000001', '0000000000000002', '0000000000000101', '0000000000000102', '0000000000000999']);
    expect(list.map((x) => x.role)).to.deep.equal(['leaf', 'leaf', 'spine', 'spine', 'unknown']);
    expect(list.map((x) => x.connected)).to.deep.equal([true, true, true, false, true]);
    const leaf = list[0];
    expect(leaf.peer).to.equal('127.0.0.1:40000');
    expect(leaf.features).to.deep.equal({
      nTables: 254, nBuffers: 0, auxiliaryId: 0, capabilitiesMask: 0x4f,
      capabilities: ['FLOW_STATS', 'TABLE_STATS', 'PORT_STATS', 'GROUP_STATS', 'QUEUE_STATS'],
    });
    expect(leaf.ports.map((p: any) => [p.portNo, p.kind, p.neighbor])).to.deep.equal([ // eslint-disable-line @typescript-eslint/no-explicit-any
      [1, 'fabric', { dpid: '0000000000000101', port: 1 }],
      [2, 'fabric', { dpid: '0000000000000102', port: 1 }],
      [3, 'edge', null],
    ]);
    expect(leaf.ports[0]).to.include({ up: true, currSpeedBps: 10e9, maxSpeedBps: 10e9, name: 's1-eth1' });
    const absent = list[3];
    expect(absent).to.include({ peer: null, features: null });
    expect(absent.ports[0].maxSpeedBps).to.equal(null);
    const unknown = list[4];
    expect(unknown.ports.map((p: any) => p.portNo)).to.deep.equal([1, 2]); // OFPP_LOCAL left out // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(unknown.ports[0]).to.include({ currSpeedBps: 1e9, kind: 'edge', up: true });
  });

  it('GET /api/v1/switches/:dpid accepts 16 hex digits, 0x-hex, colon bytes and decimal', async () => {
    for (const form of ['0000000000000101', '0x101', '00:00:00:00:00:00:01:01', '1:1', '257']) {
      const r = await get(s.server, `/api/v1/switches/${encodeURIComponent(form)}`);
      expect(r.status, form).to.equal(200);
      expectShape(S.SwitchSchema, r.body);
      expect(r.body.dpid).to.equal('0000000000000101');
      expect(r.body.role).to.equal('spine');
    }
  });

  it('an unknown dpid is a 404, a malformed one a 400, both as JSON errors', async () => {
    expectError(await get(s.server, '/api/v1/switches/0000000000000abc'), 404, 'UNKNOWN_DPID');
    expectError(await get(s.server, '/api/v1/switches/not-a-dpid'), 400, 'BAD_DPID');
    expectError(await get(s.server, '/api/v1/switches/99999999999999999999'), 400, 'BAD_DPID'); // > 2^64 - 1
    expectError(await get(s.server, '/api/v1/switches/00000000000000003'), 404, 'UNKNOWN_DPID'); // 17 digits: decimal 3, not connected
    expectError(await get(s.server, '/api/v1/switches/1:2:3:4:5:6:7:8:9'), 400, 'BAD_DPID'); // 9 bytes
  });

  it('GET /api/v1/links: directed links with capacity, load (null for now) and when last seen', async () => {
    const r = await get(s.server, '/api/v1/links');
    expect(r.status).to.equal(200);
    expectShape(S.LinkList, r.body);
    expect(r.body.links).to.have.length(8);
    const first = r.body.links[0];
    expect(first).to.deep.include({ src: { dpid: '0000000000000001', port: 1 }, dst: { dpid: '0000000000000101', port: 1 }, capacityBps: 100e6, loadBps: null, ageMs: 200 });
    expect(Date.parse(first.lastSeen)).to.be.closeTo(Date.now() - 200, 2000);
  });

  it('GET /api/v1/hosts: MAC, IPv4 (null until known), attachment', async () => {
    const r = await get(s.server, '/api/v1/hosts');
    expect(r.status).to.equal(200);
    expectShape(S.HostList, r.body);
    expect(r.body.hosts.map((h: any) => [h.mac, h.ipv4, h.attachment, h.ageMs])).to.deep.equal([ // eslint-disable-line @typescript-eslint/no-explicit-any
      ['00:00:00:00:00:01', '10.0.0.1', { dpid: '0000000000000001', port: 3 }, 500],
      ['00:00:00:00:00:02', null, { dpid: '0000000000000002', port: 3 }, 500],
    ]);
  });

  it('GET /api/v1/topology: switches, links, hosts and ready in one document', async () => {
    s.topo.readySwitch = false;
    const r = await get(s.server, '/api/v1/topology');
    expect(r.status).to.equal(200);
    expectShape(S.TopologySchema, r.body);
    expect(r.body.ready).to.equal(false);
    expect([r.body.switches.length, r.body.links.length, r.body.hosts.length]).to.deep.equal([5, 8, 2]);
  });

  it('GET /api/v1/routes: each pinned flow with its path and spine', async () => {
    const r = await get(s.server, '/api/v1/routes');
    expect(r.status).to.equal(200);
    expectShape(S.RouteList, r.body);
    const route = r.body.routes[0];
    expect(route.flowKey).to.deep.equal({ ipv4Src: '10.0.0.1', ipv4Dst: '10.0.0.2', ipProto: 6, srcPort: 40000, dstPort: 5201 });
    expect(route.path.map((h: any) => h.dpid)).to.deep.equal(['0000000000000001', '0000000000000102', '0000000000000002']); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(route).to.include({ spine: '0000000000000102', ageMs: 1500, repinned: 0, installed: true });
    s.routes.length = 0;
    expect((await get(s.server, '/api/v1/routes')).body).to.deep.equal({ routes: [], nextCursor: null });
  });

  it('GET /api/v1/health: status, uptime, switches connected, ready', async () => {
    const r = await get(s.server, '/api/v1/health');
    expect(r.status).to.equal(200);
    expectShape(S.HealthSchema, r.body);
    expect(r.body).to.deep.equal({ status: 'ok', ready: true, uptimeS: 5, switches: 4, links: 8, hosts: 2, routes: 1, version: '9.9.9' });
    s.topo.readySwitch = false;
    expect((await get(s.server, '/api/v1/health')).body.ready).to.equal(false);
  });

  it('answers unknown routes, bad query values and failing handlers with JSON errors', async () => {
    expectError(await get(s.server, '/api/v1/nope'), 404, 'NOT_FOUND');
    expectError(await get(s.server, '/api/v1/health?waitReadyMs=-5'), 400, 'BAD_REQUEST');
    expectError(await get(s.server, '/api/v1/health?waitReadyMs=abc'), 400, 'BAD_REQUEST');
    s.topo.links = () => {
      throw new Error('boom');
    };
    const r = await get(s.server, '/api/v1/links');
    expectError(r, 500, 'INTERNAL');
    expect(r.body.error.message).to.not.include('boom');
  });

  it('fastify’s own errors come in the same shape: a URL that does not decode, an over-long parameter, no such route', async () => {
    expectError(await get(s.server, '/api/v1/switches/%E0%A4%A'), 400, 'FST_ERR_BAD_URL');
    expectError(await get(s.server, `/api/v1/switches/${'1'.repeat(500)}`), 414, 'FST_ERR_MAX_PARAM_LENGTH');
    expectError(await get(s.server, '/no/such/thing'), 404, 'NOT_FOUND');
    expectError(await get(s.server, '/api/v1/hosts?limit=0'), 400, 'BAD_REQUEST');
    expectError(await get(s.server, '/api/v1/hosts?cursor=not-ours!'), 400, 'BAD_REQUEST');
  });

  it('long lists paginate: limit + cursor walk every item once, in a stable order', async () => {
    for (let i = 3; i < 2503; i++) {
      const mac = `00:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
      s.topo.addHost({ mac, attachment: { dpid: 1n, portNo: 3 }, lastSeenMs: NOW - 1 });
    }
    const first = await get(s.server, '/api/v1/hosts');
    expect(first.body.hosts).to.have.length(1000); // the default page
    expectShape(S.HostList, first.body);
    const seen: string[] = [];
    let url = '/api/v1/hosts?limit=700';
    for (;;) {
      const r = await get(s.server, url);
      expect(r.status).to.equal(200);
      seen.push(...r.body.hosts.map((h: { mac: string }) => h.mac));
      if (r.body.nextCursor === null) break;
      url = `/api/v1/hosts?limit=700&cursor=${r.body.nextCursor}`;
    }
    expect(seen).to.have.length(2502);
    expect(new Set(seen).size).to.equal(2502);
    expect(seen).to.deep.equal([...seen].sort());
  });

  it('accepts a trailing slash', async () => {
    expect((await get(s.server, '/api/v1/switches/')).status).to.equal(200);
  });
});

describe('rest: Ryu-compatible aliases', () => {
  let s: Setup;
  beforeEach(() => {
    s = setup();
  });
  afterEach(async () => {
    await s.server.close();
  });

  it('serves /v1.0/topology/switches|links|hosts in Ryu shapes', async () => {
    const sw = await get(s.server, '/v1.0/topology/switches');
    expect(sw.status).to.equal(200);
    expect(sw.body).to.have.length(5);
    expect(sw.body[0]).to.deep.include({ dpid: '0000000000000001' });
    expect(sw.body[0].ports[2]).to.deep.equal({ dpid: '0000000000000001', port_no: '00000003', hw_addr: '02:00:00:00:01:03', name: 's1-eth3' });
    const links = await get(s.server, '/v1.0/topology/links');
    expect(links.body).to.have.length(8);
    expect(links.body[0].src).to.include({ dpid: '0000000000000001', port_no: '00000001' });
    expect(links.body[0].dst).to.include({ dpid: '0000000000000101', port_no: '00000001' });
    const hosts = await get(s.server, '/v1.0/topology/hosts');
    expect(hosts.body[0]).to.deep.include({ mac: '00:00:00:00:00:01', ipv4: ['10.0.0.1'], ipv6: [] });
    expect((await get(s.server, '/v1.0/topology/switches/0000000000000002')).body.map((x: any) => x.dpid)).to.deep.equal(['0000000000000002']); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect((await get(s.server, '/v1.0/topology/links/0000000000000101')).body).to.have.length(2);
    expect((await get(s.server, '/v1.0/topology/hosts/2')).body).to.have.length(1);
    expect((await get(s.server, '/v1.0/topology/switches/0000000000000abc')).body).to.deep.equal([]);
    expectError(await get(s.server, '/v1.0/topology/links/zz'), 400, 'BAD_DPID');
  });
});

describe('rest: OpenAPI document', () => {
  it('lists every route with its responses, as JSON', async () => {
    const s = setup();
    try {
      const res = await s.server.fastify.inject({ method: 'GET', url: '/api/v1/openapi.json' });
      expect(res.statusCode).to.equal(200);
      const doc = JSON.parse(res.body);
      expect(doc.openapi).to.equal('3.1.0');
      expect(doc.info).to.include({ title: 'Rivulet REST API', version: '9.9.9' });
      const expected = [
        '/api/v1/switches', '/api/v1/switches/{dpid}', '/api/v1/links', '/api/v1/hosts', '/api/v1/topology', '/api/v1/routes', '/api/v1/packet-ins', '/api/v1/qos', '/api/v1/health',
        '/v1.0/topology/switches', '/v1.0/topology/switches/{dpid}', '/v1.0/topology/links', '/v1.0/topology/links/{dpid}',
        '/v1.0/topology/hosts', '/v1.0/topology/hosts/{dpid}',
      ];
      expect(Object.keys(doc.paths)).to.have.members(expected);
      for (const p of expected) {
        const op = doc.paths[p].get;
        expect(op.responses, p).to.have.keys('200', '4XX', '5XX');
        expect(op.responses['200'].content['application/json'].schema, p).to.be.an('object');
        expect(op.summary, p).to.be.a('string');
      }
      expect(doc.paths['/api/v1/switches/{dpid}'].get.parameters[0]).to.include({ name: 'dpid', in: 'path', required: true });
      expect(doc.paths['/api/v1/health'].get.parameters[0]).to.include({ name: 'waitReadyMs', in: 'query' });
    } finally {
      await s.server.close();
    }
  });
});

describe('rest: bearer token for mutating endpoints', () => {
  async function post(server: RestServer, auth?: string): Promise<{ status: number; body: any; headers: Record<string, unknown> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await server.fastify.inject({ method: 'POST', url: '/api/v1/test-mutation', headers: auth ? { authorization: auth } : {} });
    return { status: res.statusCode, body: JSON.parse(res.body), headers: res.headers };
  }

  it('admits only the configured token; without one configured, refuses every mutation', async () => {
    const token = 'correct-horse-battery-staple';
    const s = setup({ token });
    const off = setup();
    try {
      for (const srv of [s, off]) {
        srv.server.fastify.post('/api/v1/test-mutation', { preHandler: bearerAuth(srv === s ? token : undefined) }, async () => ({ done: true }));
      }
      const missing = await post(s.server);
      expectError(missing, 401, 'UNAUTHORIZED');
      expect(missing.headers['www-authenticate']).to.match(/^Bearer/);
      expectError(await post(s.server, 'Bearer wrong-token-wrong-token'), 401, 'UNAUTHORIZED');
      expectError(await post(s.server, `Basic ${token}`), 401, 'UNAUTHORIZED');
      expect(await post(s.server, `Bearer ${token}`)).to.deep.include({ status: 200, body: { done: true } });
      expectError(await post(off.server, `Bearer ${token}`), 403, 'MUTATIONS_DISABLED');
    } finally {
      await s.server.close();
      await off.server.close();
    }
  });
});

describe('rest: health waits for the topology-ready signal', () => {
  it('?waitReadyMs answers as soon as discovery settles, or when the wait ends', async () => {
    const s = setup({ clock: systemClock });
    try {
      s.topo.readySwitch = false;
      setTimeout(() => (s.topo.readySwitch = true), 150);
      const t0 = Date.now();
      const r = await get(s.server, '/api/v1/health?waitReadyMs=5000');
      expect(r.body.ready).to.equal(true);
      expect(Date.now() - t0).to.be.within(100, 2000);
      s.topo.readySwitch = false;
      const t1 = Date.now();
      expect((await get(s.server, '/api/v1/health?waitReadyMs=120')).body.ready).to.equal(false);
      expect(Date.now() - t1).to.be.within(100, 2000);
    } finally {
      await s.server.close();
    }
  });

  it('close() ends a pending wait', async () => {
    const s = setup({ clock: systemClock });
    s.topo.readySwitch = false;
    const pending = s.server.fastify.inject({ method: 'GET', url: '/api/v1/health?waitReadyMs=60000' });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await s.server.close();
    await pending.catch(() => undefined);
    expect(Date.now() - t0).to.be.below(2000);
  });
});

describe('rest: listening over real HTTP', () => {
  it('listens on an ephemeral port and closes', async () => {
    const s = setup();
    const addr = await s.server.listen(0, '127.0.0.1');
    try {
      expect(addr.port).to.be.above(0);
      expect(addr.url).to.equal(`http://127.0.0.1:${addr.port}`);
      const res = await fetch(`${addr.url}/api/v1/health`);
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { status: string }).status).to.equal('ok');
    } finally {
      await s.server.close();
    }
  });
});

describe('rest: dpid parsing', () => {
  it('reads every accepted form and rejects the rest', () => {
    expect(parseApiDpid('00000000000000ff')).to.equal(255n);
    expect(parseApiDpid('0000000000000010')).to.equal(16n); // 16 digits: hex even if all decimal
    expect(parseApiDpid('10')).to.equal(10n);
    expect(parseApiDpid('0x10')).to.equal(16n);
    expect(parseApiDpid('ff:ff:ff:ff:ff:ff:ff:ff')).to.equal((1n << 64n) - 1n);
    expect(parseApiDpid('18446744073709551615')).to.equal((1n << 64n) - 1n);
    for (const bad of ['', 'g', '0x', '18446744073709551616', '1:2:3:4:5:6:7:8:9', '-1', '0x11111111111111111']) {
      expect(() => parseApiDpid(bad), bad).to.throw().with.property('code', 'BAD_DPID');
    }
  });
});
