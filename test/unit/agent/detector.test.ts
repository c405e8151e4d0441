/**
 * agent/detector.ts: flowlets start at the first payload-carrying packet, pure ACKs never start or
 * extend one, idle gaps end them (tick or next packet), progress at the small-flowlet threshold and
 * then periodically, declarations attach to the next matching flowlet (exact sport before wildcard).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { FlowletDetector, type DetectorEvent, type OutgoingPacket } from '../../../agent/detector.js';
import type { FiveTuple } from '../../../protocol/agent.js';

const T0 = 1_700_000_000_000_000;
const A: FiveTuple = { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 40000, dport: 5001 };
const ACKS: FiveTuple = { src: '10.0.0.1', dst: '10.0.0.3', proto: 6, sport: 5001, dport: 40001 };
const U: FiveTuple = { src: '10.0.0.1', dst: '10.0.0.4', proto: 17, sport: 3000, dport: 53 };

const data = (flow: FiveTuple, tsUs: number, payload = 1448): OutgoingPacket => ({ tsUs, flow, ipBytes: payload + 52, payloadBytes: payload });
const types = (evs: readonly DetectorEvent[]): string[] => evs.map((e) => e.type);

describe('agent: flowlet detector', () => {
  it('a flowlet starts at the first data packet and ends after the idle gap (tick)', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 1e9 });
    const ev = d.packet(data(A, T0));
    expect(types(ev)).to.deep.equal(['start']);
    const start = (ev[0] as Extract<DetectorEvent, { type: 'start' }>).start;
    expect(start).to.deep.equal({ id: 'f1', flow: A, firstPacketEpochUs: T0, bytes: 1500 });
    expect(d.packet(data(A, T0 + 50_000))).to.deep.equal([]);
    expect(d.tick(T0 + 150_000)).to.deep.equal([]); // idle 100 ms exactly: not longer than the gap
    expect([d.hasLive(A), d.hasLive({ ...A, sport: A.sport + 1 })]).to.deep.equal([true, false]);
    const end = d.tick(T0 + 150_001);
    expect(end).to.deep.equal([{ type: 'end', end: { id: 'f1', lastPacketEpochUs: T0 + 50_000, bytes: 3000 } }]);
    expect(d.flowlets()).to.have.length(0);
    expect(d.hasLive(A)).to.equal(false);
  });

  it('a packet after the gap ends the old flowlet and starts a new id', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 1e9 });
    d.packet(data(A, T0));
    const ev = d.packet(data(A, T0 + 200_000));
    expect(types(ev)).to.deep.equal(['end', 'start']);
    expect((ev[1] as Extract<DetectorEvent, { type: 'start' }>).start.id).to.equal('f2');
  });

  it('pure ACKs and empty TCP segments neither start nor extend a flowlet; UDP always counts', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 1e9 });
    for (let i = 0; i < 100; i++) expect(d.packet(data(ACKS, T0 + i * 1000, 0))).to.deep.equal([]);
    expect(d.flowlets()).to.have.length(0);
    d.packet(data(A, T0));
    d.packet(data(A, T0 + 90_000, 0)); // an ACK of the same 5-tuple does not keep it alive
    expect(types(d.tick(T0 + 100_001))).to.deep.equal(['end']);
    expect(types(d.packet({ tsUs: T0, flow: U, ipBytes: 28, payloadBytes: 0 }))).to.deep.equal(['start']);
  });

  it('progress once when bytes reach the small-flowlet threshold, then every interval', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 4000, progressIntervalMs: 500 });
    expect(types(d.packet(data(A, T0)))).to.deep.equal(['start']);
    expect(types(d.packet(data(A, T0 + 1000)))).to.deep.equal([]);
    expect(d.packet(data(A, T0 + 2000))).to.deep.equal([{ type: 'progress', progress: { id: 'f1', bytes: 4500, atEpochUs: T0 + 2000 } }]);
    expect(d.packet(data(A, T0 + 3000))).to.deep.equal([]);
    let progress = 0;
    for (let t = 10_000; t <= 1_600_000; t += 10_000) {
      d.packet(data(A, T0 + t));
      progress += d.tick(T0 + t).filter((e) => e.type === 'progress').length;
    }
    expect(progress).to.equal(3); // at +502, +1002, +1502 ms (first tick ≥ 500 ms after the last)
  });

  it('a small flowlet never reports progress', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 50_000 });
    const evs = [...d.packet(data(A, T0)), ...d.tick(T0 + 600_000)];
    expect(types(evs)).to.deep.equal(['start', 'end']);
  });

  it('declarations attach to the next flowlet of the 5-tuple; exact sport wins over wildcard; consumed once', () => {
    const d = new FlowletDetector({ smallFlowletBytes: 1e9 });
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sizeBytes: 1e6, tenant: 'wild' }, T0);
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 2e6, deadlineMs: 50, transferId: 't1', tenant: 'exact' }, T0);
    d.declare({ dst: '10.0.0.9', dport: 5001, proto: 6, sizeBytes: 5 }, T0);
    const s1 = (d.packet(data(A, T0 + 1))[0] as Extract<DetectorEvent, { type: 'start' }>).start;
    expect(s1).to.include({ sizeBytes: 2e6, deadlineMs: 50, transferId: 't1', tenant: 'exact' });
    const B = { ...A, sport: 40002 };
    const s2 = (d.packet(data(B, T0 + 2))[0] as Extract<DetectorEvent, { type: 'start' }>).start;
    expect(s2).to.include({ sizeBytes: 1e6, tenant: 'wild' });
    const C = { ...A, sport: 40003 };
    const s3 = (d.packet(data(C, T0 + 3))[0] as Extract<DetectorEvent, { type: 'start' }>).start;
    expect(s3).to.not.have.property('sizeBytes');
    expect(d.pendingDeclarations()).to.have.length(1);
    d.tick(T0 + 61_000_000); // past the TTL
    expect(d.pendingDeclarations()).to.have.length(0);
  });

  it('a declared size covers every flowlet of its message: the rest carries over an idle gap, a new declaration wins', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 1e9 });
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 100 * 1448, transferId: 't7', tenant: 'a' }, T0);
    const s1 = (d.packet(data(A, T0))[0] as Extract<DetectorEvent, { type: 'start' }>).start;
    expect(s1).to.include({ sizeBytes: 144_800, transferId: 't7', tenant: 'a' });
    for (let i = 1; i < 40; i++) d.packet(data(A, T0 + i * 1000)); // 40 segments, then a stall
    // 300 ms later the same connection sends again: the second flowlet still belongs to t7, 60 segments left
    const ev = d.packet(data(A, T0 + 340_000));
    expect(types(ev)).to.deep.equal(['end', 'start']);
    const s2 = (ev[1] as Extract<DetectorEvent, { type: 'start' }>).start;
    expect(s2).to.include({ id: 'f2', sizeBytes: 60 * 1448, transferId: 't7', tenant: 'a' });
    for (let i = 1; i < 60; i++) d.packet(data(A, T0 + 340_000 + i * 1000)); // the message's last 60 segments
    d.tick(T0 + 1_000_000);
    expect(d.carriedDeclarations(), 'all sent: nothing carried').to.have.length(0);
    // the next message on the kept-alive connection: a stalled first flowlet, then its own declaration wins
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 10 * 1448, transferId: 't8' }, T0 + 1_100_000);
    d.packet(data(A, T0 + 1_100_000));
    d.tick(T0 + 1_300_000);
    expect(d.carriedDeclarations().map((c) => [c.transferId, c.sizeBytes])).to.deep.equal([['t8', 9 * 1448]]);
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 5000, transferId: 't9' }, T0 + 1_400_000);
    const s3 = (d.packet(data(A, T0 + 1_400_000))[0] as Extract<DetectorEvent, { type: 'start' }>).start;
    expect(s3).to.include({ sizeBytes: 5000, transferId: 't9' });
    expect(d.carriedDeclarations()).to.have.length(0);
  });

  it('a late declaration (sent after the first packet) re-starts the live flowlet with it; its size is what is left', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 4000 });
    for (let i = 0; i < 3; i++) d.packet(data(A, T0 + i * 1000)); // 3 segments out, crossed 4000 bytes
    const ev = d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 10 * 1448, transferId: 't1' }, T0 + 5000);
    expect(types(ev)).to.deep.equal(['end', 'start', 'progress']);
    expect(ev[0]).to.deep.equal({ type: 'end', end: { id: 'f1', lastPacketEpochUs: T0 + 2000, bytes: 4500 } });
    const s = (ev[1] as Extract<DetectorEvent, { type: 'start' }>).start;
    expect(s).to.deep.equal({ id: 'f2', flow: A, firstPacketEpochUs: T0, bytes: 4500, sizeBytes: 10 * 1448, transferId: 't1' });
    expect(d.pendingDeclarations(), 'attached, not queued').to.have.length(0);
    // the message goes on under the new id; its rest carries over a stall like any declared message
    for (let i = 3; i < 6; i++) d.packet(data(A, T0 + i * 1000));
    d.tick(T0 + 200_000);
    expect(d.carriedDeclarations().map((c) => c.sizeBytes)).to.deep.equal([4 * 1448]);
  });

  it('a late declaration on a kept-alive connection: after a finished declared message it attaches at once, during one it waits', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 1e9 });
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 2 * 1448, transferId: 't1' }, T0);
    d.packet(data(A, T0));
    // t2 declared while t1 is still being sent: it waits
    expect(d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 3 * 1448, transferId: 't2' }, T0 + 500)).to.deep.equal([]);
    expect(d.pendingDeclarations()).to.have.length(1);
    d.packet(data(A, T0 + 1000)); // t1 all sent
    d.packet(data(A, T0 + 2000)); // t2's first segment, within the idle gap: still the same flowlet f1
    // t3 declared now: f1's declared message is all sent, so f1 now carries the next message — the one
    // declared first, t2, which attaches; t3 waits for the message after it
    const ev = d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 3 * 1448, transferId: 't3' }, T0 + 2500);
    expect(types(ev)).to.deep.equal(['end', 'start']);
    const s = (ev[1] as Extract<DetectorEvent, { type: 'start' }>).start;
    // cumulative: t1's 2 segments + t2's 3; 3 segments counted so far, 2 left
    expect(s).to.include({ id: 'f2', bytes: 4500, sizeBytes: 5 * 1448, transferId: 't2', firstPacketEpochUs: T0 + 2500 });
    expect(d.pendingDeclarations().map((p) => p.transferId)).to.deep.equal(['t3']);
  });

  it('a declaration made while the previous message is still being sent attaches at the tick after it is all sent', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 1e9 });
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 2 * 1448, transferId: 't1' }, T0);
    d.packet(data(A, T0));
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40000, sizeBytes: 4 * 1448, transferId: 't2' }, T0 + 100);
    expect(d.tick(T0 + 500), 't1 not all sent').to.deep.equal([]);
    d.packet(data(A, T0 + 1000));
    d.packet(data(A, T0 + 2000));
    const ev = d.tick(T0 + 2500);
    expect(types(ev)).to.deep.equal(['end', 'start']);
    expect((ev[1] as Extract<DetectorEvent, { type: 'start' }>).start).to.include({ id: 'f2', bytes: 4500, sizeBytes: 6 * 1448, transferId: 't2' });
    expect(d.pendingDeclarations()).to.have.length(0);
  });

  it('a late declaration never attaches without an exact source port, nor to another 5-tuple', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 1e9 });
    d.packet(data(A, T0));
    expect(d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sizeBytes: 1e6 }, T0 + 1)).to.deep.equal([]);
    expect(d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sport: 40001, sizeBytes: 1e6 }, T0 + 1)).to.deep.equal([]);
    expect(d.declare({ dst: '10.0.0.2', dport: 5001, proto: 17, sport: 40000, sizeBytes: 1e6 }, T0 + 1)).to.deep.equal([]);
    expect(d.pendingDeclarations()).to.have.length(3);
    expect(d.flowlets().map((f) => f.id)).to.deep.equal(['f1']);
  });

  it('a carried rest expires after declarationTtlMs', () => {
    const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 1e9, declarationTtlMs: 1000 });
    d.declare({ dst: '10.0.0.2', dport: 5001, proto: 6, sizeBytes: 1e6 }, T0);
    d.packet(data(A, T0));
    d.tick(T0 + 200_000);
    expect(d.carriedDeclarations()).to.have.length(1);
    d.tick(T0 + 1_200_001);
    expect(d.carriedDeclarations()).to.have.length(0);
    expect((d.packet(data(A, T0 + 1_300_000))[0] as Extract<DetectorEvent, { type: 'start' }>).start).to.not.have.property('sizeBytes');
  });

  it('property: bytes are conserved and every start has exactly one end', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dtUs: fc.integer({ min: 0, max: 300_000 }), flow: fc.integer({ min: 0, max: 3 }), payload: fc.integer({ min: 0, max: 1448 }) }), { maxLength: 200 }),
        (pkts) => {
          const d = new FlowletDetector({ idleGapMs: 100, smallFlowletBytes: 3000, progressIntervalMs: 50 });
          const flows = [0, 1, 2, 3].map((i) => ({ ...A, sport: 40000 + i }));
          const evs: DetectorEvent[] = [];
          let t = T0;
          let dataBytes = 0;
          for (const p of pkts) {
            t += p.dtUs;
            if (p.payload > 0) dataBytes += p.payload + 52;
            evs.push(...d.packet(data(flows[p.flow]!, t, p.payload)));
            evs.push(...d.tick(t));
          }
          evs.push(...d.tick(t + 1_000_000));
          const starts = evs.filter((e) => e.type === 'start').map((e) => (e as Extract<DetectorEvent, { type: 'start' }>).start.id);
          const ends = evs.filter((e) => e.type === 'end').map((e) => (e as Extract<DetectorEvent, { type: 'end' }>).end);
          expect(ends.map((e) => e.id).sort()).to.deep.equal([...starts].sort());
          expect(ends.reduce((s, e) => s + e.bytes, 0)).to.equal(dataBytes);
          expect(d.flowlets()).to.have.length(0);
        },
      ),
    );
  });
});
