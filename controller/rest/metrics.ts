/**
 * Prometheus text at `/metrics` (README.md "REST API"; ARCHITECTURE.md "Commitments" 10): a private prom-client Registry per REST server
 * (never the global one, so two controllers in one process do not share counters), whose gauges and
 * counters read their values at scrape time from the controller and the enforcement app.
 */
import { Counter, Gauge, Registry, Summary } from 'prom-client';
import type { EnforcementSource } from '../../apps/enforcement/app.js';
import type { PacketInStats } from '../../openflow/listener.js';
import { PACKET_IN_CLASSES } from '../../openflow/packet-in-gate.js';

/** Routing figures for /metrics. */
export interface RoutingStats {
  readonly routes: number;
  readonly evictions: number;
  readonly probesSuppressed: number;
}

export interface MetricsSources {
  /** connected switches */
  readonly switches: () => number;
  /** packet-in protection counters (the controller's gate) */
  readonly packetIns?: () => PacketInStats;
  /** the per-port packet-in meters at the switches */
  readonly portMeters?: () => { readonly meters: readonly { readonly state: string }[]; readonly droppedAtSwitch: number };
  /** routing table size and bound evictions */
  readonly routing?: () => RoutingStats;
  readonly enforcement?: EnforcementSource;
}

/** A counter whose total is read from `read()` at scrape time (prom-client counters only go up by inc). */
function readCounter(reg: Registry, name: string, help: string, labelNames: readonly string[], read: () => [Record<string, string>, number][]): void {
  const last = new Map<string, number>();
  new Counter({
    name, help, labelNames, registers: [reg],
    collect() {
      for (const [labels, total] of read()) {
        const k = JSON.stringify(labels);
        const d = total - (last.get(k) ?? 0);
        if (d > 0) this.inc(labels, d);
        last.set(k, total);
      }
    },
  });
}

/** The registry of one REST server. */
export function createMetrics(src: MetricsSources): Registry {
  const reg = new Registry();
  new Gauge({ name: 'rivulet_switches_connected', help: 'OpenFlow switches connected', registers: [reg], collect() { this.set(src.switches()); } });
  new Gauge({
    name: 'rivulet_process_memory_bytes', labelNames: ['kind'], registers: [reg],
    help: "the controller process's memory, bytes: rss (resident), heapUsed / heapTotal (V8's JavaScript heap), external and arrayBuffers (Buffers outside it)",
    collect() {
      const m = process.memoryUsage();
      for (const kind of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers'] as const) this.set({ kind }, m[kind]);
    },
  });
  const pi = src.packetIns;
  if (pi) {
    readCounter(reg, 'rivulet_packet_ins_total', 'packet-ins by class and verdict (admitted, or dropped by the per-port / per-switch budget)', ['class', 'verdict'], () => {
      const p = pi();
      return PACKET_IN_CLASSES.flatMap((c): [Record<string, string>, number][] => [
        [{ class: c, verdict: 'admitted' }, p.admitted[c]], [{ class: c, verdict: 'dropped' }, p.dropped[c]],
      ]);
    });
    readCounter(reg, 'rivulet_packet_in_queue_overflow_total', 'new-flow packet-ins dropped because the dispatch queue was full', [], () => [[{}, pi().queueOverflow]]);
    new Gauge({ name: 'rivulet_packet_in_queued', help: 'new-flow packet-ins waiting for dispatch', registers: [reg], collect() { this.set(pi().queued); } });
  }
  const pm = src.portMeters;
  if (pm) {
    readCounter(reg, 'rivulet_packet_ins_switch_dropped_total', 'packet-ins dropped at the switches by the per-port meters, by class (band counts read back; rivulet_packet_ins_total counts the controller\'s own)', ['class'], () =>
      [[{ class: 'ipv4' }, pm().droppedAtSwitch]]);
    new Gauge({
      name: 'rivulet_port_meters', help: 'per-port packet-in meters by state', labelNames: ['state'], registers: [reg],
      collect() {
        const n = { installing: 0, applied: 0, failed: 0 } as Record<string, number>;
        for (const m of pm().meters) n[m.state] = (n[m.state] ?? 0) + 1;
        for (const [state, v] of Object.entries(n)) this.set({ state }, v);
      },
    });
  }
  const rt = src.routing;
  if (rt) {
    new Gauge({ name: 'rivulet_routes', help: 'pinned flows', registers: [reg], collect() { this.set(rt().routes); } });
    readCounter(reg, 'rivulet_route_evictions_total', 'routes removed to stay within routing.maxRoutes / maxRoutesPerSwitch', [], () => [[{}, rt().evictions]]);
    readCounter(reg, 'rivulet_arp_probes_suppressed_total', 'ARP probes not sent: routing.maxProbesPerSecond spent', [], () => [[{}, rt().probesSuppressed]]);
  }
  const e = src.enforcement;
  if (!e) return reg;
  new Gauge({
    name: 'rivulet_flowlets', help: 'active flowlets by state (small: not allocated; pending-path: no route yet)', labelNames: ['state'], registers: [reg],
    collect() {
      const a = e.allocator();
      this.set({ state: 'small' }, a.smallFlowlets);
      this.set({ state: 'pending-path' }, a.pendingFlowlets);
      this.set({ state: 'allocated' }, a.allocatedFlowlets);
    },
  });
  new Gauge({
    name: 'rivulet_flowlets_not_allocated', help: 'pending-path flowlets by why they are not allocated (waiting-for-discovery, no-route, adopting, adoption-failed, …)',
    labelNames: ['reason'], registers: [reg],
    collect() {
      for (const [reason, n] of Object.entries(e.allocator().pendingByReason)) this.set({ reason }, n);
    },
  });
  readCounter(reg, 'rivulet_allocator_runs_total', 'allocator runs', [], () => [[{}, e.allocator().runs]]);
  readCounter(reg, 'rivulet_allocator_iterations_total', 'optimizer iterations (flowtune), else policy runs', [], () => [[{}, e.allocator().iterations]]);
  new Gauge({
    name: 'rivulet_allocator_last_run_duration_seconds', help: 'duration of the last allocator run', registers: [reg],
    collect() { this.set((e.allocator().lastRunDurationUs ?? 0) / 1e6); },
  });
  new Gauge({ name: 'rivulet_agent_events_per_second', help: 'agent events per second over the last 10 s', registers: [reg], collect() { this.set(e.allocator().eventsPerSecond); } });
  readCounter(reg, 'rivulet_enforcement_updates_total', 'rate updates sent: agents = set/clear entries, meters = meter sets and removals', ['target'], () => {
    const u = e.allocator().updatesSent;
    return [[{ target: 'agents' }, u.agents], [{ target: 'meters' }, u.meters]];
  });
  readCounter(reg, 'rivulet_agent_rejected_total', 'agent items and connections rejected (never stored), by reason', ['reason'], () =>
    Object.entries(e.agentRejections()).map(([reason, n]) => [{ reason }, n]));
  new Gauge({ name: 'rivulet_agents_connected', help: 'host agents connected', registers: [reg], collect() { this.set(e.agents().filter((a) => a.connected).length); } });
  new Gauge({
    name: 'rivulet_meters', help: 'meters by state', labelNames: ['state'], registers: [reg],
    collect() {
      const counts = { installing: 0, installed: 0, failed: 0 };
      for (const m of e.meters()) counts[m.state]++;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'rivulet_rate_updates_per_flowlet', help: 'mean rate updates per ended flowlet (target: agent | meter; over: allocated flowlets | all flowlets)',
    labelNames: ['target', 'over'], registers: [reg],
    collect() {
      const u = e.allocator().updatesPerFlowlet;
      const put = (target: string, over: string, v: number | null): void => { if (v !== null) this.set({ target, over }, v); };
      put('agent', 'allocated', u.agentPerAllocated);
      put('meter', 'allocated', u.meterPerAllocated);
      put('agent', 'all', u.agentPerFlowlet);
      put('meter', 'all', u.meterPerFlowlet);
    },
  });
  reactionSummary(reg, e);
  return reg;
}

/** First packet → enforced, seconds, as a summary fed with the samples added since the last scrape. */
function reactionSummary(reg: Registry, e: EnforcementSource): void {
  let fedReport = 0;
  new Summary({
    name: 'rivulet_report_latency_seconds', help: 'flowlet first packet (agent) → its start received by the controller',
    percentiles: [0.5, 0.99], registers: [reg],
    collect() {
      const count = e.allocator().reaction.report.count;
      const samples = e.reactionSamples().report;
      const fresh = Math.min(count - fedReport, samples.length);
      for (const us of samples.slice(samples.length - fresh)) this.observe(us / 1e6);
      fedReport = count;
    },
  });
  const fed = { agent: 0, meter: 0 };
  new Summary({
    name: 'rivulet_reaction_time_seconds', help: 'flowlet first packet → rate enforced (enforcer: agent | meter)',
    labelNames: ['enforcer'], percentiles: [0.5, 0.99], registers: [reg],
    collect() {
      const a = e.allocator().reaction;
      const samples = e.reactionSamples();
      for (const k of ['agent', 'meter'] as const) {
        const fresh = Math.min(a[k].count - fed[k], samples[k].length);
        for (const us of samples[k].slice(samples[k].length - fresh)) this.observe({ enforcer: k }, us / 1e6);
        fed[k] = a[k].count;
      }
    },
  });
}
