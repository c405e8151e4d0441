/**
 * controller/main.ts `startRivulet` over loopback (no OVS, no root): ephemeral OpenFlow and REST ports,
 * a fake switch connects and shows up in GET /api/v1/switches and /health, the topology app installs its
 * LLDP entry, and close() leaves no socket, timer or listener behind. Then the `rivulet controller`
 * command as a child process: a bad config exits 2 with one line naming the key; a good one serves and
 * exits 0 on SIGTERM.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../controller/config/index.js';
import { quietLogger } from '../../lib/log.js';
import { startRivulet, type Rivulet } from '../../controller/main.js';
import { FakeFabric } from '../../testing/fake-fabric.js';
import { FakeSwitch } from '../../testing/fake-switch.js';
import { until } from '../../testing/until.js';

const CLI = fileURLToPath(new URL('../../../bin/rivulet.js', import.meta.url));

let agentSockets = 0;
/**
 * An agent socket of this test's own. The default (/run/rivulet/agents.sock) may exist, held or left
 * stale by another controller on the machine; start-up then probes it with a connection that is still
 * closing when the test counts handles (3 pipes before, 2 after). A fresh path is never probed. The agent
 * server removes the file at close.
 */
const ownAgentSocket = (): { socketPath: string } => ({ socketPath: join(tmpdir(), `rivulet-main-test-${process.pid}-${++agentSockets}.sock`) });

/** Handles that would keep the process alive, by kind (timers, sockets, servers). */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of process.getActiveResourcesInfo()) if (/TCP|Timeout|Pipe/.test(h)) out[h] = (out[h] ?? 0) + 1;
  return out;
}

async function getJson(url: string): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url); // keep-alive: close() must still end the connection
  return { status: res.status, body: await res.json() };
}

describe('startRivulet (loopback, fake switch)', () => {
  let rivulet: Rivulet | undefined;
  let sw: FakeSwitch | undefined;

  afterEach(async () => {
    sw?.destroy();
    await rivulet?.close();
    rivulet = undefined;
  });

  it('serves a connected switch over REST and releases every handle on close()', async () => {
    await new Promise((r) => setTimeout(r, 50)); // let earlier tests' sockets finish closing
    const before = handles();
    const config = defaultConfig({ openflow: { port: 0, host: '127.0.0.1' }, api: { port: 0, host: '127.0.0.1' }, topology: { lldpIntervalMs: 200 }, agents: ownAgentSocket() });
    const r = (rivulet = await startRivulet({ config, logger: quietLogger() }));
    expect(r.openflow.port).to.be.above(0);
    expect(r.api.port).to.be.above(0);
    expect(r.controller.stats().apps).to.equal(6); // topology, routing, qos, enforcement, controller-meter, port-meter

    sw = await FakeSwitch.connect(r.openflow.port, 0xa1n);
    await until('switch up', () => r.controller.switches.has(0xa1n));
    const list = await getJson(`${r.api.url}/api/v1/switches`);
    expect(list.status).to.equal(200);
    expect(list.body.switches).to.have.length(1);
    const s = list.body.switches[0];
    expect(s).to.include({ dpid: '00000000000000a1', connected: true });
    expect(s.peer).to.match(/^127\.0\.0\.1:\d+$/);
    expect(s.features).to.include({ nTables: 254 });
    const one = await getJson(`${r.api.url}/api/v1/switches/161`); // decimal
    expect(one.body.dpid).to.equal('00000000000000a1');
    expect((await getJson(`${r.api.url}/api/v1/switches/0xa2`)).status).to.equal(404);
    const health = await getJson(`${r.api.url}/api/v1/health`);
    expect(health.body).to.include({ status: 'ok', switches: 1 });
    expect(health.body.ready).to.be.a('boolean');
    // the topology app (registered first) installed its LLDP → controller entry
    await until('LLDP entry', () => sw!.received.some((m) => m.type === 'OFPT_FLOW_MOD' && JSON.stringify(m.match, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('35020')));

    await r.close();
    await until('fake switch sees the close', () => sw!.closed);
    const st = r.stats();
    expect(st.controller).to.include({ switches: 0, sessions: 0, sockets: 0, timers: 0, listeners: 0, pendingRequests: 0 });
    expect(st.appTimers).to.equal(0);
    expect(st.restListening).to.equal(false);
    await r.close(); // idempotent
    await until('handles released', () => JSON.stringify(handles()) === JSON.stringify(before), 3000).catch(() => undefined);
    expect(handles()).to.deep.equal(before);
  });

  it('fails cleanly when the REST port is taken, closing the OpenFlow listener it had opened', async () => {
    const first = (rivulet = await startRivulet({
      config: defaultConfig({ openflow: { port: 0, host: '127.0.0.1' }, api: { port: 0, host: '127.0.0.1' }, agents: ownAgentSocket() }),
      logger: quietLogger(),
    }));
    const before = handles();
    const clash = defaultConfig({ openflow: { port: 0, host: '127.0.0.1' }, api: { port: first.api.port, host: '127.0.0.1' }, agents: ownAgentSocket() });
    let error: unknown;
    await startRivulet({ config: clash, logger: quietLogger() }).catch((e: unknown) => (error = e));
    expect(error).to.have.property('code', 'EADDRINUSE');
    await until('handles released', () => JSON.stringify(handles()) === JSON.stringify(before), 3000).catch(() => undefined);
    expect(handles()).to.deep.equal(before);
  });
});

describe('startRivulet with a fake 2×2×1 leaf-spine fabric (loopback)', function () {
  this.timeout(30_000);
  let rivulet: Rivulet | undefined;
  let fabric: FakeFabric | undefined;
  afterEach(async () => {
    fabric?.close();
    await rivulet?.close();
    rivulet = undefined;
  });

  it('GET /api/v1/topology shows the fabric exactly, /health waits for ready, /routes shows a pinned flow', async () => {
    const config = defaultConfig({
      openflow: { port: 0, host: '127.0.0.1' },
      api: { port: 0, host: '127.0.0.1' },
      // LLDP every 500 ms (links expire after 1.5 s). At 100 ms, with this machine at load 15–20 on 2 cores, the
      // test failed 4 of 4 (a spine shown as a leaf; ready false at /topology after /health said true),
      // presumably links expiring between two late probes; at 500 ms it passed 3 of 3 under the same load
      topology: { lldpIntervalMs: 500, links: { '101:1': '40M' } },
      agents: ownAgentSocket(),
    });
    const r = (rivulet = await startRivulet({ config, logger: quietLogger() }));
    const f = (fabric = await FakeFabric.connect(r.openflow.port, { shape: { spines: 2, leaves: 2, hostsPerLeaf: 1 } }));
    const health = await getJson(`${r.api.url}/api/v1/health?waitReadyMs=10000`);
    expect(health.body).to.include({ ready: true, switches: 4, links: 8 });
    for (const h of f.hosts) h.announce();
    await until('hosts learnt', () => r.topology.view.hosts().length === 2);

    const topo = (await getJson(`${r.api.url}/api/v1/topology`)).body;
    const hex = (d: bigint): string => d.toString(16).padStart(16, '0');
    expect(topo.ready).to.equal(true);
    expect(topo.switches.map((s: any) => [s.dpid, s.role])).to.have.deep.members([ // eslint-disable-line @typescript-eslint/no-explicit-any
      ...f.leaves.map((s) => [hex(s.dpid), 'leaf']),
      ...f.spines.map((s) => [hex(s.dpid), 'spine']),
    ]);
    const linkKey = (l: { src: { dpid: string; port: number }; dst: { dpid: string; port: number } }): string => `${l.src.dpid}:${l.src.port}>${l.dst.dpid}:${l.dst.port}`;
    const expected = f.directedLinks().map((l) => `${hex(l.src.dpid)}:${l.src.portNo}>${hex(l.dst.dpid)}:${l.dst.portNo}`);
    expect(topo.links.map(linkKey)).to.have.members(expected);
    const configured = topo.links.filter((l: any) => l.capacityBps === 40e6); // eslint-disable-line @typescript-eslint/no-explicit-any
    // from the config, per link: the port's key sets both directions of its cable
    expect(configured.map(linkKey)).to.have.members([`${hex(0x101n)}:1>${hex(1n)}:1`, `${hex(1n)}:1>${hex(0x101n)}:1`]);
    expect(topo.hosts.map((h: any) => [h.mac, h.ipv4, h.attachment])).to.have.deep.members( // eslint-disable-line @typescript-eslint/no-explicit-any
      f.hosts.map((h) => [h.mac, h.ip, { dpid: hex(h.leaf.dpid), port: h.portNo }]),
    );

    const [a, b] = f.hosts as [NonNullable<(typeof f.hosts)[0]>, NonNullable<(typeof f.hosts)[0]>];
    a.tcp(b, 40000, 5201);
    await until('route pinned', () => r.routing.routes().some((x) => x.installed));
    const routes = (await getJson(`${r.api.url}/api/v1/routes`)).body.routes;
    expect(routes).to.have.length(1);
    expect(routes[0].flowKey).to.deep.equal({ ipv4Src: a.ip, ipv4Dst: b.ip, ipProto: 6, srcPort: 40000, dstPort: 5201 });
    expect(routes[0].path).to.have.length(3);
    expect(routes[0].path[0].dpid).to.equal(hex(a.leaf.dpid));
    expect([hex(0x101n), hex(0x102n)]).to.include(routes[0].spine);
  });
});

describe('rivulet controller (CLI)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function run(args: string[], onLine?: (line: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'controller', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RIVULET_LOG_LEVEL: 'info' } });
      let out = '';
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        const text = d.toString();
        out += text;
        for (const line of text.split('\n')) if (line) onLine?.(line, (sig) => child.kill(sig));
      });
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
  }

  it('a bad config: one line naming the key on stderr, exit status 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'openflow:\n  port: abc\n');
    const r = await run(['--config', file]);
    expect(r.code, r.err).to.equal(2);
    expect(r.err.trim().split('\n')).to.deep.equal([`rivulet controller: config: openflow.port: must be an integer 0–65535, got "abc" (in ${file})`]);
    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ api: { prot: 1 } }));
    const t = await run(['--config', typo]);
    expect(t.code).to.equal(2);
    expect(t.err).to.match(/config: api\.prot: unknown key .*did you mean "port"\?/);
  });

  it('a bad flag value also exits 2, naming the flag', async () => {
    const r = await run(['--of-port', 'abc']);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/--of-port <port>.*'abc' is invalid/);
  });

  it('--print-config prints the resolved configuration, flags over the file', async () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(file, 'openflow:\n  port: 7000\ntopology:\n  defaultCapacityBps: 100M\n');
    const r = await run(['--config', file, '--api-port', '9000', '--print-config']);
    expect(r.code).to.equal(0);
    const cfg = JSON.parse(r.out);
    expect(cfg.openflow.port).to.equal(7000);
    expect(cfg.api.port).to.equal(9000);
    expect(cfg.topology.defaultCapacityBps).to.equal(100e6);
  });

  it('serves, logs where it listens, and exits 0 on SIGTERM', async () => {
    let api: string | undefined;
    const r = await run(['--of-port', '0', '--api-port', '0', '--host', '127.0.0.1'], (line, kill) => {
      const m = /"api":"(http:\/\/127\.0\.0\.1:\d+\/api\/v1)"/.exec(line);
      if (!m) return;
      api = m[1];
      void fetch(`${api}/health`).then(
        async (res) => {
          expect(((await res.json()) as { status: string }).status).to.equal('ok');
          kill('SIGTERM');
        },
        () => kill('SIGKILL'),
      );
    });
    expect(api, r.out + r.err).to.be.a('string');
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/OpenFlow on 127\.0\.0\.1:\d+, REST API on http:\/\/127\.0\.0\.1:\d+\/api\/v1/);
    expect(r.out).to.include('"event":"rivulet_closed"');
  });
});
