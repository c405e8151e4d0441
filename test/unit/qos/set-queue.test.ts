/**
 * Routing's pinned entries carry `set_queue` for the DSCP class of the flow's first packet when the QoS
 * rule is given (kernel datapath / hardware switches), before the output; without it, no set_queue.
 */
import { expect } from 'chai';
import type { OutMessage } from '../../../openflow/app-api.js';
import { RoutingCore } from '../../../apps/routing/core.js';
import type { RoutingEffect } from '../../../apps/routing/types.js';
import { dscpQueueRule } from '../../../apps/qos/index.js';
import { defaultConfig } from '../../../controller/config/index.js';
import { FakeLeafSpine, hostIp, hostMac, leafDpid } from '../../../testing/fake-leaf-spine.js';
import { ipv4Frame, packetIn } from '../routing/frames.js';

function actionsOfPins(effects: readonly RoutingEffect[]): unknown[][] {
  const out: unknown[][] = [];
  for (const e of effects) {
    if (e.kind !== 'install') continue;
    for (const stage of e.stages) for (const s of stage) for (const m of s.msgs as OutMessage[]) {
      if (m.type === 'OFPT_FLOW_MOD') out.push(m.instructions.flatMap((i) => (i.type === 'OFPIT_APPLY_ACTIONS' ? [...i.actions] : [])));
    }
  }
  return out;
}

function firstPacket(dscp: number, srcPort: number): Buffer {
  const f = ipv4Frame({ ethSrc: hostMac(1, 1), ethDst: hostMac(3, 1), src: hostIp(1, 1), dst: hostIp(3, 1), srcPort, dstPort: 5201 });
  f[15] = dscp << 2; // IPv4 TOS octet (Ethernet header 14 bytes, then version/IHL)
  return f;
}

describe('qos: set_queue in routing pinned entries', () => {
  const rule = dscpQueueRule(defaultConfig().qos.dscpMap);

  it('the DSCP rule: EF → 3, AF31 → 2, AF11 → 1, unmapped → 0', () => {
    expect([rule(46), rule(26), rule(10), rule(0), rule(63)]).to.deep.equal([3, 2, 1, 0, 0]);
  });

  it('every hop of a DSCP 46 flow sets queue 3 before its output; DSCP 0 sets queue 0', () => {
    const topo = FakeLeafSpine.leafSpine({ spines: 2, leaves: 4, hostsPerLeaf: 2 });
    const core = new RoutingCore(topo, { seed: 1 }, rule);
    const ef = actionsOfPins(core.packetIn(packetIn(leafDpid(1), 3, firstPacket(46, 40001)), 0));
    expect(ef).to.have.length(3);
    for (const acts of ef) {
      expect(acts[0]).to.deep.equal({ type: 'OFPAT_SET_QUEUE', queueId: 3 });
      expect((acts.at(-1) as { type: string }).type).to.equal('OFPAT_OUTPUT');
    }
    const be = actionsOfPins(core.packetIn(packetIn(leafDpid(1), 3, firstPacket(0, 40002)), 0));
    for (const acts of be) expect(acts[0]).to.deep.equal({ type: 'OFPAT_SET_QUEUE', queueId: 0 });
  });

  it('without the rule: no set_queue', () => {
    const topo = FakeLeafSpine.leafSpine({ spines: 2, leaves: 4, hostsPerLeaf: 2 });
    const core = new RoutingCore(topo, { seed: 1 });
    for (const acts of actionsOfPins(core.packetIn(packetIn(leafDpid(1), 3, firstPacket(46, 40001)), 0))) {
      expect(acts.some((a) => (a as { type: string }).type === 'OFPAT_SET_QUEUE')).to.equal(false);
    }
  });
});
