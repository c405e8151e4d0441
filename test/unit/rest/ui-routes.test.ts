/**
 * The web view's routes (controller/rest/ui.ts) on the REST server, with fastify inject and a manual
 * clock: GET / serves the bundled page (or says how to build it), the WebSocket /ui/ws sends a snapshot
 * on connect and then deltas of what changed at most once per push interval, answers a switch-detail
 * request, refuses pages past the limit, and the auth hook guards page and socket. No timer is left
 * once the last page has gone.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { ManualClock } from '../../../lib/clock.js';
import { defaultConfig } from '../../../controller/config/index.js';
import { quietLogger } from '../../../lib/log.js';
import { createRestServer, type RestServer, type RestServerOptions } from '../../../controller/rest/index.js';
import { FakeTopology, fakeHandle, fakeRoute } from '../../../testing/fake-topology.js';

interface Client {
  ws: WebSocket;
  got: any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function open(server: RestServer, url = '/ui/ws'): Promise<Client> {
  const got: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const ws = await server.fastify.injectWS(url, {}, { onInit: (w) => w.on('message', (d) => got.push(JSON.parse(String(d)))) });
  return { ws, got };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('web view routes', () => {
  let dir: string;
  let clock: ManualClock;
  let topo: FakeTopology;
  let server: RestServer;

  function make(ui: RestServerOptions['ui'] = {}): RestServer {
    return createRestServer({
      controller: { switches: new Map([[0x1n, fakeHandle(0x1n, 3)], [0x101n, fakeHandle(0x101n, 2)]]) },
      topology: topo,
      routes: () => [fakeRoute(clock.now())],
      config: defaultConfig({}),
      log: quietLogger(),
      clock,
      version: '0.0.1',
      ui: { assetsDir: dir, ...ui },
    });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-ui-assets-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Rivulet</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    clock = new ManualClock(10_000);
    topo = new FakeTopology(clock.now());
  });

  afterEach(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at / and its assets under /ui/', async () => {
    server = make();
    const page = await server.fastify.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(page.body).to.contain('<title>Rivulet</title>');
    const js = await server.fastify.inject({ method: 'GET', url: '/ui/app.js' });
    expect(js.statusCode).to.equal(200);
    expect(js.headers['content-type']).to.match(/javascript/);
    const missing = await server.fastify.inject({ method: 'GET', url: '/ui/nope.js' });
    expect(missing.statusCode).to.equal(404);
    // the REST API is untouched
    expect((await server.fastify.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).to.equal(200);
  });

  it('says how to build the page when the assets are missing', async () => {
    server = make({ assetsDir: join(dir, 'absent') });
    const page = await server.fastify.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).to.equal(503);
    expect(page.body).to.contain('npm run build');
  });

  it('pushes a snapshot on connect, then only changed sections, at most once per interval; answers a detail request', async () => {
    server = make({ pushIntervalMs: 250 });
    await server.fastify.ready();
    const c = await open(server);
    await settle();
    expect(c.got).to.have.length(1);
    const snap = c.got[0];
    expect(snap.type).to.equal('snapshot');
    expect(snap.sections.switches.map((s: { dpid: string }) => s.dpid)).to.include('0000000000000001');
    expect(snap.sections.links).to.have.length(topo.linkList.length);
    // nothing changed: no push
    clock.advance(250);
    await settle();
    expect(c.got).to.have.length(1);
    // a link fails, another one too, within one interval: one delta with the links
    const n = topo.linkList.length;
    topo.linkList.splice(0, 1);
    clock.advance(100);
    topo.linkList.splice(0, 1);
    clock.advance(150);
    await settle();
    expect(c.got).to.have.length(2);
    expect(c.got[1].type).to.equal('delta');
    expect(c.got[1].sections.links).to.have.length(n - 2);
    expect(Object.keys(c.got[1].sections).sort()).to.deep.equal(['health', 'links', 'switches']); // ports lose their neighbour
    c.ws.send(JSON.stringify({ type: 'detail', reqId: 7, dpid: '0000000000000001' }));
    await settle();
    const detail = c.got.find((m) => m.type === 'detail');
    expect(detail.reqId).to.equal(7);
    expect(detail.detail.switch.dpid).to.equal('0000000000000001');
    expect(detail.detail.routesTotal).to.be.a('number');
    c.ws.send(JSON.stringify({ type: 'detail', reqId: 8, dpid: '00000000000000ff' }));
    c.ws.send('garbage');
    await settle();
    expect(c.got.find((m) => m.reqId === 8)).to.deep.include({ detail: null, error: 'no switch 00000000000000ff' });
    c.ws.terminate();
    await settle();
    expect(server.ui!.clients()).to.equal(0);
    expect(clock.pending).to.equal(0);
  });

  it("health's dropped packet-ins: every class dropped over budget plus the new-flow queue's overflow, pushed when it grows", async () => {
    const zero = { lldp: 0, arp: 0, ipv4: 0, other: 0 };
    let dropped = { lldp: 0, arp: 2, ipv4: 30, other: 1 };
    let overflow = 4;
    server = createRestServer({
      controller: {
        switches: new Map([[0x1n, fakeHandle(0x1n, 3)]]),
        packetIns: () => ({ admitted: zero, dropped, queueOverflow: overflow, queued: 0, switches: [] }),
      },
      topology: topo, routes: () => [], config: defaultConfig({}), log: quietLogger(), clock, version: '0.0.1',
      ui: { assetsDir: dir, pushIntervalMs: 250 },
    });
    await server.fastify.ready();
    const c = await open(server);
    await settle();
    expect(c.got[0].sections.health.droppedPacketIns).to.equal(37);
    dropped = { ...dropped, ipv4: 130 };
    overflow = 5;
    clock.advance(250);
    await settle();
    const delta = c.got.at(-1);
    expect(delta.type).to.equal('delta');
    expect(delta.sections.health.droppedPacketIns).to.equal(138);
    c.ws.terminate();
  });

  it('refuses pages beyond maxClients; a newcomer gets the state at once', async () => {
    server = make({ maxClients: 1 });
    await server.fastify.ready();
    const a = await open(server);
    let code = 0;
    const closed = new Promise<void>((resolve) => {
      void server.fastify.injectWS('/ui/ws', {}, { onInit: (w) => w.on('close', (c) => { code = c; resolve(); }) });
    });
    await closed;
    expect(code).to.equal(1013);
    expect(server.ui!.clients()).to.equal(1);
    await settle();
    expect(a.got[0].type).to.equal('snapshot');
    a.ws.terminate();
  });

  it('the auth hook guards the page and the socket', async () => {
    server = make({ authorize: (req) => (req.query as { token?: string }).token === 's3cret' });
    const denied = await server.fastify.inject({ method: 'GET', url: '/' });
    expect(denied.statusCode).to.equal(401);
    expect(JSON.parse(denied.body).error.code).to.equal('UNAUTHORIZED');
    expect((await server.fastify.inject({ method: 'GET', url: '/?token=s3cret' })).statusCode).to.equal(200);
    await server.fastify.ready();
    let refused = false;
    try {
      await open(server, '/ui/ws');
    } catch {
      refused = true;
    }
    expect(refused, 'socket without the token').to.equal(true);
    const ok = await open(server, '/ui/ws?token=s3cret');
    await settle();
    expect(ok.got[0].type).to.equal('snapshot');
    ok.ws.terminate();
  });

  it('can be turned off', async () => {
    server = make({ enabled: false });
    expect((await server.fastify.inject({ method: 'GET', url: '/' })).statusCode).to.equal(404);
    expect(server.ui).to.equal(undefined);
  });
});
