/**
 * The controller under test of `npm run bench:setup`, run in a worker thread: the whole Rivulet
 * (startRivulet: OpenFlow listener, topology, routing, REST) in-process but on its own thread, so it has
 * its own event loop and core and does not share one with the fake fabric that loads it, while the
 * bench can still ask it directly (no REST round trips) whether discovery is ready and what it knows.
 *
 * Protocol (parentPort messages): main → worker `{ cmd: 'status' }` / `{ cmd: 'stop' }`; worker → main
 * `{ type: 'started', ofPort }`, `{ type: 'status', … }` ({@link ControllerStatus}), `{ type: 'stopped' }`,
 * `{ type: 'failed', message }`. The config overrides arrive in `workerData`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { startRivulet } from '../controller/main.js';
import { defaultConfig, type ConfigInput } from '../controller/config/index.js';

export interface ControllerStatus {
  readonly type: 'status';
  readonly ready: boolean;
  readonly switches: number;
  readonly links: number;
  readonly hosts: number;
  readonly hostsWithIp: number;
  readonly routes: number;
  /** event-loop utilization of the controller thread since the previous status (0..1) */
  readonly elu: number;
}

export type WorkerReply =
  | { readonly type: 'started'; readonly ofPort: number }
  | ControllerStatus
  | { readonly type: 'stopped' }
  | { readonly type: 'failed'; readonly message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('setup-controller must run in a worker thread');
  const post = (m: WorkerReply): void => port.postMessage(m);
  const config = workerData as ConfigInput;
  const rivulet = await startRivulet({ config: defaultConfig(config) });
  const topology = rivulet.topology.view;
  let elu = performance.eventLoopUtilization();
  post({ type: 'started', ofPort: rivulet.openflow.port });
  port.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'status') {
      const now = performance.eventLoopUtilization();
      const delta = performance.eventLoopUtilization(now, elu);
      elu = now;
      const hosts = topology.hosts();
      post({
        type: 'status', ready: topology.ready(), switches: topology.switches().length,
        links: topology.links().length, hosts: hosts.length, hostsWithIp: hosts.filter((h) => h.ipv4 !== undefined).length,
        routes: rivulet.routing.routes().length, elu: delta.utilization,
      });
    } else if (m.cmd === 'stop') {
      void rivulet.close().then(() => {
        post({ type: 'stopped' });
        port.close();
      });
    }
  });
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'failed', message: err instanceof Error ? err.stack ?? err.message : String(err) });
});
