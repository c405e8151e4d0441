/**
 * `rivulet trace` on a pcap recorded from Mininet traffic reports the flow sizes
 * the test sent, within one MSS. Root only (skipped otherwise).
 *
 * A 1×2×1 leaf-spine fabric (userspace OVS, 50 Mbit/s links) driven by Rivulet in-process, as in
 * fabric.test.ts. The fabric script has no capture or generic command, so:
 * - tcpdump records on h1's switch-side veth (`<leaf>-eth<port>`, from the topology line) in the root
 *   namespace, `--immediate-mode`, started and stopped by its pid;
 * - the flows come from a tiny TCP sender and receiver (node, below) run inside h1's and h2's network
 *   namespaces with `nsenter -t <pid> -n`, where <pid> is the Mininet host shell whose interface is the
 *   peer of that host's switch-side veth (so another fabric's h1 is never picked). The sender writes
 *   exactly N bytes and half-closes; the receiver counts what it read and reports it.
 * (iperf3 -n is not used: its server resets the data connection as soon as the client has *written* N bytes,
 * so the bytes on the wire fall short of N by whatever was still in flight.)
 * Then `node bin/rivulet.js trace FILE --json` runs on the capture and each flow's size is compared with N.
 */
import { expect } from 'chai';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { TraceReport } from '../../cli/commands/trace.js';
import { mininetUnavailable, MininetFabric, repoRoot } from '../../testing/mininet.js';
import { waitUntil } from '../../testing/until.js';
import { startTestController, type TestController } from '../../testing/rivulet.js';
import { requirePrerequisite } from '../helpers/prereq.js';

const run = promisify(execFile);
const measure = (text: string): void => console.log(`      [measure] trace: ${text}`);

function unavailable(): string | undefined {
  const why = mininetUnavailable();
  if (why) return why;
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'tcpdump is not installed';
  }
  return undefined;
}

/** The largest TCP payload per segment on a 1500-byte MTU (1460; 1448 with timestamps). */
const MSS = 1460;
const SIZES = [100_000, 1_000_000, 3_000_000];
/** every child this file started (tcpdump, receivers), killed by pid in after() if still running */
const children = new Set<ChildProcess>();

describe('@slow e2e: rivulet trace on traffic recorded in Mininet', function () {
  this.timeout(120_000);
  let ctl: TestController | undefined;
  let fabric: MininetFabric | undefined;
  let dir = '';

  before(async function () {
    requirePrerequisite(this, unavailable());
    dir = mkdtempSync(join(tmpdir(), 'rivulet-trace-e2e-'));
    ctl = await startTestController();
    fabric = await MininetFabric.start({ spines: 1, leaves: 2, hostsPerLeaf: 1, bwMbps: 50, ofPort: ctl.ofPort });
  });

  after(async function () {
    this.timeout(120_000);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await fabric?.stop();
    await ctl?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('5. flow sizes reported by `rivulet trace` match what the test sent, within one MSS', async function () {
    const t0 = Date.now();
    const f = fabric!;
    const [h1, h2] = [f.host('h1'), f.host('h2')];
    await waitUntil(async () => (await f.ping('h1', 'h2', { count: 1, timeoutS: 1 })).received > 0, 30_000, 'h1 to reach h2', 200);
    const intf = `${h1.attachment.name}-eth${h1.attachment.port}`;
    const pcap = join(dir, 'h1.pcap');
    const tcpdump = await startTcpdump(intf, pcap, `tcp and host ${h1.ip} and host ${h2.ip}`);
    const [ns1, ns2] = [await hostPid(f, 'h1'), await hostPid(f, 'h2')];
    const port = 45001;
    const sink = await startSink(ns2, h2.ip, port, SIZES.length);
    const sent: { cport: number; port: number; bytes: number; received: number }[] = [];
    for (const [i, bytes] of SIZES.entries()) {
      const cport = 42001 + i;
      await sendBytes(ns1, h2.ip, port, cport, bytes);
      sent.push({ cport, port, bytes, received: (await sink.next()).bytes });
    }
    await stopByPid(sink.child);
    await new Promise((r) => setTimeout(r, 300));
    await stopByPid(tcpdump);
    const { stdout } = await run(process.execPath, [join(repoRoot(), 'bin', 'rivulet.js'), 'trace', pcap, '--json'], { maxBuffer: 64 << 20 });
    const report = JSON.parse(stdout) as TraceReport;
    const lines: string[] = [];
    const diffs: number[] = [];
    for (const s of sent) {
      const flow = report.flows.find((x) => x.proto === 6 && x.src === h1.ip && x.srcPort === s.cport && x.dst === h2.ip && x.dstPort === s.port);
      expect(flow, `the flow ${h1.ip}:${s.cport} > ${h2.ip}:${s.port} in the trace`).to.not.equal(undefined);
      const diff = flow!.bytes - s.bytes;
      lines.push(`sent ${s.bytes} B (receiver read ${s.received}) → trace ${flow!.bytes} B (${diff >= 0 ? '+' : ''}${diff}; ` +
        `${flow!.packets} packets, ${flow!.flowlets.length} flowlets, ${(flow!.durationUs / 1e3).toFixed(1)} ms)`);
      diffs.push(Math.abs(diff));
    }
    measure(`${report.records} packets on ${intf}; ${lines.join('; ')}; ` +
      `thresholds for the capture's ${report.distribution?.count} flows: ${report.thresholds?.thresholds.join(', ')}; test took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (diffs.some((d) => d > MSS)) {
      copyFileSync(pcap, join(tmpdir(), 'rivulet-trace-failed.pcap'));
      console.log(`      capture kept as ${join(tmpdir(), 'rivulet-trace-failed.pcap')}`);
    }
    diffs.forEach((d, i) => expect(d, `flow of ${SIZES[i]} B`).to.be.at.most(MSS));
    expect(report.distribution!.count).to.be.at.least(SIZES.length);
    sent.forEach((x) => expect(x.received, 'the receiver read every byte').to.equal(x.bytes));
  });
});

/** Starts tcpdump (immediate mode, packet-buffered output) and resolves once it is listening. */
async function startTcpdump(intf: string, file: string, filter: string): Promise<ChildProcess> {
  const child = spawn('tcpdump', ['-i', intf, '-w', file, '-U', '--immediate-mode', '-n', filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump on ${intf} did not start: ${lines.join(' | ')}`)), 10_000);
    createInterface({ input: child.stderr! }).on('line', (l) => {
      lines.push(l);
      if (/listening on/.test(l)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump on ${intf} exited (${code}): ${lines.join(' | ')}`));
    });
  });
  return child;
}

/** SIGINT by pid (tcpdump flushes and exits), SIGKILL after 5 s. */
async function stopByPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The pid of the Mininet shell of `host` in this fabric: a process whose command line names
 * `mininet:<host>` and whose namespace holds the host interface peered with the host's switch-side veth.
 */
async function hostPid(f: MininetFabric, host: string): Promise<number> {
  const h = f.host(host);
  const swIntf = `${h.attachment.name}-eth${h.attachment.port}`;
  const ifindex = Number(readFileSync(`/sys/class/net/${swIntf}/ifindex`, 'utf8').trim());
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue; // gone
    }
    if (!cmd.includes(`mininet:${host}`) || !cmd.startsWith('bash')) continue;
    const links = await run('nsenter', ['-t', entry, '-n', 'ip', '-o', 'link', 'show']).then((r) => r.stdout, () => '');
    if (new RegExp(`: ${host}-eth0@if${ifindex}:`).test(links)) return Number(entry);
  }
  throw new Error(`no Mininet shell of ${host} peered with ${swIntf} (ifindex ${ifindex})`);
}

/** Node code of the receiver: accepts `count` connections, prints {port, bytes} per connection at its end. */
const SINK_JS = `
const net = require('node:net');
const [host, port, count] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
let done = 0;
const srv = net.createServer((s) => {
  let bytes = 0;
  const remotePort = s.remotePort;
  s.on('data', (d) => { bytes += d.length; });
  s.on('end', () => {
    process.stdout.write(JSON.stringify({ port: remotePort, bytes }) + '\\n');
    s.end();
    if (++done === count) srv.close();
  });
});
srv.listen(port, host, () => process.stdout.write('listening\\n'));
`;

/** Node code of the sender: from local port `cport`, writes exactly `bytes` bytes, half-closes, waits for close. */
const SEND_JS = `
const net = require('node:net');
const [host, port, cport, bytes] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const s = net.connect({ host, port, localPort: cport }, () => { s.end(Buffer.alloc(bytes, 0x61)); });
s.on('data', () => undefined);
s.on('close', (hadError) => process.exit(hadError ? 1 : 0));
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

/** Starts the receiver in the namespace of `pid`; `next()` resolves with each finished connection. */
async function startSink(pid: number, ip: string, port: number, count: number): Promise<{ child: ChildProcess; next(): Promise<{ port: number; bytes: number }> }> {
  const child = spawn('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', SINK_JS, ip, String(port), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const results: { port: number; bytes: number }[] = [];
  const waiters: ((r: { port: number; bytes: number }) => void)[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start: ${stderr}`)), 10_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'listening') {
        clearTimeout(timer);
        resolve();
        return;
      }
      const r = JSON.parse(line) as { port: number; bytes: number };
      const w = waiters.shift();
      if (w) w(r);
      else results.push(r);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`receiver exited (${code}): ${stderr}`));
    });
  });
  return {
    child,
    next: () => {
      const r = results.shift();
      if (r) return Promise.resolve(r);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver reported nothing: ${stderr}`)), 20_000);
        waiters.push((x) => {
          clearTimeout(timer);
          resolve(x);
        });
      });
    },
  };
}

/** Runs the sender in the namespace of `pid` and waits for it (killed by pid after 20 s). */
async function sendBytes(pid: number, ip: string, port: number, cport: number, bytes: number): Promise<void> {
  await run('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', SEND_JS, ip, String(port), String(cport), String(bytes)], { timeout: 20_000, killSignal: 'SIGKILL' });
}
