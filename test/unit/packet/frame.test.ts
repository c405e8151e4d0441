/**
 * lib/packet/frame.ts, the packet-in view: Ethernet / VLAN / ARP / IPv4 parsing with hand-built frames (one comment per
 * field), ARP builder round trip, typed errors for every truncation, and random bytes never throwing.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { buildArp, buildEthernet, parseFrame } from '../../../lib/packet/frame.js';
import { PacketError } from '../../../lib/packet/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');

/** Ethernet + IPv4 (IHL 5) + TCP ports: 10.0.0.1:40000 → 10.0.1.2:5201, DSCP 46, TTL 64. */
const TCP_FRAME = hex(`
  0a0000000002 0a0000000001 0800     # dst, src, IPv4
  45 b8 0028 1234 4000 40 06 0000   # v4 ihl5, tos 0xb8 (dscp 46), len 40, id, DF, ttl 64, tcp, csum
  0a000001 0a000102                 # src, dst
  9c40 1451 00000000 00000000 5002 ffff 0000 0000  # sport 40000, dport 5201, …
`);

describe('lib/packet/frame: parseFrame', () => {
  it('parses IPv4 + TCP', () => {
    const r = parseFrame(TCP_FRAME);
    if (!r.ok) throw r.error;
    expect(r.value).to.deep.equal({
      ethDst: '0a:00:00:00:00:02', ethSrc: '0a:00:00:00:00:01', ethertype: 0x0800,
      ipv4: { src: '10.0.0.1', dst: '10.0.1.2', proto: 6, dscp: 46, ttl: 64, srcPort: 40000, dstPort: 5201 },
    });
  });
  it('parses UDP and SCTP ports, not ICMP, and not non-first fragments', () => {
    const withProto = (proto: number, frag = 0): Buffer => {
      const f = Buffer.from(TCP_FRAME);
      f[14 + 9] = proto;
      f.writeUInt16BE(frag, 14 + 6);
      return f;
    };
    for (const proto of [17, 132]) {
      const r = parseFrame(withProto(proto));
      expect(r.ok && [r.value.ipv4?.srcPort, r.value.ipv4?.dstPort]).to.deep.equal([40000, 5201]);
    }
    const icmp = parseFrame(withProto(1));
    expect(icmp.ok && icmp.value.ipv4).to.deep.equal({ src: '10.0.0.1', dst: '10.0.1.2', proto: 1, dscp: 46, ttl: 64 });
    const frag = parseFrame(withProto(6, 0x0010));
    expect(frag.ok && frag.value.ipv4?.srcPort).to.equal(undefined);
  });
  it('skips IPv4 options (IHL 6)', () => {
    const f = hex(`
      0a0000000002 0a0000000001 0800
      46 00 002c 0000 0000 40 11 0000 0a000001 0a000102 01010101  # ihl 6, udp, NOP options
      0035 0036 0008 0000                                        # udp 53 → 54
    `);
    const r = parseFrame(f);
    expect(r.ok && [r.value.ipv4?.srcPort, r.value.ipv4?.dstPort]).to.deep.equal([53, 54]);
  });
  it('reads the outer VLAN id of a single- and a double-tagged frame', () => {
    const one = Buffer.concat([TCP_FRAME.subarray(0, 12), hex('8100 2064'), TCP_FRAME.subarray(12)]);
    const two = Buffer.concat([TCP_FRAME.subarray(0, 12), hex('88a8 000a 8100 0014'), TCP_FRAME.subarray(12)]);
    const r1 = parseFrame(one);
    const r2 = parseFrame(two);
    expect(r1.ok && [r1.value.vlanVid, r1.value.ipv4?.dstPort]).to.deep.equal([100, 5201]);
    expect(r2.ok && [r2.value.vlanVid, r2.value.ethertype]).to.deep.equal([10, 0x0800]);
    const three = Buffer.concat([TCP_FRAME.subarray(0, 12), hex('88a8 000a 8100 0014 8100 0001'), TCP_FRAME.subarray(12)]);
    const r3 = parseFrame(three);
    expect(!r3.ok && r3.error.code).to.equal('PKT_MALFORMED');
  });
  it('leaves other EtherTypes unparsed', () => {
    const r = parseFrame(buildEthernet('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01', 0x86dd, Buffer.alloc(40)));
    expect(r.ok && r.value).to.deep.equal({ ethDst: 'ff:ff:ff:ff:ff:ff', ethSrc: '02:00:00:00:00:01', ethertype: 0x86dd });
  });
  it('rejects impossible IPv4 headers and foreign ARP', () => {
    const v6 = Buffer.from(TCP_FRAME);
    v6[14] = 0x65;
    const ihl = Buffer.from(TCP_FRAME);
    ihl[14] = 0x44;
    const arp = buildArp({ op: 1, ethSrc: '02:00:00:00:00:01', ethDst: 'ff:ff:ff:ff:ff:ff', sha: '02:00:00:00:00:01', spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' });
    arp.writeUInt16BE(6, 14);
    const badOp = buildArp({ op: 1, ethSrc: '02:00:00:00:00:01', ethDst: 'ff:ff:ff:ff:ff:ff', sha: '02:00:00:00:00:01', spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' });
    badOp.writeUInt16BE(9, 20);
    const codes = [v6, ihl, arp, badOp].map((f) => {
      const r = parseFrame(f);
      return r.ok ? 'ok' : r.error.code;
    });
    expect(codes).to.deep.equal(['IPV4_BAD_HEADER', 'IPV4_BAD_HEADER', 'ARP_UNSUPPORTED', 'ARP_UNSUPPORTED']);
  });
  it('returns PKT_TRUNCATED (never throws) for every truncation of a TCP frame', () => {
    for (let n = 0; n < 38; n++) {
      const r = parseFrame(TCP_FRAME.subarray(0, n));
      expect(r.ok, `length ${n}`).to.equal(false);
      if (!r.ok) expect(r.error.code, `length ${n}`).to.equal('PKT_TRUNCATED');
    }
    expect(parseFrame(TCP_FRAME.subarray(0, 38)).ok).to.equal(true);
  });
  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0x0800, 0x0806, 0x8100, 0x88cc, 0x1234), (a, et) => {
        const b = Buffer.from(a);
        for (const f of [b, Buffer.concat([Buffer.alloc(12, 2), Buffer.from([et >> 8, et & 0xff]), b])]) {
          const r = parseFrame(f);
          if (!r.ok) expect(r.error).to.be.instanceOf(PacketError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('lib/packet/frame: buildArp', () => {
  it('builds a 60-octet frame that parses back', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<1 | 2>(1, 2),
        fc.array(fc.uint8Array({ minLength: 6, maxLength: 6 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { minLength: 2, maxLength: 2 }),
        (op, macs, ips) => {
          const [ethSrc, ethDst, sha, tha] = macs.map((m) => [...m].map((b) => b.toString(16).padStart(2, '0')).join(':')) as [string, string, string, string];
          const [spa, tpa] = ips.map((i) => [...i].join('.')) as [string, string];
          const frame = buildArp({ op, ethSrc, ethDst, sha, spa, tha, tpa });
          expect(frame.length).to.equal(60);
          const r = parseFrame(frame);
          if (!r.ok) throw r.error;
          expect(r.value).to.deep.equal({ ethDst, ethSrc, ethertype: 0x0806, arp: { op, sha, spa, tha, tpa } });
        },
      ),
    );
  });
  it('matches the wire layout byte for byte', () => {
    const f = buildArp({ op: 2, ethSrc: '02:00:00:00:00:02', ethDst: '02:00:00:00:00:01', sha: '02:00:00:00:00:02', spa: '10.0.0.2', tha: '02:00:00:00:00:01', tpa: '10.0.0.1' });
    expect(f.toString('hex')).to.equal(
      hex(`020000000001 020000000002 0806   # dst, src, ARP
           0001 0800 06 04 0002            # Ethernet, IPv4, hlen 6, plen 4, reply
           020000000002 0a000002           # sha, spa
           020000000001 0a000001           # tha, tpa
           000000000000000000000000000000000000 # padding to 60`).toString('hex'),
    );
  });
});
