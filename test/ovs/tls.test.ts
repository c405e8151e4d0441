/**
 * Open vSwitch connects to the controller over TLS (`ovs-vsctl set-ssl`, an `ssl:` controller target):
 * certificates from one test CA (openssl), the controller verifying the switch's certificate and its
 * per-certificate dpid allow-list. A bridge whose dpid the certificate may not claim stays out.
 * OVS's SSL settings are global: the test sets them and removes them (`del-ssl`) at the end.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../openflow/listener.js';
import { quietLogger } from '../../lib/log.js';
import { canRunOvs, createBridge, ovs, type Bridge } from '../../testing/ovs.js';
import { dpidHex } from '../../lib/dpid.js';

describe('@slow OpenFlow over TLS with a live OVS bridge', function () {
  this.timeout(60_000);
  let dir: string;
  let ctl: Controller | undefined;
  const bridges: Bridge[] = [];
  let sslSet = false;

  before(async function () {
    if (!canRunOvs()) {
      if (process.env.CI === 'true') throw new Error('OVS is required under CI=true');
      return this.skip();
    }
    if ((await ovs('ovs-vsctl', ['get-ssl'])).trim() !== '') return this.skip(); // someone else's SSL settings: leave them
    dir = mkdtempSync(join(tmpdir(), 'rivulet-ovs-tls-'));
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=rivulet-test-ca');
    for (const n of ['ctl', 'switch']) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=rivulet-${n}`);
      ssl('x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${n}.pem`, '-days', '1');
    }
    await ovs('ovs-vsctl', ['set-ssl', join(dir, 'switch.key'), join(dir, 'switch.pem'), join(dir, 'ca.pem')]);
    sslSet = true;
  });

  after(async () => {
    for (const b of bridges.splice(0)) await b.destroy();
    await ctl?.close();
    if (sslSet) await ovs('ovs-vsctl', ['del-ssl']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a bridge with an ssl: target comes up; one whose dpid its certificate may not claim is refused', async () => {
    const allowed = 0x00005256_54000001n;
    ctl = await startController({
      port: 0, host: '127.0.0.1', logger: quietLogger(),
      tls: {
        key: readFileSync(join(dir, 'ctl.key')), cert: readFileSync(join(dir, 'ctl.pem')), ca: readFileSync(join(dir, 'ca.pem')),
        dpidsBySubject: { 'rivulet-switch': [allowed] },
      },
    });
    const good = await createBridge({ dpidHex: dpidHex(allowed), ports: 1 });
    bridges.push(good);
    const bad = await createBridge({ dpidHex: '0000525654000099', ports: 1 });
    bridges.push(bad);
    const t0 = Date.now();
    await ovs('ovs-vsctl', ['set-controller', good.name, `ssl:127.0.0.1:${ctl.port}`]);
    await ovs('ovs-vsctl', ['set-controller', bad.name, `ssl:127.0.0.1:${ctl.port}`]);
    await good.waitConnected(ctl, 20_000);
    const upMs = Date.now() - t0;
    await ctl.switches.get(allowed)!.barrier({ timeoutMs: 5000 });
    const flows = await ovs('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', good.name]);
    expect(flows).to.match(/priority=0 actions=CONTROLLER:65535/);
    await new Promise((r) => setTimeout(r, 3000));
    expect(ctl.switches.has(0x0000525654000099n), 'the certificate may not claim this dpid').to.equal(false);
    expect([...ctl.switches.keys()]).to.deep.equal([allowed]);
    console.log(`      [measure] OVS over ssl: switch up ${upMs} ms after set-controller; the bridge outside the allow-list refused (${ctl.stats().refusedDuplicates} duplicate refusals)`);
  });
});
