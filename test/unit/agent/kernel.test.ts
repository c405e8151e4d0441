/**
 * In-kernel flowlet detection and classes, the pure parts: the nftables table text (agent/nft-rules.ts),
 * the tracker over logged starts and polls of the live set (agent/kernel-detector.ts), NFLOG records
 * (agent/capture.ts, a capture made here), and the one long-lived `nft -i` session (agent/nft-session.ts)
 * against a stand-in nft that answers like nft 1.0.6 does.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quietLogger } from '../../../lib/log.js';
import { nflogPayload, nflogPrefix, PacketCapture } from '../../../agent/capture.js';
import type { OutgoingPacket } from '../../../agent/detector.js';
import { KernelFlowletTracker } from '../../../agent/kernel-detector.js';
import { classifyLines, classSteps, crossingLines, CROSSED_PREFIX, noPayloadElements, parseLiveSet, tableLines, type LiveElement } from '../../../agent/nft-rules.js';
import { dscpOfPriority, priorityOfBytes } from '../../../agent/dscp.js';
import { NftSession } from '../../../agent/nft-session.js';
import type { FiveTuple, Thresholds } from '../../../protocol/agent.js';

const TH: Thresholds = { thresholdsBytes: [100_000, 1_000_000, 10_000_000], dscpByPriority: [46, 26, 10, 0] };
const F: FiveTuple = { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 40000, dport: 5001 };
const T0 = 1_700_000_000_000_000;
const ms = (n: number): number => T0 + n * 1000;
const el = (bytes: number, packets: number, flow: FiveTuple = F): LiveElement => ({ flow, bytes, packets });

describe('agent: nftables table (in-kernel detection and PIAS classes)', () => {
  it('classes: the first T bytes of a message in the top class, then one step per threshold', () => {
    expect(classSteps(TH)).to.deep.equal({ topDscp: 46, steps: [{ overBytes: 100_000, dscp: 26 }, { overBytes: 1_000_000, dscp: 10 }, { overBytes: 10_000_000, dscp: 0 }] });
    expect(classSteps({ thresholdsBytes: [50_000], dscpByPriority: [46, 0] })).to.deep.equal({ topDscp: 46, steps: [{ overBytes: 50_000, dscp: 0 }] });
    expect(classSteps({ thresholdsBytes: [5, 5, 9], dscpByPriority: [46, 26, 10, 0] }), 'a repeated threshold leaves its class empty')
      .to.deep.equal({ topDscp: 46, steps: [{ overBytes: 5, dscp: 10 }, { overBytes: 9, dscp: 0 }] });
    expect(classSteps({ thresholdsBytes: [0, 10], dscpByPriority: [46, 26, 0] }), 'a zero threshold empties the top class')
      .to.deep.equal({ topDscp: 26, steps: [{ overBytes: 10, dscp: 0 }] });
    expect(classSteps({ thresholdsBytes: [], dscpByPriority: [46] })).to.deep.equal({ topDscp: 46, steps: [] });
  });

  it('property: the class of a message\'s byte count is the one priorityOfBytes gives (the agent\'s JavaScript model)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { maxLength: 7 }), fc.integer({ min: 1, max: 2e9 }), (raw, sent) => {
      const thresholdsBytes = [...raw].sort((a, b) => a - b);
      const t: Thresholds = { thresholdsBytes, dscpByPriority: [...thresholdsBytes.map((_, i) => i + 1), 0] };
      const { topDscp, steps } = classSteps(t);
      // the nft rules: the largest step whose quota `sent` exceeds decides; else the top class
      const nft = [...steps].reverse().find((s) => sent > s.overBytes)?.dscp ?? topDscp;
      // PIAS: a message that has sent `sent` bytes (this packet's last byte included) is in the class of its (sent − 1)-th byte
      expect(nft).to.equal(dscpOfPriority(priorityOfBytes(sent - 1, t), t));
    }));
  });

  it('segments without payload: doff 5..15 with the matching IPv4 total length', () => {
    expect(noPayloadElements()).to.match(/^5 \. 40, 6 \. 44, .* 15 \. 80$/);
  });

  it('the table: detection (live set, start log, update) before marking (overrides, then PIAS by the message\'s bytes); ACKs on top', () => {
    const lines = tableLines({ idleGapMs: 100, nflogGroup: 7, maxFlowlets: 1000, thresholds: TH });
    const text = lines.join('\n');
    expect(lines.slice(0, 3)).to.deep.equal(['add table ip rivulet', 'delete table ip rivulet', 'add table ip rivulet']);
    expect(text).to.contain('add set ip rivulet live { typeof ip saddr . ip daddr . meta l4proto . th sport . th dport ; size 1000 ; flags dynamic,timeout ; timeout 100ms ; counter ; }');
    const rules = lines.filter((l) => l.startsWith('add rule ip rivulet output '));
    expect(rules.map((r) => r.replace('add rule ip rivulet output ', ''))).to.deep.equal([
      'oifname "lo" accept',
      'meta l4proto != { tcp, udp } accept',
      'meta l4proto tcp tcp doff . ip length @nopayload jump ack',
      'ip saddr . ip daddr . meta l4proto . th sport . th dport != @live limit rate 2000/second burst 200 packets log group 7 snaplen 80 queue-threshold 1',
      'update @live { ip saddr . ip daddr . meta l4proto . th sport . th dport }',
      'ip saddr . ip daddr . meta l4proto . th sport . th dport @big update @big { ip saddr . ip daddr . meta l4proto . th sport . th dport }',
      'ip saddr . ip daddr . meta l4proto . th sport . th dport != @big jump young',
      'ip saddr . ip daddr . meta l4proto . th sport . th dport vmap @classes',
      'jump classify',
    ]);
    expect(text).to.contain('add set ip rivulet sent0 { typeof ip saddr . ip daddr . meta l4proto . th sport . th dport ; size 1000 ; flags dynamic,timeout ; timeout 250ms ; }');
    expect(text).to.contain('add set ip rivulet sent6 {');
    const classify = lines.filter((l) => l.startsWith('add rule ip rivulet classify ')).map((r) => r.replace('add rule ip rivulet classify ', ''));
    expect(classify, 'from the largest threshold down, then the top class').to.deep.equal([
      'update @sent2 { ip saddr . ip daddr . meta l4proto . th sport . th dport quota over 10000000 bytes } goto dscp0',
      'update @sent1 { ip saddr . ip daddr . meta l4proto . th sport . th dport quota over 1000000 bytes } goto dscp10',
      'update @sent0 { ip saddr . ip daddr . meta l4proto . th sport . th dport quota over 100000 bytes } goto dscp26',
      'goto dscp46',
    ]);
    expect(lines.filter((l) => l.startsWith('add rule ip rivulet ack ')), 'ACKs: the top class').to.deep.equal(['add rule ip rivulet ack goto dscp46']);
    expect(tableLines({ idleGapMs: 100, maxFlowlets: 10, messageGapMs: 40 }).join('\n')).to.contain('size 10 ; flags dynamic,timeout ; timeout 40ms ; }');
    expect(text).to.contain('add rule ip rivulet dscp0 ip dscp set 0 counter accept');
    expect(lines.filter((l) => l.startsWith('add rule ip rivulet young ')), 'no crossing rule without a threshold').to.deep.equal([]);
    const plain = tableLines({ idleGapMs: 100, maxFlowlets: 1000 }).join('\n');
    expect(plain, 'packet detection: no live set').to.not.contain('@live');
    expect(classifyLines(undefined)).to.deep.equal(['flush chain ip rivulet classify', 'flush chain ip rivulet ack', ...[0, 1, 2, 3, 4, 5, 6].map((i) => `flush set ip rivulet sent${i}`), 'add rule ip rivulet ack accept']);
  });

  it('the crossing of the small-flowlet threshold: a quota per flowlet (timeout = the gap), logged once with its prefix', () => {
    const lines = tableLines({ idleGapMs: 100, nflogGroup: 7, maxFlowlets: 1000, smallFlowletBytes: 50_000 });
    const text = lines.join('\n');
    expect(text).to.contain('add set ip rivulet young { typeof ip saddr . ip daddr . meta l4proto . th sport . th dport ; size 1000 ; flags dynamic,timeout ; timeout 100ms ; }');
    expect(text).to.contain('add set ip rivulet big { typeof ip saddr . ip daddr . meta l4proto . th sport . th dport ; size 1000 ; flags dynamic,timeout ; timeout 100ms ; }');
    const rule = 'add rule ip rivulet young update @young { ip saddr . ip daddr . meta l4proto . th sport . th dport quota over 49999 bytes } '
      + 'update @big { ip saddr . ip daddr . meta l4proto . th sport . th dport } limit rate 2000/second burst 200 packets '
      + `log prefix "${CROSSED_PREFIX}" group 7 snaplen 80 queue-threshold 1`;
    expect(lines.filter((l) => l.startsWith('add rule ip rivulet young '))).to.deep.equal([rule]);
    expect(crossingLines({ smallFlowletBytes: 50_000, nflogGroup: 7 })).to.deep.equal(['flush chain ip rivulet young', 'flush set ip rivulet young', rule]);
    expect(lines.indexOf('add chain ip rivulet young'), 'the chain exists before its rule').to.be.lessThan(lines.indexOf(rule));
  });

  it('reads nft -j listings of the live set; skips elements it cannot read', () => {
    const json = '{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "ip", "name": "live", "table": "rivulet", "elem": ['
      + '{"elem": {"val": {"concat": ["10.0.0.1", "10.0.0.2", "tcp", 40000, 5001]}, "expires": 0, "counter": {"packets": 30, "bytes": 45000}}},'
      + '{"elem": {"val": {"concat": ["10.0.0.1", "10.0.0.3", "udp", 1, 2]}, "counter": {"packets": 1, "bytes": 100}}},'
      + '{"elem": {"val": {"concat": ["10.0.0.1", "10.0.0.3", "icmp", 8, 0]}, "counter": {"packets": 1, "bytes": 84}}},'
      // nft -p (the agent's session) prints the protocol as its number
      + '{"elem": {"val": {"concat": ["10.0.0.1", "10.0.0.4", 6, 3, 4]}, "counter": {"packets": 2, "bytes": 3000}}}]}}]}';
    expect(parseLiveSet(json)).to.deep.equal([
      el(45000, 30), el(100, 1, { src: '10.0.0.1', dst: '10.0.0.3', proto: 17, sport: 1, dport: 2 }),
      el(3000, 2, { src: '10.0.0.1', dst: '10.0.0.4', proto: 6, sport: 3, dport: 4 }),
    ]);
    expect(parseLiveSet('{"nftables": [{"set": {"name": "live"}}]}')).to.deep.equal([]);
    expect(() => parseLiveSet('Error: nope')).to.throw(SyntaxError);
  });
});

describe('agent: kernel flowlet tracker', () => {
  const make = () => new KernelFlowletTracker({ idleGapMs: 100, smallFlowletBytes: 50_000, progressIntervalMs: 500 });

  it('a logged start is a flowlet at once; polls bring bytes and progress; a missing element ends it', () => {
    const k = make();
    expect(k.started({ tsUs: ms(0), flow: F, ipBytes: 1500 })).to.deep.equal([{ type: 'start', start: { id: 'f1', flow: F, firstPacketEpochUs: ms(0), bytes: 1500 } }]);
    expect(k.snapshot(ms(50), ms(51), [el(30_000, 20)])).to.deep.equal([]);
    expect(k.snapshot(ms(100), ms(101), [el(60_000, 40)])).to.deep.equal([{ type: 'progress', progress: { id: 'f1', bytes: 60_000, atEpochUs: ms(101) } }]);
    expect(k.snapshot(ms(150), ms(151), [el(90_000, 60)])).to.deep.equal([]);
    expect(k.snapshot(ms(650), ms(651), [el(90_001, 61)])).to.deep.equal([{ type: 'progress', progress: { id: 'f1', bytes: 90_001, atEpochUs: ms(651) } }]);
    expect(k.hasLive(F)).to.equal(true);
    expect(k.snapshot(ms(800), ms(801), [])).to.deep.equal([{ type: 'end', end: { id: 'f1', lastPacketEpochUs: ms(650), bytes: 90_001 } }]);
    expect(k.flowlets()).to.deep.equal([]);
    expect(k.hasLive(F)).to.equal(false);
  });

  it('a start logged while a poll was under way is not ended by that poll', () => {
    const k = make();
    k.started({ tsUs: ms(10), flow: F, ipBytes: 100 });
    expect(k.snapshot(ms(5), ms(12), [])).to.deep.equal([]);
    expect(k.snapshot(ms(20), ms(21), [])).to.have.length(1);
  });

  it('a counter that went down is a new flowlet of the same 5-tuple; a second log within 2 ms is the same one', () => {
    const k = make();
    k.started({ tsUs: ms(0), flow: F, ipBytes: 1500 });
    expect(k.started({ tsUs: ms(1), flow: F, ipBytes: 1500 })).to.deep.equal([]);
    k.snapshot(ms(50), ms(50), [el(15_000, 10)]);
    const ev = k.snapshot(ms(300), ms(300), [el(3000, 2)]);
    expect(ev.map((e) => e.type)).to.deep.equal(['end', 'start']);
    expect(k.flowlets().map((f) => [f.id, f.bytes])).to.deep.equal([['f2', 3000]]);
    const ev2 = k.started({ tsUs: ms(600), flow: F, ipBytes: 100 });
    expect(ev2.map((e) => e.type), 'a later log: the old one ended unseen').to.deep.equal(['end', 'start']);
  });

  it('a logged crossing is the first progress at once (bytes at least the threshold); later ones come with polls', () => {
    const k = make();
    k.started({ tsUs: ms(0), flow: F, ipBytes: 1500 });
    k.snapshot(ms(5), ms(6), [el(10_000, 7)]);
    expect(k.anyLarge, 'under the threshold').to.equal(false);
    expect(k.crossed({ tsUs: ms(30), flow: F, ipBytes: 1500 })).to.deep.equal([{ type: 'progress', progress: { id: 'f1', bytes: 50_000, atEpochUs: ms(30) } }]);
    expect(k.anyLarge).to.equal(true);
    expect(k.crossed({ tsUs: ms(31), flow: F, ipBytes: 1500 }), 'once').to.deep.equal([]);
    expect(k.snapshot(ms(100), ms(101), [el(70_000, 50)]), 'progress every 500 ms after it').to.deep.equal([]);
    expect(k.snapshot(ms(540), ms(541), [el(90_000, 60)])).to.deep.equal([{ type: 'progress', progress: { id: 'f1', bytes: 90_000, atEpochUs: ms(541) } }]);
    expect(k.snapshot(ms(700), ms(701), [])).to.deep.equal([{ type: 'end', end: { id: 'f1', lastPacketEpochUs: ms(540), bytes: 90_000 } }]);
    const G = { ...F, sport: 40001 };
    expect(k.crossed({ tsUs: ms(800), flow: G, ipBytes: 1500 }).map((e) => e.type), 'its start log was dropped: it starts at the crossing').to.deep.equal(['start', 'progress']);
  });

  it('an element whose start log was lost becomes a flowlet at its second poll', () => {
    const k = make();
    expect(k.snapshot(ms(0), ms(1), [el(70_000, 50)])).to.deep.equal([]);
    const ev = k.snapshot(ms(50), ms(51), [el(80_000, 55)]);
    expect(ev.map((e) => e.type)).to.deep.equal(['start', 'progress']);
    expect(ev[0]).to.deep.include({ start: { id: 'f1', flow: F, firstPacketEpochUs: ms(0), bytes: 80_000 } });
  });

  it('declarations attach to the next logged flowlet of the 5-tuple; maxFlowlets bounds the table', () => {
    const k = new KernelFlowletTracker({ maxFlowlets: 1 });
    k.declare({ dst: F.dst, dport: F.dport, proto: 6, sizeBytes: 1234 }, ms(0));
    const [s] = k.started({ tsUs: ms(1), flow: F, ipBytes: 100 });
    expect(s).to.deep.include({ start: { id: 'f1', flow: F, firstPacketEpochUs: ms(1), bytes: 100, sizeBytes: 1234 } });
    expect(k.started({ tsUs: ms(2), flow: { ...F, sport: 1 }, ipBytes: 100 })).to.deep.equal([]);
    expect(k.overflow).to.equal(1);
  });

  it('a declared size not yet sent when its flowlet ends carries over to the 5-tuple\'s next flowlet', () => {
    const k = make();
    k.declare({ dst: F.dst, dport: F.dport, proto: 6, sport: F.sport, sizeBytes: 200 * 1448, transferId: 't3' }, ms(0));
    k.started({ tsUs: ms(1), flow: F, ipBytes: 1500 });
    k.snapshot(ms(100), ms(101), [el(150_000, 100)]); // 100 segments of 1448 bytes
    expect(k.snapshot(ms(400), ms(401), []).map((e) => e.type)).to.deep.equal(['end']);
    const [s] = k.started({ tsUs: ms(500), flow: F, ipBytes: 1500 });
    expect(s).to.deep.include({ start: { id: 'f2', flow: F, firstPacketEpochUs: ms(500), bytes: 1500, sizeBytes: 100 * 1448, transferId: 't3' } });
  });

  it('a late declaration re-starts the live flowlet under a new id; polls go on under it', () => {
    const k = make();
    k.started({ tsUs: ms(1), flow: F, ipBytes: 1500 });
    k.snapshot(ms(20), ms(21), [el(3000, 2)]);
    const ev = k.declare({ dst: F.dst, dport: F.dport, proto: 6, sport: F.sport, sizeBytes: 100 * 1448, transferId: 't4' }, ms(25));
    expect(ev.map((e) => e.type)).to.deep.equal(['end', 'start']);
    expect(ev[1]).to.deep.include({ start: { id: 'f2', flow: F, firstPacketEpochUs: ms(1), bytes: 3000, sizeBytes: 100 * 1448, transferId: 't4' } });
    expect(k.byId('f1')).to.equal(undefined);
    expect(k.byId('f2')).to.deep.include({ bytes: 3000 });
    const next = k.snapshot(ms(40), ms(41), [el(80_000, 55)]);
    expect(next).to.deep.equal([{ type: 'progress', progress: { id: 'f2', bytes: 80_000, atEpochUs: ms(41) } }]);
  });

  it('property: every start has exactly one end once the set is empty, and end bytes are the last polled', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 1, max: 5000 })), { maxLength: 60 }), (steps) => {
      const k = make();
      const flows = [0, 1, 2, 3].map((i) => ({ ...F, sport: 1000 + i }));
      const bytes = new Map<number, number>();
      const open = new Set<string>();
      let t = 0;
      const apply = (evs: ReturnType<KernelFlowletTracker['snapshot']>): void => {
        for (const e of evs) {
          if (e.type === 'start') {
            expect(open.has(e.start.id)).to.equal(false);
            open.add(e.start.id);
          } else if (e.type === 'end') {
            expect(open.delete(e.end.id)).to.equal(true);
          }
        }
      };
      for (const [i, log, b] of steps) {
        t += 10;
        if (log && !bytes.has(i)) {
          bytes.set(i, b);
          apply(k.started({ tsUs: ms(t), flow: flows[i]!, ipBytes: b }));
        } else if (bytes.has(i)) bytes.set(i, bytes.get(i)! + b);
        t += 10;
        apply(k.snapshot(ms(t), ms(t), [...bytes].map(([j, n]) => el(n, n, flows[j]!))));
        if (b % 3 === 0) bytes.delete(i);
      }
      apply(k.snapshot(ms(t + 10), ms(t + 10), []));
      apply(k.snapshot(ms(t + 20), ms(t + 20), []));
      expect(open.size).to.equal(0);
      expect(k.flowlets()).to.deep.equal([]);
    }));
  });
});

describe('agent: NFLOG records', () => {
  const pcap = readFileSync(new URL('../../../../test/fixtures/captures/nflog-flowlet-starts.pcap', import.meta.url));

  it('the IPv4 packet of an NFLOG record (NFULA_PAYLOAD), from a capture made here', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rvag-nflog-'));
    try {
      const file = join(dir, 'x.pcap');
      writeFileSync(file, pcap);
      const got: OutgoingPacket[] = [];
      const cap = new PacketCapture({ dev: 'eth0', nflogGroup: 7, log: quietLogger(), onPacket: (p) => got.push(p), command: ['sh', '-c', `cat ${file}; exec sleep 5`], restartMs: 60_000 });
      cap.start();
      const t0 = Date.now();
      while (got.length < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      await cap.stop();
      const flow = { src: '10.97.0.1', dst: '10.97.0.2', proto: 6, sport: 42494, dport: 5001 };
      expect(got.map((p) => ({ flow: p.flow, ipBytes: p.ipBytes, payloadBytes: p.payloadBytes }))).to.deep.equal([
        { flow, ipBytes: 7292, payloadBytes: 7240 },
        { flow, ipBytes: 65212, payloadBytes: 65160 },
      ]);
      expect(got[1]!.tsUs - got[0]!.tsUs).to.be.within(400_000, 410_000);
      expect(cap.malformed).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the prefix of an NFLOG record (NFULA_PREFIX, NUL-terminated): crossings have one, starts none', () => {
    const prefixTlv = Buffer.from([16, 0, 10, 0, ...Buffer.from(`${CROSSED_PREFIX}\0`)]);
    expect(prefixTlv.length).to.equal(16);
    expect(nflogPrefix(Buffer.concat([Buffer.from([2, 0, 0, 7]), prefixTlv, Buffer.from([8, 0, 9, 0, 0x45, 0, 0, 20])]))).to.equal(CROSSED_PREFIX);
    expect(nflogPrefix(Buffer.from([2, 0, 0, 7, 8, 0, 9, 0, 0x45, 0, 0, 20]))).to.equal('');
    expect(nflogPrefix(pcap.subarray(24 + 16, 24 + 16 + pcap.readUInt32LE(24 + 8))), 'a start from the capture made here').to.equal('');
  });

  it('malformed TLVs give no packet', () => {
    expect(nflogPayload(Buffer.from([2, 0, 0, 7, 3, 0, 9, 0]))).to.equal(undefined); // length 3 < 4
    expect(nflogPayload(Buffer.from([2, 0, 0, 7, 40, 0, 9, 0, 1, 2]))).to.equal(undefined); // runs past the end
    expect(nflogPayload(Buffer.from([2, 0, 0, 7, 8, 0, 9, 0, 0x45, 0, 0, 20]))).to.deep.equal(Buffer.from([0x45, 0, 0, 20]));
  });
});

describe('agent: one long-lived nft -i', () => {
  /** answers like nft -j -i: listings as one JSON line, errors as text lines, nothing for a good change */
  const FAKE = `
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (l) => {
  if (l.includes('hang')) return;
  if (l.includes('bad')) { process.stdout.write('Error: syntax error, unexpected bad\\n' + l + '\\n^^^\\n'); return; }
  if (l.startsWith('list home')) process.stdout.write(JSON.stringify({ nftables: [{ home: process.env.HOME, pid: process.pid }] }) + '\\n');
  else if (l.startsWith('list')) process.stdout.write(JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6' } }, { echo: l }] }) + '\\n');
});`;
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rvag-nft-'));
    writeFileSync(join(dir, 'nft.cjs'), FAKE);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('one process for every request: a change, a listing, a failure (atomic line), in order', async function () {
    this.timeout(15_000);
    const s = new NftSession({ log: quietLogger(), command: ['node', join(dir, 'nft.cjs')] });
    const [a, b, c, d, e, f] = await Promise.all([
      s.run(['add table ip rivulet', 'add chain ip rivulet x']),
      s.run(['list set ip rivulet live']),
      s.run(['add bad thing']),
      s.run(['list set ip rivulet live']),
      s.run(['list set ip bad live']),
      s.run(['list set ip rivulet live']),
    ]);
    expect(e.ok, 'a listing that fails').to.equal(false);
    expect(e.error).to.contain('syntax error').and.contain('list set ip bad live');
    expect(JSON.parse(f.output[0]!).nftables[1], 'the next listing is its own').to.deep.equal({ echo: 'list set ip rivulet live' });
    expect(a).to.deep.equal({ ok: true, output: [] });
    expect(JSON.parse(b.output[0]!).nftables[1]).to.deep.equal({ echo: 'list set ip rivulet live' });
    expect(c.ok).to.equal(false);
    expect(c.error).to.contain('syntax error').and.contain('add bad thing');
    expect(d.ok).to.equal(true);
    expect(s.stats).to.deep.equal({ requests: 6, failures: 2, restarts: 0, recycled: 0 });
    const pid = s.pid;
    await s.run(['list tables']);
    expect(s.pid, 'still the same process').to.equal(pid);
    await s.stop();
    expect((await s.run(['list tables'])).ok).to.equal(false);
  });

  it('a request without an answer times out; nft is restarted for the next one', async function () {
    this.timeout(15_000);
    const s = new NftSession({ log: quietLogger(), command: ['node', join(dir, 'nft.cjs')], timeoutMs: 1500 });
    const pid0 = (await s.run(['list tables']), s.pid);
    // the stand-in ignores a line with "hang": the listing never comes, only the sentinel's document
    const r = await s.run(['hang', 'list hang']);
    expect(r).to.deep.include({ ok: false, error: 'timeout' });
    expect((await s.run(['list tables'])).ok).to.equal(true);
    expect(s.pid).to.not.equal(pid0);
    expect(s.stats.restarts).to.equal(1);
    await s.stop();
  });

  it('nft runs without a history file (HOME=/dev/null) and is replaced after maxRequests requests', async function () {
    this.timeout(15_000);
    const s = new NftSession({ log: quietLogger(), command: ['node', join(dir, 'nft.cjs')], maxRequests: 3 });
    const answers: { home: string; pid: number }[] = [];
    for (let i = 0; i < 7; i++) answers.push(JSON.parse((await s.run(['list home'])).output[0]!).nftables[0] as { home: string; pid: number });
    expect(answers.map((a) => a.home)).to.deep.equal(Array(7).fill('/dev/null'));
    const pids = answers.map((a) => a.pid);
    expect(new Set(pids.slice(0, 3)).size, 'the first three on one process').to.equal(1);
    expect(new Set(pids.slice(3, 6)).size).to.equal(1);
    expect(new Set(pids).size, 'a fresh process every three requests').to.equal(3);
    expect(s.stats).to.deep.include({ requests: 7, failures: 0, restarts: 0, recycled: 2 });
    await s.stop();
  });

  it('a missing nft disables the session', async () => {
    const s = new NftSession({ log: quietLogger(), command: ['/nonexistent/nft'] });
    expect((await s.run(['list tables'])).ok).to.equal(false);
    expect(s.available).to.equal(false);
  });
});
