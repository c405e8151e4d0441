/**
 * LLDP parser / builder (lib/packet/lldp.ts) and Rivulet's signed probes (topology/lldp-probe.ts):
 * every frame of the shared LLDP captures parses, every malformed capture is rejected with a typed
 * error, build → parse is the identity, random bytes never throw, forged / stale probes are dropped.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readPcapFile } from '../../../lib/packet/pcap.js';
import { buildLldpdu, encodeTlv, LLDP_TLV, parseLldpdu, type LldpTlv } from '../../../lib/packet/lldp.js';
import { buildProbePdu, newProbeKey, probeIdentity, verifyProbe } from '../../../topology/lldp-probe.js';
import { buildLldpFrame, parseFrame } from '../../../lib/packet/frame.js';
import { PacketError } from '../../../lib/packet/errors.js';

const CAPTURES = fileURLToPath(new URL('../../../../test/fixtures/captures/', import.meta.url));
const MALFORMED = `${CAPTURES}malformed/`;

async function framesOf(path: string): Promise<Buffer[]> {
  const r = await readPcapFile(path);
  if (!r.ok) throw r.error;
  return r.value.packets.map((p) => p.data);
}

const isLldp = (f: Buffer): boolean => f.length >= 14 && f.readUInt16BE(12) === 0x88cc;

describe('topology/lldp: captures', () => {
  const good = readdirSync(CAPTURES).filter((f) => /lldp/i.test(f));
  it('finds the LLDP captures', () => {
    expect(good).to.include.members(['LLDP_and_CDP.pcap', 'lldp_mudurl.pcap', 'lldp_8021_linkagg.pcap', 'lldp-app-priority.pcap']);
  });
  for (const name of good) {
    it(`parses every frame of ${name}`, async () => {
      const frames = await framesOf(CAPTURES + name);
      expect(frames.filter(isLldp)).to.not.be.empty;
      for (const [i, f] of frames.entries()) {
        const r = parseFrame(f);
        expect(r.ok, `frame ${i + 1}: ${r.ok ? '' : r.error.message}`).to.equal(true);
        if (r.ok && isLldp(f)) expect(r.value.lldp).to.not.equal(undefined);
      }
    });
  }

  it('reads chassis, port and TTL of a full LLDPDU (LLDP_and_CDP.pcap frame 3)', async () => {
    const f = (await framesOf(`${CAPTURES}LLDP_and_CDP.pcap`))[2]!;
    const r = parseFrame(f);
    if (!r.ok || !r.value.lldp) throw new Error('no LLDP');
    const l = r.value.lldp;
    expect(l.chassisId?.subtype).to.equal(4);
    expect(l.chassisId?.id.toString('hex')).to.equal('00192fa7b28d');
    expect(l.portId?.subtype).to.equal(1);
    expect(l.portId?.id.toString()).to.equal('Uplink to S1');
    expect(l.ttl).to.equal(120);
    expect(l.hasEnd).to.equal(true);
  });

  const bad = readdirSync(MALFORMED).filter((f) => /^lldp/i.test(f));
  const expected: Record<string, string> = {
    'lldp-infinite-loop-1.pcap': 'LLDP_OVERSIZE',
    'lldp-infinite-loop-2.pcap': 'LLDP_OVERSIZE',
    'lldp_8023_mtu-oobr.pcap': 'LLDP_BAD_TLV',
    'lldp_asan.pcap': 'LLDP_MISSING_TLV',
    'lldp_mgmt_addr_tlv_asan.pcap': 'LLDP_BAD_TLV',
  };
  it('finds the malformed LLDP captures', () => expect(bad).to.have.members(Object.keys(expected)));
  for (const name of bad) {
    it(`rejects the LLDP frames of malformed/${name} with a typed error`, async () => {
      const frames = (await framesOf(MALFORMED + name)).filter(isLldp);
      expect(frames).to.not.be.empty;
      for (const f of frames) {
        const r = parseFrame(f);
        expect(r.ok).to.equal(false);
        if (r.ok) continue;
        expect(r.error).to.be.instanceOf(PacketError);
        expect(r.error.code).to.equal(expected[name]);
      }
    });
  }
});

describe('topology/lldp: parser rules', () => {
  const mandatory = [
    encodeTlv(1, Buffer.from([7, 1, 2])),
    encodeTlv(2, Buffer.from([7, 0, 0, 0, 1])),
    encodeTlv(3, Buffer.from([0, 120])),
  ];
  const end = encodeTlv(0, Buffer.alloc(0));
  const code = (b: Buffer): string | undefined => {
    const r = parseLldpdu(b);
    return r.ok ? undefined : r.error.code;
  };
  it('accepts a minimal LLDPDU and ignores bytes after End', () => {
    expect(code(Buffer.concat([...mandatory, end, Buffer.from([0xde, 0xad])]))).to.equal(undefined);
  });
  it('accepts a PDU without End that ends on a TLV boundary', () => {
    const r = parseLldpdu(Buffer.concat(mandatory));
    expect(r.ok && r.value.hasEnd).to.equal(false);
  });
  it('rejects a TLV running past the end', () => {
    expect(code(Buffer.concat([...mandatory, Buffer.from([0x08, 0x20, 1, 2])]))).to.equal('LLDP_TLV_OVERRUN');
  });
  it('rejects a lone trailing octet', () => expect(code(Buffer.concat([...mandatory, Buffer.from([0x02])]))).to.equal('PKT_TRUNCATED'));
  it('rejects End with a length', () => expect(code(Buffer.concat([...mandatory, Buffer.from([0x00, 0x01, 0])]))).to.equal('LLDP_BAD_TLV'));
  it('rejects a TTL of 3 octets', () => {
    expect(code(Buffer.concat([mandatory[0]!, mandatory[1]!, encodeTlv(3, Buffer.from([0, 0, 1])), end]))).to.equal('LLDP_BAD_TLV');
  });
  it('rejects a repeated chassis ID', () => expect(code(Buffer.concat([...mandatory, mandatory[0]!, end]))).to.equal('LLDP_BAD_ORDER'));
  it('rejects a port ID before the chassis ID', () => expect(code(Buffer.concat([mandatory[1]!, mandatory[0]!, end]))).to.equal('LLDP_BAD_ORDER'));
  it('rejects a chassis ID without TTL', () => expect(code(Buffer.concat([mandatory[0]!, mandatory[1]!, end]))).to.equal('LLDP_MISSING_TLV'));
  it('rejects more than 1500 octets', () => expect(code(Buffer.alloc(1501))).to.equal('LLDP_OVERSIZE'));
  it('skips reserved and unknown organizationally-specific TLVs by length', () => {
    const r = parseLldpdu(Buffer.concat([...mandatory, encodeTlv(42, Buffer.alloc(300, 1)), encodeTlv(127, Buffer.from([1, 2, 3, 4, 5])), end]));
    expect(r.ok && r.value.tlvs.map((t) => t.type)).to.deep.equal([1, 2, 3, 42, 127]);
  });
});

describe('topology/lldp: build → parse and fuzz', () => {
  const idArb = fc.record({ subtype: fc.integer({ min: 0, max: 255 }), id: fc.uint8Array({ minLength: 1, maxLength: 255 }).map((a) => Buffer.from(a)) });
  const optionalArb: fc.Arbitrary<LldpTlv> = fc.oneof(
    fc.record({ type: fc.constantFrom(4, 5, 6), value: fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)) }),
    fc.record({ type: fc.integer({ min: 9, max: 126 }), value: fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)) }),
    fc.uint8Array({ minLength: 4, maxLength: 60 }).map((a) => ({ type: 127, value: Buffer.concat([Buffer.from([0x02, 0x52, 0x57]), Buffer.from(a)]) })),
  );
  it('parses what it builds', () => {
    fc.assert(
      fc.property(idArb, idArb, fc.integer({ min: 0, max: 0xffff }), fc.array(optionalArb, { maxLength: 6 }), (c, p, ttl, optional) => {
        const pdu = buildLldpdu({ chassisId: c, portId: p, ttl, optional });
        const r = parseLldpdu(pdu);
        if (!r.ok) throw r.error;
        expect(r.value.chassisId?.subtype).to.equal(c.subtype);
        expect(r.value.chassisId?.id.equals(c.id)).to.equal(true);
        expect(r.value.portId?.id.equals(p.id)).to.equal(true);
        expect(r.value.ttl).to.equal(ttl);
        expect(r.value.hasEnd).to.equal(true);
        expect(r.value.tlvs.slice(3).map((t) => [t.type, t.value.toString('hex')])).to.deep.equal(optional.map((t) => [t.type, t.value.toString('hex')]));
      }),
      { numRuns: 300 },
    );
  });
  it('never throws on random bytes, nor on random LLDP frames', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), (a) => {
        const b = Buffer.from(a);
        const r = parseLldpdu(b);
        if (!r.ok) expect(r.error).to.be.instanceOf(PacketError);
        const f = parseFrame(Buffer.concat([Buffer.from('0180c200000e020000000001' + '88cc', 'hex'), b]));
        if (!f.ok) expect(f.error).to.be.instanceOf(PacketError);
      }),
      { numRuns: 2000 },
    );
  });
  it('never throws on every truncation of a valid probe frame', () => {
    const frame = buildLldpFrame('02:00:00:00:00:01', buildProbePdu({ dpid: 5n, portNo: 3, timestampMs: 1, ttlSeconds: 3, key: newProbeKey() }));
    for (let n = 0; n <= frame.length; n++) {
      const r = parseFrame(frame.subarray(0, n));
      if (!r.ok) expect(r.error).to.be.instanceOf(PacketError);
    }
  });
});

describe('topology/lldp-probe: signed probes', () => {
  const key = newProbeKey();
  const parse = (pdu: Buffer) => {
    const r = parseLldpdu(pdu);
    if (!r.ok) throw r.error;
    return r.value;
  };
  const probe = (over: Partial<{ dpid: bigint; portNo: number; timestampMs: number }> = {}) =>
    parse(buildProbePdu({ dpid: 0xaabbn, portNo: 7, timestampMs: 10_000, ttlSeconds: 3, key, ...over }));

  it('round-trips dpid, port and timestamp', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 1, max: 0xffffff00 }), fc.integer({ min: 0, max: 2 ** 40 }), (dpid, portNo, ts) => {
        const v = verifyProbe(probe({ dpid, portNo, timestampMs: ts }), key, ts + 5, 2000);
        if (!v.ok) throw v.error;
        expect(v.value).to.deep.equal({ dpid, portNo, timestampMs: ts });
      }),
      { numRuns: 200 },
    );
  });
  it('uses chassis "dpid:<16 hex>" and a 4-octet port id', () => {
    const f = probe();
    expect(f.chassisId?.id.toString()).to.equal('dpid:000000000000aabb');
    expect(f.portId?.id.toString('hex')).to.equal('00000007');
    expect(probeIdentity(f)).to.deep.equal({ ok: true, value: { dpid: 0xaabbn, portNo: 7 } });
  });
  it('rejects a stale or future-dated probe', () => {
    const v1 = verifyProbe(probe(), key, 12_001, 2000);
    const v2 = verifyProbe(probe(), key, 9_000, 2000);
    expect(!v1.ok && v1.error.code).to.equal('LLDP_STALE');
    expect(!v2.ok && v2.error.code).to.equal('LLDP_STALE');
  });
  it('rejects a probe signed with another key', () => {
    const v = verifyProbe(probe(), newProbeKey(), 10_000, 2000);
    expect(!v.ok && v.error.code).to.equal('LLDP_BAD_SIGNATURE');
  });
  it('rejects an unsigned Rivulet-format frame (a host forging a link)', () => {
    const pdu = buildLldpdu({ chassisId: { subtype: 7, id: Buffer.from('dpid:0000000000000001') }, portId: { subtype: 7, id: Buffer.from([0, 0, 0, 1]) }, ttl: 3 });
    const v = verifyProbe(parse(pdu), key, 0, 2000);
    expect(!v.ok && v.error.code).to.equal('LLDP_UNSIGNED');
  });
  it('rejects a signed probe whose port id was rewritten', () => {
    const pdu = buildProbePdu({ dpid: 1n, portNo: 1, timestampMs: 0, ttlSeconds: 3, key });
    const at = pdu.indexOf(Buffer.from([0x04, 0x05, 0x07, 0, 0, 0, 1]));
    expect(at).to.be.greaterThan(0);
    pdu[at + 6] = 2;
    const v = verifyProbe(parse(pdu), key, 0, 2000);
    expect(!v.ok && v.error.code).to.equal('LLDP_BAD_SIGNATURE');
  });
  it('does not take foreign LLDP for a probe', async () => {
    const f = (await framesOf(`${CAPTURES}lldp_mudurl.pcap`))[0]!;
    const r = parseFrame(f);
    if (!r.ok || !r.value.lldp) throw new Error('no LLDP');
    const v = verifyProbe(r.value.lldp, key, 0, 2000);
    expect(!v.ok && v.error.code).to.equal('LLDP_NOT_RIVULET');
  });
  it('builds frames to the nearest-bridge address from the port MAC', () => {
    const frame = buildLldpFrame('02:00:00:00:00:09', buildProbePdu({ dpid: 1n, portNo: 1, timestampMs: 0, ttlSeconds: 3, key }));
    const r = parseFrame(frame);
    expect(r.ok && [r.value.ethDst, r.value.ethSrc, r.value.ethertype]).to.deep.equal(['01:80:c2:00:00:0e', '02:00:00:00:00:09', 0x88cc]);
    expect(LLDP_TLV.END).to.equal(0);
  });
});
