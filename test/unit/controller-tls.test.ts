/**
 * OpenFlow over TLS on loopback (no OVS): a CA made with openssl signs the controller's and two switches'
 * certificates; a switch with a CA-signed certificate connects, one without a certificate (or with a
 * self-signed one) is refused in the handshake, and the per-certificate dpid allow-list refuses a
 * certificate that claims a datapath it is not listed for.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startController, type Controller } from '../../openflow/listener.js';
import { quietLogger } from '../../lib/log.js';
import { FakeSwitch } from '../../testing/fake-switch.js';
import { until } from '../../testing/until.js';

/** openssl: a CA, and `names` certificates signed by it (CN = name). */
function pki(dir: string, names: readonly string[]): Record<string, { key: Buffer; cert: Buffer }> & { ca: { key: Buffer; cert: Buffer } } {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=rivulet-test-ca');
  const out: Record<string, { key: Buffer; cert: Buffer }> = {};
  for (const n of names) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=${n}`);
    ssl('x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${n}.pem`, '-days', '1');
    out[n] = { key: readFileSync(join(dir, `${n}.key`)), cert: readFileSync(join(dir, `${n}.pem`)) };
  }
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '1', '-subj', '/CN=sw1');
  out.rogue = { key: readFileSync(join(dir, 'rogue.key')), cert: readFileSync(join(dir, 'rogue.pem')) };
  return { ...out, ca: { key: readFileSync(join(dir, 'ca.key')), cert: readFileSync(join(dir, 'ca.pem')) } } as never;
}

describe('controller over TLS (loopback, openssl certificates)', function () {
  this.timeout(30_000);
  let dir: string;
  let keys: ReturnType<typeof pki>;
  let ctl: Controller;
  const switches: FakeSwitch[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-tls-'));
    keys = pki(dir, ['controller', 'sw1', 'sw2']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    ctl = await startController({
      port: 0, host: '127.0.0.1', logger: quietLogger(),
      tls: { key: keys.controller!.key, cert: keys.controller!.cert, ca: keys.ca.cert, dpidsBySubject: { sw1: [0x11n], sw2: [0x22n, 0x23n] } },
    });
  });
  afterEach(async () => {
    for (const s of switches.splice(0)) s.destroy();
    await ctl.close();
  });

  const tlsSwitch = async (name: 'sw1' | 'sw2' | 'rogue', dpid: bigint): Promise<FakeSwitch> => {
    const s = await FakeSwitch.connectTls(ctl.port, dpid, { ...keys[name]!, ca: keys.ca.cert });
    switches.push(s);
    return s;
  };

  it('a switch with a CA-signed certificate listed for its dpid comes up over TLS', async () => {
    await tlsSwitch('sw1', 0x11n);
    await tlsSwitch('sw2', 0x23n);
    await until('both up', () => ctl.switches.size === 2);
    await ctl.switches.get(0x11n)!.barrier({ timeoutMs: 3000 });
  });

  it('the allow-list refuses a certificate claiming another datapath (OFPBRC_EPERM)', async () => {
    const s = await tlsSwitch('sw1', 0x22n);
    await until('refused', () => s.closed);
    expect(s.received.find((m) => m.type === 'OFPT_ERROR')).to.include({ errType: 1, code: 5 });
    expect(ctl.switches.size).to.equal(0);
  });

  it('a self-signed certificate, or none, does not get past the TLS handshake; plain TCP neither', async () => {
    let rogueFailed = false;
    await tlsSwitch('rogue', 0x11n).then((s) => until('rogue closed', () => s.closed).then(() => (rogueFailed = true)), () => (rogueFailed = true));
    expect(rogueFailed).to.equal(true);
    const noCert = await new Promise<boolean>((resolve) => {
      const sock = tls.connect({ port: ctl.port, host: '127.0.0.1', ca: keys.ca.cert, checkServerIdentity: () => undefined });
      sock.on('error', () => resolve(true));
      sock.on('close', () => resolve(true));
      sock.on('data', () => resolve(false));
    });
    expect(noCert).to.equal(true);
    const plain = await FakeSwitch.connect(ctl.port, 0x11n);
    switches.push(plain);
    await until('plain TCP dropped', () => plain.closed);
    expect(ctl.switches.size).to.equal(0);
  });
});

describe('REST over TLS (api.tls, loopback)', function () {
  this.timeout(30_000);
  it('serves /api/v1/health over HTTPS with the configured certificate', async () => {
    const { createRestServer } = await import('../../controller/rest/index.js');
    const { defaultConfig } = await import('../../controller/config/index.js');
    const https = await import('node:https');
    const { writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'rivulet-rest-tls-'));
    try {
      const keys = pki(dir, ['api']);
      writeFileSync(join(dir, 'k.pem'), keys.api!.key);
      writeFileSync(join(dir, 'c.pem'), keys.api!.cert);
      const topo = { switches: () => [], switch: () => undefined, links: () => [], hosts: () => [], hostByMac: () => undefined, hostByIpv4: () => undefined, isFabricPort: () => false, paths: () => [], floodPorts: () => [], ready: () => true, subscribe: () => () => undefined };
      const srv = createRestServer({
        controller: { switches: new Map() }, topology: topo, routes: () => [], log: quietLogger(),
        config: defaultConfig({ api: { tls: { keyFile: join(dir, 'k.pem'), certFile: join(dir, 'c.pem') } } }),
      });
      const addr = await srv.listen(0, '127.0.0.1');
      expect(addr.url).to.match(/^https:\/\//);
      const body = await new Promise<string>((resolve, reject) => {
        https.get(`${addr.url}/api/v1/health`, { ca: keys.ca.cert, checkServerIdentity: () => undefined }, (res) => {
          let t = '';
          res.on('data', (d) => (t += String(d)));
          res.on('end', () => resolve(t));
        }).on('error', reject);
      });
      expect(JSON.parse(body)).to.include({ status: 'ok' });
      const plain = await fetch(`http://127.0.0.1:${addr.port}/api/v1/health`).then(() => 'answered', () => 'refused');
      expect(plain).to.equal('refused');
      await srv.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
