/**
 * End-to-end acceptance of live allocation on Mininet leaf-spine fabrics of Open vSwitch
 * (userspace datapath): host agents report flowlets over the unix agent socket, the controller (the real
 * `rivulet controller` CLI, a child process, so it can be killed) allocates with Flowtune (NED + F-NORM,
 * warm-started, a run every 100 ms and after each event batch), and rates are enforced by the agents' HTB
 * and/or by OpenFlow meters on the ingress leaf. Root only (skipped otherwise).
 *
 * The fabrics are built with `--shaping agents`: TCLink on the leaf-spine links and on the LEAF end of every
 * host link; the host end of each host link belongs to the agent's HTB (one owner per qdisc: Mininet's TCLink and the agent would fight over it).
 *
 * Throughputs are iperf3's receiver-side 0.5 s (0.25 s in the kill test) intervals, averaged over a window
 * that skips the first seconds (TCP slow start, first allocation). Shares are of the bottleneck's capacity.
 *
 *  1. 2 spines × 3 leaves × 1 host, 50 Mbit/s: h1 (leaf 1) and h2 (leaf 2) send to h3 (leaf 3); the
 *     bottleneck is leaf 3 → h3. Baseline (no agents: routing only) first; then with agents, mode `both`,
 *     equal weights → 50% ± 10 points each; tenants 1:3 → 25/75 ± 10 points.
 *  5. The same two allocations with `enforcement.mode` `meters` alone and `agents` alone: ± 15 points.
 *  3. Reaction time: 100 sequential 400 KB TCP flowlets h1 → h3 (allocator.smallFlowletBytes 0, so each is
 *     allocated at its first packet); from the agent's first-packet timestamp to the agent's `enforced`
 *     acknowledgement (tc written) and to the meter's barrier reply, p50 / p99, read from /api/v1/flowlets.
 *  4. Tenants 1:3, mode `agents`, 56 s of traffic: SIGKILL the controller 4.5 s after both flows were
 *     allocated (at 6 s at the earliest); agents keep the rates for their grace period (10 s, the
 *     default), then remove the limits (h1 then grows past its limit); restart 15 s after the kill on the same ports:
 *     agents register again and both flows are allocated again within RESUME_BOUND_S of that (paths
 *     read back from the switches' flow tables); the 1:3 split resumes. No flow stalls for more than 1 s.
 *  2. 1 spine × 3 leaves × 2 hosts, 50 Mbit/s links except leaf1–spine 40 and leaf2–spine 20: four flows
 *     (h1→h3, h2→h4, h1→h5, h6→h3) with two bottlenecks; measured within 10% of the allocator's rates, which
 *     are compared with the exact proportional-fair optimum (the allocator iterated to convergence).
 *
 * Every figure is printed on a `[measure] allocation:` line. RIVULET_KEEP_AGENT_LOGS keeps the agents' logs.
 */
import { expect } from 'chai';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateProblem } from '../../apps/allocator/index.js';
import { parseProblem } from '../../apps/allocator/problem.js';
import { startAgents, waitRegistered, type AgentSet } from '../../testing/agents.js';
import { throughputGap } from '../../testing/iperf.js';
import type { Iperf3Result, MnHost } from '../../testing/mininet.js';
import { freePort, getJson, MininetFabric, mininetUnavailable, startControllerCli, type CliController } from '../../testing/mininet.js';
import { waitUntil } from '../../testing/until.js';

const UNAVAILABLE = mininetUnavailable();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const measure = (text: string): void => console.log(`      [measure] allocation: ${text}`);
const mb = (bps: number): string => (bps / 1e6).toFixed(1);
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
/**
 * iperf3 reports TCP payload (goodput); the allocator's rates are wire rates, as HTB and TCLink count them
 * (Ethernet frames without FCS). A full segment carries 1448 payload bytes (MSS 1460 − 12 bytes of TCP
 * timestamps) in a 1514-byte frame (14 Ethernet + 20 IPv4 + 32 TCP with timestamps + 1448).
 */
const WIRE_PER_PAYLOAD = 1514 / 1448;

/** The subset of GET /api/v1/flowlets this test reads. */
interface FlowletJson {
  readonly agentId: string;
  readonly id: string;
  readonly flow: { src: string; dst: string; proto: number; sport: number; dport: number };
  readonly state: string;
  readonly allocatedBps: number | null;
  readonly measuredBps: number | null;
  readonly firstPacketEpochUs: number;
  readonly agentEnforcedEpochUs?: number | null;
  readonly meterEnforcedEpochUs?: number | null;
  readonly pathAdopted?: boolean;
  readonly pending?: { reason: string; detail: string | null } | null;
}

/**
 * The restarted controller allocates both flows again within this of the agents' re-registration, s: the
 * switches come back on OVS's own reconnection back-off (1, 2, 4, then 8 s between attempts: up to 8 s
 * after the restart), discovery settles two LLDP periods after the last link (2 s), adoption reads the
 * paths 0.5 s after that — with room for a busy machine.
 */
const RESUME_BOUND_S = 13;
/** The controller's own share of it: discovery settled → both flows allocated, s. */
const ADOPT_BOUND_S = 2;

/** The subset of GET /api/v1/allocator this test reads. */
interface AllocatorJson {
  readonly runs: number;
  readonly updatesSent: { readonly agents: number; readonly meters: number };
}

async function flowlets(api: string, ended = false): Promise<FlowletJson[]> {
  const body = await getJson<{ flowlets: FlowletJson[] }>(api, `/flowlets${ended ? '?state=ended' : ''}`);
  return body.flowlets;
}

/** Receiver rate of `r` over [fromS, toS] seconds after the client started, from overlapping intervals. */
function rateIn(r: Iperf3Result, fromS: number, toS: number): number {
  let bits = 0;
  for (const iv of r.serverIntervals) {
    const o = Math.min(toS, iv.end) - Math.max(fromS, iv.start);
    if (o > 0) bits += iv.bps * o;
  }
  return bits / (toS - fromS);
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * Where a controller's output goes: RIVULET_E2E_LOG_DIR keeps every controller's log there
 * (`<name>.log`, with RIVULET_E2E_LOG=debug for the adoption and allocation events); by default nothing.
 */
function controllerOutput(name: string): ((line: string) => void) | undefined {
  const dir = process.env['RIVULET_E2E_LOG_DIR'];
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.log`);
  return (line) => appendFileSync(file, `${line}\n`);
}

/** A controller configuration file in `dir`. */
function writeConfig(dir: string, name: string, cfg: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

describe('Live allocation end to end: host agents, allocator, meters (Mininet) @slow', function () {
  this.timeout(900_000);
  // made in before(): a describe body runs even when --grep filters every test out, and after() would not
  let dir = '';
  let socketPath = '';
  let ofPort = 0;
  let apiPort = 0;
  let ctl: CliController | undefined;
  let fabric: MininetFabric | undefined;
  let agents: AgentSet | undefined;

  before(async function () {
    if (UNAVAILABLE) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'rivulet-alloc-e2e-'));
    socketPath = join(dir, 'agents.sock');
    ofPort = await freePort();
    apiPort = await freePort();
  });

  after(async () => {
    await agents?.stop();
    await fabric?.stop();
    await ctl?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** (Re)starts the controller CLI on the fixed ports with `cfg` and waits until discovery settled. */
  async function controller(name: string, cfg: Record<string, unknown>, linkCount: number): Promise<CliController> {
    if (ctl) await ctl.stop();
    ctl = undefined;
    const file = writeConfig(dir, name, { qos: { enabled: false }, agents: { socketPath }, ...cfg });
    ctl = await startControllerCli({ config: file, ofPort, apiPort, logLevel: process.env['RIVULET_E2E_LOG'] ?? 'warn', onOutput: controllerOutput(name) });
    const api = ctl.api;
    await waitUntil(async () => {
      const body = await getJson<{ links: unknown[] }>(api, '/links').catch(() => ({ links: [] }));
      return body.links.length >= linkCount;
    }, 60_000, `${linkCount} links discovered`);
    return ctl;
  }

  function hosts(...names: string[]): MnHost[] {
    return names.map((n) => fabric!.host(n));
  }

  describe('one bottleneck (acceptance 1, 3, 4, 5)', () => {
    const BW = 50;
    const CAP = BW * 1e6;
    const SECONDS = 12;
    const WINDOW: [number, number] = [4, SECONDS - 0.5];
    /** directed leaf–spine links of a 2 × 3 fabric */
    const LINKS = 12;
    const tenants13 = [{ name: 'one', weight: 1, members: ['10.0.0.1'] }, { name: 'three', weight: 3, members: ['10.0.0.2'] }];

    before(async function () {
      if (UNAVAILABLE) this.skip();
      fabric = await MininetFabric.start({ spines: 2, leaves: 3, hostsPerLeaf: 1, ofPort, bwMbps: BW, shaping: 'agents' });
    });

    after(async () => {
      await agents?.stop();
      agents = undefined;
      await fabric?.stop();
      fabric = undefined;
    });

    /** h1 → h3 and h2 → h3 at once; their receiver rates over WINDOW and the allocator's rates mid-run. */
    async function twoFlows(api: string): Promise<{ x1: number; x2: number; a1: number | null; a2: number | null }> {
      const [p1, p2] = [await freePort(), await freePort()];
      const before = await getJson<AllocatorJson>(api, '/allocator');
      const runs = Promise.all([
        fabric!.iperf3({ client: 'h1', server: 'h3', seconds: SECONDS, interval: 0.5, cport: p1 }),
        fabric!.iperf3({ client: 'h2', server: 'h3', seconds: SECONDS, interval: 0.5, cport: p2 }),
      ]);
      await sleep(7_000);
      const mid = await flowlets(api).catch(() => [] as FlowletJson[]);
      const [r1, r2] = await runs;
      const after = await getJson<AllocatorJson>(api, '/allocator');
      if (mid.length > 0) {
        measure(`  control traffic over the ${SECONDS} s run: ${after.runs - before.runs} allocator runs, ` +
          `${after.updatesSent.agents - before.updatesSent.agents} rate updates to agents, ${after.updatesSent.meters - before.updatesSent.meters} meter updates ` +
          `(rateChangeThreshold 5%)`);
      }
      const alloc = (sport: number): number | null => mid.find((f) => f.flow.sport === sport && f.flow.dst === '10.0.0.3')?.allocatedBps ?? null;
      return { x1: rateIn(r1, ...WINDOW), x2: rateIn(r2, ...WINDOW), a1: alloc(p1), a2: alloc(p2) };
    }

    function report(label: string, r: { x1: number; x2: number; a1: number | null; a2: number | null }): void {
      measure(`${label}: h1→h3 ${mb(r.x1)} Mbit/s (${pct(r.x1 / CAP)} of the link; allocated ${r.a1 === null ? '—' : mb(r.a1)}), ` +
        `h2→h3 ${mb(r.x2)} Mbit/s (${pct(r.x2 / CAP)}; allocated ${r.a2 === null ? '—' : mb(r.a2)}), sum ${mb(r.x1 + r.x2)}`);
    }

    const results: Record<string, { x1: number; x2: number; a1: number | null; a2: number | null }> = {};

    it('1. baseline without the allocator: two TCP flows share the receiver link on their own', async () => {
      const c = await controller('baseline', { topology: { defaultCapacityBps: CAP } }, LINKS);
      const r = await twoFlows(c.api);
      results['baseline'] = r;
      report('baseline (no agents)', r);
      expect(r.x1 + r.x2, 'the bottleneck is used').to.be.greaterThan(0.8 * CAP);
    });

    for (const mode of ['both', 'meters', 'agents'] as const) {
      const tol = mode === 'both' ? 0.10 : 0.15;
      it(`${mode === 'both' ? '1' : '5'}. mode ${mode}: equal weights → 50/50 ± ${tol * 100} points, tenants 1:3 → 25/75 ± ${tol * 100} points`, async () => {
        await controller(`${mode}-equal`, { topology: { defaultCapacityBps: CAP }, enforcement: { mode } }, LINKS);
        agents ??= await startAgents(fabric!, hosts('h1', 'h2', 'h3'), { socketPath });
        await waitRegistered(ctl!.api, ['h1', 'h2', 'h3'], 30_000);
        const eq = await twoFlows(ctl!.api);
        results[`${mode}-equal`] = eq;
        report(`mode ${mode}, equal weights`, eq);

        await controller(`${mode}-13`, { topology: { defaultCapacityBps: CAP }, enforcement: { mode }, tenants: tenants13 }, LINKS);
        await waitRegistered(ctl!.api, ['h1', 'h2', 'h3'], 30_000);
        const w = await twoFlows(ctl!.api);
        results[`${mode}-13`] = w;
        report(`mode ${mode}, tenants 1:3`, w);

        expect(eq.x1 / CAP, 'h1 share, equal weights').to.be.within(0.5 - tol, 0.5 + tol);
        expect(eq.x2 / CAP, 'h2 share, equal weights').to.be.within(0.5 - tol, 0.5 + tol);
        expect(w.x1 / CAP, 'h1 share, weight 1 of 4').to.be.within(0.25 - tol, 0.25 + tol);
        expect(w.x2 / CAP, 'h2 share, weight 3 of 4').to.be.within(0.75 - tol, 0.75 + tol);
        // The shares alone could be TCP's own split (this run's baseline is printed above): the allocator's
        // rates must be the weighted shares, and each flow's wire rate must follow its allocation.
        for (const [label, r, f1, f2] of [['equal', eq, 0.5, 0.5], ['1:3', w, 0.25, 0.75]] as const) {
          expect(r.a1, `${label}: h1 allocated`).to.be.a('number');
          expect(r.a2, `${label}: h2 allocated`).to.be.a('number');
          expect(r.a1! / (f1 * CAP), `${label}: h1 allocated ÷ its weighted share`).to.be.within(0.95, 1.05);
          expect(r.a2! / (f2 * CAP), `${label}: h2 allocated ÷ its weighted share`).to.be.within(0.95, 1.05);
          expect((r.x1 * WIRE_PER_PAYLOAD) / r.a1!, `${label}: h1 wire rate ÷ allocated`).to.be.within(1 - 1.2 * tol, 1 + 1.2 * tol);
          expect((r.x2 * WIRE_PER_PAYLOAD) / r.a2!, `${label}: h2 wire rate ÷ allocated`).to.be.within(1 - 1.2 * tol, 1 + 1.2 * tol);
        }
        const base = results['baseline'];
        if (base) {
          measure(`mode ${mode}: h1's share of the pair, baseline ${pct(base.x1 / (base.x1 + base.x2))} → 1:3 ${pct(w.x1 / (w.x1 + w.x2))}`);
        }
      });
    }

    it('3. reaction time: first packet → rate enforced at the agent and at the meter, over 100 flowlets', async () => {
      await controller('reaction', { topology: { defaultCapacityBps: CAP }, enforcement: { mode: 'both' }, allocator: { smallFlowletBytes: 0 } }, LINKS);
      agents ??= await startAgents(fabric!, hosts('h1', 'h2', 'h3'), { socketPath });
      await waitRegistered(ctl!.api, ['h1', 'h2', 'h3'], 30_000);
      const port = 5999;
      const sink = 'import socket,threading\n' +
        's=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("0.0.0.0",' + port + '));s.listen(256)\n' +
        'def h(c):\n  while c.recv(65536): pass\n  c.close()\n' +
        'while True:\n  c,_=s.accept();threading.Thread(target=h,args=(c,),daemon=True).start()\n';
      const sender = 'import socket,time,sys\nbuf=b"x"*65536\n' +
        'for i in range(100):\n  c=socket.create_connection(("10.0.0.3",' + port + '));left=400000\n' +
        '  while left>0: left-=c.send(buf[:min(left,65536)])\n  c.shutdown(socket.SHUT_WR);c.recv(1);c.close();time.sleep(0.25)\n';
      const sinkProc = await fabric!.spawn('h3', ['/usr/bin/python3', '-c', sink]);
      try {
        await sleep(500);
        const t0 = Date.now();
        const res = await fabric!.exec('h1', ['/usr/bin/python3', '-c', sender], 180);
        expect(res.exitCode, res.stderr).to.equal(0);
        measure(`reaction: 100 flowlets of 400 kB sent in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } finally {
        await fabric!.signal(sinkProc.pid, 'KILL', 5);
      }
      await sleep(1_000);
      const ended = (await flowlets(ctl!.api, true)).filter((f) => f.flow.dport === port && f.flow.src === '10.0.0.1');
      const agentUs = ended.filter((f) => f.agentEnforcedEpochUs).map((f) => f.agentEnforcedEpochUs! - f.firstPacketEpochUs);
      const meterUs = ended.filter((f) => f.meterEnforcedEpochUs).map((f) => f.meterEnforcedEpochUs! - f.firstPacketEpochUs);
      const alloc = await getJson<{ reaction?: unknown }>(ctl!.api, '/allocator');
      measure(`reaction over ${ended.length} flowlets: agent enforced (${agentUs.length}) p50 ${(percentile(agentUs, 50) / 1000).toFixed(1)} ms, ` +
        `p99 ${(percentile(agentUs, 99) / 1000).toFixed(1)} ms; meter enforced (${meterUs.length}) p50 ${(percentile(meterUs, 50) / 1000).toFixed(1)} ms, ` +
        `p99 ${(percentile(meterUs, 99) / 1000).toFixed(1)} ms; /allocator reaction ${JSON.stringify(alloc.reaction)}`);
      expect(ended.length, 'flowlets seen by the controller').to.be.at.least(95);
      expect(agentUs.length, 'flowlets enforced at the agent').to.be.at.least(90);
      expect(meterUs.length, 'flowlets enforced at the meter').to.be.at.least(90);
      // measured on an idle 2-core machine: agent p50 3–4 ms, p99 9–16 ms; meter p50 4–6 ms, p99 12–18 ms.
      // Bounds: about 6× the p50 and 10× the p99, for a busy CI machine.
      expect(percentile(agentUs, 50), 'p50 agent reaction, µs').to.be.below(25_000);
      expect(percentile(agentUs, 99), 'p99 agent reaction, µs').to.be.below(150_000);
      expect(percentile(meterUs, 50), 'p50 meter reaction, µs').to.be.below(30_000);
      expect(percentile(meterUs, 99), 'p99 meter reaction, µs').to.be.below(180_000);
    });

    it('4. controller killed mid-run: rates kept for the grace period, then limits removed; re-registration resumes allocation; no stall > 1 s', async () => {
      await controller('kill', { topology: { defaultCapacityBps: CAP }, enforcement: { mode: 'agents' }, tenants: tenants13 }, LINKS);
      agents ??= await startAgents(fabric!, hosts('h1', 'h2', 'h3'), { socketPath });
      await waitRegistered(ctl!.api, ['h1', 'h2', 'h3'], 30_000);
      const T = 56;
      const [p1, p2] = [await freePort(), await freePort()];
      const runs = Promise.all([
        fabric!.iperf3({ client: 'h1', server: 'h3', seconds: T, interval: 0.25, cport: p1 }),
        fabric!.iperf3({ client: 'h2', server: 'h3', seconds: T, interval: 0.25, cport: p2 }),
      ]);
      const start = Date.now();
      const at = (s: number): Promise<void> => sleep(start + s * 1000 - Date.now());
      const sinceStart = (): number => (Date.now() - start) / 1000;
      let api = ctl!.api;
      const ourFlowlets = async (): Promise<FlowletJson[]> =>
        (await flowlets(api).catch(() => [] as FlowletJson[])).filter((f) => f.flow.sport === p1 || f.flow.sport === p2);
      /** Until both flows are allocated by the controller at `api` (bounded); the flowlets' states in the error. */
      const bothAllocated = (what: string, timeoutS: number): Promise<unknown> =>
        waitUntil(async () => (await ourFlowlets()).filter((f) => f.state === 'allocated' && (f.allocatedBps ?? 0) > 0).length === 2,
          timeoutS * 1000, what).catch(async (err: Error) => {
          const why = (await ourFlowlets()).map((f) => `${f.agentId}/${f.id} ${f.state} ${JSON.stringify(f.pending ?? null)}`).join('; ');
          throw new Error(`${err.message}; flowlets: ${why || 'none reported'}`);
        });
      await bothAllocated('both flows allocated by the first controller', 10);
      const firstAllocatedAtS = sinceStart();
      // the 1:3 split measured over 3 s from 1.5 s after the first allocation, then the kill
      await at(Math.max(6, firstAllocatedAtS + 4.5));
      await ctl!.kill();
      const killedAtS = sinceStart();
      // agents keep the rates for their 10 s grace period, then run unlimited; restart 5 s after that
      await at(killedAtS + 15);
      const restartAtS = sinceStart();
      const file = join(dir, 'kill.json');
      ctl = await startControllerCli({ config: file, ofPort, apiPort, logLevel: process.env['RIVULET_E2E_LOG'] ?? 'warn', onOutput: controllerOutput('kill-restarted') });
      const restartedAtS = sinceStart();
      api = ctl.api;
      await waitRegistered(api, ['h1', 'h2', 'h3'], 15_000);
      const registeredAtS = sinceStart();
      let readyAtS: number | undefined;
      const watchReady = (async () => {
        await waitUntil(async () => (await getJson<{ ready?: boolean }>(api, '/health').catch(() => ({ ready: false }))).ready === true,
          RESUME_BOUND_S * 1000, 'discovery settled after the restart', 50).catch(() => undefined);
        readyAtS = sinceStart();
      })();
      // from the agents' re-registration until the restarted controller allocates both flows again
      await bothAllocated('both flows allocated again after the restart', RESUME_BOUND_S);
      const allocatedAgainAtS = (Date.now() - start) / 1000;
      await watchReady;
      const adoptS = allocatedAgainAtS - Math.max(readyAtS ?? allocatedAgainAtS, registeredAtS);
      await at(T - 3);
      const ours = await ourFlowlets();
      const adopted = ours.filter((f) => f.pathAdopted).length;
      const [r1, r2] = await runs;
      // iperf3 started ≈ 0.1–0.5 s before `start`; phases are read with a margin either side
      const phases: [string, number, number][] = [
        ['allocated', firstAllocatedAtS + 1.5, killedAtS], ['grace', killedAtS + 1, killedAtS + 9.5],
        ['limits removed', killedAtS + 11, restartAtS], ['resumed', allocatedAgainAtS + 2, T - 0.5],
      ];
      const shares = phases.map(([name, a, b]) => {
        const x1 = rateIn(r1, a, b), x2 = rateIn(r2, a, b);
        return { name, a, b, x1, x2, share1: x1 / (x1 + x2) };
      });
      for (const s of shares) {
        measure(`kill: ${s.name} [${s.a.toFixed(1)}, ${s.b.toFixed(1)}] s: h1 ${mb(s.x1)} Mbit/s, h2 ${mb(s.x2)} Mbit/s, h1's share ${pct(s.share1)}`);
      }
      const g1 = throughputGap(r1.serverIntervals, { skipS: 1 });
      const g2 = throughputGap(r2.serverIntervals, { skipS: 1 });
      expect(T - 0.5 - (allocatedAgainAtS + 2), 'seconds left to measure the resumed split').to.be.at.least(3);
      measure(`kill: first allocated at ${firstAllocatedAtS.toFixed(1)} s, controller killed at ${killedAtS.toFixed(1)} s, restarted at ${restartedAtS.toFixed(1)} s, agents registered again at ` +
        `${registeredAtS.toFixed(1)} s, both flows allocated again at ${allocatedAgainAtS.toFixed(1)} s ` +
        `(re-registration → allocated ${Math.round((allocatedAgainAtS - registeredAtS) * 1000)} ms; discovery settled at ${readyAtS?.toFixed(1) ?? '—'} s, ` +
        `settled and registered → allocated ${Math.round(adoptS * 1000)} ms); longest stall h1 ${g1.gapS.toFixed(2)} s, h2 ${g2.gapS.toFixed(2)} s; ` +
        `after the restart ${ours.filter((f) => f.state === 'allocated').length} of the 2 flows allocated, ${adopted} on paths read back from the switches' flow tables`);
      const [alloc, grace, removed, resumed] = shares;
      expect(alloc!.share1, 'allocated 1:3 before the kill').to.be.within(0.15, 0.35);
      expect(grace!.share1, 'rates kept during the grace period').to.be.within(0.15, 0.35);
      // plain TCP again: h1 grows past its last limit (how fast the split moves towards 50/50 is TCP's business)
      expect(removed!.x1 / grace!.x1, 'limits removed after the grace period: h1 ÷ its rate in grace').to.be.above(1.25);
      expect(removed!.share1, 'limits removed after the grace period: h1 share').to.be.above(0.3);
      expect(resumed!.share1, 'allocation resumed after re-registration').to.be.within(0.15, 0.35);
      expect(ours.filter((f) => f.state === 'allocated'), 'both flows allocated again after the restart').to.have.length(2);
      expect(adoptS, 'discovery settled and agents registered → both flows allocated, s').to.be.at.most(ADOPT_BOUND_S);
      expect(g1.gapS, 'longest stall of h1, s').to.be.at.most(1);
      expect(g2.gapS, 'longest stall of h2, s').to.be.at.most(1);
    });
  });

  describe('two bottlenecks (acceptance 2)', () => {
    // Half the rates of a 100 Mbit/s fabric: with six agents parsing every packet beside the userspace
    // datapath on 2 cores, the 56 Mbit/s flow of the 100 Mbit/s version fell to 0.75 of its rate in 2 of 5
    // runs (CPU, not the allocation: the same run's other flows were within 5%).
    const BW = 50;
    const L1 = 40, L2 = 20;
    const SECONDS = 14;
    const WINDOW: [number, number] = [5, SECONDS - 0.5];
    const FLOWS = [['h1', 'h3'], ['h2', 'h4'], ['h1', 'h5'], ['h6', 'h3']] as const;

    before(async function () {
      if (UNAVAILABLE) this.skip();
      fabric = await MininetFabric.start({
        spines: 1, leaves: 3, hostsPerLeaf: 2, ofPort, bwMbps: BW, shaping: 'agents', linkBwMbps: { 'l1-s1': L1, 'l2-s1': L2 },
      });
    });

    after(async () => {
      await agents?.stop();
      agents = undefined;
      await fabric?.stop();
      fabric = undefined;
    });

    /** The four flows at once: receiver rates over WINDOW and the allocator's rates mid-run. */
    async function fourFlows(api: string): Promise<{ x: number[]; a: (number | null)[] }> {
      const ports = await Promise.all(FLOWS.map(() => freePort()));
      const runs = Promise.all(FLOWS.map(([c, s], i) =>
        fabric!.iperf3({ client: c, server: s, seconds: SECONDS, interval: 0.5, cport: ports[i]! })));
      await sleep(8_000);
      const mid = await flowlets(api).catch(() => [] as FlowletJson[]);
      const rs = await runs;
      return {
        x: rs.map((r) => rateIn(r, ...WINDOW)),
        a: ports.map((p) => mid.find((f) => f.flow.sport === p)?.allocatedBps ?? null),
      };
    }

    it('2. four flows with a spine-link bottleneck: measured within 10% of the proportional-fair rates', async () => {
      const cfg = {
        topology: { defaultCapacityBps: BW * 1e6, links: { '0000000000000201:1': L1 * 1e6, '0000000000000202:1': L2 * 1e6 } },
        enforcement: { mode: 'both' },
      };
      const c = await controller('four-baseline', cfg, 6);
      const base = await fourFlows(c.api);
      measure(`four flows, baseline (no agents): ${base.x.map((x, i) => `${FLOWS[i]!.join('→')} ${mb(x)}`).join(', ')} Mbit/s`);

      agents = await startAgents(fabric!, hosts('h1', 'h2', 'h3', 'h4', 'h5', 'h6'), { socketPath });
      await waitRegistered(ctl!.api, ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'], 30_000);
      const run = await fourFlows(ctl!.api);

      // the exact optimum: the same links and paths, the allocator iterated to convergence
      const problem = parseProblem(JSON.stringify({
        links: [
          { id: 'l1>s1', capacityBps: L1 * 1e6 }, { id: 's1>l2', capacityBps: L2 * 1e6 }, { id: 's1>l3', capacityBps: BW * 1e6 },
          { id: 'l3>s1', capacityBps: BW * 1e6 }, ...['h1', 'h2', 'h6'].map((h) => ({ id: `${h}>`, capacityBps: BW * 1e6 })),
          ...['h3', 'h4', 'h5'].map((h) => ({ id: `>${h}`, capacityBps: BW * 1e6 })),
        ],
        flows: [
          { id: 'f1', path: ['h1>', 'l1>s1', 's1>l2', '>h3'] },
          { id: 'f2', path: ['h2>', 'l1>s1', 's1>l2', '>h4'] },
          { id: 'f3', path: ['h1>', 'l1>s1', 's1>l3', '>h5'] },
          { id: 'f4', path: ['h6>', 'l3>s1', 's1>l2', '>h3'] },
        ],
      }));
      const exact = allocateProblem(problem, { policy: 'flowtune', iterations: 3000 });
      const opt = ['f1', 'f2', 'f3', 'f4'].map((f) => exact.rates[f]!);
      const wire = run.x.map((x) => x * WIRE_PER_PAYLOAD);
      FLOWS.forEach(([c, s], i) => {
        const a = run.a[i];
        measure(`four flows, ${c}→${s}: measured ${mb(run.x[i]!)} Mbit/s goodput = ${mb(wire[i]!)} on the wire, allocated ` +
          `${a === null || a === undefined ? '—' : mb(a)}, exact optimum ${mb(opt[i]!)}; wire/allocated ${a ? (wire[i]! / a).toFixed(3) : '—'}, ` +
          `wire/optimum ${(wire[i]! / opt[i]!).toFixed(3)}`);
      });
      for (let i = 0; i < FLOWS.length; i++) {
        expect(run.a[i], `allocated rate of ${FLOWS[i]!.join('→')}`).to.be.a('number');
        expect(run.a[i]! / opt[i]!, `allocated / optimum, ${FLOWS[i]!.join('→')}`).to.be.within(0.95, 1.05);
        expect(wire[i]! / run.a[i]!, `measured (wire) / allocated, ${FLOWS[i]!.join('→')}`).to.be.within(0.9, 1.1);
      }
    });
  });
});
