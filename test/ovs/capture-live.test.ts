/**
 * Acceptance 3 of the OpenFlow-core issue: tcpdump records a live session between `rivulet` (started
 * through its programmatic API) and a userspace Open vSwitch bridge — handshake, flow-mods, a meter, a
 * group, echoes, multipart requests — then tshark finds zero malformed frames in the capture and
 * `rivulet decode` of the same file agrees with tshark on every message's type and xid.
 *
 * Needs root, a running ovs-vswitchd, tcpdump and tshark; skipped otherwise. tcpdump is started and
 * stopped by its pid; the bridge `rvtcap<random>` is deleted by name in after(), pass or fail.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MESSAGE_TYPE_CODES, OFPFC, OFPG, OFPGC, OFPGT, OFPMC, OFPMF, OFPP, OFPTT_ALL, OFP_NO_BUFFER, type MessageOf } from '../../openflow/codec/index.js';
import type { OutMessage } from '../../openflow/app-api.js';
import { startController, type Controller } from '../../openflow/listener.js';
import { quietLogger } from '../../lib/log.js';
import { loadCapture } from '../../lib/packet/pcap.js';
import { decodeOpenFlowCapture } from '../../openflow/capture-stream.js';
import { ovs, ovsUnavailable } from '../../testing/ovs.js';
import { requirePrerequisite } from '../helpers/prereq.js';
import { tsharkAvailable, tsharkExpertErrorFrames, tsharkMalformedFrames, tsharkMessages } from '../helpers/tshark.js';
import { TsharkComparer } from '../helpers/tshark-compare.js';

const BIN = fileURLToPath(new URL('../../../bin/rivulet.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** tcpdump's stderr (its exit summary says how many packets it captured and dropped) */
let tcpdumpLog = '';
const out = (port: number) => ({ type: 'OFPAT_OUTPUT', port, maxLen: 0 }) as const;

function flowMod(cookie: bigint, priority: number, match: MessageOf<'OFPT_FLOW_MOD'>['match'], port: number): OutMessage {
  return {
    type: 'OFPT_FLOW_MOD', cookie, cookieMask: 0n, tableId: 0, command: OFPFC.ADD, idleTimeout: 0, hardTimeout: 0, priority,
    bufferId: OFP_NO_BUFFER, outPort: OFPP.ANY, outGroup: OFPG.ANY, flags: 0, match,
    instructions: [{ type: 'OFPIT_APPLY_ACTIONS', actions: [out(port)] }],
  };
}

/** Starts tcpdump on loopback for `port`; resolves once it is listening. */
async function startTcpdump(file: string, port: number): Promise<ChildProcess> {
  const proc = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-B', '32768', '-U', '-s', '0', '-Z', 'root', '-w', file, 'tcp', 'port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    tcpdumpLog += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}): ${stderr}`));
    });
  });
  return proc;
}

/**
 * Waits until `path` has not grown for 500 ms (at most 10 s): tcpdump drops what it has not written yet
 * when it is stopped, so stop it only once the session's last packets are in the file.
 */
async function untilFileSettles(path: string): Promise<void> {
  let last = -1;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const size = existsSync(path) ? statSync(path).size : 0;
    if (size === last) return;
    last = size;
    await sleep(500);
  }
}

/** Stops a process we started, by its pid, and waits for it to exit. */
async function stopByPid(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  process.kill(proc.pid, 'SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
}

describe('capture of a live controller ↔ Open vSwitch session, against tshark @slow', function () {
  this.timeout(120_000);
  const bridge = `rvtcap${Math.random().toString(36).slice(2, 7)}`;
  const dpidHex = Buffer.from(bridge.slice(-8)).toString('hex').padStart(16, '0');
  const file = join(tmpdir(), `rivulet-capture-${process.pid}-${bridge}.pcap`);
  let ctl: Controller | undefined;
  let tcpdump: ChildProcess | undefined;
  let bridgeCreated = false;

  before(async function () {
    requirePrerequisite(this, ovsUnavailable());
    const missing = ['tcpdump', 'tshark'].filter((t) => spawnSync('which', [t]).status !== 0);
    requirePrerequisite(this, missing.length > 0 || !tsharkAvailable() ? `${missing.join(', ') || 'tshark'} not installed` : undefined);
    ctl = await startController({ port: 0, host: '127.0.0.1', logger: quietLogger() });
    tcpdump = await startTcpdump(file, ctl.port);
    bridgeCreated = true;
    await ovs('ovs-vsctl', ['add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev', 'protocols=OpenFlow13',
      'fail_mode=secure', `other-config:datapath-id=${dpidHex}`]);
    for (const i of [1, 2]) {
      await ovs('ovs-vsctl', ['add-port', bridge, `${bridge}p${i}`, '--', 'set', 'interface', `${bridge}p${i}`, 'type=internal', `ofport_request=${i}`]);
    }
    await ovs('ovs-vsctl', ['set-controller', bridge, `tcp:127.0.0.1:${ctl.port}`]);
    const dpid = BigInt(`0x${dpidHex}`);
    const deadline = Date.now() + 10_000;
    while (!ctl.switches.get(dpid)?.alive) {
      if (Date.now() > deadline) throw new Error(`bridge ${bridge} did not connect`);
      await sleep(20);
    }
    const sw = ctl.switches.get(dpid)!;
    await sw.transact([
      { type: 'OFPT_METER_MOD', command: OFPMC.ADD, flags: OFPMF.KBPS | OFPMF.BURST, meterId: 3, bands: [{ type: 'OFPMBT_DROP', rate: 20_000, burstSize: 2_000 }] },
      { type: 'OFPT_GROUP_MOD', command: OFPGC.ADD, groupType: OFPGT.SELECT, groupId: 4, buckets: [1, 2].map((p) => ({ weight: 50, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [out(p)] })) },
    ]);
    await sw.transact([
      flowMod(0x10n, 100, [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' }, { field: 'ip_dscp', value: 46 }], 1),
      flowMod(0x11n, 110, [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 80 }], 2),
      flowMod(0x12n, 120, [{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: 0x1000 | 7 }], 2),
    ]);
    for (const text of ['one', 'two', 'three']) await sw.request({ type: 'OFPT_ECHO_REQUEST', data: Buffer.from(text) });
    await sw.multipart({ mpType: 'OFPMP_DESC' });
    await sw.multipart({ mpType: 'OFPMP_FLOW', tableId: OFPTT_ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
    await sw.multipart({ mpType: 'OFPMP_PORT_STATS', portNo: OFPP.ANY });
    await sw.multipart({ mpType: 'OFPMP_METER_CONFIG', meterId: 0xffffffff });
    await sw.multipart({ mpType: 'OFPMP_GROUP_DESC' });
    await sw.multipart({ mpType: 'OFPMP_TABLE_FEATURES', tables: [] }); // a large reply, split over many segments
    await sw.barrier();
    await untilFileSettles(file);
    await stopByPid(tcpdump);
    console.log(`      tcpdump: ${tcpdumpLog.split('\n').filter((l) => /packets/.test(l)).join('; ')}`);
  });

  after(async () => {
    await stopByPid(tcpdump);
    if (bridgeCreated) await ovs('ovs-vsctl', ['--if-exists', 'del-br', bridge]).catch(() => undefined);
    await ctl?.close();
    if (process.env['RIVULET_KEEP_CAPTURE']) console.log(`      capture kept: ${file}`);
    else if (existsSync(file)) rmSync(file);
  });

  it('tshark finds zero malformed frames and no expert errors', () => {
    expect(tsharkMalformedFrames(file, ctl!.port)).to.deep.equal([]);
    expect(tsharkExpertErrorFrames(file, ctl!.port)).to.deep.equal([]);
  });

  it('`rivulet decode` agrees with tshark on every message\'s type and xid', () => {
    const run = spawnSync(process.execPath, [BIN, 'decode', file, '--port', String(ctl!.port)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    expect(run.status, run.stderr).to.equal(0);
    const ours = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { src: string; dst: string; type: string; xid: number; length: number; error?: unknown });
    expect(ours.filter((r) => r.error)).to.deep.equal([]);
    const theirs = tsharkMessages(file, ctl!.port);
    const key = (r: { src: string; dst: string }): string => `${r.src}>${r.dst}`;
    const dirs = [...new Set([...ours.map(key), ...theirs.map(key)])];
    let agreed = 0;
    for (const d of dirs) {
      const o = ours.filter((r) => key(r) === d).map((r) => [(MESSAGE_TYPE_CODES as Record<string, number>)[r.type], r.xid, r.length]);
      const t = theirs.filter((r) => key(r) === d).map((r) => [r.type, r.xid, r.length]);
      expect(o, d).to.deep.equal(t);
      agreed += o.length;
    }
    const types = new Set(ours.map((r) => r.type));
    console.log(`      live capture: ${agreed} OpenFlow messages in ${dirs.length} directions; rivulet decode and tshark agree on type, xid and length for all ${agreed}; types: ${[...types].join(' ')}`);
    expect(agreed).to.be.greaterThan(20);
    for (const t of ['OFPT_HELLO', 'OFPT_FEATURES_REPLY', 'OFPT_FLOW_MOD', 'OFPT_METER_MOD', 'OFPT_GROUP_MOD', 'OFPT_ECHO_REPLY', 'OFPT_MULTIPART_REPLY', 'OFPT_BARRIER_REPLY']) {
      expect(types, t).to.include(t);
    }
  });

  it('and agrees with tshark field by field on every message', async () => {
    const loaded = await loadCapture(file);
    if (!loaded.ok) throw loaded.error;
    const gaps = loaded.value.connections.flatMap((c) => [...c.toServer.gaps, ...c.toClient.gaps]);
    expect(gaps, `bytes missing from the capture (tcpdump: ${tcpdumpLog.trim()})`).to.deep.equal([]);
    const records = decodeOpenFlowCapture(loaded.value, { ports: [ctl!.port] });
    const theirs = tsharkMessages(file, ctl!.port);
    const comparer = new TsharkComparer();
    const problems: string[] = [];
    for (const d of new Set(records.map((r) => `${r.src}>${r.dst}`))) {
      const o = records.filter((r) => `${r.src}>${r.dst}` === d).sort((a, b) => a.streamOffset - b.streamOffset);
      const t = theirs.filter((r) => `${r.src}>${r.dst}` === d);
      expect(o.length, d).to.equal(t.length);
      o.forEach((r, i) => problems.push(...comparer.compare(r, t[i]!).map((x) => `frame ${r.frame} ${r.type}: ${x}`)));
    }
    const values = [...comparer.compared.values()].reduce((a, b) => a + b, 0);
    console.log(`      live capture: ${values} field values compared with tshark, ${problems.length} differences; not compared: ${[...comparer.notCompared.keys()].join(', ') || 'none'}`);
    expect(problems).to.deep.equal([]);
  });
});
