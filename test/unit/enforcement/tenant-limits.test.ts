/**
 * Per-tenant host limits (apps/enforcement/tenant-limits.ts and their place in the core's run): the
 * aggregate per (agent, tenant) is the sum of the allocated rates of the tenant's declared live flowlets
 * there; it is pushed in `rates.tenants` with the flowlet rates' hysteresis, held while the tenant is idle,
 * cleared after `tenantIdleMs`, pushed afresh after a hello; undeclared tenants and `tenantLimits: false`
 * push nothing.
 */
import { expect } from 'chai';
import { MAX_TENANT_LIMITS_PER_AGENT, TenantLimitBook, tenantAggregates, type TenantFlowlet } from '../../../apps/enforcement/tenant-limits.js';
import type { EnforcementEffect } from '../../../apps/enforcement/types.js';
import type { TenantRate } from '../../../protocol/agent.js';
import { Harness, ip, settings, start, tuple } from '../../../testing/enforcement-harness.js';

const fl = (agentId: string, tenant: string | null, allocatedBps: number | undefined, over: Partial<TenantFlowlet> = {}): TenantFlowlet => ({
  agentId, tenant, allocatedBps, state: allocatedBps === undefined ? 'pending-path' : 'allocated', tenantDeclared: true, ...over,
});
const connected = new Map([['h1', { connected: true }], ['h2', { connected: true }]]);

describe('tenant limits: per-host aggregates (pure)', () => {
  it('sums the allocated rates of each declared tenant per agent; pending flowlets only mark the tenant live', () => {
    const m = tenantAggregates([
      fl('h1', 'a', 1e6), fl('h1', 'a', 2e6), fl('h1', 'a', undefined), fl('h1', 'b', 4e6),
      fl('h2', 'a', 8e6), fl('h2', null, 9e6), fl('h2', 'c', 5e6, { tenantDeclared: false }), fl('h2', 'd', undefined),
    ]);
    expect(Object.fromEntries(m.get('h1')!)).to.deep.equal({ a: { live: true, sumBps: 3e6 }, b: { live: true, sumBps: 4e6 } });
    expect(Object.fromEntries(m.get('h2')!)).to.deep.equal({ a: { live: true, sumBps: 8e6 }, d: { live: true, sumBps: undefined } });
  });

  it('pushes the first aggregate, then only moves beyond both hysteresis bounds (at once); holds when idle; clears after tenantIdleMs', () => {
    const book = new TenantLimitBook(settings({ rateChangeThreshold: 0.05, rateChangeMinBps: 500_000, minUpdateIntervalMs: 500, tenantIdleMs: 3000 }));
    expect(Object.fromEntries(book.decide([fl('h1', 'a', 5e6), fl('h2', 'b', 15e6)], connected, 0))).to.deep.equal({
      h1: [{ tenant: 'a', rateBps: 5e6 }], h2: [{ tenant: 'b', rateBps: 15e6 }],
    });
    // +4% (200 kbit/s): below both bounds → nothing
    expect(book.decide([fl('h1', 'a', 5.2e6), fl('h2', 'b', 15e6)], connected, 100).size).to.equal(0);
    // +10% but only 500 kbit/s: not beyond the absolute bound → nothing; +12% (600 kbit/s) → pushed
    expect(book.decide([fl('h1', 'a', 5.5e6)], connected, 200).size).to.equal(0);
    expect(book.decide([fl('h1', 'a', 5.6e6)], connected, 300).get('h1')).to.deep.equal([{ tenant: 'a', rateBps: 5.6e6 }]);
    // a one-run transient and its return both go out at once (no minUpdateIntervalMs for aggregates)
    expect(book.decide([fl('h1', 'a', 20e6)], connected, 310).get('h1')).to.deep.equal([{ tenant: 'a', rateBps: 20e6 }]);
    expect(book.decide([fl('h1', 'a', 5.6e6)], connected, 320).get('h1')).to.deep.equal([{ tenant: 'a', rateBps: 5.6e6 }]);
    // no live flowlet of a at h1: held (nothing pushed, the limit stays)
    expect(book.decide([], connected, 2000).size).to.equal(0);
    expect(book.limitsOf('h1')).to.deep.equal({ a: 5.6e6 });
    // b was last live at 100 → cleared at 3100; a (live at 320) at 3320
    expect(Object.fromEntries(book.decide([], connected, 3150))).to.deep.equal({ h2: [{ tenant: 'b', rateBps: null }] });
    expect(book.decide([], connected, 3300).size).to.equal(0);
    expect(Object.fromEntries(book.decide([], connected, 3320))).to.deep.equal({ h1: [{ tenant: 'a', rateBps: null }] });
    expect(book.decide([], connected, 10_000).size).to.equal(0);
  });

  it('tenantIdleMs 0 never clears; a disconnected agent gets nothing; forget re-pushes', () => {
    const book = new TenantLimitBook(settings({ tenantIdleMs: 0 }));
    book.decide([fl('h1', 'a', 5e6)], connected, 0);
    expect(book.decide([], connected, 1e9).size).to.equal(0);
    expect(book.decide([fl('h1', 'a', 5e6)], new Map([['h1', { connected: false }]]), 1).size).to.equal(0);
    book.forget('h1');
    expect(book.decide([fl('h1', 'a', 5e6)], connected, 2).get('h1')).to.deep.equal([{ tenant: 'a', rateBps: 5e6 }]);
  });

  it('bounded per agent: declared names beyond MAX_TENANT_LIMITS_PER_AGENT get no host limit', () => {
    const book = new TenantLimitBook(settings());
    const many = Array.from({ length: MAX_TENANT_LIMITS_PER_AGENT + 5 }, (_, i) => fl('h1', `t${i}`, 1e6));
    expect(book.decide(many, connected, 0).get('h1')).to.have.length(MAX_TENANT_LIMITS_PER_AGENT);
    expect(Object.keys(book.limitsOf('h1'))).to.have.length(MAX_TENANT_LIMITS_PER_AGENT);
  });
});

const tenantsOf = (effects: readonly EnforcementEffect[], agentId: string): TenantRate[] | undefined =>
  effects.flatMap((e) => (e.kind === 'rates' && e.agentId === agentId && e.msg.tenants ? e.msg.tenants : []))
    .reduce<TenantRate[] | undefined>((acc, t) => [...(acc ?? []), t], undefined);

describe('tenant limits: in the core run', () => {
  const tenants = [{ name: 'a', weight: 1, members: [] }, { name: 'b', weight: 3, members: [] }];

  it('1:3 tenants on one bottleneck: h11 gets a: 25 Mbit/s, h21 gets b: 75 Mbit/s in the same rates message as the flowlets', () => {
    const h = new Harness({ policy: 'maxmin', tenants });
    const recv = ip(3, 1);
    const flowsA = [40000, 40001, 40002].map((p) => tuple(ip(1, 1), recv, p));
    const flowB = tuple(ip(2, 1), recv, 41000);
    for (const t of [...flowsA, flowB]) h.pin(t);
    h.hello('h11', flowsA.map((t, i) => start(`f${i}`, t, { tenant: 'a' })));
    h.hello('h21', [start('g', flowB, { tenant: 'b' })]);
    const out = h.run();
    const ta = tenantsOf(out, 'h11')!;
    expect(ta).to.have.length(1);
    expect(ta[0]!.tenant).to.equal('a');
    expect(ta[0]!.rateBps).to.be.closeTo(25e6, 1);
    expect(tenantsOf(out, 'h21')![0]!.rateBps).to.be.closeTo(75e6, 1);
    const msgA = out.find((e) => e.kind === 'rates' && e.agentId === 'h11')!;
    expect(msgA.kind === 'rates' && msgA.msg.set.length).to.equal(3);
    expect(h.core.tenantLimitsOf('h11')).to.deep.equal({ a: 25e6 });
    // a's flowlets end: the limit is held, no clear before tenantIdleMs (default 5 s)
    h.events('h11', { ends: flowsA.map((_, i) => ({ id: `f${i}`, lastPacketEpochUs: 1_700_000_000_000_000, bytes: 1 })) });
    h.ms += 4000;
    expect(tenantsOf(h.run(), 'h11')).to.equal(undefined);
    h.ms += 1500;
    expect(tenantsOf(h.run(), 'h11')).to.deep.equal([{ tenant: 'a', rateBps: null }]);
  });

  it('mode both: the meter of a flowlet shaped in its tenant class polices at the tenant limit (× 1.1), not at its own rate', () => {
    const h = new Harness({ policy: 'maxmin', tenants });
    const recv = ip(3, 1);
    const flowsA = [40000, 40001, 40002, 40003].map((p) => tuple(ip(1, 1), recv, p));
    const flowB = tuple(ip(2, 1), recv, 41000);
    const flowC = tuple(ip(2, 2), recv, 42000); // no tenant declared: metered at its own rate
    for (const t of [...flowsA, flowB, flowC]) h.pin(t);
    h.hello('h11', flowsA.map((t, i) => start(`f${i}`, t, { tenant: 'a' })));
    h.hello('h21', [start('g', flowB, { tenant: 'b' })]);
    h.hello('h22', [start('x', flowC)]);
    const out = h.run();
    const meter = (key: string): number => {
      const m = out.find((e) => e.kind === 'meterSet' && e.target.key === key);
      return m?.kind === 'meterSet' ? m.target.rateBps : NaN;
    };
    const aLimit = h.core.tenantLimitsOf('h11')['a']!;
    expect(h.core.flowlet('h11', 'f0')!.allocatedBps!).to.be.closeTo(aLimit / 4, 1);
    expect(meter('flowlet:h11/f0')).to.be.closeTo(aLimit * 1.1, 2);
    expect(meter('flowlet:h21/g')).to.be.closeTo(h.core.tenantLimitsOf('h21')['b']! * 1.1, 2);
    expect(meter('flowlet:h22/x')).to.be.closeTo(h.core.flowlet('h22', 'x')!.allocatedBps! * 1.1, 2);
  });

  it('tenants by membership only (not declared) and tenantLimits: false push no tenant limits', () => {
    const member = [{ name: 'a', weight: 1, members: ['10.0.1.1'] }];
    const h = new Harness({ tenants: member });
    const t = tuple(ip(1, 1), ip(3, 1));
    h.pin(t);
    h.hello('h11', [start('f', t)]);
    expect(tenantsOf(h.run(), 'h11')).to.equal(undefined);
    const off = new Harness({ tenants, tenantLimits: false });
    off.pin(t);
    off.hello('h11', [start('f', t, { tenant: 'a' })]);
    const out = off.run();
    expect(out.some((e) => e.kind === 'rates' && e.agentId === 'h11' && e.msg.set.length === 1)).to.equal(true);
    expect(tenantsOf(out, 'h11')).to.equal(undefined);
  });
});
