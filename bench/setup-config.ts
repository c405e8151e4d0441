/** The Rivulet configuration `npm run bench:setup` and its profiler (setup-profile.ts) run. */
import type { ConfigInput } from '../controller/config/index.js';

/**
 * Rivulet's configuration for the bench: defaults, quiet logs, no agent socket; the new-flow packet-in
 * budgets off (0 = not limited: the bench measures setup speed, not the flood protection). The route
 * bounds stay at their defaults: the generator's flows never end (no FLOW_REMOVED), so once a switch holds
 * maxRoutesPerSwitch routes every setup also evicts one (a DELETE flow-mod) — as a real table would churn.
 */
export const BENCH_RIVULET_CONFIG: ConfigInput = {
  openflow: { port: 0, host: '127.0.0.1' },
  api: { port: 0, host: '127.0.0.1' },
  routing: { seed: 7 },
  packetIn: { perPortPps: { ipv4: 0 }, perSwitchPps: { ipv4: 0 }, maxQueued: 100_000, batch: 4096 },
  agents: { socketPath: '' },
  log: { level: 'error' },
};
