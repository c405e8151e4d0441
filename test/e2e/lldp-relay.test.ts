/**
 * Link fabrication by two colluding hosts, end to end on Mininet (2 spines × 2 leaves × 2 hosts, Open
 * vSwitch userspace datapath, Rivulet in-process). Root only (skipped otherwise; fails under CI=true).
 *
 * h1 (leaf 1) and h3 (leaf 2) run mininet/lldp_relay.py: every LLDP frame the switch sends to one of them
 * is forwarded out of band (a unix datagram socket) to the other, which injects it unchanged into its own
 * leaf port — the relay of TopoGuard (NDSS 2015 §3): signed probes stay valid, only their path is forged.
 * Without a defence the controller sees a link leaf 1 port 3 ↔ leaf 2 port 3, stops learning h1 and h3, and
 * routes leaf 1 ↔ leaf 2 traffic over that "link", straight into h1 and h3.
 *
 *  A. The relays run before the switches connect, so they catch the very first probes, sent out of every
 *     port before any host has spoken. Then the hosts talk (pingall, h2 → h4 pings). Checked: /api/v1/links
 *     has exactly the 8 real directed leaf–spine links and none with a host-facing port; /hosts has h1…h4
 *     at their real ports; h2 → h4 answers every ping and the colluders received none of the diverted
 *     frames (the relays count IPv4 frames to h4 arriving at h1 and to h2 arriving at h3); the relays did
 *     relay probes (a run where they relayed nothing would prove nothing, and fails).
 *  B. The relays keep running with the hosts known (no probe leaves a host port, so they relay nothing);
 *     then h3 takes its interface down and up — its leaf port starts clean and is probed again — and stays
 *     silent: the relay carries those probes into h1's port, a host port. No link with a host port appears
 *     (polled every 50 ms), the sightings are listed as refused (`rejected`, reason hostPort) in
 *     /api/v1/links, h1 stays at its port, h2 → h4 answers throughout, and h3 is reachable once it talks.
 *  C. A real cable plugged late: leaf 1 – spine 1 down, then up; both directions back in /api/v1/links
 *     within 1 s of the 'up' (polled every 20 ms).
 *
 * A fabricated link may exist for the moment between the first probes and the first frame of a host (no
 * controller can tell a silent relaying host from a switch then); it is printed, with how long it lasted.
 * Figures on `[measure] lldp-relay:` lines.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostJson, LinkJson } from '../../controller/rest/schemas.js';
import { dpidHex } from '../../lib/log.js';
import {
  freePort, getJson, MininetFabric, mininetUnavailable, MININET_PYTHON, repoRoot, type MnTopology,
} from '../../testing/mininet.js';
import { waitUntil } from '../../testing/until.js';
import { startTestController, type TestController } from '../../testing/rivulet.js';
import type { FabricLink } from '../../topology/types.js';
import { requirePrerequisite } from '../helpers/prereq.js';

const UNAVAILABLE = mininetUnavailable();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const measure = (text: string): void => console.log(`      [measure] lldp-relay: ${text}`);

const SPINES = 2;
const LEAVES = 2;
const HOSTS_PER_LEAF = 2;
/** the controller's probe period, ms (the default) */
const PROBE_INTERVAL_MS = 1000;
/** a re-cabled link must be back in /api/v1/links within this long, ms */
const LINK_UP_BOUND_MS = 1000;

interface RelayStats {
  readonly ready: boolean;
  readonly captured: number;
  readonly forwarded: number;
  readonly injected: number;
  readonly peerMissing: number;
  readonly watched: Record<string, number>;
  readonly firstCaptureAt: number | null;
}

interface LinkList {
  readonly links: LinkJson[];
  readonly rejected?: { src: { dpid: string; port: number }; dst: { dpid: string; port: number }; reason: string; count: number }[];
  readonly hostPorts?: { dpid: string; port: number }[];
}

type End = { dpid: string; port: number };
const endKey = (e: End): string => `${e.dpid}:${e.port}`;
const linkKey = (src: End, dst: End): string => `${endKey(src)}->${endKey(dst)}`;

/** The 2·S·L directed leaf–spine links Mininet built. */
function realLinks(t: MnTopology): string[] {
  return t.links.flatMap((l) => [linkKey(l.a, l.b), linkKey(l.b, l.a)]).sort();
}

describe('Link fabrication: two colluding hosts relay LLDP probes, Mininet @slow', function () {
  this.timeout(300_000);
  /** relay sockets, counters and logs; made in before() (a filtered-out suite leaves nothing behind) */
  let dir = '';
  let fabric: MininetFabric | undefined;
  let ctl: TestController | undefined;
  const relays: { host: string; pid: number; stats: string; log: string }[] = [];
  /** host-facing ports (leaf ports above the spine count) */
  let hostPorts = new Set<string>();
  /** fabricated links as the controller saw them come and go (in-process topology events) */
  const fabricated: { link: string; upAt: number; downAt?: number; reason?: string }[] = [];
  let failed = false;

  const stats = (host: string): RelayStats => {
    const r = relays.find((x) => x.host === host)!;
    return JSON.parse(readFileSync(r.stats, 'utf8')) as RelayStats;
  };
  const links = (): Promise<LinkList> => getJson<LinkList>(ctl!.api, '/links');
  const relayLogs = (): string => relays.map((r) => {
    let text = '';
    try {
      text = readFileSync(r.log, 'utf8').trimEnd().split('\n').slice(-8).join('\n');
    } catch { /* not written */ }
    return `${r.host}: ${text}`;
  }).join('\n');

  before(async function () {
    requirePrerequisite(this, UNAVAILABLE);
    dir = mkdtempSync(join(tmpdir(), 'rivulet-lldp-relay-'));
    const ofPort = await freePort();
    // the switches are told to connect to a port nothing listens on yet: the relays start first
    fabric = await MininetFabric.start({ spines: SPINES, leaves: LEAVES, hostsPerLeaf: HOSTS_PER_LEAF, ofPort });
    const f = fabric;
    hostPorts = new Set(f.topology.hosts.map((h) => endKey(h.attachment)));
    const script = join(repoRoot(), 'mininet', 'lldp_relay.py');
    const sock = (h: string): string => join(dir, `${h}.sock`);
    // h1 watches for frames to h4 (h2 → h4 diverted into it), h3 for frames to h2 (the replies)
    const pairs = [['h1', 'h3', f.host('h4').ip], ['h3', 'h1', f.host('h2').ip]] as const;
    for (const [host, peer, watch] of pairs) {
      const statsFile = join(dir, `${host}.json`);
      const log = join(dir, `${host}.log`);
      const argv = [MININET_PYTHON, script, `${host}-eth0`, '--listen', sock(host), '--peer', sock(peer), '--stats', statsFile, '--watch', watch];
      const { pid } = await f.spawn(host, argv, log);
      relays.push({ host, pid, stats: statsFile, log });
    }
    await waitUntil(() => relays.every((r) => existsSync(r.stats)), 10_000, 'both relays ready').catch((err: Error) => {
      throw new Error(`${err.message}\n${relayLogs()}`);
    });
    ctl = await startTestController({ ofPort, config: { qos: { enabled: false } } });
    const c = ctl;
    c.topology.subscribe((events) => {
      for (const e of events) {
        if (e.type !== 'linkUp' && e.type !== 'linkDown') continue;
        const k = fabricLinkKey(e.link);
        if (!hostPorts.has(k.split('->')[0]!) && !hostPorts.has(k.split('->')[1]!)) continue;
        if (e.type === 'linkUp') fabricated.push({ link: k, upAt: Date.now() });
        else {
          const open = fabricated.find((x) => x.link === k && x.downAt === undefined);
          if (open) Object.assign(open, { downAt: Date.now(), reason: e.reason });
        }
      }
    });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    this.timeout(180_000);
    for (const r of relays) await fabric?.signal(r.pid, 'TERM', 5).catch(() => undefined);
    await fabric?.stop();
    await ctl?.close();
    if (!dir) return;
    if (failed) console.log(`      lldp-relay: relay logs and counters kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  const fabricLinkKey = (l: FabricLink): string =>
    linkKey({ dpid: dpidHex(l.src.dpid), port: l.src.portNo }, { dpid: dpidHex(l.dst.dpid), port: l.dst.portNo });

  it('A. relays running from the first probe: once the hosts talked, only the 8 real links, every host at its port, h2 → h4 not diverted', async () => {
    const f = fabric!;
    const want = realLinks(f.topology);
    const t0 = Date.now();
    await waitUntil(async () => {
      const have = (await links().catch(() => ({ links: [] as LinkJson[] }))).links.map((l) => linkKey(l.src, l.dst));
      return want.every((k) => have.includes(k));
    }, 60_000, `the ${want.length} real links discovered`);
    const discoveredS = (Date.now() - t0) / 1000;
    // the hosts stay silent for two probe intervals (and past the controller's grace period after the
    // ports came up): the relays see the first probes and a few more
    await sleep(2 * PROBE_INTERVAL_MS);
    const beforeTalk = { h1: stats('h1'), h3: stats('h3') };

    const ping = await f.pingall({ timeoutS: 2 });
    const h2h4 = await f.ping('h2', 'h4', { count: 10, timeoutS: 2, intervalS: 0.2 });
    const afterTalk = { h1: stats('h1'), h3: stats('h3') };
    const body = await links();
    const have = body.links.map((l) => linkKey(l.src, l.dst)).sort();
    const hosts = (await getJson<{ hosts: HostJson[] }>(ctl!.api, '/hosts')).hosts;
    const hostAt = new Map(hosts.map((h) => [h.mac, endKey(h.attachment)]));
    const relayed = beforeTalk.h1.forwarded + beforeTalk.h3.forwarded;

    measure(`all ${want.length} real links in /links ${discoveredS.toFixed(1)} s after the controller started; ` +
      `relayed before any host talked: h1 → h3 ${beforeTalk.h1.forwarded}, h3 → h1 ${beforeTalk.h3.forwarded} probes ` +
      `(injected ${beforeTalk.h3.injected} at h3, ${beforeTalk.h1.injected} at h1)`);
    measure(`fabricated links seen by the controller: ${fabricated.length === 0 ? 'none' : fabricated.map((x) =>
      `${x.link} ${x.downAt === undefined ? 'still up' : `for ${x.downAt - x.upAt} ms (removed: ${x.reason})`}`).join('; ')}`);
    measure(`pingall ${ping.received}/${ping.sent}; h2 → h4 ${h2h4.received}/${h2h4.sent} answered; ` +
      `frames to h4 received by h1: ${afterTalk.h1.watched[f.host('h4').ip]}, frames to h2 received by h3: ${afterTalk.h3.watched[f.host('h2').ip]}; ` +
      `links ${have.length}, host ports ${JSON.stringify(body.hostPorts ?? [])}`);

    expect(relayed, 'probes the relays caught before the hosts talked (none: the attack did not happen, nothing is shown)').to.be.above(0);
    expect(beforeTalk.h1.injected + beforeTalk.h3.injected, 'relayed probes injected').to.be.above(0);
    expect(have, '/api/v1/links: exactly the real leaf–spine links').to.deep.equal(want);
    expect(body.links.filter((l) => hostPorts.has(endKey(l.src)) || hostPorts.has(endKey(l.dst))), 'links with a host-facing port').to.deep.equal([]);
    for (const h of f.topology.hosts) expect(hostAt.get(h.mac), `${h.name} in /hosts at its port`).to.equal(endKey(h.attachment));
    expect(ping.failed, 'pingall: pairs that did not answer').to.deep.equal([]);
    expect(h2h4.received, 'h2 → h4 echo replies').to.equal(h2h4.sent);
    expect(afterTalk.h1.watched[f.host('h4').ip], 'frames to h4 that reached h1').to.equal(0);
    expect(afterTalk.h3.watched[f.host('h2').ip], 'frames to h2 that reached h3').to.equal(0);
  });

  it('B. relays still running with the hosts known, then the accomplice re-plugs its cable and stays silent: no fabricated link, what it relays is refused', async () => {
    const f = fabric!;
    const h1Port = endKey(f.host('h1').attachment);
    /** refused sightings into h1's port (an LLDP naming a host port), summed */
    const refusedIntoH1 = (b: LinkList): number =>
      (b.rejected ?? []).filter((r) => r.reason === 'hostPort' && endKey(r.dst) === h1Port).reduce((n, r) => n + r.count, 0);
    const seen = new Set<string>();
    const watchLinks = async (ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (const l of (await links()).links) if (hostPorts.has(endKey(l.src)) || hostPorts.has(endKey(l.dst))) seen.add(linkKey(l.src, l.dst));
        await sleep(50);
      }
    };
    const s0 = { h1: stats('h1'), h3: stats('h3') };
    const refused0 = refusedIntoH1(await links());
    // h2 → h4 runs through the whole phase (6 s)
    const traffic = f.ping('h2', 'h4', { count: 30, timeoutS: 2, intervalS: 0.2 });
    await watchLinks(2 * PROBE_INTERVAL_MS);
    const s1 = { h1: stats('h1'), h3: stats('h3') };
    // h3 takes its interface down and up: its leaf port goes down and up and starts clean (probed again, no
    // longer a host port), and h3 stays silent; the relay carries those probes into h1's port, a host port
    const replug = await f.exec('h3', ['sh', '-c', 'ip link set h3-eth0 down && sleep 0.3 && ip link set h3-eth0 up']);
    expect(replug.exitCode, `h3 re-plug: ${replug.stderr}`).to.equal(0);
    await watchLinks(4 * PROBE_INTERVAL_MS);
    const h2h4 = await traffic;
    const s2 = { h1: stats('h1'), h3: stats('h3') };
    const body = await links();
    const refused = refusedIntoH1(body) - refused0;
    const hosts = (await getJson<{ hosts: HostJson[] }>(ctl!.api, '/hosts')).hosts;
    const h1At = hosts.find((h) => h.mac === f.host('h1').mac);
    const quiet = s1.h1.forwarded - s0.h1.forwarded + s1.h3.forwarded - s0.h3.forwarded;
    const relayedToH1 = s2.h3.forwarded - s1.h3.forwarded;
    const injectedAtH1 = s2.h1.injected - s1.h1.injected;
    measure(`hosts known, ${2 * PROBE_INTERVAL_MS / 1000} s: relayed ${quiet} probes (none leave a host port); after h3 re-plugged and stayed silent, ` +
      `${4 * PROBE_INTERVAL_MS / 1000} s: h3 → h1 relayed ${relayedToH1}, injected into h1's port ${injectedAtH1}, refused sightings into h1's port ${refused} ` +
      `(${(body.rejected ?? []).map((r) => `${linkKey(r.src, r.dst)} ×${r.count}`).join(', ') || 'none'}); links with a host port seen: ${seen.size}; ` +
      `h2 → h4 ${h2h4.received}/${h2h4.sent}; relays' totals: h1 ${s2.h1.forwarded}, h3 ${s2.h3.forwarded}`);
    expect([...seen], 'links with a host-facing port while the relays ran').to.deep.equal([]);
    expect(body.links.map((l) => linkKey(l.src, l.dst)).sort()).to.deep.equal(realLinks(f.topology));
    expect(h2h4.received, 'h2 → h4 echo replies').to.equal(h2h4.sent);
    expect(s2.h1.watched[f.host('h4').ip], 'frames to h4 that reached h1').to.equal(0);
    expect(h1At && endKey(h1At.attachment), 'h1 still in /hosts at its port').to.equal(h1Port);
    expect(injectedAtH1, 'probes out of the re-plugged port relayed into h1 (none: nothing was tried)').to.be.above(0);
    expect(refused, 'refused sightings into h1\'s port listed in /api/v1/links').to.be.above(0);
    // h3 talks again: its port is a host port again and it is reachable
    const back = await f.ping('h3', 'h4', { count: 3, timeoutS: 2, intervalS: 0.2 });
    expect(back.received, 'h3 → h4 after the re-plug').to.equal(back.sent);
  });

  it('C. a real link cabled late appears in /api/v1/links within 1 s', async function () {
    const f = fabric!;
    const l = f.topology.links.find((x) => x.a.name.endsWith('l1') && x.b.name.endsWith('s1'))!;
    const both = [linkKey(l.a, l.b), linkKey(l.b, l.a)];
    const present = async (): Promise<number> => {
      const have = (await links()).links.map((x) => linkKey(x.src, x.dst));
      return both.filter((k) => have.includes(k)).length;
    };
    await f.link(l.a.name, l.b.name, 'down');
    await waitUntil(async () => (await present()) === 0, 5_000, 'the link gone after down', 20);
    await sleep(500);
    const t0 = Date.now();
    await f.link(l.a.name, l.b.name, 'up');
    const cmdMs = Date.now() - t0;
    let firstMs: number | undefined;
    await waitUntil(async () => {
      const n = await present();
      if (n > 0) firstMs ??= Date.now() - t0;
      return n === 2;
    }, 10_000, 'both directions of the re-cabled link', 20);
    const upMs = Date.now() - t0;
    const st = { h1: stats('h1'), h3: stats('h3') };
    measure(`re-cabled ${l.a.name}:${l.a.port} – ${l.b.name}:${l.b.port}: first direction in /links ${firstMs} ms, both ${upMs} ms after 'up' was sent ` +
      `(the up command itself took ${cmdMs} ms; bound ${LINK_UP_BOUND_MS} ms); relays' totals: h1 relayed ${st.h1.forwarded}, h3 relayed ${st.h3.forwarded}`);
    expect(upMs, "'up' → both directions in /api/v1/links, ms").to.be.at.most(LINK_UP_BOUND_MS);
    expect((await links()).links.map((x) => linkKey(x.src, x.dst)).sort()).to.deep.equal(realLinks(f.topology));
  });
});
