/**
 * apps/qos plan and tc text (pure), and the `qos` config section: defaults, ECN threshold scaling
 * (DCTCP K: 20 packets at 1 Gbit/s, 65 at 10 Gbit/s), and every bad plan rejected naming the key.
 */
import { expect } from 'chai';
import { ConfigError, defaultConfig, ecnThresholdPackets, resolveConfig } from '../../../controller/config/index.js';
import { classifierBatch, dscpFilterLine, ecnBatch, failedBatchLines, ovsRows, parseTcClassStats, planPort, queueOfDscp } from '../../../apps/qos/index.js';

function rejects(qos: unknown, key: string, message: RegExp): void {
  let caught: unknown;
  try {
    resolveConfig({ qos });
  } catch (e) {
    caught = e;
  }
  expect(caught, JSON.stringify(qos)).to.be.instanceOf(ConfigError);
  expect((caught as ConfigError).key).to.equal(key);
  expect((caught as ConfigError).message).to.match(message);
}

describe('qos: config section', () => {
  it('defaults: 4 queues, EF/CS6 on top, ECN by speed, auto classifier', () => {
    const q = defaultConfig().qos;
    expect(q.queues).to.equal(4);
    expect(q.dscpMap).to.deep.equal({ '3': [46, 48], '2': [26, 34], '1': [10, 18] });
    expect(q.ecn.bySpeed).to.deep.equal({ '1G': 20, '10G': 65 });
    expect(q.dscpClassifier).to.equal('auto');
    expect(q.enabled).to.equal(true);
  });

  it('bad plans are rejected naming the key', () => {
    rejects({ dscpMap: { '3': [46, 64] } }, 'qos.dscpMap.3.1', /DSCP 0–63, got 64/);
    rejects({ dscpMap: { '3': [-1] } }, 'qos.dscpMap.3.0', /DSCP 0–63/);
    rejects({ queues: 9 }, 'qos.queues', /more queues than the platform offers/);
    rejects({ queues: 2 }, 'qos.dscpMap.2', /queue 2 does not exist: qos.queues is 2/);
    rejects({ dscpMap: { '3': [46], '2': [46] } }, 'qos.dscpMap.3', /overlaps qos.dscpMap.2: DSCP 46 is in both/);
    rejects({ dscpMap: { '1': [8, 8] } }, 'qos.dscpMap.1', /lists DSCP 8 twice/);
    rejects({ bufferPackets: 100, ecn: { ports: { '1:3': 200 } } }, 'qos.ecn.ports.1:3', /larger than the buffer \(qos.bufferPackets = 100\)/);
    rejects({ bufferPackets: 50, ecn: { bySpeed: { '10G': 65 } } }, 'qos.ecn.bySpeed.10G', /larger than the buffer/);
    rejects({ dscpMap: { '8': [1] } }, 'qos.dscpMap.8', /not a queue number 0–7/);
    rejects({ dscpClassifier: 'maybe' }, 'qos.dscpClassifier', /auto\|on\|off/);
  });
});

describe('qos: plan', () => {
  const cfg = defaultConfig().qos;

  it('ECN K: 20 packets at 1 Gbit/s, 65 at 10 Gbit/s, in proportion below, floor minPackets', () => {
    const k = (bps: number) => ecnThresholdPackets(bps, cfg.ecn.bySpeed, cfg.ecn.minPackets);
    expect([k(1e9), k(10e9), k(5.5e9), k(100e6), k(50e6), k(1e6)]).to.deep.equal([20, 65, 43, 2, 2, 2]);
    expect(ecnThresholdPackets(500e6, { '1G': 20 }, 1)).to.equal(10);
    expect(k(40e9)).to.equal(215); // above the fastest point: along the last segment (K grows with C·RTT)
  });

  it('buffer: 20 ms of queueing at the capacity by default (not 1000 packets: 600 ms at 20 Mbit/s), floored; a configured size wins', () => {
    const at = (bps: number, over: Partial<typeof cfg> = {}) => planPort({ ...cfg, ...over }, 1n, 3, 's1-eth3', bps).buffer;
    expect(at(20e6)).to.deep.equal({ packets: 34, bytes: 51_000, delayMs: 20.4, source: 'delay' });
    expect(at(1e9).packets).to.equal(1667);
    expect(at(1e6)).to.include({ packets: 32, source: 'delay' }); // the floor
    expect(at(20e6, { bufferPackets: 1000 })).to.deep.equal({ packets: 1000, bytes: 1_500_000, delayMs: 600, source: 'config' });
    expect(at(10e6, { ecn: { ...cfg.ecn, ports: { '0000000000000001:3': 50 } } }).packets, 'never under the port\'s ECN threshold').to.equal(50);
  });

  it('strict priority: highest queue has HTB prio 0, every queue ceil = capacity and a 1% floor (qos.minQueueShare)', () => {
    const p = planPort(cfg, 1n, 3, 's1-eth3', 50e6);
    expect(p.queues.map((q) => [q.id, q.priority, q.minRateBps, q.maxRateBps])).to.deep.equal([
      [0, 3, 500_000, 50e6], [1, 2, 500_000, 50e6], [2, 1, 500_000, 50e6], [3, 0, 500_000, 50e6],
    ]);
    expect(queueOfDscp(p, 46)).to.equal(3);
    expect(queueOfDscp(p, 0)).to.equal(0);
    const wide = planPort({ ...cfg, minQueueShare: 0.15 }, 1n, 3, 's1-eth3', 20e6);
    expect(wide.queues.map((q) => q.minRateBps), 'qos.minQueueShare: 15% of 20 Mbit/s guaranteed to every queue').to.deep.equal([3e6, 3e6, 3e6, 3e6]);
    expect(p.queues[3]!.dscp).to.deep.equal([46, 48]);
    expect(ovsRows(p)).to.deep.include({ portName: 's1-eth3', type: 'linux-htb', maxRateBps: 50e6 });
    const perPort = planPort({ ...cfg, ecn: { ...cfg.ecn, ports: { '0000000000000001:3': 30 } } }, 1n, 3, 's1-eth3', 50e6);
    expect(perPort.ecn).to.deep.equal({ enabled: true, thresholdPackets: 30, thresholdBytes: 45000, source: 'port' });
  });

  it('classifier: clear, one u32 filter per mapped DSCP to class 1:(q+1), LLDP and ARP to the highest queue', () => {
    expect(dscpFilterLine('s1-eth3', 46, 3)).to.equal('filter add dev s1-eth3 parent 1: protocol ip prio 21 u32 match ip tos 0xb8 0xfc flowid 1:4');
    const lines = classifierBatch(planPort(cfg, 1n, 3, 's1-eth3', 50e6));
    expect(lines.slice(0, 3)).to.deep.equal([
      'filter del dev s1-eth3 parent 1: protocol ip prio 21',
      'filter del dev s1-eth3 parent 1: protocol 0x88cc prio 22',
      'filter del dev s1-eth3 parent 1: protocol 0x0806 prio 23',
    ]);
    expect(lines).to.have.length(11);
    expect(lines.slice(3, 9).map((l) => l.split(' ').slice(-5).join(' '))).to.deep.equal([
      'tos 0x28 0xfc flowid 1:2', 'tos 0x48 0xfc flowid 1:2', 'tos 0x68 0xfc flowid 1:3', 'tos 0x88 0xfc flowid 1:3',
      'tos 0xb8 0xfc flowid 1:4', 'tos 0xc0 0xfc flowid 1:4',
    ]);
    expect(lines.slice(9)).to.deep.equal([
      'filter add dev s1-eth3 parent 1: protocol 0x88cc prio 22 u32 match u32 0 0 flowid 1:4',
      'filter add dev s1-eth3 parent 1: protocol 0x0806 prio 23 u32 match u32 0 0 flowid 1:4',
    ]);
  });

  it('ECN: RED with ecn under every class, min = K bytes, step to max one packet above', () => {
    const p = planPort(cfg, 1n, 3, 's1-eth3', 1e9);
    const lines = ecnBatch(p, 1000, 1500);
    expect(lines).to.have.length(4);
    expect(lines[3]).to.equal(
      'qdisc replace dev s1-eth3 parent 1:4 handle 13: red limit 1500000 min 30000 max 31500 avpkt 1500 burst 21 probability 1.0 bandwidth 1000000000bit ecn',
    );
  });

  it('parses tc -s class show and tc -batch failures', () => {
    const text = [
      'class htb 1:1 parent 1:fffe prio 3 rate 500Kbit ceil 50Mbit burst 1600b cburst 1600b ',
      ' Sent 123456 bytes 99 pkt (dropped 2, overlimits 7 requeues 0) ',
      ' backlog 3Kb 2p requeues 0',
      ' lended: 1 borrowed: 0 giants: 0',
      'class htb 1:fffe root rate 50Mbit ceil 50Mbit burst 1600b cburst 1600b ',
      ' Sent 200 bytes 2 pkt (dropped 0, overlimits 0 requeues 0) ',
      ' backlog 0b 0p requeues 0',
    ].join('\n');
    expect(parseTcClassStats(text)).to.deep.equal([
      { classId: '1:1', bytes: 123456, packets: 99, dropped: 2, overlimits: 7, backlogBytes: 3072, backlogPackets: 2 },
      { classId: '1:fffe', bytes: 200, packets: 2, dropped: 0, overlimits: 0, backlogBytes: 0, backlogPackets: 0 },
    ]);
    expect(failedBatchLines('Error: x\nCommand failed -:1\nError: y\nCommand failed -:3\n')).to.deep.equal([1, 3]);
  });
});
