import { expect } from 'chai';
import { sampleProcs, tree, treeCpuS, type ProcSample } from '../../../experiment/cpu.js';

const p = (ppid: number, ticks: number, comm = 'x'): ProcSample => ({ ppid, comm, ticks });

describe('experiment CPU accounting', () => {
  it('sums a process tree: descendants alive at the end, minus what they had at the start', () => {
    const before = new Map([[10, p(1, 100)], [11, p(10, 50)], [20, p(1, 500)]]);
    // 12 started during the interval; 11 reaped a child (its cutime grew)
    const after = new Map([[10, p(1, 130)], [11, p(10, 90)], [12, p(11, 25)], [20, p(1, 900)]]);
    expect([...tree(after, 10)].sort()).to.deep.equal([10, 11, 12]);
    expect(treeCpuS(before, after, 10)).to.be.closeTo((30 + 40 + 25) / 100, 1e-12);
    // a reused pid (another command) counts from zero
    expect(treeCpuS(new Map([[10, p(1, 100, 'old')]]), new Map([[10, p(1, 7, 'new')]]), 10)).to.be.closeTo(0.07, 1e-12);
  });

  it('reads this process from /proc', () => {
    const s = sampleProcs();
    expect(s.get(process.pid)?.ppid).to.equal(process.ppid);
  });
});
