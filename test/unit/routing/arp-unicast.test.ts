/**
 * Unicast-ARP entries (apps/routing/arp-unicast.ts): every switch forwards ARP addressed to a known host's
 * MAC toward it, so hosts re-validate neighbours without the controller (it may be down or restarting).
 */
import { expect } from 'chai';
import { ARP_UNICAST_COOKIE, arpUnicastDeletes, arpUnicastEffects, portToward } from '../../../apps/routing/arp-unicast.js';
import { OFPFC } from '../../../openflow/codec/index.js';
import { RoutingCore } from '../../../apps/routing/core.js';
import { FakeLeafSpine, hostMac, leafDpid, spineDpid } from '../../../testing/fake-leaf-spine.js';

describe('routing: unicast-ARP entries', () => {
  it('one entry per switch per host: the edge port on its leaf, an uplink elsewhere, the right downlink on spines', () => {
    const topo = FakeLeafSpine.leafSpine({ spines: 2, leaves: 4, hostsPerLeaf: 2 });
    const host = topo.hostByMac(hostMac(3, 1))!;
    const effects = arpUnicastEffects(topo, [host], 1000, 0);
    expect(effects.map((e) => (e.kind === 'send' ? e.dpid : -1n)).sort()).to.deep.equal(topo.switches().map((s) => s.dpid).sort());
    for (const e of effects) {
      if (e.kind !== 'send') throw new Error('send effects only');
      expect(e.msgs).to.have.length(1);
      const m = e.msgs[0]!;
      if (m.type !== 'OFPT_FLOW_MOD') throw new Error('a FLOW_MOD');
      expect(m).to.include({ command: OFPFC.ADD, cookie: ARP_UNICAST_COOKIE, priority: 1000, idleTimeout: 0, hardTimeout: 0 });
      expect(m.match).to.deep.equal([{ field: 'eth_type', value: 0x0806 }, { field: 'eth_dst', value: host.mac }]);
      const port = portToward(topo, e.dpid, host)!;
      expect(m.instructions).to.deep.equal([{ type: 'OFPIT_APPLY_ACTIONS', actions: [{ type: 'OFPAT_OUTPUT', port, maxLen: 0 }] }]);
      if (e.dpid === leafDpid(3)) expect(port).to.equal(host.attachment.portNo);
      else if (e.dpid === spineDpid(1) || e.dpid === spineDpid(2)) {
        const link = topo.links().find((l) => l.src.dpid === e.dpid && l.src.portNo === port)!;
        expect(link.dst.dpid, 'a spine sends down to the host\'s leaf').to.equal(leafDpid(3));
      } else {
        const link = topo.links().find((l) => l.src.dpid === e.dpid && l.src.portNo === port)!;
        expect([spineDpid(1), spineDpid(2)], 'another leaf sends up to a spine').to.include(link.dst.dpid);
      }
    }
  });

  it('the core: new hosts get their entries; a link change re-sends all; a forgotten host is deleted everywhere', () => {
    const topo = FakeLeafSpine.leafSpine({ spines: 2, leaves: 2, hostsPerLeaf: 1 });
    const core = new RoutingCore(topo);
    const h = topo.hostByMac(hostMac(1, 1))!;
    const added = core.arpUnicast([{ type: 'hostAdded', host: h }]);
    expect(added).to.have.length(topo.switches().length);
    const link = topo.links()[0]!;
    const relinked = core.arpUnicast([{ type: 'linkDown', link, reason: 'portDown' }]);
    const count = relinked.reduce((n, e) => n + (e.kind === 'send' ? e.msgs.length : 0), 0);
    expect(count, 'every known host on every switch it can reach').to.be.at.least(topo.hosts().length);
    const removed = core.arpUnicast([{ type: 'hostRemoved', host: h, reason: 'test' }]);
    expect(removed).to.deep.equal(arpUnicastDeletes(topo, h.mac));
    for (const e of removed) {
      if (e.kind !== 'send' || e.msgs[0]!.type !== 'OFPT_FLOW_MOD') throw new Error('a FLOW_MOD');
      expect(e.msgs[0]).to.include({ command: OFPFC.DELETE, cookie: ARP_UNICAST_COOKIE });
    }
    expect(core.arpUnicast([{ type: 'topologyChanged' }])).to.deep.equal([]);
  });
});
