/**
 * The load generator of `npm run bench:setup`: closed loops over a connected {@link FakeFabric}.
 *
 * Flow loop: `inFlight` slots; each slot makes a host send the first packet (TCP SYN) of a brand-new
 * 5-tuple to a host in another rack, which reaches the controller as a table-miss PACKET_IN from the
 * ingress leaf, and waits until the flow is set up: an ADD FLOW_MOD for that 5-tuple has arrived at the
 * ingress leaf, at a spine and at the egress leaf, and the PACKET_OUT releasing the first packet has
 * arrived. Then the slot starts the next flow. Latencies are measured from just before the packet-in is
 * written. Whether the released packet then reaches the destination host through the fake switches'
 * tables is counted too.
 *
 * Echo loop (the baseline): the same slots, the same switch sockets, but each round trip is an
 * ECHO_REQUEST answered by the controller's session: the cheapest thing the controller can do per
 * message, so flow setups ÷ echoes is the price of a flow setup in units of a bare round trip.
 */
import { mulberry32 } from '../testing/random.js';
import { performance } from 'node:perf_hooks';
import { OFPFC } from '../openflow/codec/index.js';
import { FakeFabric, flowKey, matchFields, packetFields, type FakeHost, type FabricEvent } from '../testing/fake-fabric.js';

/** Deterministic PRNG so runs pick the same host pairs. */
export const prng = mulberry32;

/** The p-th percentile (0..100) of `xs` by nearest rank; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface FlowLoopResult {
  readonly inFlight: number;
  readonly durationMs: number;
  readonly completed: number;
  /** flows not set up within the per-flow timeout */
  readonly timedOut: number;
  /** first packets that reached the destination host through the fake tables */
  readonly delivered: number;
  /** packet-in → last FLOW_MOD of the flow on its path, ms */
  readonly flowModMs: readonly number[];
  /** packet-in → PACKET_OUT releasing the first packet, ms */
  readonly releaseMs: readonly number[];
  /** FLOW_MODs and PACKET_OUTs received per completed flow (all switches, this flow's 5-tuple) */
  readonly messagesPerFlow: number;
  /** what the first few timed-out flows had received (diagnostics) */
  readonly timeoutSamples: readonly string[];
}

export interface EchoLoopResult {
  readonly inFlight: number;
  readonly durationMs: number;
  readonly completed: number;
  readonly rttMs: readonly number[];
}

interface PendingFlow {
  readonly key: string;
  readonly t0: number;
  readonly src: FakeHost;
  readonly dst: FakeHost;
  readonly hops: Set<bigint>;
  spineSeen: boolean;
  tFlowMods?: number;
  tRelease?: number;
  messages: number;
  readonly done: () => void;
}

export interface FlowLoopOptions {
  readonly inFlight: number;
  readonly durationMs: number;
  readonly seed: number;
  /** a flow not set up after this is abandoned and counted in `timedOut` (default 3000 ms) */
  readonly flowTimeoutMs?: number;
}

/** Picks (src, dst) in different racks and gives each flow a fresh source port. */
class FlowSource {
  private readonly nextPort = new Map<FakeHost, number>();
  private readonly rand: () => number;

  constructor(private readonly fabric: FakeFabric, seed: number) {
    this.rand = prng(seed);
  }

  next(): { src: FakeHost; dst: FakeHost; srcPort: number; dstPort: number } {
    const hosts = this.fabric.hosts;
    const src = hosts[Math.floor(this.rand() * hosts.length)]!;
    let dst = src;
    while (dst.leafIndex === src.leafIndex) dst = hosts[Math.floor(this.rand() * hosts.length)]!;
    const port = this.nextPort.get(src) ?? 1024 + Math.floor(this.rand() * 20000);
    this.nextPort.set(src, port >= 65535 ? 1024 : port + 1);
    return { src, dst, srcPort: port, dstPort: 5001 + Math.floor(this.rand() * 100) };
  }
}

/** Runs the flow-setup loop for `durationMs` with `inFlight` flows outstanding at any time. */
export async function runFlowLoop(fabric: FakeFabric, o: FlowLoopOptions): Promise<FlowLoopResult> {
  const source = new FlowSource(fabric, o.seed);
  const pending = new Map<string, PendingFlow>();
  const flowModMs: number[] = [];
  const releaseMs: number[] = [];
  let completed = 0;
  let timedOut = 0;
  let delivered = 0;
  let messages = 0;
  const timeoutSamples: string[] = [];
  /** set-up flows whose released first packet has not reached the destination yet: key → destination */
  const released = new Map<string, FakeHost>();
  const spines = new Set(fabric.spines.map((s) => s.dpid));
  const stopObserving = fabric.observe((e) => onEvent(e));

  function onEvent(e: FabricEvent): void {
    const now = performance.now();
    if (e.kind === 'fromController') {
      const m = e.msg;
      if (m.type === 'OFPT_FLOW_MOD' && m.command === OFPFC.ADD) {
        const p = pending.get(flowKey(matchFields(m.match)) ?? '');
        if (!p) return;
        p.messages++;
        p.hops.add(e.sw.dpid);
        if (spines.has(e.sw.dpid)) p.spineSeen = true;
        if (p.tFlowMods === undefined && p.spineSeen && p.hops.has(p.src.leaf.dpid) && p.hops.has(p.dst.leaf.dpid)) p.tFlowMods = now;
        check(p);
      } else if (m.type === 'OFPT_PACKET_OUT') {
        const p = pending.get(flowKey(packetFields(m.data, 0)) ?? '');
        if (!p) return;
        p.messages++;
        p.tRelease ??= now;
        check(p);
      }
    } else if (e.kind === 'toHost') {
      const key = flowKey(packetFields(e.frame, 0)) ?? '';
      const dst = released.get(key) ?? pending.get(key)?.dst;
      if (dst === e.host) {
        delivered++;
        released.delete(key);
      }
    }
  }

  function check(p: PendingFlow): void {
    if (p.tFlowMods === undefined || p.tRelease === undefined) return;
    flowModMs.push(p.tFlowMods - p.t0);
    releaseMs.push(p.tRelease - p.t0);
    completed++;
    messages += p.messages;
    released.set(p.key, p.dst);
    p.done();
  }

  const start = performance.now();
  const deadline = start + o.durationMs;
  const timeout = o.flowTimeoutMs ?? 3000;

  async function slot(): Promise<void> {
    while (performance.now() < deadline) {
      const f = source.next();
      const key = `${f.src.ip}>${f.dst.ip}/6/${f.srcPort}>${f.dstPort}`;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timedOut++;
          const p = pending.get(key);
          if (p && timeoutSamples.length < 5) {
            const hops = [...p.hops].map((d) => d.toString(16)).join(',');
            timeoutSamples.push(`${key} from leaf ${p.src.leaf.dpid.toString(16)} to leaf ${p.dst.leaf.dpid.toString(16)}: ` +
              `flow-mods at [${hops}], packet-out ${p.tRelease === undefined ? 'no' : 'yes'}`);
          }
          pending.delete(key);
          resolve();
        }, timeout);
        const done = (): void => {
          clearTimeout(timer);
          pending.delete(key);
          resolve();
        };
        pending.set(key, { key, t0: performance.now(), src: f.src, dst: f.dst, hops: new Set(), spineSeen: false, messages: 0, done });
        f.src.tcp(f.dst, f.srcPort, f.dstPort);
      });
    }
  }

  await Promise.all(Array.from({ length: o.inFlight }, () => slot()));
  const elapsed = performance.now() - start;
  await new Promise((r) => setTimeout(r, 20)); // the last released packets are still crossing the fabric
  stopObserving();
  return {
    inFlight: o.inFlight, durationMs: elapsed, completed, timedOut, delivered, flowModMs, releaseMs,
    messagesPerFlow: completed ? messages / completed : NaN, timeoutSamples,
  };
}

/** Runs the ECHO round-trip loop (baseline) over the leaves' sockets. */
export async function runEchoLoop(fabric: FakeFabric, inFlight: number, durationMs: number, seed: number): Promise<EchoLoopResult> {
  const rand = prng(seed);
  const rttMs: number[] = [];
  const start = performance.now();
  const deadline = start + durationMs;
  async function slot(): Promise<void> {
    while (performance.now() < deadline) {
      const sw = fabric.leaves[Math.floor(rand() * fabric.leaves.length)]!;
      const t0 = performance.now();
      await sw.echo();
      rttMs.push(performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: inFlight }, () => slot()));
  return { inFlight, durationMs: performance.now() - start, completed: rttMs.length, rttMs };
}

/** Every host announces itself (gratuitous ARP), so the controller knows all hosts before flows start. */
export function announceHosts(fabric: FakeFabric): void {
  for (const h of fabric.hosts) h.announce();
}
