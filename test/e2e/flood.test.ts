/**
 * Control plane under a packet-in flood, on Mininet 2 spines × 2 leaves × 2 hosts (OVS userspace datapath)
 * driven by `rivulet controller` in its own process, as an operator runs it (so its event loop, heap and
 * RSS are the controller's alone, and the REST API is sampled from outside). One host (on leaf 1) sends 20,000 new UDP flows per second for 10 s
 * (mininet/flood.py, raw frames, seeded), once to a known host and once to random addresses. Meanwhile:
 *
 * - every fabric link stays in /api/v1/links (sampled every 200 ms);
 * - GET /api/v1/health answers with p99 ≤ 100 ms (sampled every 50 ms);
 * - pings between two other hosts on different leaves (every 100 ms): ≥ 99% answered during the flood with
 *   RTT p99 ≤ 50 ms, 100% 2–4 s after it; their routes, pinned before the flood, are the same pins after it
 *   (the flood fills the switches' route bound, and the flooding port recycles its own routes, not theirs);
 * - the controller's RSS stays ≤ 200 MB (read from /proc while the flood runs), the flow entries per
 *   switch ≤ routing.maxRoutesPerSwitch + the controller's fixed entries;
 * - the flooding port, and only it, is metered at its switch (packetIn.portMeter): its meter drops the
 *   excess there (counted apart, as dropped at the switch) and is released once the flood is over;
 * - within 2 s of the flood's end (as the flooder reports it) the dropped counters, the controller's and
 *   the switch's, stop growing (back to normal; sampled every 100 ms from the flood's start);
 * - a new flow is charged once, at its ingress: IPv4 packet-ins are dropped by the controller at the
 *   flooding port only, and that port admits burst + rate × duration of its budget (the count that repeats
 *   from run to run; how the rest splits between the controller's and the switch's drops depends on
 *   timing), as GET /api/v1/packet-ins reports them; every packet is counted at most once.
 *
 * Every figure is printed on a `[measure]` line. Root, Open vSwitch and Mininet needed (skipped otherwise,
 * a failure under CI=true).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getJson, mininetUnavailable, MininetFabric, repoRoot, startControllerCli, type CliController, type MnHost } from '../../testing/mininet.js';

const UNAVAILABLE = mininetUnavailable();
const FLOOD_PPS = 20_000;
const FLOOD_S = 10;
const MAX_ROUTES_PER_SWITCH = 2000;
/** the packet-in budget of new flows per ingress port, packets/s, and its burst, s (the defaults, written out) */
const IPV4_PER_PORT_PPS = 500;
const BURST_S = 1;
/** the per-port meters' band counts (drops at the switch) read this often, ms (every 250 ms window of the quiet check sees a read) */
const STATS_INTERVAL_MS = 200;
/** a port's meter is removed once it dropped nothing for this long, ms (the default, written out) */
const RELEASE_AFTER_MS = 2000;
/** new flows the flooding port admits: its bucket (burstS s of the rate) plus the rate over the flood */
const expected = (): number => IPV4_PER_PORT_PPS * (BURST_S + FLOOD_S);
/** acceptance bounds: GET /health p99 and the pings' RTT p99 during the flood, ms; drops stopped after its end, s */
const MAX_HEALTH_P99_MS = 100;
const MAX_PING_P99_MS = 50;
const MAX_QUIET_S = 2;
/** the acceptance bound of the controller's resident memory during the flood, MB */
const MAX_RSS_MB = 200;
/** entries Rivulet installs besides pinned routes: table-miss, LLDP, unicast ARP per host (4 hosts) and slack */
const FIXED_ENTRIES = 32;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const measure = (label: string, text: string): void => console.log(`      [measure] ${label}: ${text}`);
const p = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)]! : NaN;
};

/** GET /api/v1/packet-ins, the parts read here */
interface PacketIns {
  readonly dropped: Record<'lldp' | 'arp' | 'ipv4' | 'other', number>;
  readonly droppedAtSwitch: Record<'lldp' | 'arp' | 'ipv4' | 'other', number>;
  readonly portMeters: readonly { readonly dpid: string; readonly port: number; readonly meterId: number; readonly state: string; readonly droppedAtSwitch: number }[];
  readonly switches: readonly { readonly dpid: string; readonly ports: readonly { readonly port: number; readonly counts: { readonly ipv4: { admitted: number; dropped: number } } }[] }[];
}

/** The cookies of the pinned routes between hosts `a` and `b` (both directions), from GET /api/v1/routes (all pages). */
async function routeCookies(api: string, a: string, b: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await getJson<{ routes: { flowKey: { ipv4Src: string; ipv4Dst: string }; cookie: string }[]; nextCursor?: string | null }>(
      api, `/routes?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const r of page.routes) if ([a, b].includes(r.flowKey.ipv4Src) && [a, b].includes(r.flowKey.ipv4Dst)) out.push(r.cookie);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out.sort();
}

/** Resident set size of process `pid`, bytes (VmRSS of /proc/PID/status). */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Pinned routes now: the `rivulet_routes` gauge of GET /metrics (no API prefix). */
async function routesPinned(api: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', api))).text();
  return Number(/^rivulet_routes (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** `ping -D` output → answered sequence numbers with their time (s since epoch). */
function pingReplies(text: string): { seq: number; at: number; rttMs: number }[] {
  const out: { seq: number; at: number; rttMs: number }[] = [];
  for (const m of text.matchAll(/^\[(\d+\.\d+)\].*icmp_seq=(\d+).*time=([\d.]+) ms/gm)) out.push({ at: Number(m[1]), seq: Number(m[2]), rttMs: Number(m[3]) });
  return out;
}

describe('control plane under a packet-in flood (Mininet 2×2×2) @slow', function () {
  this.timeout(600_000);
  let ctl: CliController | undefined;
  let fabric: MininetFabric | undefined;
  let dir: string | undefined;

  before(async function () {
    if (UNAVAILABLE) {
      if (process.env['CI'] === 'true') throw new Error(`flood test prerequisites missing: ${UNAVAILABLE}`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'rivulet-flood-'));
    const config = join(dir, 'controller.json');
    // RIVULET_FLOOD_PORT_METER=off | new-flows runs the same flood with the per-port meters off or in mode
    // new-flows, for comparison (the assertions on the meter then fail: they are the point of the test)
    writeFileSync(config, JSON.stringify({
      qos: { enabled: false }, routing: { seed: 14, maxRoutesPerSwitch: MAX_ROUTES_PER_SWITCH }, agents: { socketPath: '' },
      packetIn: { perPortPps: { ipv4: IPV4_PER_PORT_PPS }, burstS: BURST_S, portMeter: { statsIntervalMs: STATS_INTERVAL_MS, releaseAfterMs: RELEASE_AFTER_MS, ...(process.env['RIVULET_FLOOD_PORT_METER'] === 'off' ? { enabled: false } : process.env['RIVULET_FLOOD_PORT_METER'] === 'new-flows' ? { mode: 'new-flows' } : {}) } },
    }));
    ctl = await startControllerCli({ config, logLevel: process.env['RIVULET_E2E_LOG'] ?? 'warn' });
    fabric = await MininetFabric.start({ spines: 2, leaves: 2, hostsPerLeaf: 2, ofPort: ctl.ofPort });
    await getJson(ctl.api, '/health?waitReadyMs=20000');
    const ping = await fabric.pingall({ timeoutS: 2 });
    measure('setup', `fabric ${fabric.prefix}, pingall ${ping.received}/${ping.sent}`);
    const meters = (await getJson<{ controllerMeters: unknown[] }>(ctl.api, '/packet-ins')).controllerMeters;
    measure('setup', `OFPM_CONTROLLER meter per switch: ${JSON.stringify(meters)}`);
  });

  after(async function () {
    this.timeout(180_000);
    await fabric?.stop();
    await ctl?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['known', 'random'] as const) {
    it(`a ${FLOOD_PPS}/s flood of new flows to ${mode === 'known' ? 'a known host' : 'random addresses'} for ${FLOOD_S} s takes nothing down`, async function () {
      const f = fabric!;
      const c = ctl!;
      const hosts = f.topology.hosts;
      const leaf1 = hosts.filter((h) => h.leaf === hosts[0]!.leaf);
      const leaf2 = hosts.filter((h) => h.leaf !== hosts[0]!.leaf);
      const [flooder, pingSrc] = leaf1 as [MnHost, MnHost];
      const [victim, pingDst] = leaf2 as [MnHost, MnHost];
      const linksBefore = (await getJson<{ links: unknown[] }>(c.api, '/links')).links.length;
      expect(linksBefore).to.equal(8);
      const packetIns = (): Promise<PacketIns> => getJson<PacketIns>(c.api, '/packet-ins');
      const pi0 = await packetIns();
      const dropped0 = pi0.dropped;
      const switchDropped0 = pi0.droppedAtSwitch.ipv4;
      const ipv4Ports = async (): Promise<Map<string, { admitted: number; dropped: number }>> => new Map((await packetIns()).switches.flatMap((s) =>
        s.ports.map((p) => [`${BigInt(`0x${s.dpid}`).toString(16)}:${p.port}`, { ...p.counts.ipv4 }] as const)));
      const ports0 = await ipv4Ports();
      const pid = c.child.pid!;

      const pingLog = join(tmpdir(), `rivulet-flood-ping-${process.pid}-${mode}.log`);
      const floodLog = join(tmpdir(), `rivulet-flood-${process.pid}-${mode}.log`);
      const pingCount = (FLOOD_S + 6) * 10; // 1 s before, the flood, 5 s after
      const rssBefore = rssOf(pid);
      const pinger = await f.spawn(pingSrc.name, ['ping', '-D', '-i', '0.1', '-W', '1', '-c', String(pingCount), pingDst.ip], pingLog);
      await sleep(1000);
      const pingRoutesBefore = await routeCookies(c.api, pingSrc.ip, pingDst.ip);
      const target = mode === 'known' ? ['--to', `${victim.mac},${victim.ip}`] : ['--random'];
      const floodStart = Date.now() / 1000;
      const flood = await f.spawn(flooder.name, ['/usr/bin/python3', join(repoRoot(), 'mininet', 'flood.py'), `${flooder.name}-eth0`, flooder.mac, flooder.ip,
        '--rate', String(FLOOD_PPS), '--seconds', String(FLOOD_S), '--seed', '14', ...target], floodLog);

      const healthMs: number[] = [];
      const linkCounts: number[] = [];
      let rssMax = 0;
      let maxEntries = 0;
      const t0 = performance.now();
      const sampleHealth = (async () => {
        while (performance.now() - t0 < FLOOD_S * 1000) {
          const a = performance.now();
          await getJson(c.api, '/health');
          healthMs.push(performance.now() - a);
          await sleep(50);
        }
      })();
      const sampleLinks = (async () => {
        while (performance.now() - t0 < FLOOD_S * 1000) {
          linkCounts.push((await getJson<{ links: unknown[] }>(c.api, '/links')).links.length);
          rssMax = Math.max(rssMax, rssOf(pid));
          await sleep(200);
        }
      })();
      const sampleFlows = (async () => {
        while (performance.now() - t0 < FLOOD_S * 1000 + 1000) {
          for (const sw of f.topology.switches) maxEntries = Math.max(maxEntries, (await f.dumpFlows(sw.name)).length);
          await sleep(1000);
        }
      })();
      // the drops (controller's and switch's) sampled every 100 ms from the flood's start to 4 s after its end
      const dropSamples: { at: number; total: number; metered: string[] }[] = [];
      const metersSeen = new Map<string, { meterId: number; state: string }>();
      const portKey = (m: { dpid: string; port: number }): string => `${BigInt(`0x${m.dpid}`).toString(16)}:${m.port}`;
      const sampleDrops = (async () => {
        while (performance.now() - t0 < (FLOOD_S + 4) * 1000) {
          const x = await packetIns();
          for (const m of x.portMeters) metersSeen.set(portKey(m), { meterId: m.meterId, state: m.state });
          dropSamples.push({
            at: Date.now() / 1000, total: Object.values(x.dropped).reduce((a, b) => a + b, 0) + x.droppedAtSwitch.ipv4,
            metered: x.portMeters.map(portKey),
          });
          await sleep(100);
        }
      })();
      await Promise.all([sampleHealth, sampleLinks, sampleFlows]);
      await f.signal(flood.pid, 'TERM', 5).catch(() => undefined);
      await sampleDrops;
      const floodOut = JSON.parse(readFileSync(floodLog, 'utf8').trim().split('\n').pop() ?? '{}') as { sent?: number; failed?: number; end?: number };
      // the flood's end as the flooder saw it (its last frame; the hosts share the clock)
      const floodEnd = floodOut.end ?? floodStart + FLOOD_S;

      // back to normal: the time of the first sample that shows the final count (the last drop happened
      // before it; the switch's counts are at most STATS_INTERVAL_MS old), from the end; 4 s when the count
      // still grew at the last sample
      const finalTotal = dropSamples.at(-1)?.total ?? NaN;
      let firstFinal = dropSamples.length - 1;
      while (firstFinal > 0 && dropSamples[firstFinal - 1]!.total === finalTotal) firstFinal--;
      const quietAfterS = Math.max(0, (dropSamples[firstFinal]?.at ?? NaN) - floodEnd);
      // the port is released (entry and meter removed) once its meter stopped dropping for releaseAfterMs
      const releasedAt = dropSamples.find((x) => x.at > floodEnd && x.metered.length === 0 && dropSamples.filter((y) => y.at >= x.at).every((y) => y.metered.length === 0))?.at;
      const releasedAfterS = releasedAt === undefined ? NaN : releasedAt - floodEnd;
      // the pinger ends by itself after its count (5 s after the flood)
      await sleep(Math.max(0, (floodEnd + 5.5) * 1000 - Date.now()));
      await f.signal(pinger.pid, 'TERM', 5).catch(() => undefined);
      const replies = pingReplies(readFileSync(pingLog, 'utf8'));
      const floodText = readFileSync(floodLog, 'utf8');
      const sent = floodOut.sent ?? NaN;
      rmSync(pingLog, { force: true });
      rmSync(floodLog, { force: true });
      const firstAt = replies.length ? replies[0]!.at - (replies[0]!.seq - 1) * 0.1 : floodStart - 1;
      const seqAt = (t: number): number => Math.floor((t - firstAt) / 0.1) + 1;
      const during = replies.filter((r) => r.seq >= seqAt(floodStart) && r.seq < seqAt(floodEnd));
      const sentDuring = seqAt(floodEnd) - seqAt(floodStart);
      const afterSeqs = [seqAt(floodEnd + 2), seqAt(floodEnd + 4)];
      const after = replies.filter((r) => r.seq >= afterSeqs[0]! && r.seq < afterSeqs[1]!);
      const pingRoutesAfter = await routeCookies(c.api, pingSrc.ip, pingDst.ip);
      const pi1 = await packetIns();
      const dropped = pi1.dropped;
      const droppedDelta = Object.fromEntries(Object.entries(dropped).map(([k, v]) => [k, v - dropped0[k as keyof typeof dropped0]]));
      const switchDropped = pi1.droppedAtSwitch.ipv4 - switchDropped0;
      measure(mode, `flood ${floodText.trim()}; packet-ins dropped by the controller by class ${JSON.stringify(droppedDelta)}; IPv4 dropped at the switch (per-port meters) ${switchDropped}; routes now ${await routesPinned(c.api)}`);
      measure(mode, `per-port meters seen during the flood: ${JSON.stringify([...metersSeen])}; released ${releasedAfterS.toFixed(2)} s after the end`);
      // per port: the flooder's port spends its budget (burst + rate × duration); fabric ports spend none
      const portDeltas = [...await ipv4Ports()].map(([k, v]) => {
        const b = ports0.get(k) ?? { admitted: 0, dropped: 0 };
        return { port: k, admitted: v.admitted - b.admitted, dropped: v.dropped - b.dropped };
      }).filter((x) => x.admitted > 0 || x.dropped > 0);
      const ingress = portDeltas.reduce((a, b) => (b.dropped > a.dropped ? b : a), { port: '', admitted: 0, dropped: 0 });
      measure(mode, `IPv4 packet-ins per port (admitted/dropped): ${portDeltas.map((x) => `${x.port} ${x.admitted}/${x.dropped}`).join(', ')}; the flooding port admitted ${ingress.admitted}`);
      measure(mode, `links listed during the flood: min ${Math.min(...linkCounts)} of ${linksBefore} over ${linkCounts.length} samples`);
      measure(mode, `GET /health during the flood: p50 ${p(healthMs, 50).toFixed(1)} ms, p99 ${p(healthMs, 99).toFixed(1)} ms, max ${Math.max(...healthMs).toFixed(1)} ms (${healthMs.length} samples)`);
      measure(mode, `pings ${pingSrc.name} → ${pingDst.name} during: ${during.length}/${sentDuring}, rtt p99 ${p(during.map((r) => r.rttMs), 99).toFixed(1)} ms; 2–4 s after: ${after.length}/${afterSeqs[1]! - afterSeqs[0]!}; ` +
        `slowest (s into the flood: ms) ${[...during].sort((x, y) => y.rttMs - x.rttMs).slice(0, 3).map((r) => `${(r.at - floodStart).toFixed(2)}: ${r.rttMs}`).join(', ')}; ` +
        `their routes' cookies before ${pingRoutesBefore.join(' ')}, after ${pingRoutesAfter.join(' ')}`);
      measure(mode, `controller RSS ${(rssBefore / 1e6).toFixed(0)} MB before, max ${(rssMax / 1e6).toFixed(0)} MB; most flow entries on one switch ${maxEntries} (bound ${MAX_ROUTES_PER_SWITCH} + ${FIXED_ENTRIES}); drops stopped ${quietAfterS.toFixed(2)} s after the end`);

      const accounted = ingress.admitted + ingress.dropped + switchDropped;
      measure(mode, `accounting: the flooding port's new flows admitted ${ingress.admitted} + dropped by the controller ${ingress.dropped} + dropped at the switch ${switchDropped} = ${accounted} of ${sent} sent (${floodOut.failed ?? '?'} sends refused by the flooder's socket)`);

      expect(Math.min(...linkCounts), 'every fabric link listed throughout').to.equal(linksBefore);
      expect(portDeltas.filter((x) => x.dropped > 0).map((x) => x.port), 'new-flow packet-ins dropped only at the flooding port')
        .to.deep.equal(ingress.dropped > 0 ? [ingress.port] : []);
      // the flooding port (and only it) is metered at the switch, and its meter drops the excess there
      expect([...metersSeen.keys()], 'ports metered at the switch').to.deep.equal([ingress.port]);
      expect(metersSeen.get(ingress.port)?.state, 'the flooding port\'s meter').to.equal('applied');
      expect(releasedAfterS, 'the port released after the flood, s').to.be.at.most(RELEASE_AFTER_MS / 1000 + 1);
      expect(switchDropped, 'new flows dropped at the switch').to.be.above(0.8 * (sent - (floodOut.failed ?? 0) - expected()));
      expect(accounted, 'every flood packet is admitted or counted as dropped at most once').to.be.at.most(sent);
      // the accounting that repeats from run to run: each new flow is charged once, at its ingress, so the
      // flooding port admits its bucket (burstS s of the rate) plus the rate over the flood (the switch's
      // meter passes more than that rate); how the rest splits between the controller's and the switch's
      // drops depends on when the meter went in and on arrival timing
      expect(ingress.admitted, 'new flows admitted at the flooding port').to.be.within(0.97 * expected(), 1.03 * expected());
      expect(p(healthMs, 99), '/health p99 ms').to.be.at.most(MAX_HEALTH_P99_MS);
      expect(during.length / sentDuring, 'pings answered during the flood').to.be.at.least(0.99);
      expect(p(during.map((r) => r.rttMs), 99), 'ping rtt p99 during the flood, ms').to.be.at.most(MAX_PING_P99_MS);
      expect(pingRoutesBefore, 'the pings\' routes, both ways, pinned before the flood').to.have.length(2);
      expect(pingRoutesAfter, 'the pings\' routes after the flood: the same pins').to.deep.equal(pingRoutesBefore);
      expect(after.length, 'pings answered after the flood').to.equal(afterSeqs[1]! - afterSeqs[0]!);
      expect(rssMax / 1e6, 'controller RSS during the flood, MB').to.be.at.most(MAX_RSS_MB);
      expect(maxEntries, 'flow entries per switch').to.be.at.most(MAX_ROUTES_PER_SWITCH + FIXED_ENTRIES);
      expect(quietAfterS, 'drops stop within 2 s of the end').to.be.at.most(MAX_QUIET_S);
    });
  }
});
