/**
 * Open vSwitch test fixtures: a userspace-datapath bridge (no kernel module here: ARCHITECTURE.md "Platform facts") connected to
 * a controller on loopback, created under a unique name and deleted by that name only.
 */
import { execFileSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Controller } from '../openflow/listener.js';
import { parseDpid } from '../lib/dpid.js';
import { pollUntil } from '../lib/until.js';

const run = promisify(execFile);

/** Why the tests cannot drive OVS here (not root, or ovs-vsctl does not answer), or undefined when they can. */
export function ovsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (Open vSwitch tests)';
  try {
    execFileSync('ovs-vsctl', ['--timeout=5', 'show'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'Open vSwitch is not running (ovs-vsctl show failed)';
  }
}

/** True when the tests may drive OVS: root, and ovs-vsctl answers. */
export function canRunOvs(): boolean {
  return ovsUnavailable() === undefined;
}

/** Runs ovs-vsctl / ovs-ofctl with arguments; resolves with stdout. */
export async function ovs(cmd: 'ovs-vsctl' | 'ovs-ofctl', args: readonly string[]): Promise<string> {
  const { stdout } = await run(cmd, cmd === 'ovs-vsctl' ? ['--timeout=10', ...args] : [...args]);
  return stdout;
}

export interface Bridge {
  readonly name: string;
  setController(port: number): Promise<void>;
  delController(): Promise<void>;
  isConnected(): Promise<boolean>;
  waitConnected(ctl: Controller, timeoutMs: number): Promise<bigint>;
  destroy(): Promise<void>;
}

export interface BridgeOptions {
  readonly dpidHex?: string;
  readonly ports?: number;
  readonly controllerPort?: number;
}

/** Creates `rvt<random>` with datapath_type=netdev, OpenFlow13, fail_mode=secure. */
export async function createBridge(opts: BridgeOptions = {}): Promise<Bridge> {
  const name = `rvt${Math.random().toString(36).slice(2, 8)}`;
  const dpidHex = opts.dpidHex ?? Buffer.from(name).toString('hex').padStart(16, '0').slice(-16);
  await ovs('ovs-vsctl', ['add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev',
    'protocols=OpenFlow13', 'fail_mode=secure', `other-config:datapath-id=${dpidHex}`]);
  for (let i = 1; i <= (opts.ports ?? 0); i++) {
    await ovs('ovs-vsctl', ['add-port', name, `${name}p${i}`, '--', 'set', 'interface', `${name}p${i}`,
      'type=internal', `ofport_request=${i}`]);
  }
  let destroyed = false;
  const bridge: Bridge = {
    name,
    setController: async (port) => {
      await ovs('ovs-vsctl', ['set-controller', name, `tcp:127.0.0.1:${port}`]);
    },
    delController: async () => {
      await ovs('ovs-vsctl', ['del-controller', name]);
    },
    isConnected: async () => {
      const uuid = (await ovs('ovs-vsctl', ['get', 'bridge', name, 'controller'])).replace(/[[\]\s]/g, '');
      if (uuid === '') return false;
      return (await ovs('ovs-vsctl', ['get', 'controller', uuid, 'is_connected'])).trim() === 'true';
    },
    waitConnected: async (ctl, timeoutMs) => {
      const dpid = parseDpid(dpidHex);
      await pollUntil(`bridge ${name} (dpid ${dpidHex}) connected`, () => ctl.switches.get(dpid)?.alive, { timeoutMs, everyMs: 20 });
      return dpid;
    },
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await ovs('ovs-vsctl', ['--if-exists', 'del-br', name]);
    },
  };
  if (opts.controllerPort !== undefined) await bridge.setController(opts.controllerPort);
  return bridge;
}
