/**
 * The enforcement app's small pure parts: tenants (membership, CIDR), the ring buffer / percentiles /
 * event-rate window, the link registry's capacity rule, the welcome thresholds, ingress actions.
 */
import { expect } from 'chai';
import { agentThresholds } from '../../../apps/enforcement/app.js';
import { LinkRegistry } from '../../../apps/enforcement/links.js';
import { ingressActions, routeSig } from '../../../apps/enforcement/paths.js';
import { EventRate, percentile, Ring, Samples } from '../../../apps/enforcement/stats.js';
import { ipv4ToInt, parsePrefix, Tenants } from '../../../apps/enforcement/tenants.js';
import type { RouteInfo } from '../../../apps/routing/types.js';
import { FakeLeafSpine } from '../../../testing/fake-leaf-spine.js';

describe('enforcement: tenants', () => {
  it('parses addresses and prefixes', () => {
    expect(ipv4ToInt('10.0.1.2')).to.equal(0x0a000102);
    expect(ipv4ToInt('10.0.1')).to.be.NaN;
    expect(parsePrefix('10.0.1.0/24')).to.deep.equal({ net: 0x0a000100, mask: 0xffffff00 });
    expect(parsePrefix('10.0.1.7')).to.deep.equal({ net: 0x0a000107, mask: 0xffffffff });
    expect(parsePrefix('0.0.0.0/0')).to.deep.equal({ net: 0, mask: 0 });
    expect(() => parsePrefix('10.0.1.0/33')).to.throw(RangeError);
  });

  it('declared tenant wins; else first member match; else weight 1; unknown declared → 1 flagged', () => {
    const t = new Tenants([
      { name: 'blue', weight: 2, members: ['10.0.1.0/24'] },
      { name: 'red', weight: 5, members: ['10.0.1.9', '10.0.2.0/23'] },
    ]);
    expect(t.choose(undefined, '10.0.1.9')).to.deep.equal({ tenant: 'blue', weight: 2, index: 0 });
    expect(t.choose(undefined, '10.0.3.1')).to.deep.equal({ tenant: 'red', weight: 5, index: 1 });
    expect(t.choose('red', '10.0.1.1')).to.deep.equal({ tenant: 'red', weight: 5, index: 1 });
    expect(t.choose(undefined, '192.168.0.1')).to.deep.equal({ tenant: null, weight: 1, index: -1 });
    expect(t.choose('green', '10.0.1.1')).to.deep.equal({ tenant: 'green', weight: 1, index: -1, unknownDeclared: 'green' });
  });
});

describe('enforcement: stats', () => {
  it('a ring keeps the last N, oldest first', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.toArray()).to.deep.equal([3, 4, 5]);
    expect(r.size).to.equal(3);
  });

  it('nearest-rank percentiles; samples count all, keep the last N', () => {
    expect(percentile([], 0.5)).to.equal(null);
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 0.5)).to.equal(50);
    expect(percentile(xs, 0.99)).to.equal(99);
    const s = new Samples(10);
    for (let i = 1; i <= 20; i++) s.add(i);
    expect(s.summary()).to.deep.equal({ count: 20, p50Us: 15, p99Us: 20 });
  });

  it('events per second over the last 10 s', () => {
    const r = new EventRate(10);
    r.add(50, 0);
    r.add(50, 5_500);
    expect(r.rate(9_999)).to.equal(10);
    expect(r.rate(10_500)).to.equal(5); // the first second left the window
    expect(r.rate(30_000)).to.equal(0);
  });
});

describe('enforcement: link registry', () => {
  it('switch links take the topology capacity; host links config per port → default → port speed', () => {
    const topo = FakeLeafSpine.leafSpine({ spines: 2, leaves: 2, hostsPerLeaf: 2 });
    const reg = new LinkRegistry(topo, { links: { '0000000000000001:3': 30e6 } });
    const up = reg.portLink(1n, 1);
    expect(reg.capacityBps(up)).to.equal(1e9);
    expect(reg.capacityBps(reg.hostLink('10.0.1.1', { dpid: 1n, portNo: 3 }))).to.equal(30e6);
    expect(reg.capacityBps(reg.portLink(1n, 4))).to.equal(1e9); // port speed
    expect(reg.fabric.ids).to.deep.equal(['0000000000000001:1', 'host:10.0.1.1', '0000000000000001:4']);
    expect(reg.portLink(1n, 1)).to.equal(up);
    expect(reg.refresh()).to.equal(false);
    const withDefault = new LinkRegistry(topo, { links: {}, defaultBps: 100e6 });
    expect(withDefault.capacityBps(withDefault.portLink(1n, 4))).to.equal(100e6);
    expect(withDefault.capacityBps(withDefault.portLink(1n, 1))).to.equal(1e9); // fabric link: the topology's
  });
});

describe('enforcement: welcome thresholds and ingress actions', () => {
  it('PIAS thresholds with one DSCP per priority, highest queue first, best effort last', () => {
    const pt = { cdfFile: 'x', load: 0.6, queues: 4, thresholdsBytes: [10_000, 100_000, 1_000_000], meanSlowdown: 1, fifoMeanSlowdown: 2 };
    expect(agentThresholds(pt, { '3': [46, 48], '2': [26, 34], '1': [10, 18] })).to.deep.equal({
      thresholdsBytes: [10_000, 100_000, 1_000_000], dscpByPriority: [46, 26, 10, 0],
    });
    expect(agentThresholds(undefined, {})).to.equal(undefined);
    // no distribution: small flowlets (under the allocator's threshold) ride the top queue, the rest best effort
    expect(agentThresholds(undefined, { '3': [46, 48], '1': [10] }, { queues: 4, smallFlowletBytes: 50_000 })).to.deep.equal({
      thresholdsBytes: [50_000], dscpByPriority: [46, 0],
    });
    expect(agentThresholds(undefined, { '3': [46] }, { queues: 1, smallFlowletBytes: 50_000 }), 'one queue: no classes').to.equal(undefined);
  });

  it('the routing entry’s ingress actions: set_queue then output; eth_dst rewrite on a one-hop path', () => {
    const base: RouteInfo = {
      flowKey: { ipv4Src: '10.0.1.1', ipv4Dst: '10.0.1.2', ipProto: 6, srcPort: 1, dstPort: 2 }, srcHost: 'a', dstHost: 'b',
      path: [{ dpid: '0000000000000001', inPort: 3, outPort: 4 }], choice: { index: 0, of: 1 }, cookie: '1', installed: true, createdMs: 0, repinned: 0,
    };
    expect(ingressActions(base)).to.deep.equal([{ type: 'OFPAT_OUTPUT', port: 4, maxLen: 0 }]);
    const q = { ...base, queue: 3, rewriteDst: '02:00:00:00:00:02' };
    expect(ingressActions(q)).to.deep.equal([
      { type: 'OFPAT_SET_FIELD', field: { field: 'eth_dst', value: '02:00:00:00:00:02' } },
      { type: 'OFPAT_SET_QUEUE', queueId: 3 },
      { type: 'OFPAT_OUTPUT', port: 4, maxLen: 0 },
    ]);
    expect(routeSig(q)).to.not.equal(routeSig(base));
  });
});
