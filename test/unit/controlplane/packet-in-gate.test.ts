/**
 * Packet-in protection (openflow/packet-in-gate.ts): classes from the EtherType, budgets per port and
 * per switch per class (a flooding port spends its own budget, LLDP and ARP keep theirs), refill over
 * time, deterministic accounting for the same arrival times, and the dispatch queue's bound and batches.
 */
import { expect } from 'chai';
import { PacketInGate, PacketInQueue, classifyFrame } from '../../../openflow/packet-in-gate.js';

const frame = (ethertype: number, vlan = false): Buffer => {
  const b = Buffer.alloc(64);
  if (vlan) {
    b.writeUInt16BE(0x8100, 12);
    b.writeUInt16BE(ethertype, 16);
  } else b.writeUInt16BE(ethertype, 12);
  return b;
};

const GATE = {
  perPortPps: { lldp: 100, arp: 50, ipv4: 100, other: 10 },
  perSwitchPps: { lldp: 1000, arp: 200, ipv4: 300, other: 50 },
};

describe('packet-in gate', () => {
  it('classifies by EtherType, through one VLAN tag', () => {
    expect(classifyFrame(frame(0x88cc))).to.equal('lldp');
    expect(classifyFrame(frame(0x0806))).to.equal('arp');
    expect(classifyFrame(frame(0x0800))).to.equal('ipv4');
    expect(classifyFrame(frame(0x0800, true))).to.equal('ipv4');
    expect(classifyFrame(frame(0x86dd))).to.equal('other');
    expect(classifyFrame(Buffer.alloc(5))).to.equal('other');
  });

  it('a flooding port loses its own new-flow packet-ins; other ports, LLDP and ARP keep their budgets', () => {
    const g = new PacketInGate(GATE);
    let admitted = 0;
    for (let i = 0; i < 5000; i++) if (g.admit(1n, 3, 'ipv4', 1000)) admitted++;
    expect(admitted).to.equal(100); // one second of the port's budget
    expect(g.admit(1n, 4, 'ipv4', 1000), 'another host on the same switch').to.equal(true);
    expect(g.admit(1n, 1, 'lldp', 1000), 'LLDP on a fabric port').to.equal(true);
    expect(g.admit(1n, 3, 'arp', 1000), 'ARP from the flooding port itself').to.equal(true);
    const sw = g.switches()[0]!;
    expect(sw.ports.get(3)!.ipv4).to.deep.equal({ admitted: 100, dropped: 4900 });
    expect(g.droppedTotal).to.deep.equal({ lldp: 0, arp: 0, ipv4: 4900, other: 0 });
  });

  it('the switch budget caps all ports together; tokens come back with time', () => {
    const g = new PacketInGate(GATE);
    let admitted = 0;
    for (let port = 1; port <= 10; port++) for (let i = 0; i < 100; i++) if (g.admit(7n, port, 'ipv4', 0)) admitted++;
    expect(admitted).to.equal(300);
    expect(g.admit(7n, 11, 'ipv4', 0)).to.equal(false);
    expect(g.admit(7n, 11, 'ipv4', 100)).to.equal(true); // 100 ms later: 30 switch tokens back
  });

  it('the same arrivals at the same times give the same counts (deterministic accounting)', () => {
    const run = (): string => {
      const g = new PacketInGate(GATE);
      let t = 0;
      for (let i = 0; i < 20_000; i++) {
        t += 0.05; // 20,000 packet-ins per second
        g.admit(1n, 1 + (i % 3), i % 10 === 0 ? 'arp' : 'ipv4', t);
      }
      return JSON.stringify(g.droppedTotal);
    };
    expect(run()).to.equal(run());
  });

  it('a budget of 0 does not limit that class', () => {
    const g = new PacketInGate({ perPortPps: { ...GATE.perPortPps, ipv4: 0 }, perSwitchPps: { ...GATE.perSwitchPps, ipv4: 0 } });
    for (let i = 0; i < 10_000; i++) expect(g.admit(1n, 1, 'ipv4', 0)).to.equal(true);
  });

  it('the new-flow queue is bounded and drains in batches, one per turn', () => {
    const ran: number[] = [];
    const turns: (() => void)[] = [];
    const q = new PacketInQueue<number>((x) => ran.push(x), 5, 2, (fn) => turns.push(fn));
    for (let i = 0; i < 7; i++) q.push(i);
    expect(q.overflowed).to.equal(2);
    expect(turns).to.have.length(1);
    turns.shift()!();
    expect(ran).to.deep.equal([0, 1]);
    while (turns.length > 0) turns.shift()!();
    expect(ran).to.deep.equal([0, 1, 2, 3, 4]);
    expect(q.length).to.equal(0);
  });
});
