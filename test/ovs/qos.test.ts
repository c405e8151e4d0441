/**
 * The QoS app against a real Open vSwitch userspace bridge (root; skipped otherwise): every port gets
 * Rivulet's QoS (linux-htb) and Queue rows through OVSDB, the tc DSCP classifier on the userspace
 * datapath, the ECN probe's verdict; a second controller REUSES the rows (counted: no duplicates) and
 * writes nothing; cleanup deletes only Rivulet's rows of this bridge, then the bridge by name.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { ovsUnavailable, createBridge, type Bridge } from '../../testing/ovs.js';
import { requirePrerequisite } from '../helpers/prereq.js';
import { countQosRows, removeQosRows } from '../../testing/ovsdb-rows.js';
import { startTestController, type TestController } from '../../testing/rivulet.js';
import { until as untilHolds } from '../../testing/until.js';

const until = (what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> => untilHolds(what, check, timeoutMs);

describe('QoS app on an OVS userspace bridge @slow', function () {
  this.timeout(60_000);
  let bridge: Bridge | undefined;
  let ctl: TestController | undefined;
  const ports = (b: Bridge) => [`${b.name}p1`, `${b.name}p2`];

  before(function () {
    requirePrerequisite(this, ovsUnavailable());
  });

  after(async () => {
    await ctl?.close();
    if (bridge) {
      await removeQosRows(ports(bridge));
      await bridge.destroy();
    }
  });

  const start = async (): Promise<TestController> => {
    const c = await startTestController({ config: { topology: { defaultCapacityBps: 50e6 } } });
    await bridge!.setController(c.ofPort);
    await until('both ports planned', () => c.qos.ports().length === 2);
    await c.qos.settled();
    return c;
  };

  it('applies queues, classifier and the ECN verdict; a restart reuses the rows and writes nothing', async () => {
    bridge = await createBridge({ ports: 2 });
    ctl = await start();
    const first = ctl.qos.ports();
    for (const p of first) {
      expect(p.datapathType).to.equal('netdev');
      expect(p.queues.applied, p.queues.detail).to.equal(true);
      expect(p.classifier, p.classifier.detail).to.include({ required: true, applied: true });
      expect(p.ecn.applied).to.equal(ctl.qos.ecnProbe()!.supported);
    }
    expect(await countQosRows(ports(bridge))).to.deep.equal({ qos: 2, queue: 8 });
    const filters = execFileSync('tc', ['filter', 'show', 'dev', `${bridge.name}p1`, 'parent', '1:'], { encoding: 'utf8' });
    expect(filters.match(/flowid 1:4/g)).to.have.length(4); // DSCP 46 and 48, LLDP and ARP → queue 3
    expect(filters).to.match(/protocol LLDP pref 22 u32/).and.match(/protocol arp pref 23 u32/);
    const classes = execFileSync('tc', ['class', 'show', 'dev', `${bridge.name}p1`], { encoding: 'utf8' });
    expect(classes).to.match(/class htb 1:4 parent 1:fffe (leaf 13: )?prio 0 rate 500Kbit ceil 50Mbit/);
    const res = await fetch(`${ctl.api}/qos`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { ecnProbe: { supported: boolean; detail: string }; ports: { name: string; buffer: { packets: number; source: string }; queues: { counters: { tcBytes: number | null } }[]; applied: { ecn: { detail: string } } }[] };
    // the per-class buffer: 20 ms of queueing at the port's 50 Mbit/s (qos.bufferDelayMs: ⌈50e6 × 0.02 ÷ 8 ÷ 1500⌉ = 84 packets of 1500 bytes),
    // as reported in /qos and as installed under each class
    const p1 = body.ports.find((x) => x.name === `${bridge!.name}p1`)!;
    expect(p1.buffer).to.deep.include({ packets: 84, source: 'delay' });
    const qdiscs = execFileSync('tc', ['qdisc', 'show', 'dev', `${bridge.name}p1`], { encoding: 'utf8' });
    expect(qdiscs).to.match(new RegExp(`qdisc pfifo 13: parent 1:4 limit ${p1.buffer.packets}p`));

    expect(body.ports).to.have.length(2);
    expect(body.ports[0]!.queues).to.have.length(4);
    expect(body.ports[0]!.queues[0]!.counters.tcBytes).to.be.a('number');
    console.log(`      [measure] ECN probe: supported=${body.ecnProbe.supported}: ${body.ecnProbe.detail}`);

    await ctl.close();
    await bridge.delController();
    ctl = await start();
    for (const p of ctl.qos.ports()) {
      expect(p.queues, p.queues.detail).to.include({ applied: true, changed: false });
      expect(p.classifier.applied).to.equal(true);
    }
    expect(await countQosRows(ports(bridge))).to.deep.equal({ qos: 2, queue: 8 });
  });
});
