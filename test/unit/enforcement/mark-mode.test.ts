/** enforcement.mode `mark` (the experiments' priority-only scheme): flowlets are tracked, nothing is allocated or pushed. */
import { expect } from 'chai';
import { Harness, ip, start, tuple } from '../../../testing/enforcement-harness.js';

describe('enforcement core: mode mark', () => {
  it('tracks flowlets but sends no rates and no meters, however large the flowlet', () => {
    const h = new Harness({ mode: 'mark', policy: 'flowtune' });
    const a = tuple(ip(1, 1), ip(3, 1));
    h.pin(a);
    h.hello('h11', [start('f', a, { bytes: 5e6, sizeBytes: 10e6 })]);
    expect(h.run()).to.deep.equal([]);
    h.runs(20);
    expect(h.core.flowlet('h11', 'f')).to.not.equal(undefined);
    const v = h.core.allocatorView(h.ms);
    expect(v.mode).to.equal('mark');
    expect(v.updatesSent).to.deep.equal({ agents: 0, meters: 0 });
    expect(h.core.flowlet('h11', 'f')!.allocatedBps ?? null).to.equal(null);
  });
});
