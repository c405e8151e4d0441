/**
 * FCA's transfer order by priority classes (apps/enforcement/fca-classes.ts, rate-effects.ts): the ranking,
 * the classes from the QoS queues, and that the agents hear only of class changes.
 */
import { expect } from 'chai';
import { fcaClassDscpOf, fcaClassDscps, fcaUnrankedThresholds, hostBands } from '../../../apps/enforcement/fca-classes.js';
import { agentRateEffects, UNLIMITED_BPS } from '../../../apps/enforcement/rate-effects.js';
import type { Agent, Flowlet } from '../../../apps/enforcement/flowlets.js';
import type { EnforcementEffect, EnforcementSettings } from '../../../apps/enforcement/types.js';
import { DEFAULT_DSCP_MAP } from '../../../apps/qos/config.js';
import { bandLines } from '../../../agent/tc.js';

const CLASSES = [26, 10, 0];

describe('enforcement: fca priority classes', () => {
  it('ranks transfers by remaining bytes: the smallest in the top data class, the rest below, the tail best effort', () => {
    const m = fcaClassDscpOf([
      { id: 'a1', transferId: 'A', remainingBytes: 300_000 },
      { id: 'a2', transferId: 'A', remainingBytes: 300_000 },
      { id: 'b1', transferId: 'B', remainingBytes: 100_000 },
      { id: 'c1', transferId: 'C', remainingBytes: 50_000 },
      { id: 'c2', transferId: 'C', remainingBytes: 40_000 },
      { id: 'x', remainingBytes: Infinity },
    ], CLASSES);
    expect(m.get('c1')).to.equal(26); // C: 90 kB, smallest
    expect(m.get('c2')).to.equal(26); // every flowlet of a transfer in its class
    expect(m.get('b1')).to.equal(10);
    expect(m.get('a1')).to.equal(0);
    expect(m.get('a2')).to.equal(0);
    expect(m.get('x')).to.equal(0); // unknown size last
  });

  it('transfers that share no link do not use up each other\'s classes; on every shared link the order holds', () => {
    // A→B shuffles on links 1,2; B→A shuffles on links 11,12 (the other direction); X crosses link 2 and 11
    const m = fcaClassDscpOf([
      { id: 'ab1', transferId: 'AB1', remainingBytes: 10_000, links: [1, 2] },
      { id: 'ba1', transferId: 'BA1', remainingBytes: 20_000, links: [11, 12] },
      { id: 'ab2', transferId: 'AB2', remainingBytes: 30_000, links: [1, 2] },
      { id: 'ba2', transferId: 'BA2', remainingBytes: 40_000, links: [11] },
      { id: 'x', transferId: 'X', remainingBytes: 50_000, links: [2, 11] },
      { id: 'ba3', transferId: 'BA3', remainingBytes: 60_000, links: [12] },
    ], [46, 26, 10, 0]);
    expect(m.get('ab1')).to.equal(46); // smallest one way
    expect(m.get('ba1')).to.equal(46); // smallest the other way: meets no smaller transfer
    expect(m.get('ab2')).to.equal(26);
    expect(m.get('ba2')).to.equal(26);
    expect(m.get('x'), 'below AB2 on link 2 and BA2 on link 11').to.equal(10);
    expect(m.get('ba3'), 'below BA1 on link 12 only').to.equal(26);
    // without paths every transfer is taken to share a link: the plain rank
    const plain = fcaClassDscpOf([
      { id: 'a', transferId: 'A', remainingBytes: 1 }, { id: 'b', transferId: 'B', remainingBytes: 2, links: [5] }, { id: 'c', remainingBytes: 3 },
    ], CLASSES);
    expect([plain.get('a'), plain.get('b'), plain.get('c')]).to.deep.equal([26, 10, 0]);
  });

  it('classes are sticky upwards: a transfer moves up only out of the shared last class, when a larger one shares its link', () => {
    // B (10) and C (0) stay when A, ahead of them, is gone: nothing above them gains from a move
    const kept = fcaClassDscpOf([
      { id: 'b', transferId: 'B', remainingBytes: 20_000, currentDscp: 10 },
      { id: 'c', transferId: 'C', remainingBytes: 30_000, currentDscp: 0 },
    ], CLASSES);
    expect([kept.get('b'), kept.get('c')]).to.deep.equal([10, 0]);
    // C alone in the last class, no larger transfer: it stays
    expect(fcaClassDscpOf([{ id: 'c', transferId: 'C', remainingBytes: 30_000, currentDscp: 0 }], CLASSES).get('c')).to.equal(0);
    // C in the last class and a larger D on its link: C moves up (out of the shared class), D goes below it
    const moved = fcaClassDscpOf([
      { id: 'c', transferId: 'C', remainingBytes: 30_000, currentDscp: 0, links: [1] },
      { id: 'd', transferId: 'D', remainingBytes: 90_000, links: [1] },
    ], CLASSES);
    expect([moved.get('c'), moved.get('d')]).to.deep.equal([26, 10]);
    // …but not for a larger transfer elsewhere
    const apart = fcaClassDscpOf([
      { id: 'c', transferId: 'C', remainingBytes: 30_000, currentDscp: 0, links: [1] },
      { id: 'd', transferId: 'D', remainingBytes: 90_000, links: [2] },
    ], CLASSES);
    expect([apart.get('c'), apart.get('d')]).to.deep.equal([0, 26]);
    // a move down is always made when the order needs it (a smaller transfer arrived above)
    const down = fcaClassDscpOf([
      { id: 'e', transferId: 'E', remainingBytes: 1_000 },
      { id: 'b', transferId: 'B', remainingBytes: 20_000, currentDscp: 26 },
    ], CLASSES);
    expect([down.get('e'), down.get('b')]).to.deep.equal([26, 10]);
  });

  it('a transfer finishing promotes the next one when it has no class yet', () => {
    const before = fcaClassDscpOf([
      { id: 'a', transferId: 'A', remainingBytes: 10_000 },
      { id: 'b', transferId: 'B', remainingBytes: 20_000 },
    ], CLASSES);
    expect([before.get('a'), before.get('b')]).to.deep.equal([26, 10]);
    const after = fcaClassDscpOf([{ id: 'b', transferId: 'B', remainingBytes: 20_000 }], CLASSES);
    expect(after.get('b')).to.equal(26);
  });

  it('the classes are the queues below the top one, then best effort; host bands mirror every queue', () => {
    expect(fcaClassDscps(4, DEFAULT_DSCP_MAP)).to.deep.equal([26, 10, 0]);
    expect(fcaClassDscps(2, DEFAULT_DSCP_MAP)).to.deep.equal([0]);
    expect(hostBands(4, DEFAULT_DSCP_MAP)).to.deep.equal([[46, 48], [26, 34], [10, 18]]);
    // what the agents class themselves (not ranked yet) rides the top queue, never below a ranked transfer
    expect(fcaUnrankedThresholds(4, DEFAULT_DSCP_MAP)).to.deep.equal({ thresholdsBytes: [], dscpByPriority: [46] });
  });

  it('host bands: an HTB class per band with its prio and 15% guaranteed, one dsfield filter per DSCP, the default class last', () => {
    const lines = bandLines('h1-eth0', 20e6, [[46], [26]]);
    // the flowlet filters' priority first, so its u32 table is 800: (flowlet filters name their nodes 800::n)
    expect(lines.slice(0, 2)).to.deep.equal([
      'filter del dev h1-eth0 parent 1: protocol ip prio 20',
      'filter replace dev h1-eth0 parent 1: protocol ip prio 10 handle 800::1 u32 match ip protocol 255 0xff flowid 1:ffff',
    ]);
    expect(lines).to.include('class replace dev h1-eth0 parent 1:1 classid 1:ff01 htb rate 3000000bit ceil 20000000bit burst 2500 cburst 2500 quantum 1514 prio 1');
    expect(lines).to.include('filter add dev h1-eth0 parent 1: protocol ip prio 20 u32 match ip dsfield 0xb8 0xfc flowid 1:ff00');
    expect(lines).to.include('filter add dev h1-eth0 parent 1: protocol ip prio 20 u32 match ip dsfield 0x68 0xfc flowid 1:ff01');
    expect(lines.at(-1)).to.equal('class change dev h1-eth0 classid 1:ffff htb rate 3000000bit ceil 20000000bit burst 2500 cburst 2500 quantum 1514 prio 2');
    // seven bands and the default class: the guarantees fit in the link (1/8 each, not 15%)
    const many = bandLines('h1-eth0', 20e6, [[46], [40], [34], [26], [18], [10], [8]]);
    expect(many.at(-1)).to.equal('class change dev h1-eth0 classid 1:ffff htb rate 2500000bit ceil 20000000bit burst 2500 cburst 2500 quantum 1514 prio 7');
  });
});

describe('enforcement: fca priority classes pushed to agents', () => {
  const settings = { policy: 'fca', fcaClassDscps: CLASSES, rateChangeThreshold: 0.05 } as unknown as EnforcementSettings;
  const agents = new Map<string, Agent>([['ag', { id: 'ag', connected: true, seq: 0 } as unknown as Agent]]);
  const flowlet = (id: string, transferId: string, sizeBytes: number, allocatedBps: number): Flowlet => ({
    key: `ag/${id}`, agentId: 'ag', id, transferId, sizeBytes, bytes: 0, state: 'allocated', allocatedBps, agentUpdates: 0,
  }) as unknown as Flowlet;

  it('sends each flowlet its class with an unlimited rate, then nothing until a class changes', () => {
    const a = flowlet('a', 'A', 10_000, 5e6);
    const b = flowlet('b', 'B', 50_000, 1e6);
    let out: EnforcementEffect[] = [];
    expect(agentRateEffects(settings, [a, b], agents, 0, out)).to.equal(2);
    const set = (out[0] as Extract<EnforcementEffect, { kind: 'rates' }>).msg.set;
    expect(set).to.deep.equal([{ id: 'a', rateBps: UNLIMITED_BPS, dscp: 26 }, { id: 'b', rateBps: UNLIMITED_BPS, dscp: 10 }]);

    // the FCA rates move, the order does not: no message
    a.allocatedBps = 2e6;
    b.allocatedBps = 9e6;
    out = [];
    expect(agentRateEffects(settings, [a, b], agents, 10, out)).to.equal(0);
    expect(out).to.have.length(0);

    // A ends (its flowlet leaves the table): B keeps its class (nothing above it now: moving it up would
    // only reorder its packets), no message
    out = [];
    expect(agentRateEffects(settings, [b], agents, 20, out)).to.equal(0);
    // a larger transfer C arrives: it goes below B
    const c = flowlet('c', 'C', 900_000, 1e6);
    out = [];
    expect(agentRateEffects(settings, [b, c], agents, 30, out)).to.equal(1);
    expect((out[0] as Extract<EnforcementEffect, { kind: 'rates' }>).msg.set).to.deep.equal([{ id: 'c', rateBps: UNLIMITED_BPS, dscp: 0 }]);
    // a smaller transfer D arrives: it goes above B, B stays
    const d = flowlet('d', 'D', 1_000, 1e6);
    out = [];
    expect(agentRateEffects(settings, [b, c, d], agents, 40, out)).to.equal(1);
    expect((out[0] as Extract<EnforcementEffect, { kind: 'rates' }>).msg.set).to.deep.equal([{ id: 'd', rateBps: UNLIMITED_BPS, dscp: 26 }]);
  });

  it('without fcaClassDscps the rates go out as before (no DSCP)', () => {
    const out: EnforcementEffect[] = [];
    agentRateEffects({ ...settings, fcaClassDscps: undefined } as unknown as EnforcementSettings, [flowlet('c', 'C', 10_000, 3e6)], agents, 0, out);
    expect((out[0] as Extract<EnforcementEffect, { kind: 'rates' }>).msg.set).to.deep.equal([{ id: 'c', rateBps: 3e6 }]);
  });
});
