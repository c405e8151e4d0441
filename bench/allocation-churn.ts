/**
 * Rate updates per flowlet, web-search-like (`npm run bench:churn -- [--seconds 300] [--load 0.5] [--seed 1]`).
 *
 * A flow-level run of the enforcement core (apps/enforcement/core.ts, the code the controller runs) on
 * a fake 2-spine × 4-leaf × 2-host fabric with 20 Mbit/s host links: the four hosts of leaves 1–2 send to
 * random hosts of leaves 3–4, one flowlet per flow, Poisson arrivals at `--load` of each sender's link,
 * web-search sizes (DCTCP, SIGCOMM 2010). Every 10 ms each flow sends at its pushed rate (unlimited flows
 * share what their sender's link has left); agents report like the real agent — the start at once,
 * progress when the flowlet reaches 50 kB and every 500 ms, the end 100 ms (the idle gap) after its
 * last byte. The shell's rules are reproduced: a run after a batch when the core says it matters (or
 * after every batch, `runOnProgress`), and every 100 ms. Printed side by side for the same arrivals:
 * round 1's settings (5% relative hysteresis only, runs after every batch) and today's defaults, with
 * rate updates (agent set + clear entries, meter sets + removals) per allocated flowlet and per flowlet.
 */
import { readFileSync } from 'node:fs';
import { parseCdf, quantile } from '../apps/qos/thresholds/index.js';
import type { EnforcementSettings } from '../apps/enforcement/types.js';
import { Harness, ip, tuple } from '../testing/enforcement-harness.js';
import { mulberry32 } from '../testing/random.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}
const SECONDS = Number(arg('seconds', '300'));
const LOAD = Number(arg('load', '0.5'));
const SEED = Number(arg('seed', '1'));
const LINK = 20e6;
const STEP_MS = 10;
const SMALL = 50_000;

const rng = mulberry32;

interface Flow {
  readonly agent: string;
  readonly id: string;
  readonly sender: number;
  readonly size: number;
  readonly startMs: number;
  sent: number;
  rateBps?: number;
  progressAtMs?: number;
  doneAtMs?: number;
  ended: boolean;
}

interface Arrival { atMs: number; sender: number; dst: [number, number]; size: number }

function arrivals(): Arrival[] {
  const dist = parseCdf(readFileSync(new URL('../../test/fixtures/workloads/websearch.cdf', import.meta.url), 'utf8'));
  const rand = rng(SEED);
  const perSenderPerS = (LOAD * LINK) / 8 / dist.meanBytes;
  const out: Arrival[] = [];
  for (let sender = 0; sender < 4; sender++) {
    let t = 0;
    for (;;) {
      t += (-Math.log(1 - rand()) / perSenderPerS) * 1000;
      if (t >= SECONDS * 1000) break;
      out.push({ atMs: t, sender, dst: [3 + Math.floor(rand() * 2), 1 + Math.floor(rand() * 2)], size: Math.max(1, Math.round(quantile(dist, Math.min(0.999999, rand())))) });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

function simulate(label: string, over: Partial<EnforcementSettings>, runOnProgress: boolean, list: readonly Arrival[]): void {
  const h = new Harness({ policy: 'flowtune', mode: 'both', capacity: { links: {}, defaultBps: LINK }, ...over });
  const senders = [0, 1, 2, 3].map((i) => ({ leaf: 1 + Math.floor(i / 2), host: 1 + (i % 2) }));
  const agents = senders.map((s) => `h${s.leaf}${s.host}`);
  senders.forEach((s, i) => h.hello(agents[i]!, [], [ip(s.leaf, s.host)]));
  const flows = new Map<string, Flow>();
  let next = 0;
  let serial = 0;
  let runs = 0;
  const run = (): void => {
    runs++;
    for (const e of h.run()) {
      if (e.kind !== 'rates') continue;
      for (const s of e.msg.set) {
        const f = flows.get(`${e.agentId}/${s.id}`);
        if (f) f.rateBps = s.rateBps;
      }
    }
  };
  for (h.ms = 0; h.ms < SECONDS * 1000 + 5000; h.ms += STEP_MS) {
    const batches = new Map<string, { starts: Parameters<Harness['events']>[1]['starts'] & object; progress: { id: string; bytes: number; atEpochUs: number }[]; ends: { id: string; lastPacketEpochUs: number; bytes: number }[] }>();
    const batch = (agent: string) => {
      let b = batches.get(agent);
      if (!b) batches.set(agent, (b = { starts: [], progress: [], ends: [] }));
      return b;
    };
    const us = h.now().epochUs;
    while (next < list.length && list[next]!.atMs <= h.ms) {
      const a = list[next++]!;
      const s = senders[a.sender]!;
      const id = `f${++serial}`;
      const t = tuple(ip(s.leaf, s.host), ip(a.dst[0], a.dst[1]), 10_000 + (serial % 50_000));
      h.pin(t, 1 + (serial % 2));
      const f: Flow = { agent: agents[a.sender]!, id, sender: a.sender, size: a.size, startMs: h.ms, sent: Math.min(a.size, 1514), ended: false };
      flows.set(`${f.agent}/${id}`, f);
      batch(f.agent).starts.push({ id, flow: t, firstPacketEpochUs: us, bytes: f.sent });
    }
    // send for one step: limited flows at their rate, the others share what is left of their sender's link
    for (let i = 0; i < 4; i++) {
      const mine = [...flows.values()].filter((f) => f.sender === i && f.doneAtMs === undefined);
      const limited = mine.filter((f) => f.rateBps !== undefined);
      const left = Math.max(0, LINK - limited.reduce((x, f) => x + f.rateBps!, 0));
      const free = mine.length - limited.length;
      for (const f of mine) {
        const bps = f.rateBps ?? left / Math.max(1, free);
        f.sent = Math.min(f.size, f.sent + (bps * STEP_MS) / 1000 / 8);
        if (f.sent >= f.size) f.doneAtMs = h.ms;
      }
    }
    for (const f of flows.values()) {
      if (f.ended) continue;
      if (f.doneAtMs !== undefined && h.ms - f.doneAtMs >= 100) {
        f.ended = true;
        batch(f.agent).ends.push({ id: f.id, lastPacketEpochUs: us, bytes: f.sent });
        flows.delete(`${f.agent}/${f.id}`);
        continue;
      }
      if ((f.progressAtMs === undefined && f.sent >= SMALL) || (f.progressAtMs !== undefined && h.ms - f.progressAtMs >= 500 && f.doneAtMs === undefined)) {
        f.progressAtMs = h.ms;
        batch(f.agent).progress.push({ id: f.id, bytes: f.sent, atEpochUs: us });
      }
    }
    let matters = false;
    for (const [agent, b] of batches) {
      matters = h.core.events(agent, { type: 'events', seq: 0, starts: b.starts, progress: b.progress, ends: b.ends, enforced: [] }, h.now()) || matters;
    }
    if (batches.size > 0 && (matters || runOnProgress)) run();
    if (h.ms % 100 === 0) run();
  }
  const v = h.core.allocatorView(h.ms);
  const u = v.updatesPerFlowlet;
  const f = (x: number | null): string => (x === null ? '—' : x.toFixed(2));
  process.stdout.write(
    `${label}: ${u.ended} flowlets (${u.endedAllocated} allocated), ${runs} runs; updates per allocated flowlet: agent ${f(u.agentPerAllocated)}, meter ${f(u.meterPerAllocated)}; ` +
    `per flowlet: agent ${f(u.agentPerFlowlet)}, meter ${f(u.meterPerFlowlet)}; totals agent ${v.updatesSent.agents}, meter ${v.updatesSent.meters}\n`,
  );
}

const list = arrivals();
process.stdout.write(`web-search flows, load ${LOAD} of ${LINK / 1e6} Mbit/s per sender, ${SECONDS} s, seed ${SEED}: ${list.length} flows\n`);
simulate('round 1 (5% only, run after every batch)', { rateChangeThreshold: 0.05, rateChangeMinBps: 0, minUpdateIntervalMs: 0 }, true, list);
const rel = Number(arg('rel', '0.05'));
const abs = Number(arg('abs', '500000'));
const every = Number(arg('interval-ms', '500'));
const iters = Number(arg('iterations', '1'));
simulate(`damped (${rel * 100}% and ${abs / 1000} kbit/s, ${every} ms per flowlet, ${iters} NED iteration(s) per run, runs at starts/ends)`,
  { rateChangeThreshold: rel, rateChangeMinBps: abs, minUpdateIntervalMs: every, iterationsPerRun: iters }, false, list);
