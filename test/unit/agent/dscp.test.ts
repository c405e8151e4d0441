/**
 * agent/dscp.ts: Karuna/PIAS classing (deadline → top, declared size, else bytes sent) and the override
 * planner's nft text (chains per DSCP; element add / replace / delete; resync after a failed transaction).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { dscpOfPriority, flowletPriority, OverridePlanner, priorityOfBytes } from '../../../agent/dscp.js';
import type { FiveTuple, Thresholds } from '../../../protocol/agent.js';

const TH: Thresholds = { thresholdsBytes: [100_000, 1_000_000, 10_000_000], dscpByPriority: [46, 26, 10, 0] };
const F: FiveTuple = { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 40000, dport: 5001 };

describe('agent: DSCP classes and overrides', () => {
  it('priority by bytes sent against ascending thresholds', () => {
    expect([0, 99_999, 100_000, 999_999, 1e6, 1e7, 1e12].map((b) => priorityOfBytes(b, TH))).to.deep.equal([0, 0, 1, 1, 2, 3, 3]);
    expect(priorityOfBytes(1e12, { thresholdsBytes: [10, 20], dscpByPriority: [46] })).to.equal(0); // clamped to the classes that exist
  });

  it('declared size decides over bytes sent; a deadline puts the flowlet on top', () => {
    expect(flowletPriority({ sizeBytes: 5e6, bytes: 10 }, TH)).to.equal(2);
    expect(flowletPriority({ bytes: 5e6 }, TH)).to.equal(2);
    expect(flowletPriority({ sizeBytes: 5e9, deadlineMs: 20, bytes: 5e9 }, TH)).to.equal(0);
    expect(dscpOfPriority(2, TH)).to.equal(10);
    expect(dscpOfPriority(9, TH)).to.equal(0);
  });

  it('property: priority never decreases as bytes grow (PIAS demotes only)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (a, b) => {
        expect(priorityOfBytes(Math.min(a, b), TH)).to.be.at.most(priorityOfBytes(Math.max(a, b), TH));
      }),
    );
  });

  it('marks: chain once per DSCP, element replaced when the class changes, deleted once', () => {
    const p = new OverridePlanner();
    expect(p.mark(F, 46)).to.deep.equal([
      'add chain ip rivulet dscp46',
      'flush chain ip rivulet dscp46',
      'add rule ip rivulet dscp46 ip dscp set 46 counter accept',
      'add element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5001 : goto dscp46 }',
    ]);
    expect(p.mark(F, 46)).to.deep.equal([]);
    expect(p.mark(F, 26)).to.deep.equal([
      'add chain ip rivulet dscp26',
      'flush chain ip rivulet dscp26',
      'add rule ip rivulet dscp26 ip dscp set 26 counter accept',
      'delete element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5001 }',
      'add element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5001 : goto dscp26 }',
    ]);
    expect(p.mark({ ...F, sport: 1 }, 46)).to.deep.equal(['add element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 1 . 5001 : goto dscp46 }']);
    expect(p.dscpOf(F)).to.equal(26);
    expect(p.unmark(F)).to.deep.equal(['delete element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 40000 . 5001 }']);
    expect(p.unmark(F)).to.deep.equal([]);
    expect(p.resyncLines()).to.deep.equal([
      'flush map ip rivulet classes',
      'add chain ip rivulet dscp26',
      'flush chain ip rivulet dscp26',
      'add rule ip rivulet dscp26 ip dscp set 26 counter accept',
      'add chain ip rivulet dscp46',
      'flush chain ip rivulet dscp46',
      'add rule ip rivulet dscp46 ip dscp set 46 counter accept',
      'add element ip rivulet classes { 10.0.0.1 . 10.0.0.2 . 6 . 1 . 5001 : goto dscp46 }',
    ]);
  });
});
