/**
 * Rivulet in-process for end-to-end tests and the demo: `startRivulet` (controller/main.ts) on free
 * loopback ports (OpenFlow and REST both on 127.0.0.1, port 0 = any free port), with the default
 * configuration otherwise — the same configuration for every fabric shape.
 */
import type { Controller } from '../openflow/listener.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type ConfigInput, type RivuletConfig } from '../controller/config/index.js';
import { startRivulet } from '../controller/main.js';
import type { Logger } from '../lib/log.js';
import type { QosApp } from '../apps/qos/index.js';
import type { RouteInfo } from '../apps/routing/types.js';
import type { TopologyView } from '../topology/types.js';

export interface TestController {
  /** the OpenFlow port switches connect to (127.0.0.1) */
  readonly ofPort: number;
  /** REST base, `http://127.0.0.1:<port>/api/v1` */
  readonly api: string;
  readonly controller: Controller;
  readonly topology: TopologyView;
  routes(): readonly RouteInfo[];
  /** the QoS app (port statuses, queue counters) */
  readonly qos: QosApp;
  readonly config: RivuletConfig;
  /** Stops everything startRivulet started. Idempotent. */
  close(): Promise<void>;
}

export interface TestControllerOptions {
  /** log level (default: RIVULET_LOG_LEVEL, else warn) */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly logger?: Logger;
  /** config sections to set besides the loopback ports and the log level (e.g. link capacities for the demo) */
  readonly config?: ConfigInput;
  /** OpenFlow port to listen on (default 0: any free port; a restart test passes the previous one) */
  readonly ofPort?: number;
  /** REST port to listen on (default 0: any free port; the demo asks for 8080) */
  readonly apiPort?: number;
}

let instances = 0;

/** Starts Rivulet in-process on free loopback ports; resolves once the OpenFlow and REST listeners are up. */
export async function startTestController(opts: TestControllerOptions = {}): Promise<TestController> {
  const level = opts.logLevel ?? (process.env['RIVULET_LOG_LEVEL'] as TestControllerOptions['logLevel']) ?? 'warn';
  const config = defaultConfig({
    ...opts.config,
    openflow: { ...opts.config?.openflow, port: opts.ofPort ?? 0, host: '127.0.0.1' },
    api: { ...opts.config?.api, port: opts.apiPort ?? 0, host: '127.0.0.1' },
    // a socket of its own (the default /run/rivulet/agents.sock would be shared by concurrent test runs)
    agents: { socketPath: join(tmpdir(), `rivulet-test-${process.pid}-${++instances}.sock`), ...opts.config?.agents },
    log: { level },
  });
  const r = await startRivulet({ config, ...(opts.logger ? { logger: opts.logger } : {}) });
  let closed: Promise<void> | undefined;
  return {
    ofPort: r.openflow.port,
    api: `${r.api.url}/api/v1`,
    controller: r.controller,
    topology: r.topology.view,
    routes: () => r.routing.routes(),
    qos: r.qos,
    config,
    close: () => (closed ??= r.close()),
  };
}
