/**
 * `rivulet allocate` (README.md "CLI"): output shape, --iterations, and exit status 2 with one line naming the
 * offending flow or link for each kind of invalid input.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAllocate } from '../../../cli/commands/allocate.js';

let dir = '';
let n = 0;
function file(content: unknown): string {
  dir ||= mkdtempSync(join(tmpdir(), 'rivulet-alloc-'));
  const p = join(dir, `p${n++}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

async function run(input: string, extra: { policy?: string; iterations?: string } = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAllocate({ input, ...extra }, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
}

const good = {
  links: [{ id: 'a', capacityBps: 1e9 }, { id: 'b', capacityBps: 5e8 }],
  flows: [{ id: 'f1', path: ['a'] }, { id: 'f2', path: ['a', 'b'] }, { id: 'f3', path: ['b'], weight: 2 }],
};

after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('rivulet allocate', () => {
  for (const policy of ['flowtune', 'maxmin', 'fca', 'divisions']) {
    it(`prints rates, linkLoad, iterations and utility (${policy})`, async () => {
      const { code, out } = await run(file(good), { policy, iterations: '30' });
      expect(code).to.equal(0);
      const r = JSON.parse(out) as { rates: Record<string, number>; linkLoad: Record<string, number>; iterations: number; utility: number };
      expect(Object.keys(r.rates)).to.deep.equal(['f1', 'f2', 'f3']);
      expect(r.linkLoad['a']).to.be.at.most(1e9 * (1 + 1e-9));
      expect(r.linkLoad['b']).to.be.at.most(5e8 * (1 + 1e-9));
      expect(Number.isFinite(r.utility)).to.equal(true);
      if (policy === 'flowtune') expect(r.iterations).to.equal(30);
    });
  }

  const bad: [string, unknown, string, string][] = [
    ['unknown link in a path', { ...good, flows: [{ id: 'f9', path: ['a', 'zz'] }] }, 'ALLOC_UNKNOWN_LINK', '"f9"'],
    ['empty path', { ...good, flows: [{ id: 'f8', path: [] }] }, 'ALLOC_EMPTY_PATH', '"f8"'],
    ['capacity 0', { ...good, links: [{ id: 'c0', capacityBps: 0 }] , flows: [] }, 'ALLOC_BAD_CAPACITY', '"c0"'],
    ['negative capacity', { links: [{ id: 'c1', capacityBps: -5 }], flows: [] }, 'ALLOC_BAD_CAPACITY', '"c1"'],
    ['duplicate link', { links: [{ id: 'a', capacityBps: 1 }, { id: 'a', capacityBps: 2 }], flows: [] }, 'ALLOC_DUPLICATE_ID', 'link "a"'],
    ['duplicate flow', { ...good, flows: [{ id: 'd', path: ['a'] }, { id: 'd', path: ['b'] }] }, 'ALLOC_DUPLICATE_ID', 'flow "d"'],
    ['negative weight', { ...good, flows: [{ id: 'w', path: ['a'], weight: -1 }] }, 'ALLOC_BAD_WEIGHT', '"w"'],
    ['malformed JSON', '{"links": [', 'ALLOC_BAD_JSON', 'malformed JSON'],
  ];
  for (const [what, content, code, names] of bad) {
    it(`exit 2 and one line naming the culprit: ${what}`, async () => {
      const r = await run(file(content));
      expect(r.code).to.equal(2);
      expect(r.out).to.equal('');
      expect(r.err.trimEnd().split('\n')).to.have.length(1);
      expect(r.err).to.contain(code).and.to.contain(names);
    });
  }

  it('exit 2 for a bad --iterations or --policy', async () => {
    expect((await run(file(good), { iterations: '0' })).code).to.equal(2);
    expect((await run(file(good), { policy: 'nope' })).code).to.equal(2);
  });
});
