/**
 * `npm run demo` (README.md "The two commands"): Rivulet's main job on real traffic, narrated for a newcomer.
 *
 *  1. starts the controller in-process (startRivulet: OpenFlow listener, topology and routing apps, REST);
 *  2. builds the default Mininet fabric — 2 spines × 4 leaves × 2 hosts of Open vSwitch, userspace datapath,
 *     50 Mbit/s links — with mininet/fabric.py, and waits until discovery has settled (GET /api/v1/health);
 *  3. prints the discovered topology, runs pingall, prints the hosts the controller learnt;
 *  4. runs iperf3 flows between racks at the same time, then prints each flow's pinned path
 *     (host → leaf → spine → leaf → host), the per-spine spread and the measured throughputs;
 *  5. starts a host agent (`rivulet agent`) in every host, runs competing flows into one receiver from three
 *     racks (tenant weights 1, 1, 2), and prints the allocator's rates beside the measured ones, the meters
 *     on the ingress leaves and the reaction times;
 *  6. stops everything it started (the fabric through its script, then the controller), also on failure or
 *     Ctrl-C.
 *
 * The controller's live web view is at http://127.0.0.1:8080/ (another free port when 8080 is taken; the
 * address is printed in step 1).
 *
 * Options (environment): RIVULET_DEMO_SPINES / _LEAVES / _HOSTS (shape), RIVULET_DEMO_BW (Mbit/s),
 * RIVULET_DEMO_SECONDS (iperf3 duration), RIVULET_LOG_LEVEL (controller log level, default warn),
 * RIVULET_DEMO_API_PORT (REST and web view port, default 8080), RIVULET_DEMO_SCREENSHOT=FILE.png (a
 * screenshot of the web view during step 6, taken with headless Chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dpidHex } from '../lib/log.js';
import { startAgents, waitRegistered, type AgentSet } from '../testing/agents.js';
import { mbps } from '../testing/iperf.js';
import { getJson, MininetFabric, mininetUnavailable, type Iperf3Result, type MnTopology } from '../testing/mininet.js';
import { startTestController, type TestController, type TestControllerOptions } from '../testing/rivulet.js';
import { openWebView, type WebViewSession } from './web-screenshot.js';
import type { HostJson, LinkJson, RouteJson, SwitchJson } from '../controller/rest/schemas.js';

const num = (name: string, def: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : def;
};
const SHAPE = { spines: num('RIVULET_DEMO_SPINES', 2), leaves: num('RIVULET_DEMO_LEAVES', 4), hostsPerLeaf: num('RIVULET_DEMO_HOSTS', 2) };
const BW_MBPS = num('RIVULET_DEMO_BW', 50);
const SECONDS = Math.round(num('RIVULET_DEMO_SECONDS', 5));
const API_PORT = /^\d{1,5}$/.test(process.env['RIVULET_DEMO_API_PORT'] ?? '') ? Number(process.env['RIVULET_DEMO_API_PORT']) : 8080; // 0: any free port
const SCREENSHOT = process.env['RIVULET_DEMO_SCREENSHOT'];

const say = (s = ''): void => console.log(s);
const step = (s: string): void => say(`\n== ${s}`);

/** Left-aligned text table with a header rule. */
function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => '  ' + cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Names for dpids and IPs, from what Mininet built. */
class Names {
  private readonly sw = new Map<string, string>();
  private readonly ip = new Map<string, string>();
  constructor(readonly topo: MnTopology) {
    for (const s of topo.switches) this.sw.set(s.dpid, s.name);
    for (const h of topo.hosts) this.ip.set(h.ip, h.name);
  }
  switch(dpid: string): string {
    return this.sw.get(dpid) ?? dpid;
  }
  host(ip: string): string {
    return this.ip.get(ip) ?? ip;
  }
}

let fabric: MininetFabric | undefined;
let rivulet: TestController | undefined;
let agents: AgentSet | undefined;
const workDir = mkdtempSync(join(tmpdir(), 'rivulet-demo-'));
const socketPath = join(workDir, 'agents.sock');
let stopping: Promise<void> | undefined;
/** set on Ctrl-C / SIGTERM: the steps still running see their processes killed and print nothing more */
let interrupted = false;

/** Stops what the demo started, fabric first (its switches would otherwise reconnect in vain). Idempotent. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    step('stopping everything the demo started');
    if (agents && fabric) {
      await agents.stop();
      say(`  host agents stopped (each removed its HTB qdisc and nftables table)`);
    }
    if (fabric) {
      const report = await fabric.stop();
      say(`  Mininet fabric ${fabric.prefix} stopped; fabric.py removed: ${JSON.stringify(report)}` +
        (fabric.leftovers.bridges.length + fabric.leftovers.interfaces.length > 0 ? `; the demo removed leftovers ${JSON.stringify(fabric.leftovers)}` : ''));
    }
    if (rivulet) {
      await rivulet.close();
      say('  controller stopped (REST server, OpenFlow listener, apps, agent socket, meters)');
    }
    rmSync(workDir, { recursive: true, force: true });
  })();
  return stopping;
}

async function showTopology(r: TestController, names: Names): Promise<void> {
  const switches = (await getJson<{ switches: SwitchJson[] }>(r.api, '/switches')).switches;
  say('Switches (GET /api/v1/switches):');
  say(table(['name', 'dpid', 'role', 'fabric ports', 'edge ports'], switches.map((s) => [
    names.switch(s.dpid), s.dpid, s.role,
    s.ports.filter((p) => p.kind === 'fabric').map((p) => String(p.portNo)).join(',') || '-',
    s.ports.filter((p) => p.kind === 'edge').map((p) => String(p.portNo)).join(',') || '-',
  ])));
  const links = (await getJson<{ links: LinkJson[] }>(r.api, '/links')).links;
  say(`\nLinks (GET /api/v1/links): ${links.length} directed links, learnt from LLDP probes (one per direction)`);
  const rows = links
    .filter((l) => names.switch(l.src.dpid) < names.switch(l.dst.dpid))
    .map((l) => [`${names.switch(l.src.dpid)} port ${l.src.port}`, '<->', `${names.switch(l.dst.dpid)} port ${l.dst.port}`,
      links.some((b) => b.src.dpid === l.dst.dpid && b.src.port === l.dst.port && b.dst.dpid === l.src.dpid) ? 'both directions' : 'one direction only',
      l.capacityBps > 0 ? mbps(l.capacityBps) : '?']);
  say(table(['from', '', 'to', 'seen', 'capacity'], rows));
}

async function showHosts(r: TestController, names: Names): Promise<void> {
  const hosts = (await getJson<{ hosts: HostJson[] }>(r.api, '/hosts')).hosts;
  say(`Hosts the controller learnt from ARP / IPv4 packet-ins (GET /api/v1/hosts): ${hosts.length}`);
  say(table(['host', 'MAC', 'IPv4', 'attached to'], hosts
    .map((h) => [names.host(h.ipv4 ?? ''), h.mac, h.ipv4 ?? '?', `${names.switch(h.attachment.dpid)} port ${h.attachment.port}`])
    .sort((a, b) => a[0]!.localeCompare(b[0]!, 'en', { numeric: true }))));
}

/** "h1 → l1 (in 3, out 1) → s2 (in 1, out 3) → l3 (in 2, out 3) → h5" */
function pathText(route: RouteJson, names: Names): string {
  const hops = route.path.map((h) => `${names.switch(h.dpid)} (in ${h.inPort}, out ${h.outPort})`);
  return [names.host(route.flowKey.ipv4Src), ...hops, names.host(route.flowKey.ipv4Dst)].join(' → ');
}

function pickPairs(topo: MnTopology): [string, string][] {
  // every host sends once, to a host `leaves/2` racks further on: all flows cross the spines
  const byLeaf = topo.switches.filter((s) => s.role === 'leaf').map((l) => topo.hosts.filter((h) => h.leaf === l.name));
  const pairs: [string, string][] = [];
  const shift = Math.max(1, Math.floor(byLeaf.length / 2));
  byLeaf.forEach((hosts, i) => hosts.forEach((h, j) => {
    const dst = byLeaf[(i + shift) % byLeaf.length]!;
    if (dst !== hosts && dst.length > 0) pairs.push([h.name, dst[j % dst.length]!.name]);
  }));
  return pairs;
}

async function main(): Promise<void> {
  const why = mininetUnavailable();
  if (why) throw new Error(`the demo needs root, Open vSwitch, Mininet and iperf3 (${why}); run it as root: sudo npm run demo`);

  say('Rivulet demo: an OpenFlow 1.3 controller discovers a leaf-spine fabric of Open vSwitch switches and pins');
  say('every TCP flow on one of the equal-cost paths (one per spine), chosen at random. Hosts hang off the leaves;');
  say('every leaf has one link to every spine. Switch names carry this run\'s tag: <tag>s1, <tag>s2 … are spines,');
  say('<tag>l1 … are leaves. Ctrl-C stops everything the demo started.');

  step('1. the Rivulet controller');
  // Mininet shapes the links with tc (TCLink): the switches still report 10 Gbit/s ports, so the one
  // thing the demo tells the controller is the real link rate (topology.defaultCapacityBps).
  // The fabric's links are shaped by Mininet's TCLink, which owns each interface's qdisc: the controller's
  // QoS stays off here (one owner per qdisc, ARCHITECTURE.md "Platform facts"); `fabric.py --shaping controller` hands it over.
  // Host agents shape flowlets on the host end of each host link (fabric.py --shaping agents leaves that
  // end's qdisc to them). Tenants: the last competing sender of step 6 weighs 2, the others 1.
  const senders = allocationSenders(SHAPE);
  const controllerOptions: TestControllerOptions = {
    config: {
      topology: { defaultCapacityBps: BW_MBPS * 1e6 }, qos: { enabled: false }, agents: { socketPath },
      tenants: senders.length ? [{ name: 'gold', weight: 2, members: [senders[senders.length - 1]!.ip] }] : [],
    },
  };
  rivulet = await startTestController({ ...controllerOptions, apiPort: API_PORT }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE') throw err;
    return startTestController(controllerOptions); // 8080 taken: any free port
  });
  const r = rivulet;
  say(`  OpenFlow 1.3 listener on 127.0.0.1:${r.ofPort}; REST API at ${r.api}`);
  say(`  web view (live fabric, link loads, flowlets, allocator): ${webUrl(r)}  <- open it in a browser while the demo runs`);
  say(`  apps: topology (LLDP every ${r.config.topology.lldpIntervalMs} ms, host tracking), routing (proxy ARP,` +
    ` each flow pinned on a random equal-cost path, seed ${r.config.routing.seed})`);
  const upAt = new Map<string, number>();
  r.controller.on('switchUp', (e) => {
    upAt.set(dpidHex(e.dpid), Date.now());
  });

  step(`2. the Mininet fabric: ${SHAPE.spines} spines × ${SHAPE.leaves} leaves × ${SHAPE.hostsPerLeaf} hosts per leaf`);
  say(`  Open vSwitch (userspace datapath), OpenFlow 1.3, fail-mode secure, ${BW_MBPS} Mbit/s links; built by mininet/fabric.py`);
  fabric = await MininetFabric.start({ ...SHAPE, bwMbps: BW_MBPS, ofPort: r.ofPort, shaping: 'agents' });
  const f = fabric;
  const names = new Names(f.topology);
  say(`  built in ${f.topology.buildSeconds.toFixed(1)} s: switches ${f.topology.switches.map((s) => `${s.name} (${s.role}, dpid ${s.dpid})`).join(', ')}`);
  say(`  hosts ${f.topology.hosts.map((h) => `${h.name} ${h.ip}`).join(', ')}`);

  step('3. waiting for discovery to settle (GET /api/v1/health?waitReadyMs=20000)');
  const t0 = Date.now();
  const health = await getJson<{ ready: boolean; switches: number; links: number }>(r.api, '/health?waitReadyMs=20000');
  const last = upAt.size ? Math.max(...upAt.values()) : t0;
  say(`  ready=${health.ready}: ${health.switches} switches connected, ${health.links} directed links, ` +
    `${Date.now() - last} ms after the last switch connected`);
  if (!health.ready) say('  (discovery did not settle in time; continuing to show what is known)');
  await showTopology(r, names);

  step('4. pingall: every host pings every other host once');
  const ping = await f.pingall();
  say(`  ${ping.received}/${ping.sent} answered (${ping.lossPct.toFixed(1)}% loss)` +
    (ping.failed.length ? `; no answer: ${ping.failed.map((x) => `${x.src}->${x.dst}`).join(' ')}` : '') +
    '. The controller answered the ARP requests itself (proxy ARP) and pinned each ping flow.');
  await showHosts(r, names);

  const pairs = pickPairs(f.topology);
  step(`5. iperf3: ${pairs.length} TCP flows between racks at the same time, ${SECONDS} s each`);
  say(`  ${pairs.map(([a, b]) => `${a}→${b}`).join('  ')}`);
  const results = await Promise.all(pairs.map(([client, server]) =>
    f.iperf3({ client, server, seconds: SECONDS, interval: 1 }).catch((err: Error) => err)));
  if (interrupted) return;
  const routes = (await getJson<{ routes: RouteJson[] }>(r.api, '/routes')).routes;
  showFlows(results, routes, names, f.topology);
  const allocated = await showAllocation(r, f, names);
  if (interrupted) return;
  say(`\nIn short: ${health.switches} switches and ${health.links / 2} spine-leaf links discovered, ${ping.lossPct === 0 ? 'every host reached every other' : `${ping.lossPct.toFixed(1)}% ping loss`},` +
    ` ${results.filter((x) => !(x instanceof Error)).length}/${pairs.length} iperf3 flows completed over pinned paths; ${allocated}.`);
}

/** The page's address: the REST server's root. */
function webUrl(r: TestController): string {
  return `${r.api.replace(/\/api\/v1$/, '')}/`;
}

/** The receiver (first host of leaf 1) and up to three senders (first host of leaves 2, 3, 4), by flat addressing. */
function allocationSenders(shape: typeof SHAPE): { name: string; ip: string }[] {
  const out: { name: string; ip: string }[] = [];
  for (let leaf = 2; leaf <= Math.min(4, shape.leaves); leaf++) {
    const n = (leaf - 1) * shape.hostsPerLeaf + 1;
    out.push({ name: `h${n}`, ip: `10.0.${Math.floor(n / 256)}.${n % 256}` });
  }
  return out;
}

interface DemoFlowlet {
  readonly agentId: string;
  readonly flow: { src: string; dst: string; sport: number; dport: number };
  readonly tenant?: string | null;
  readonly weight: number;
  readonly state: string;
  readonly allocatedBps: number | null;
  readonly measuredBps: number | null;
  readonly meterId?: number | null;
  readonly meterKey?: string | null;
  readonly firstPacketEpochUs: number;
  readonly agentEnforcedEpochUs?: number | null;
  readonly meterEnforcedEpochUs?: number | null;
}

async function showAllocation(r: TestController, f: MininetFabric, names: Names): Promise<string> {
  const receiver = f.topology.hosts[0]!;
  const senders = allocationSenders(SHAPE);
  if (senders.length === 0) {
    say('\n(one leaf only: no competing flows between racks to allocate)');
    return 'no allocation (one leaf)';
  }
  step(`6. live allocation: a host agent in every host; ${senders.length} flows from ${senders.length} racks into ${receiver.name}, ${SECONDS + 4} s`);
  say('  Each agent watches its host\'s outgoing packets (tcpdump), reports flowlets to the controller over a unix');
  say('  socket, and shapes each allocated flowlet with an HTB class; the controller runs Flowtune (NED + F-NORM)');
  say(`  after every batch of events and every ${r.config.allocator.intervalMs} ms, and also polices each flowlet with an`);
  say(`  OpenFlow meter on its ingress leaf (enforcement mode ${r.config.enforcement.mode}). Tenant weights: ` +
    senders.map((s, i) => `${s.name} ${i === senders.length - 1 ? 2 : 1}`).join(', ') + '.');
  agents = await startAgents(f, f.topology.hosts, { socketPath, logLevel: 'warn' });
  await waitRegistered(r.api, f.topology.hosts.map((h) => h.name), 30_000);
  say(`  ${f.topology.hosts.length} agents registered (GET /api/v1/agents); the web view ${webUrl(r)} shows the flows live`);
  let view: WebViewSession | undefined;
  if (SCREENSHOT) view = await openWebView(webUrl(r));
  const seconds = SECONDS + 4;
  const runs = Promise.all(senders.map((s) => f.iperf3({ client: s.name, server: receiver.name, seconds, interval: 1 }).catch((err: Error) => err)));
  const shot = view && SCREENSHOT
    ? new Promise((res) => setTimeout(res, 3000)).then(() => view!.shoot(SCREENSHOT, senders.length, (seconds - 3) * 1000)).catch((err: Error) => err)
    : undefined;
  await new Promise((res) => setTimeout(res, (seconds - 2) * 1000));
  const live = (await getJson<{ flowlets: DemoFlowlet[] }>(r.api, '/flowlets')).flowlets;
  const meters = (await getJson<{ meters: { key: string; dpid: string; meterId: number; rateBps: number; stats?: { measuredBps: number } }[] }>(r.api, '/meters')).meters;
  const alloc = await getJson<{ policy: string; iterations: number; runs: number; lastRunDurationUs: number; reaction?: { agent?: { p50Us?: number | null }; meter?: { p50Us?: number | null } } }>(r.api, '/allocator');
  const results = await runs;
  if (shot) {
    const s = await shot;
    await view?.close();
    say(s instanceof Error
      ? `  web view screenshot failed: ${s.message}`
      : `  web view screenshot: ${SCREENSHOT} (${s.allocatedRows} allocated flowlets in the table, ${s.nodes} nodes, ${s.edges} directed links in the graph,` +
        ` selected ${s.selected ?? 'no link'}; ${s.consoleErrors.length} console errors)`);
  }
  if (interrupted) return '';
  const rows: string[][] = [];
  let sum = 0;
  senders.forEach((s, i) => {
    const res = results[i];
    if (!res || res instanceof Error) {
      say(`  ${s.name} → ${receiver.name} failed: ${res instanceof Error ? res.message : '?'}`);
      return;
    }
    const st = res.streams[0];
    const fl = live.find((x) => st && x.flow.src === st.localIp && x.flow.sport === st.localPort && x.flow.dport === st.remotePort);
    const iv = res.serverIntervals.filter((v) => v.start >= 4);
    const measured = iv.length ? iv.reduce((a, v) => a + v.bytes * 8, 0) / iv.reduce((a, v) => a + (v.end - v.start), 0) : res.received?.bps ?? 0;
    sum += measured;
    const meter = fl?.meterKey ? meters.find((m) => m.key === fl.meterKey) : undefined;
    rows.push([`${s.name} → ${receiver.name}`, String(fl?.weight ?? '?'), fl?.allocatedBps ? mbps(fl.allocatedBps) : '-', mbps(measured),
      meter ? `#${meter.meterId} on ${names.switch(meter.dpid)} ${mbps(meter.rateBps)}` : '-',
      fl?.agentEnforcedEpochUs ? `${((fl.agentEnforcedEpochUs - fl.firstPacketEpochUs) / 1000).toFixed(1)} ms` : '-']);
  });
  say('\nAllocated (GET /api/v1/flowlets) vs measured (iperf3, receiver side, after 4 s):');
  say(table(['flow', 'weight', 'allocated', 'measured', 'meter (ingress leaf, rate)', 'first packet → agent limit'], rows));
  say(`  sum measured ${mbps(sum)} of the ${BW_MBPS} Mbit/s link into ${receiver.name}; proportional fairness with weights` +
    ` ${senders.map((_, i) => (i === senders.length - 1 ? 2 : 1)).join(':')} gives each flow weight/Σweight of it.`);
  say(`  allocator: ${alloc.policy}, ${alloc.iterations} iterations in ${alloc.runs} runs, last run ${alloc.lastRunDurationUs} µs`);
  return `${rows.length} competing flows allocated (sum ${mbps(sum)})`;
}

function showFlows(results: readonly (Iperf3Result | Error)[], routes: readonly RouteJson[], names: Names, topo: MnTopology): void {
  say('\nThe path pinned for each flow (GET /api/v1/routes; the ACKs flow back on a separately pinned path):');
  const perSpine = new Map<string, { flows: number; bps: number }>(
    topo.switches.filter((s) => s.role === 'spine').map((s) => [s.name, { flows: 0, bps: 0 }]));
  const rows: string[][] = [];
  let total = 0;
  for (const res of results) {
    if (res instanceof Error) {
      say(`  a flow failed: ${res.message}`);
      continue;
    }
    const s = res.streams[0];
    const route = s && routes.find((x) => x.flowKey.ipProto === 6 && x.flowKey.ipv4Src === s.localIp && x.flowKey.ipv4Dst === s.remoteIp &&
      x.flowKey.srcPort === s.localPort && x.flowKey.dstPort === s.remotePort);
    const bps = res.received?.bps ?? 0;
    total += bps;
    const spine = route?.spine ? names.switch(route.spine) : '?';
    const slot = perSpine.get(spine);
    if (slot) {
      slot.flows += 1;
      slot.bps += bps;
    }
    say(`  ${res.client}:${s?.localPort ?? '?'} → ${res.server}:${res.port}   ${route ? pathText(route, names) : '(no route listed)'}`);
    rows.push([`${res.client} → ${res.server}`, spine, mbps(res.sent?.bps ?? 0), mbps(bps), String(res.sent?.retransmits ?? '-')]);
  }
  say('\nMeasured throughput (iperf3 -J; sent by the client, received by the server):');
  say(table(['flow', 'spine', 'sent', 'received', 'retransmits'], rows));
  say(`  total received: ${mbps(total)}`);
  say('\nPer-spine spread of the flows (random choice among the equal-cost paths):');
  say(table(['spine', 'flows', 'received'], [...perSpine].map(([n, v]) => [n, String(v.flows), mbps(v.bps)])));
  say(`  Each link runs at ${BW_MBPS} Mbit/s: flows that share a leaf uplink or a spine downlink share its rate.`);
}

process.once('SIGINT', () => {
  interrupted = true;
  say('\nCtrl-C: stopping');
  void stopAll().finally(() => process.exit(130));
});
process.once('SIGTERM', () => {
  interrupted = true;
  void stopAll().finally(() => process.exit(143));
});

try {
  await main();
} catch (err) {
  if (!interrupted) console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = interrupted ? 130 : 1;
} finally {
  await stopAll();
}
