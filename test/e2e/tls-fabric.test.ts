/**
 * OpenFlow over TLS in Mininet: a leaf-spine fabric of Open vSwitch bridges (userspace datapath) whose
 * controller target is `ssl:`, with certificates made by Open vSwitch's own `ovs-pki` (a switch CA and a
 * controller CA in a temp dir), `ovs-vsctl set-ssl` for the switches' side, and the `rivulet controller`
 * CLI with `openflow.tls` and a dpid allow-list for the switches' certificate. Root only (skipped
 * otherwise; fails under CI=true).
 *
 * Asserts: every switch comes up over TLS and hosts ping each other; a second TLS connection with the
 * switches' own certificate claiming a live switch's dpid is refused (OFPBRC_EPERM, closed), as is one
 * claiming a dpid outside the allow-list and a plain TCP connection; the live switches stay connected and
 * pings during and after the attempts lose nothing.
 *
 * `set-ssl` is global to this OVS: the test records `get-ssl` first and puts it back (or `del-ssl`) at the
 * end; it removes the temp dir and its fabric's bridges (fabric.py, by name).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSwitch } from '../../testing/fake-switch.js';
import { freePort, getJson, MininetFabric, mininetUnavailable, startControllerCli, type CliController } from '../../testing/mininet.js';
import { waitUntil } from '../../testing/until.js';

const UNAVAILABLE = mininetUnavailable();
const measure = (text: string): void => console.log(`      [measure] tls-fabric: ${text}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `ovs-vsctl get-ssl` as the set-ssl arguments that restore it (undefined: none was set). */
function currentSsl(): { key: string; cert: string; ca: string; bootstrap: boolean } | undefined {
  const out = execFileSync('ovs-vsctl', ['get-ssl'], { encoding: 'utf8' });
  const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(out)?.[1]?.trim();
  const key = field('Private key'), cert = field('Certificate'), ca = field('CA Certificate');
  if (!key || !cert || !ca) return undefined;
  return { key, cert, ca, bootstrap: field('Bootstrap') === 'true' };
}

function hasOvsPki(): boolean {
  try {
    execFileSync('ovs-pki', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('OpenFlow over TLS with ovs-pki certificates, Mininet @slow', function () {
  this.timeout(300_000);
  let dir = '';
  let fabric: MininetFabric | undefined;
  let ctl: CliController | undefined;
  let saved: ReturnType<typeof currentSsl> | null = null; // null: not touched yet
  const fakes: FakeSwitch[] = [];

  before(function () {
    if (UNAVAILABLE) this.skip();
    if (!hasOvsPki()) {
      if (process.env['CI'] === 'true') throw new Error('ovs-pki (Debian openvswitch-common) is required under CI=true');
      this.skip();
    }
  });

  after(async () => {
    for (const f of fakes) f.destroy();
    await fabric?.stop();
    await ctl?.stop();
    if (saved !== null) {
      if (saved) execFileSync('ovs-vsctl', ['set-ssl', saved.key, saved.cert, saved.ca, ...(saved.bootstrap ? ['--bootstrap'] : [])]);
      else execFileSync('ovs-vsctl', ['del-ssl']);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the fabric comes up over ssl:, hosts ping, a second connection with a live dpid is refused and pings lose nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-tls-fabric-'));
    const pki = join(dir, 'pki');
    const run = (args: string[]): void => void execFileSync('ovs-pki', args, { cwd: dir, stdio: 'ignore' });
    const t0 = Date.now();
    run(['init', `--dir=${pki}`, '--force']);
    run(['req+sign', `--dir=${pki}`, 'sw', 'switch']);
    run(['req+sign', `--dir=${pki}`, 'ctl', 'controller']);
    const pkiMs = Date.now() - t0;
    const subject = execFileSync('openssl', ['x509', '-in', join(dir, 'sw-cert.pem'), '-noout', '-subject', '-nameopt', 'multiline'], { encoding: 'utf8' });
    const cn = /commonName\s*=\s*(.+)$/m.exec(subject)?.[1]?.trim();
    expect(cn, 'the switch certificate has a CN').to.be.a('string');

    saved = currentSsl();
    execFileSync('ovs-vsctl', ['set-ssl', join(dir, 'sw-privkey.pem'), join(dir, 'sw-cert.pem'), join(pki, 'controllerca', 'cacert.pem')]);

    const ofPort = await freePort();
    fabric = await MininetFabric.start({ spines: 2, leaves: 2, hostsPerLeaf: 2, controller: `ssl:127.0.0.1:${ofPort}` });
    const dpids = fabric.topology.switches.map((s) => s.dpid);
    const config = join(dir, 'controller.json');
    writeFileSync(config, JSON.stringify({
      qos: { enabled: false },
      openflow: {
        tls: {
          keyFile: join(dir, 'ctl-privkey.pem'), certFile: join(dir, 'ctl-cert.pem'), caFile: join(pki, 'switchca', 'cacert.pem'),
          dpidsByCertificate: { [cn!]: dpids },
        },
      },
    }));
    const t1 = Date.now();
    ctl = await startControllerCli({ config, ofPort, logLevel: 'warn' });
    const api = ctl.api;
    const connected = async (): Promise<string[]> => (await getJson<{ switches: { dpid: string }[] }>(api, '/switches')).switches.map((s) => s.dpid).sort();
    await waitUntil(async () => (await connected()).length === dpids.length, 60_000, `all ${dpids.length} switches connected over TLS`);
    const upMs = Date.now() - t1;
    await waitUntil(async () => (await getJson<{ ready: boolean }>(api, '/health')).ready, 30_000, 'discovery settled');
    const first = await fabric.pingall({ timeoutS: 2 });

    // a long ping across the fabric while the attempts are made
    const hosts = fabric.topology.hosts.map((h) => h.name);
    const during = fabric.ping(hosts[0]!, hosts[hosts.length - 1]!, { count: 40, intervalS: 0.1, timeoutS: 1 });
    await sleep(500);
    const key = readFileSync(join(dir, 'sw-privkey.pem')), cert = readFileSync(join(dir, 'sw-cert.pem'));
    const ca = readFileSync(join(pki, 'controllerca', 'cacert.pem'));
    const live = BigInt(`0x${dpids[0]!}`);
    const dup = await FakeSwitch.connectTls(ofPort, live, { key, cert, ca });
    fakes.push(dup);
    const outside = await FakeSwitch.connectTls(ofPort, 0x5256_0000_dead_beefn, { key, cert, ca });
    fakes.push(outside);
    let plainClosed = false;
    const plain = net.connect(ofPort, '127.0.0.1');
    plain.on('error', () => undefined).on('close', () => (plainClosed = true));
    plain.write(Buffer.from('0400000800000001', 'hex')); // HELLO in clear text
    await waitUntil(() => Promise.resolve(dup.closed && outside.closed && plainClosed), 10_000, 'the three intruders closed');
    plain.destroy();
    const refusal = (f: FakeSwitch): string | undefined => {
      const e = f.received.find((m) => m.type === 'OFPT_ERROR');
      return e && e.type === 'OFPT_ERROR' ? `${e.errType}/${e.code}` : undefined;
    };
    const pingDuring = await during;
    const stillUp = await connected();
    const last = await fabric.pingall({ timeoutS: 2 });
    const health = await getJson<{ counts?: Record<string, number> }>(api, '/health');

    measure(`ovs-pki init + 2 certificates ${pkiMs} ms; controller start → ${dpids.length} switches up over TLS ${upMs} ms; ` +
      `pingall ${first.received}/${first.sent}; duplicate dpid refused with ${refusal(dup) ?? 'no error'}, dpid outside the allow-list refused with ` +
      `${refusal(outside) ?? 'no error'}, plain TCP closed; ping during the attempts ${pingDuring.received}/${pingDuring.sent}; after: pingall ${last.received}/${last.sent}, ` +
      `${stillUp.length} switches connected ${JSON.stringify(health.counts ?? {})}`);
    expect(first.lossPct, 'pingall over the TLS-connected fabric').to.equal(0);
    expect(refusal(dup), 'the duplicate dpid: OFPET_BAD_REQUEST / OFPBRC_EPERM').to.equal('1/5');
    expect(dup.received.some((m) => m.type === 'OFPT_SET_CONFIG' || m.type === 'OFPT_FLOW_MOD'), 'the duplicate was never configured').to.equal(false);
    expect(refusal(outside), 'a dpid the certificate may not claim').to.equal('1/5');
    expect(stillUp, 'the live switches stay connected').to.deep.equal([...dpids].sort());
    expect(pingDuring.received, 'pings during the attempts').to.equal(pingDuring.sent);
    expect(last.lossPct, 'pingall after the attempts').to.equal(0);
  });
});
