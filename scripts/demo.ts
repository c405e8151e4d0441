/**
 * `npm run demo` — the main job, as far as it goes today (the OpenFlow core): start the controller,
 * connect a userspace-datapath Open vSwitch bridge to it while tcpdump records the session, show what
 * the handshake learnt and installed, push a flow, a meter and a select group through the controller's
 * API and read them back, then decode the recorded session message by message. Stops everything it
 * started (controller, tcpdump by pid, the bridge by name) even when a step fails.
 *
 * The Mininet leaf-spine fabric and real traffic join the demo with the fabric issue.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startController, type Controller } from '../controller/controller.js';
import { dpidHex } from '../controller/log.js';
import { OFPFC, OFPGC, OFPGT, OFPMC, OFPMF } from '../controller/codec/index.js';
import { readPcapBuffer, analyzePcap } from '../controller/capture/pcap.js';
import { decodeOpenFlowCapture } from '../controller/capture/openflow-stream.js';

const run = promisify(execFile);
const BRIDGE = 'rvtdemo';
const say = (s = ''): void => console.log(s);
const step = (s: string): void => say(`\n== ${s}`);

async function sh(cmd: string, args: string[]): Promise<string> {
  return (await run(cmd, args)).stdout;
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

/** Starts tcpdump on loopback and resolves once it says it is listening (it prints that on stderr). */
function startTcpdump(file: string, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-w', file, 'tcp', 'port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => reject(new Error('tcpdump did not start within 5 s')), 5000);
    p.once('error', reject);
    p.stderr!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening on')) { clearTimeout(timer); resolve(p); }
    });
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo drives Open vSwitch: run it as root');
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-demo-'));
  const pcap = join(dir, 'session.pcap');
  let ctl: Controller | undefined;
  let tcpdump: ChildProcess | undefined;
  try {
    step('1. controller');
    ctl = await startController({ port: 0, host: '127.0.0.1', logLevel: 'warn' });
    say(`rivulet controller listening on 127.0.0.1:${ctl.port} (OpenFlow 1.3 only)`);
    const c = ctl;
    c.on('switchUp', (e) => say(`event switchUp   dpid=${dpidHex(e.dpid)} ports=${e.ports.map((p) => `${p.portNo}:${p.name}`).join(' ')}`));
    c.on('switchDown', (e) => say(`event switchDown dpid=${dpidHex(e.dpid)} (${e.reason})`));

    step('2. recording the OpenFlow session with tcpdump');
    tcpdump = await startTcpdump(pcap, ctl.port);
    say(`tcpdump (pid ${tcpdump.pid}) writing ${pcap}`);

    step(`3. Open vSwitch bridge ${BRIDGE} (datapath_type=netdev, OpenFlow13, fail_mode=secure) → controller`);
    await sh('ovs-vsctl', ['--if-exists', 'del-br', BRIDGE]);
    await sh('ovs-vsctl', ['add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev', 'protocols=OpenFlow13',
      'fail_mode=secure', 'other-config:datapath-id=00000000000000d1']);
    for (const i of [1, 2, 3]) {
      await sh('ovs-vsctl', ['add-port', BRIDGE, `${BRIDGE}p${i}`, '--', 'set', 'interface', `${BRIDGE}p${i}`, 'type=internal', `ofport_request=${i}`]);
    }
    await sh('ovs-vsctl', ['set-controller', BRIDGE, `tcp:127.0.0.1:${ctl.port}`]);
    const ms = await waitFor(() => c.switches.size > 0, 5000, 'the bridge to connect');
    const sw = [...c.switches.values()][0]!;
    say(`connected in ${ms} ms: dpid ${sw.dpidHex}, ${sw.features.nTables} tables, capabilities 0x${sw.features.capabilities.toString(16)}`);
    const uuid = (await sh('ovs-vsctl', ['get', 'bridge', BRIDGE, 'controller'])).replace(/[[\]\s]/g, '');
    say(`ovs-vsctl get controller ${uuid.slice(0, 8)}… is_connected: ${(await sh('ovs-vsctl', ['get', 'controller', uuid, 'is_connected'])).trim()}`);

    step('4. what the switch reports (multipart requests through the controller)');
    const desc = await sw.multipart({ mpType: 'OFPMP_DESC' });
    say(`OFPMP_DESC: ${desc.mfrDesc} / ${desc.hwDesc} / ${desc.swDesc}`);
    const mf = await sw.multipart({ mpType: 'OFPMP_METER_FEATURES' });
    say(`OFPMP_METER_FEATURES: max ${mf.maxMeter} meters, ${mf.maxBands} bands, band types 0x${mf.bandTypes.toString(16)}`);

    step('5. a meter, a select group and a flow installed through the controller, then read back');
    await sw.transact([
      { type: 'OFPT_METER_MOD', command: OFPMC.ADD, flags: OFPMF.KBPS | OFPMF.BURST | OFPMF.STATS, meterId: 1,
        bands: [{ type: 'OFPMBT_DROP', rate: 20_000, burstSize: 2_000 }] },
      { type: 'OFPT_GROUP_MOD', command: OFPGC.ADD, groupType: OFPGT.SELECT, groupId: 1, buckets: [
        { weight: 1, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: [{ type: 'OFPAT_OUTPUT', port: 2, maxLen: 0 }] },
        { weight: 1, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: [{ type: 'OFPAT_OUTPUT', port: 3, maxLen: 0 }] }] },
      { type: 'OFPT_FLOW_MOD', cookie: 0x42n, cookieMask: 0n, tableId: 0, command: OFPFC.ADD, idleTimeout: 0, hardTimeout: 0,
        priority: 100, bufferId: 0xffffffff, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 0,
        match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 },
          { field: 'ipv4_dst', value: '10.0.2.0', mask: '255.255.255.0' }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 5201 }],
        instructions: [{ type: 'OFPIT_METER', meterId: 1 }, { type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_GROUP', groupId: 1 }] }] },
    ]);
    say('ovs-ofctl -O OpenFlow13 dump-flows:');
    say((await sh('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', BRIDGE])).trim().split('\n').map((l) => `  ${l.trim()}`).join('\n'));
    say('ovs-ofctl -O OpenFlow13 dump-meters:');
    say((await sh('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-meters', BRIDGE])).trim().split('\n').map((l) => `  ${l.trim()}`).join('\n'));
    const flows = await sw.multipart({ mpType: 'OFPMP_FLOW', tableId: 0xff, outPort: 0xffffffff, outGroup: 0xffffffff,
      cookie: 0n, cookieMask: 0n, match: [] });
    say(`OFPMP_FLOW through the controller: ${flows.flows.length} entries: ` +
      flows.flows.map((f) => `priority=${f.priority} match=[${f.match.map((m) => ('value' in m ? `${m.field}=${String(m.value)}${m.mask !== undefined ? '/' + String(m.mask) : ''}` : 'other')).join(',')}]`).join('; '));

    step('6. the recorded session, decoded by Rivulet');
    await new Promise((r) => setTimeout(r, 300)); // let the last replies reach the capture
    tcpdump.kill('SIGINT');
    await new Promise((r) => tcpdump!.once('exit', r));
    tcpdump = undefined;
    const file = await readPcapBuffer(readFileSync(pcap));
    if (!file.ok) throw file.error;
    const records = decodeOpenFlowCapture(analyzePcap(file.value), { ports: [ctl.port] });
    for (const r of records) {
      say(`  frame ${String(r.frame).padStart(3)}  ${r.direction.padEnd(17)}  ${r.type.padEnd(26)} xid=${String(r.xid).padEnd(10)} ${r.length} B` +
        ('message' in r && r.message?.type === 'OFPT_MULTIPART_REQUEST' ? `  ${r.message.body.mpType}` : '') +
        ('message' in r && r.message?.type === 'OFPT_MULTIPART_REPLY' ? `  ${r.message.body.mpType}` : ''));
    }
    say(`${records.length} OpenFlow messages, ${records.filter((r) => r.error).length} undecodable`);
  } finally {
    step('7. stopping everything the demo started');
    if (tcpdump) tcpdump.kill('SIGINT');
    await sh('ovs-vsctl', ['--if-exists', 'del-br', BRIDGE]).catch(() => '');
    await ctl?.close();
    if (!process.env.RIVULET_DEMO_KEEP) rmSync(dir, { recursive: true, force: true }); else say(`kept ${dir}`);
    say(`bridge ${BRIDGE} deleted, tcpdump stopped, controller closed`);
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
