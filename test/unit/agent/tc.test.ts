/**
 * agent/tc.ts (pure tc text, limit numbers recycled lowest-first) and tc-batch.ts's stderr parser
 * (`Command failed -:N` mapped to the lines before it).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { classLine, filterAddLine, LimitNumbers, MAX_LIMIT_NUMBER, MIN_LIMIT_NUMBER, rootLines, TcPlanner } from '../../../agent/tc.js';
import { TcStderrParser } from '../../../agent/tc-batch.js';
import type { FiveTuple } from '../../../protocol/agent.js';

const F: FiveTuple = { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 40000, dport: 5001 };

describe('agent: tc lines', () => {
  it('root: HTB default ffff, link class 1:1 and default class 1:ffff at the link rate', () => {
    expect(rootLines('h1-eth0', 100e6)).to.deep.equal([
      'qdisc replace dev h1-eth0 root handle 1: htb default ffff',
      'class replace dev h1-eth0 parent 1: classid 1:1 htb rate 100000000bit ceil 100000000bit burst 12500 cburst 12500 quantum 1514',
      'class replace dev h1-eth0 parent 1:1 classid 1:ffff htb rate 100000000bit ceil 100000000bit burst 12500 cburst 12500 quantum 1514',
    ]);
    expect(rootLines('x', 1e9, { deleteStale: true })[0]).to.equal('qdisc del dev x root');
  });

  it('a limit: class add + u32 filter with handle 800::n; change; clear = filter del by handle + class del', () => {
    const p = new TcPlanner('eth0', 100e6);
    const r = p.set('f1', F, 5e6);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.lines).to.deep.equal([
      'class add dev eth0 parent 1:1 classid 1:2 htb rate 5000000bit ceil 5000000bit burst 1600 cburst 1600 quantum 1514',
      'filter add dev eth0 parent 1: protocol ip prio 10 handle 800::2 u32 match ip src 10.0.0.1/32 match ip dst 10.0.0.2/32 ' +
        'match ip protocol 6 0xff match ip sport 40000 0xffff match ip dport 5001 0xffff flowid 1:2',
    ]);
    const same = p.set('f1', F, 5e6);
    expect(same.ok && same.lines).to.deep.equal([]);
    const ch = p.set('f1', F, 7e6);
    expect(ch.ok && ch.lines).to.deep.equal([classLine('change', 'eth0', 2, 7e6)]);
    expect(p.clear('f1')).to.deep.equal(['filter del dev eth0 parent 1: protocol ip prio 10 handle 800::2 u32', 'class del dev eth0 classid 1:2']);
    expect(p.clear('f1')).to.deep.equal([]);
  });

  it('a limit that may borrow: ceil above the rate, cburst at the ceiling, prio 7; a ceiling alone changes the class; back to a hard limit', () => {
    const p = new TcPlanner('eth0', 20e6);
    const r = p.set('f1', F, 4e6, 12e6);
    expect(r.ok && r.lines[0]).to.equal(
      'class add dev eth0 parent 1:1 classid 1:2 htb rate 4000000bit ceil 12000000bit burst 1600 cburst 1600 quantum 1514 prio 7');
    expect(r.ok && r.limit).to.include({ rateBps: 4e6, ceilBps: 12e6 });
    const ceilOnly = p.set('f1', F, 4e6, 20e6);
    expect(ceilOnly.ok && ceilOnly.lines).to.deep.equal([
      'class change dev eth0 parent 1:1 classid 1:2 htb rate 4000000bit ceil 20000000bit burst 1600 cburst 2500 quantum 1514 prio 7']);
    // clamped to the link; a ceiling below the rate is the rate (a hard limit, HTB's default prio)
    expect(p.set('f1', F, 4e6, 90e6)).to.include({ changed: false });
    const hard = p.set('f1', F, 5e6, 1e6);
    expect(hard.ok && hard.limit).to.include({ rateBps: 5e6, ceilBps: 5e6 });
    expect(hard.ok && hard.lines).to.deep.equal([classLine('change', 'eth0', 2, 5e6)]);
    expect(classLine('change', 'eth0', 2, 5e6)).to.not.contain('prio');
  });

  it('limits are clamped to the link rate; ids are hex', () => {
    const p = new TcPlanner('eth0', 10e6, new LimitNumbers(10, 12));
    const r = p.set('f9', F, 50e6);
    expect(r.ok && r.limit.rateBps).to.equal(10e6);
    expect(filterAddLine('eth0', 0xabc, F)).to.contain('handle 800::abc').and.contain('flowid 1:abc');
  });

  it('limit numbers: lowest free first, recycled, exhaustion reported', () => {
    const p = new TcPlanner('eth0', 1e9, new LimitNumbers(2, 4));
    const n = (id: string): number | undefined => {
      const r = p.set(id, { ...F, sport: id.length }, 1e6);
      return r.ok ? r.limit.n : undefined;
    };
    expect([n('a'), n('b'), n('c')]).to.deep.equal([2, 3, 4]);
    expect(p.set('d', F, 1e6)).to.deep.equal({ ok: false, reason: 'exhausted' });
    p.clear('b');
    expect(n('e')).to.equal(3);
    expect(p.clearAll()).to.have.length(6);
    expect(n('f')).to.equal(2);
  });

  it('property: numbers in use are distinct and within 2..0xfff', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { maxLength: 300 }), (ops) => {
        const p = new TcPlanner('eth0', 1e9);
        for (const [add, k] of ops) {
          if (add) p.set(`f${k}`, { ...F, sport: k }, 1e6 + k);
          else p.clear(`f${k}`);
        }
        const ns = p.all().map((l) => l.n);
        expect(new Set(ns).size).to.equal(ns.length);
        for (const x of ns) expect(x).to.be.within(MIN_LIMIT_NUMBER, MAX_LIMIT_NUMBER);
        // lowest-free-first: with at most 41 ids ever, no number above 2 + 40 is handed out
        expect(Math.max(MIN_LIMIT_NUMBER, ...ns)).to.be.at.most(MIN_LIMIT_NUMBER + 40);
      }),
    );
  });

  it('tc stderr: "Command failed -:N" carries the message lines before it, across chunks', () => {
    const parser = new TcStderrParser();
    expect(parser.push('Error: Exclusivity flag on, cannot modify.\nComm')).to.deep.equal([]);
    expect(parser.push('and failed -:3\nCannot find device "x"\nCommand failed -:7\n')).to.deep.equal([
      { line: 3, message: 'Error: Exclusivity flag on, cannot modify.' },
      { line: 7, message: 'Cannot find device "x"' },
    ]);
  });
});
