/**
 * The Node (V8) options `rivulet agent` is started with: `node ${AGENT_NODE_FLAGS} bin/rivulet.js agent …`
 * (the experiment kit, testing/agents.ts; bench/agent-cost.ts). Launch flags only: V8 reads them when it
 * sets its heap up (setting `--single-threaded-gc` from inside the process at run time aborts V8).
 *
 * The agent is a small, long-lived process that wakes a few dozen times a second for a few hundred
 * microseconds each (README "Agent cost and rate churn"); V8's defaults are tuned for the opposite. Measured
 * with `--trace-gc` in bench:agent (sizes × 0.1, 30 s), defaults against these flags:
 * - `--single-threaded-gc`: no garbage-collector helper threads to wake (helper threads 0.33–0.46 →
 *   0.13–0.16% of a core);
 * - `--min-semi-space-size=4 --max-semi-space-size=4` (MB): the young generation starts at 4 MB instead of
 *   1 MB, so the agent's ≈ 0.4 MB/s of short-lived garbage (messages, buffers, promises) is scavenged
 *   about every 10 s instead of every 2.5 s, each scavenge costing about the same (≈ 2 ms here: the
 *   survivors, not the dead, are copied); at most 8 MB more resident;
 * - `--no-memory-reducer`: no pair of full collections some 25 s after start-up and whenever the
 *   allocation rate drops (≈ 30–50 ms of CPU each time, marking the whole 12 MB heap) — the agent's heap
 *   does not grow with its work (every table it keeps is bounded), so there is nothing for it to give back.
 * Together: ≈ 82 → ≈ 10 ms of garbage collection over the 35 s of the bench.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--min-semi-space-size=4', '--max-semi-space-size=4', '--no-memory-reducer'];
