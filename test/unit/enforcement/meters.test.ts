/**
 * The pure side of meter enforcement (apps/enforcement/meters.ts): bytes on the wire of every builder
 * (encoded with the codec, checked against hand-written hex and decoded back), kbit/s rounding, the burst
 * floor, the id pool (fast-check against a model), the cookie prefix, the meter-features verdict and
 * measured rates from two OFPMP_METER samples.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { OutMessage } from '../../../openflow/app-api.js';
import {
  OFPFC, OFPFF, OFPM, OFPMC, OFPMF, OFPTT_ALL, decodeMessage, encodeMessage, type MessageOf, type OfpMessage,
} from '../../../openflow/codec/index.js';
import {
  DEFAULT_BURST_MS, ENFORCEMENT_COOKIE_PREFIX, ENFORCEMENT_COOKIE_PREFIX_MASK, FULL_FRAME_BYTES,
  MIN_BURST_FRAMES, burstKbit, deleteEnforcementEntries, deleteEntryByCookie, enforcementCookie,
  isEnforcementCookie, judgeMeterFeatures, measuredBps, meterAdd, meterBurstBytes, meterDelete, meterDeleteAll,
  meterModify, meterSample, meteredEntry, rateKbps,
} from '../../../apps/enforcement/meters.js';
import { MAX_POOL_METER_ID, MeterIdPool } from '../../../apps/enforcement/meter-id-pool.js';
import { ROUTING_COOKIE_PREFIX, routingCookie } from '../../../apps/routing/builders.js';
import { hex } from '../codec/hex.js';

/** Encodes with xid 1, decodes back; returns both. */
function wire(m: OutMessage): { bytes: Buffer; msg: OfpMessage } {
  const bytes = Buffer.from(encodeMessage({ ...m, xid: 1 } as OfpMessage));
  const r = decodeMessage(bytes);
  if (!r.ok) throw r.error;
  return { bytes, msg: r.value };
}

const MATCH = [
  { field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 },
  { field: 'ipv4_src', value: '10.0.1.1' }, { field: 'ipv4_dst', value: '10.0.2.1' },
  { field: 'tcp_src', value: 40000 }, { field: 'tcp_dst', value: 5201 },
] as const;
const ACTIONS = [{ type: 'OFPAT_SET_QUEUE', queueId: 1 }, { type: 'OFPAT_OUTPUT', port: 1, maxLen: 0 }] as const;

describe('enforcement meters (pure)', () => {
  describe('cookie scheme', () => {
    it('puts 0x5256 in bits 63–48, app id 0x02 in 47–40 and the serial below', () => {
      expect(enforcementCookie(5)).to.equal(0x5256_0200_0000_0005n);
      expect(enforcementCookie(2 ** 40 + 7)).to.equal(0x5256_0200_0000_0007n); // serial wraps in 40 bits
      expect(ENFORCEMENT_COOKIE_PREFIX).to.equal(0x5256_0200_0000_0000n);
      expect(ENFORCEMENT_COOKIE_PREFIX_MASK).to.equal(0xffff_ff00_0000_0000n);
    });

    it('tells its cookies from routing\'s and from foreign ones', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 - 1 }), (s) => {
        expect(isEnforcementCookie(enforcementCookie(s))).to.equal(true);
        expect(isEnforcementCookie(routingCookie(s))).to.equal(false);
      }));
      expect(ROUTING_COOKIE_PREFIX & ENFORCEMENT_COOKIE_PREFIX_MASK).to.not.equal(ENFORCEMENT_COOKIE_PREFIX);
      expect(isEnforcementCookie(0n)).to.equal(false);
      expect(isEnforcementCookie(0x5256_0300_0000_0001n)).to.equal(false);
    });
  });

  describe('rates and bursts', () => {
    it('rounds rates UP to kbit/s, at least 1', () => {
      expect(rateKbps(20_000_000)).to.equal(20_000);
      expect(rateKbps(20_000_001)).to.equal(20_001);
      expect(rateKbps(1)).to.equal(1);
      expect(rateKbps(999.5)).to.equal(1);
      expect(rateKbps(1000.0001)).to.equal(2);
      fc.assert(fc.property(fc.double({ min: 1, max: 1e12, noNaN: true }), (bps) => {
        const k = rateKbps(bps);
        expect(k * 1000).to.be.at.least(bps);
        expect((k - 1) * 1000).to.be.below(bps);
      }));
    });

    it('rejects rates that are not finite and positive', () => {
      for (const bad of [0, -1, NaN, Infinity, 1e13]) expect(() => rateKbps(bad), String(bad)).to.throw(RangeError);
    });

    it('bursts rate·burstMs/8000 bytes, never below 10 full-size frames', () => {
      expect(DEFAULT_BURST_MS).to.equal(20);
      expect(meterBurstBytes(100_000_000, 20)).to.equal(250_000); // 100 Mbit/s · 20 ms
      expect(meterBurstBytes(20_000_000)).to.equal(50_000);
      expect(meterBurstBytes(1_000_000, 20)).to.equal(MIN_BURST_FRAMES * FULL_FRAME_BYTES); // 2500 B < floor
      expect(meterBurstBytes(1_000, 0)).to.equal(15_140);
      expect(meterBurstBytes(8_000_001, 1000)).to.equal(1_000_001); // rounded up to a byte
      expect(() => meterBurstBytes(1e6, -1)).to.throw(RangeError);
      expect(() => meterBurstBytes(0, 20)).to.throw(RangeError);
    });

    it('converts the burst to kbit rounding up', () => {
      expect(burstKbit(50_000)).to.equal(400);
      expect(burstKbit(15_140)).to.equal(122); // 121.12 kbit
      expect(burstKbit(1)).to.equal(1);
      expect(() => burstKbit(0)).to.throw(RangeError);
    });
  });

  describe('builders on the wire', () => {
    it('meterAdd: METER_MOD ADD, KBPS|BURST|STATS, one drop band in kbit/s and kbit (§7.3.4.5)', () => {
      const { bytes, msg } = wire(meterAdd(7, 20_000_000, 50_000));
      expect(bytes.equals(hex(`
        04 1d 0020 00000001   // header: v4, OFPT_METER_MOD (29), length 32, xid 1
        0000                  // command OFPMC_ADD
        000d                  // flags KBPS(1) | BURST(4) | STATS(8)
        00000007              // meter_id 7
        0001 0010             // band OFPMBT_DROP, length 16
        00004e20              // rate 20000 kbit/s
        00000190              // burst_size 400 kbit (50 000 bytes)
        00000000              // pad
      `)), bytes.toString('hex')).to.equal(true);
      expect(msg).to.deep.equal({
        type: 'OFPT_METER_MOD', xid: 1, command: OFPMC.ADD, flags: OFPMF.KBPS | OFPMF.BURST | OFPMF.STATS, meterId: 7,
        bands: [{ type: 'OFPMBT_DROP', rate: 20_000, burstSize: 400 }],
      });
    });

    it('meterModify: the same with OFPMC_MODIFY; a rate rounds up to the next kbit/s', () => {
      const { bytes, msg } = wire(meterModify(1, 5_000_500, 15_140));
      expect(bytes.readUInt16BE(8)).to.equal(OFPMC.MODIFY);
      expect(msg).to.deep.include({ command: OFPMC.MODIFY, meterId: 1, bands: [{ type: 'OFPMBT_DROP', rate: 5_001, burstSize: 122 }] });
    });

    it('meterDelete / meterDeleteAll: METER_MOD DELETE without bands, OFPM_ALL for all', () => {
      const one = wire(meterDelete(9));
      expect(one.bytes.equals(hex('04 1d 0010 00000001  0002 0000 00000009'))).to.equal(true);
      const all = wire(meterDeleteAll());
      expect(all.bytes.equals(hex('04 1d 0010 00000001  0002 0000 ffffffff'))).to.equal(true);
      expect(all.msg).to.deep.include({ command: OFPMC.DELETE, meterId: OFPM.ALL, bands: [] });
    });

    it('refuses meter ids 0 and beyond OFPM_MAX', () => {
      expect(() => meterAdd(0, 1e6, 2e4)).to.throw(RangeError);
      expect(() => meterAdd(OFPM.MAX + 1, 1e6, 2e4)).to.throw(RangeError);
      expect(() => meterDelete(OFPM.CONTROLLER)).to.throw(RangeError);
      expect(() => meteredEntry({ cookie: 1n, tableId: 0, priority: 1, idleTimeoutS: 0, match: [], meterId: 0, actions: [] })).to.throw(RangeError);
    });

    it('meteredEntry: FLOW_MOD ADD, OFPIT_METER then OFPIT_APPLY_ACTIONS, SEND_FLOW_REM, idle timeout', () => {
      const cookie = enforcementCookie(42);
      const { bytes, msg } = wire(meteredEntry({ cookie, tableId: 0, priority: 1001, idleTimeoutS: 10, match: MATCH, meterId: 3, actions: ACTIONS }));
      expect(bytes.readBigUInt64BE(8)).to.equal(cookie);
      expect(bytes.readUInt8(25)).to.equal(OFPFC.ADD);
      expect(bytes.readUInt16BE(26)).to.equal(10); // idle_timeout
      expect(bytes.readUInt16BE(28)).to.equal(0); // hard_timeout
      expect(bytes.readUInt16BE(30)).to.equal(1001); // priority
      expect(bytes.readUInt16BE(44)).to.equal(OFPFF.SEND_FLOW_REM);
      const matchLen = bytes.readUInt16BE(50);
      const at = 48 + Math.ceil(matchLen / 8) * 8; // first instruction after the padded match
      expect(bytes.subarray(at, at + 8).equals(hex('0006 0008 00000003'))).to.equal(true); // OFPIT_METER, len 8, meter 3
      expect(bytes.readUInt16BE(at + 8)).to.equal(4); // then OFPIT_APPLY_ACTIONS
      const fm = msg as MessageOf<'OFPT_FLOW_MOD'>;
      expect(fm).to.deep.include({ cookie, cookieMask: 0n, tableId: 0, command: OFPFC.ADD, hardTimeout: 0, flags: OFPFF.SEND_FLOW_REM });
      expect(fm.match).to.deep.equal(MATCH);
      expect(fm.instructions).to.deep.equal([{ type: 'OFPIT_METER', meterId: 3 }, { type: 'OFPIT_APPLY_ACTIONS', actions: ACTIONS }]);
    });

    it('deleteEnforcementEntries: DELETE by the app prefix and mask in all tables; deleteEntryByCookie exact', () => {
      const { bytes, msg } = wire(deleteEnforcementEntries());
      expect(bytes.subarray(8, 26).equals(hex('5256020000000000 ffffff0000000000 ff 03'))).to.equal(true);
      expect(msg).to.deep.include({ cookie: ENFORCEMENT_COOKIE_PREFIX, cookieMask: ENFORCEMENT_COOKIE_PREFIX_MASK, tableId: OFPTT_ALL, command: OFPFC.DELETE, match: [] });
      const one = wire(deleteEntryByCookie(enforcementCookie(3), 0)).msg;
      expect(one).to.deep.include({ cookie: enforcementCookie(3), cookieMask: 0xffff_ffff_ffff_ffffn, tableId: 0, command: OFPFC.DELETE });
    });
  });

  describe('MeterIdPool', () => {
    it('hands out 1, 2, 3…, reuses the lowest released id first, never 0', () => {
      const p = new MeterIdPool(5);
      expect([p.acquire(), p.acquire(), p.acquire(), p.acquire()]).to.deep.equal([1, 2, 3, 4]);
      expect(p.release(3)).to.equal(true);
      expect(p.release(1)).to.equal(true);
      expect(p.release(1)).to.equal(false); // not handed out any more
      expect(p.release(0)).to.equal(false);
      expect([p.acquire(), p.acquire(), p.acquire(), p.acquire()]).to.deep.equal([1, 3, 5, undefined]);
      expect(p.inUse).to.equal(5);
      expect(p.available).to.equal(0);
    });

    it('stays below OFPM_MAX whatever max the switch reports', () => {
      expect(new MeterIdPool(2 ** 32).max).to.equal(MAX_POOL_METER_ID);
      expect(MAX_POOL_METER_ID).to.be.below(OFPM.MAX);
      expect(new MeterIdPool(0).acquire()).to.equal(undefined);
      expect(() => new MeterIdPool(-1)).to.throw(RangeError);
    });

    it('behaves like the model "lowest id not in use, if ≤ max" (fast-check)', () => {
      const op = fc.oneof(fc.constant({ kind: 'acquire' as const }), fc.record({ kind: fc.constant('release' as const), id: fc.integer({ min: 0, max: 40 }) }));
      fc.assert(fc.property(fc.integer({ min: 0, max: 30 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const pool = new MeterIdPool(max);
        const used = new Set<number>();
        for (const o of ops) {
          if (o.kind === 'acquire') {
            let want: number | undefined;
            for (let i = 1; i <= max; i++) if (!used.has(i)) { want = i; break; }
            const got = pool.acquire();
            expect(got).to.equal(want);
            if (got !== undefined) {
              expect(got).to.be.within(1, Math.min(max, OFPM.MAX - 1));
              used.add(got);
            }
          } else {
            expect(pool.release(o.id)).to.equal(used.delete(o.id));
          }
          expect(pool.inUse).to.equal(used.size);
        }
      }));
    });
  });

  describe('meter features verdict', () => {
    it('OVS userspace (262144 meters, drop band, kbps|pktps|burst|stats) is supported', () => {
      expect(judgeMeterFeatures({ maxMeter: 262144, bandTypes: 1 << 1, capabilities: 0xf })).to.deep.equal({
        supported: true, maxMeter: 262144, bandTypes: ['OFPMBT_DROP'],
      });
    });

    it('no meters, no drop band or no kbps: not supported, with every reason', () => {
      const v = judgeMeterFeatures({ maxMeter: 0, bandTypes: 1 << 2, capabilities: OFPMF.PKTPS });
      expect(v).to.deep.equal({ supported: false, maxMeter: 0, bandTypes: ['OFPMBT_DSCP_REMARK'], reason: 'max_meter is 0; no drop band; no kbit/s rates' });
    });
  });

  describe('measured rates', () => {
    const stats = (bytesIn: bigint, droppedBytes: bigint, durationSec: number, durationNsec = 0) => ({
      meterId: 4, flowCount: 1, packetInCount: bytesIn / 1000n, byteInCount: bytesIn, durationSec, durationNsec,
      bandStats: [{ packetBandCount: droppedBytes / 1000n, byteBandCount: droppedBytes }],
    });

    it('counts what passed the band (in − dropped)', () => {
      const s = meterSample(stats(10_000_000n, 4_000_000n, 2, 500_000_000), 123);
      expect(s).to.deep.equal({ meterId: 4, packets: 6000, bytes: 6_000_000, durationMs: 2500, atMs: 123 });
    });

    it('Δbytes·8000/Δms over the switch durations; the controller clock when they did not move', () => {
      const a = meterSample(stats(1_000_000n, 0n, 1), 5_000);
      const b = meterSample(stats(3_500_000n, 500_000n, 2), 5_300); // 2 MB passed in 1 s (switch), 0.3 s (clock)
      expect(measuredBps(a, b)).to.equal(16_000_000);
      const c = { ...b, durationMs: a.durationMs };
      expect(measuredBps(a, c)).to.be.closeTo(2_000_000 * 8000 / 300, 1e-6);
    });

    it('undefined for counters that went back (re-created meter), no time, or another meter', () => {
      const a = meterSample(stats(3_000_000n, 0n, 5), 1000);
      expect(measuredBps(a, meterSample(stats(1_000n, 0n, 6), 2000))).to.equal(undefined);
      expect(measuredBps(a, { ...a })).to.equal(undefined);
      expect(measuredBps(a, { ...a, meterId: 5, durationMs: 9000 })).to.equal(undefined);
    });
  });
});
