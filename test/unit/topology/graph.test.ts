/**
 * The pure FabricGraph (topology/graph.ts) and its algorithms: leaf-spine shapes of any size and any
 * dpids give spines paths between two leaves and the right roles, the flood tree is a spanning tree,
 * graphs that are not leaf-spine get all their shortest paths (checked against a counting BFS), and
 * every mutator reports its events with topologyChanged last.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { FabricGraph } from '../../../topology/graph.js';
import type { FabricEvent, FabricLink, PortRef } from '../../../topology/types.js';
import { leafSpine, port, type FabricSpec, type Wire } from '../../../testing/leaf-spine.js';
import { buildArp, parseFrame, type ParsedFrame } from '../../../lib/packet/frame.js';

/** Builds a graph from a spec, LLDP seen in both directions of every wire in the given order. */
function graphOf(spec: { switches: FabricSpec['switches']; wires: readonly Wire[] }, g = new FabricGraph()): FabricGraph {
  for (const s of spec.switches) g.addSwitch(s.dpid, s.ports);
  for (const w of spec.wires) {
    g.linkSeen(w.a, w.b, 0);
    g.linkSeen(w.b, w.a, 0);
  }
  return g;
}

const types = (ev: readonly FabricEvent[]): string[] => ev.map((e) => e.type);

function arpFrom(mac: string, ip: string): ParsedFrame {
  const r = parseFrame(buildArp({ op: 1, ethSrc: mac, ethDst: 'ff:ff:ff:ff:ff:ff', sha: mac, spa: ip, tha: '00:00:00:00:00:00', tpa: '10.9.9.9' }));
  if (!r.ok) throw r.error;
  return r.value;
}

/** Checks that the flood ports of all switches form a spanning tree of the switches in `dpids`. */
function expectSpanningTree(g: FabricGraph, dpids: readonly bigint[]): void {
  const edges = new Set<string>();
  for (const d of dpids) {
    for (const p of g.floodPorts(d, 0xfffffff0)) {
      const l = g.linkFrom({ dpid: d, portNo: p });
      if (!l) continue; // edge port
      const [x, y] = [l.src.dpid, l.dst.dpid].sort((a, b) => (a < b ? -1 : 1));
      edges.add(`${x}-${y}`);
    }
  }
  expect(edges.size, 'a tree has V-1 edges').to.equal(dpids.length - 1);
  const adj = new Map<bigint, bigint[]>(dpids.map((d) => [d, []]));
  for (const e of edges) {
    const [x, y] = e.split('-').map(BigInt) as [bigint, bigint];
    adj.get(x)!.push(y);
    adj.get(y)!.push(x);
  }
  const seen = new Set([dpids[0]!]);
  const q = [dpids[0]!];
  while (q.length) for (const n of adj.get(q.shift()!)!) if (!seen.has(n)) (seen.add(n), q.push(n));
  expect(seen.size, 'the tree spans every switch').to.equal(dpids.length);
}

const shapeArb = fc
  .record({ s: fc.integer({ min: 1, max: 4 }), l: fc.integer({ min: 2, max: 6 }), h: fc.integer({ min: 1, max: 3 }) })
  .chain(({ s, l, h }) =>
    fc.record({
      s: fc.constant(s), l: fc.constant(l), h: fc.constant(h),
      dpids: fc.uniqueArray(fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), { minLength: s + l, maxLength: s + l }),
      seed: fc.integer(),
    }),
  );

describe('topology/graph: leaf-spine properties', () => {
  it('any spines × leaves × hosts, any dpids, any link order: links, roles, path counts, flood tree', () => {
    fc.assert(
      fc.property(shapeArb, ({ s, l, h, dpids, seed }) => {
        const spec = leafSpine(s, l, h, dpids);
        const wires = [...spec.wires].sort((a, b) => ((Number(a.a.dpid % 97n) * 31 + a.b.portNo + seed) % 7) - ((Number(b.a.dpid % 97n) * 31 + b.b.portNo + seed) % 7));
        const g = graphOf({ switches: spec.switches, wires });
        expect(g.links()).to.have.length(2 * s * l);
        for (const d of spec.spines) expect(g.switch(d)?.role, 'spine').to.equal('spine');
        for (const d of spec.leaves) expect(g.switch(d)?.role, 'leaf').to.equal('leaf');
        const [a, b] = [spec.leaves[0]!, spec.leaves[1]!];
        const paths = g.paths(a, b);
        expect(paths).to.have.length(s);
        for (const p of paths) {
          expect(p).to.have.length(2);
          expect(p[0]!.src.dpid).to.equal(a);
          expect(p[1]!.dst.dpid).to.equal(b);
          expect(p[0]!.dst.dpid).to.equal(p[1]!.src.dpid);
        }
        expect(new Set(paths.map((p) => p[0]!.dst.dpid)).size, 'one path per spine').to.equal(s);
        expect(g.paths(a, a)).to.deep.equal([[]]);
        if (s > 1) expect(g.paths(spec.spines[0]!, spec.spines[1]!)).to.have.length(l);
        expectSpanningTree(g, [...spec.spines, ...spec.leaves]);
        for (const hp of spec.hostPorts) expect(g.floodPorts(hp.dpid, 0xfffffff0)).to.include(hp.portNo);
      }),
      { numRuns: 150 },
    );
  });

  it('returns paths in a deterministic order whatever the discovery order', () => {
    const spec = leafSpine(3, 3, 1);
    const g1 = graphOf(spec);
    const g2 = graphOf({ switches: [...spec.switches].reverse(), wires: [...spec.wires].reverse() });
    const text = (g: FabricGraph): string[] => g.paths(spec.leaves[0]!, spec.leaves[2]!).map((p) => p.map((x) => `${x.src.dpid}:${x.src.portNo}>${x.dst.dpid}`).join(','));
    expect(text(g1)).to.deep.equal(text(g2));
  });
});

/** Number of shortest paths src → dst by BFS counting over directed links (reference). */
function countShortest(links: readonly FabricLink[], src: bigint, dst: bigint): { dist: number; count: number } | undefined {
  const dist = new Map([[src, 0]]);
  const count = new Map([[src, 1]]);
  const q = [src];
  while (q.length) {
    const u = q.shift()!;
    for (const l of links.filter((x) => x.src.dpid === u)) {
      const v = l.dst.dpid;
      if (!dist.has(v)) {
        dist.set(v, dist.get(u)! + 1);
        count.set(v, 0);
        q.push(v);
      }
      if (dist.get(v) === dist.get(u)! + 1) count.set(v, count.get(v)! + count.get(u)!);
    }
  }
  return dist.has(dst) ? { dist: dist.get(dst)!, count: count.get(dst)! } : undefined;
}

describe('topology/graph: arbitrary graphs', () => {
  it('finds all shortest paths in graphs that are not leaf-spine', () => {
    const arb = fc.record({
      n: fc.integer({ min: 2, max: 9 }),
      extra: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 12 }),
      parents: fc.array(fc.nat(), { minLength: 9, maxLength: 9 }),
    });
    fc.assert(
      fc.property(arb, ({ n, extra, parents }) => {
        const ids = Array.from({ length: n }, (_, i) => BigInt(1000 - i * 7));
        const nextPort = new Map(ids.map((d) => [d, 1]));
        const wires: Wire[] = [];
        const wire = (x: bigint, y: bigint): void => {
          if (x === y) return;
          const px = nextPort.get(x)!;
          const py = nextPort.get(y)!;
          nextPort.set(x, px + 1);
          nextPort.set(y, py + 1);
          wires.push({ a: { dpid: x, portNo: px }, b: { dpid: y, portNo: py } });
        };
        for (let i = 1; i < n; i++) wire(ids[i]!, ids[parents[i]! % i]!);
        for (const [x, y] of extra) wire(ids[x % n]!, ids[y % n]!);
        const switches = ids.map((d) => ({ dpid: d, ports: Array.from({ length: nextPort.get(d)! - 1 }, (_, k) => port(d, k + 1)) }));
        const g = graphOf({ switches, wires });
        for (const s of ids) {
          for (const d of ids) {
            const paths = g.paths(s, d);
            const ref = countShortest(g.links(), s, d)!;
            expect(paths.length, `${s}→${d}`).to.equal(Math.min(ref.count, 4096));
            const seen = new Set<string>();
            for (const p of paths) {
              expect(p.length).to.equal(ref.dist);
              let at = s;
              for (const l of p) {
                expect(l.src.dpid).to.equal(at);
                at = l.dst.dpid;
              }
              expect(at).to.equal(d);
              seen.add(p.map((l) => `${l.src.dpid}:${l.src.portNo}`).join());
            }
            expect(seen.size, 'distinct').to.equal(paths.length);
          }
        }
        expectSpanningTree(g, ids);
        for (const d of ids) expect(['leaf', 'spine', 'unknown']).to.include(g.switch(d)!.role);
      }),
      { numRuns: 100 },
    );
  });
  it('gives no path between disconnected switches and a flood forest', () => {
    const g = graphOf({ switches: [{ dpid: 1n, ports: [port(1n, 1)] }, { dpid: 2n, ports: [port(2n, 1)] }], wires: [] });
    expect(g.paths(1n, 2n)).to.deep.equal([]);
    expect(g.floodPorts(1n, 0)).to.deep.equal([1]);
    expect(g.floodPorts(1n, 1)).to.deep.equal([]);
    expect(g.floodPorts(9n, 1)).to.deep.equal([]);
  });
});

describe('topology/graph: mutations and events', () => {
  const spec = leafSpine(2, 2, 1);
  const [s1, s2] = spec.spines as [bigint, bigint];
  const [l1, l2] = spec.leaves as [bigint, bigint];

  it('reports switchAdded then topologyChanged', () => {
    const g = new FabricGraph();
    const ev = g.addSwitch(s1, spec.switches[0]!.ports);
    expect(types(ev)).to.deep.equal(['switchAdded', 'topologyChanged']);
    expect(g.switch(s1)?.dpidHex).to.equal('0000000000000101');
  });
  it('ignores reserved ports and unknown switches', () => {
    const g = new FabricGraph();
    g.addSwitch(1n, [port(1n, 1), { ...port(1n, 0xfffffffe), name: 'LOCAL' }]);
    expect([...g.switch(1n)!.ports.keys()]).to.deep.equal([1]);
    expect(g.linkSeen({ dpid: 1n, portNo: 1 }, { dpid: 2n, portNo: 1 }, 0)).to.deep.equal([]);
    expect(g.linkSeen({ dpid: 1n, portNo: 1 }, { dpid: 1n, portNo: 1 }, 0)).to.deep.equal([]);
  });
  it('linkUp once, refresh silently', () => {
    const g = graphOf({ switches: spec.switches, wires: [] });
    const a: PortRef = { dpid: l1, portNo: 1 };
    const b: PortRef = { dpid: s1, portNo: 1 };
    expect(types(g.linkSeen(a, b, 5))).to.deep.equal(['linkUp', 'topologyChanged']);
    expect(g.linkSeen(a, b, 9)).to.deep.equal([]);
    expect(g.links()[0]!.lastSeenMs).to.equal(9);
    expect(g.isFabricPort(a) && g.isFabricPort(b)).to.equal(true);
  });
  it('a port going down removes its links in both directions at once', () => {
    const g = graphOf(spec);
    expect(g.paths(l1, l2)).to.have.length(2);
    const ev = g.updatePort(l1, 2, port(l1, 1, 10e9, false));
    expect(types(ev)).to.deep.equal(['portChanged', 'linkDown', 'linkDown', 'topologyChanged']);
    expect(ev.filter((e) => e.type === 'linkDown').map((e) => (e as { reason: string }).reason)).to.deep.equal(['portDown', 'portDown']);
    expect(g.links()).to.have.length(6);
    expect(g.paths(l1, l2), 'cache invalidated').to.have.length(1);
    expect(g.paths(l1, l2)[0]![0]!.dst.dpid).to.equal(s2);
  });
  it('a deleted port (OFPPR_DELETE) removes its links', () => {
    const g = graphOf(spec);
    const ev = g.updatePort(s2, 1, port(s2, 2));
    expect(types(ev).filter((t) => t === 'linkDown')).to.have.length(2);
    expect(g.switch(s2)!.ports.has(2)).to.equal(false);
  });
  it('switch removal drops its links and the switch', () => {
    const g = graphOf(spec);
    const ev = g.removeSwitch(s1);
    expect(types(ev)).to.deep.equal(['linkDown', 'linkDown', 'linkDown', 'linkDown', 'switchRemoved', 'topologyChanged']);
    expect(g.links()).to.have.length(4);
    expect(g.removeSwitch(s1)).to.deep.equal([]);
  });
  it('expires links not seen since a time (a refresh counts, even after links() was read)', () => {
    const g = graphOf(spec);
    expect(g.links()).to.have.length(8);
    g.linkSeen({ dpid: l1, portNo: 1 }, { dpid: s1, portNo: 1 }, 100);
    const ev = g.expireLinks(50);
    expect(types(ev).filter((t) => t === 'linkDown')).to.have.length(7);
    expect(g.links()).to.have.length(1);
  });
  it('a cable moved to another port replaces the old link', () => {
    const g = graphOf(spec);
    const ev = g.linkSeen({ dpid: l1, portNo: 1 }, { dpid: s1, portNo: 2 }, 1);
    expect(types(ev)).to.include.members(['linkDown', 'linkUp']);
    expect(g.links().filter((l) => l.dst.dpid === s1 && l.dst.portNo === 2)).to.have.length(1);
  });
  it('capacity: per link, else config default, else the smaller port speed, else fallback', () => {
    const sw = (d: bigint, speed: number) => ({ dpid: d, ports: [port(d, 1, speed)] });
    const wires = [{ a: { dpid: 1n, portNo: 1 }, b: { dpid: 2n, portNo: 1 } }];
    const cap = (g: FabricGraph): number[] => g.links().map((l) => l.capacityBps);
    expect(cap(graphOf({ switches: [sw(1n, 1e9), sw(2n, 1e8)], wires }))).to.deep.equal([1e8, 1e8]);
    expect(cap(graphOf({ switches: [sw(1n, 0), sw(2n, 0)], wires }))).to.deep.equal([1e9, 1e9]);
    expect(cap(graphOf({ switches: [sw(1n, 1e9), sw(2n, 1e8)], wires }, new FabricGraph({ defaultCapacityBps: 5e7 })))).to.deep.equal([5e7, 5e7]);
    const per = new FabricGraph({ defaultCapacityBps: 5e7, linkCapacityBps: { '0000000000000001:1': 2e7 } });
    expect(cap(graphOf({ switches: [sw(1n, 1e9), sw(2n, 1e8)], wires }, per))).to.deep.equal([2e7, 2e7]);
  });
  it('a port speed change updates the capacity of its links', () => {
    const g = graphOf(spec);
    g.updatePort(l1, 2, port(l1, 1, 1e8));
    expect(g.links().filter((l) => l.src.dpid === l1 && l.src.portNo === 1)[0]!.capacityBps).to.equal(1e8);
  });
});

describe('topology/graph: hosts', () => {
  const spec = leafSpine(2, 2, 2);
  const [l1, l2] = spec.leaves as [bigint, bigint];
  const hostPort = (leaf: bigint, k = 0): PortRef => ({ dpid: leaf, portNo: 3 + k });
  const mac = '0a:00:00:00:00:01';

  it('learns a host from ARP on an edge port: hostAdded, hostIpLearned, topologyChanged', () => {
    const g = graphOf(spec);
    const ev = g.learnFromFrame(l1, 3, arpFrom(mac, '10.0.0.1'), 7);
    expect(types(ev)).to.deep.equal(['hostAdded', 'hostIpLearned', 'topologyChanged']);
    expect(g.hostByIpv4('10.0.0.1')).to.deep.equal({ mac, ipv4: '10.0.0.1', attachment: hostPort(l1), lastSeenMs: 7 });
    expect(g.hostByMac(mac.toUpperCase())?.mac).to.equal(mac);
    expect(g.learnFromFrame(l1, 3, arpFrom(mac, '10.0.0.1'), 8)).to.deep.equal([]);
    expect(g.hostByMac(mac)?.lastSeenMs).to.equal(8);
  });
  it('does not learn on fabric ports, on unknown switches, or from group MACs', () => {
    const g = graphOf(spec);
    expect(g.learnFromFrame(l1, 1, arpFrom(mac, '10.0.0.1'), 0)).to.deep.equal([]);
    expect(g.learnFromFrame(77n, 3, arpFrom(mac, '10.0.0.1'), 0)).to.deep.equal([]);
    expect(g.learnFromFrame(l1, 3, arpFrom('01:00:5e:00:00:01', '10.0.0.1'), 0)).to.deep.equal([]);
    expect(g.hosts()).to.deep.equal([]);
  });
  it('learns from IPv4 (warm ARP caches) and raises hostIpLearned', () => {
    const g = graphOf(spec);
    const frame: ParsedFrame = { ethDst: '0a:00:00:00:00:02', ethSrc: mac, ethertype: 0x0800, ipv4: { src: '10.0.0.1', dst: '10.0.1.1', proto: 6, dscp: 0, ttl: 64 } };
    expect(types(g.learnFromFrame(l1, 4, frame, 0))).to.deep.equal(['hostAdded', 'hostIpLearned', 'topologyChanged']);
    const other = { ...frame, ipv4: { ...frame.ipv4!, src: '10.7.7.7' } };
    expect(g.learnFromFrame(l1, 4, other, 1), 'IPv4 does not replace a known address').to.deep.equal([]);
    expect(types(g.learnFromFrame(l1, 4, arpFrom(mac, '10.0.0.9'), 2)), 'ARP does').to.deep.equal(['hostIpLearned', 'topologyChanged']);
    expect(g.hostByIpv4('10.0.0.1')).to.equal(undefined);
  });
  it('a host that moves updates its attachment (hostMoved with from)', () => {
    const g = graphOf(spec);
    g.learnFromFrame(l1, 3, arpFrom(mac, '10.0.0.1'), 0);
    const ev = g.learnFromFrame(l2, 4, arpFrom(mac, '10.0.0.1'), 1);
    expect(types(ev)).to.deep.equal(['hostMoved', 'topologyChanged']);
    expect(ev[0]).to.deep.include({ from: hostPort(l1) });
    expect(g.hostByIpv4('10.0.0.1')?.attachment).to.deep.equal(hostPort(l2, 1));
  });
  it('an IP claimed by another MAC moves to it', () => {
    const g = graphOf(spec);
    g.learnFromFrame(l1, 3, arpFrom(mac, '10.0.0.1'), 0);
    g.learnFromFrame(l1, 4, arpFrom('0a:00:00:00:00:02', '10.0.0.1'), 1);
    expect(g.hostByIpv4('10.0.0.1')?.mac).to.equal('0a:00:00:00:00:02');
    expect(g.hostByMac(mac)?.ipv4).to.equal(undefined);
  });
  it('a host learnt on a port later found to be a fabric port is removed', () => {
    const g = new FabricGraph();
    for (const s of spec.switches) g.addSwitch(s.dpid, s.ports);
    g.learnFromFrame(l1, 1, arpFrom(mac, '10.0.0.1'), 0);
    expect(g.hosts()).to.have.length(1);
    const w = spec.wires[0]!;
    const ev = g.linkSeen(w.b, w.a, 1);
    expect(types(ev)).to.deep.equal(['linkUp', 'hostRemoved', 'topologyChanged']);
    expect(g.hosts()).to.deep.equal([]);
    expect(g.hostByIpv4('10.0.0.1')).to.equal(undefined);
  });
  it('roles: a switch between leaves is a spine; one next to a non-leaf is unknown', () => {
    const sw = (d: bigint, n: number) => ({ dpid: d, ports: Array.from({ length: n }, (_, k) => port(d, k + 1)) });
    const w = (a: bigint, pa: number, b: bigint, pb: number): Wire => ({ a: { dpid: a, portNo: pa }, b: { dpid: b, portNo: pb } });
    const g = graphOf({ switches: [sw(1n, 2), sw(2n, 2), sw(3n, 2)], wires: [w(1n, 1, 2n, 1), w(3n, 1, 2n, 2)] });
    expect([1n, 2n, 3n].map((d) => g.switch(d)?.role)).to.deep.equal(['leaf', 'spine', 'leaf']);
    const g2 = graphOf({ switches: [sw(1n, 2), sw(2n, 3), sw(3n, 2), sw(4n, 1)], wires: [w(1n, 1, 2n, 1), w(3n, 1, 2n, 2), w(4n, 1, 2n, 3)] });
    expect([1n, 2n, 3n, 4n].map((d) => g2.switch(d)?.role)).to.deep.equal(['leaf', 'unknown', 'leaf', 'unknown']);
  });
});
