/** lib/dpid.ts: the one datapath-id format and parser (logs, REST, config keys, LLDP chassis ids). */
import { expect } from 'chai';
import fc from 'fast-check';
import { dpidHex, dpidPortKey, MAX_DPID, parseDpid } from '../../lib/dpid.js';

describe('dpid: one format, one parser', () => {
  it('formats 16 lower-case hex digits, and port keys as <dpid>:<port>', () => {
    expect(dpidHex(0xa1n)).to.equal('00000000000000a1');
    expect(dpidHex(MAX_DPID)).to.equal('ffffffffffffffff');
    expect(dpidPortKey(0x101n, 3)).to.equal('0000000000000101:3');
  });

  it('reads 16 hex digits, 0x-hex, colon bytes and short hex; bare digits as decimal only when asked', () => {
    expect(parseDpid('00000000000000A1')).to.equal(0xa1n);
    expect(parseDpid('0xa1')).to.equal(0xa1n);
    expect(parseDpid('00:00:00:00:00:00:00:a1')).to.equal(0xa1n);
    expect(parseDpid('0:a1')).to.equal(0xa1n);
    expect(parseDpid('101')).to.equal(0x101n);
    expect(parseDpid('101', { bareDigits: 'decimal' })).to.equal(101n);
    expect(parseDpid('0000000000000101', { bareDigits: 'decimal' })).to.equal(0x101n);
    expect(parseDpid('18446744073709551615', { bareDigits: 'decimal' })).to.equal(MAX_DPID);
  });

  it('rejects anything else with a RangeError naming the text', () => {
    for (const bad of ['', 'x', '0x', 'g1', '18446744073709551616', 'a1:', ':a1', '1:2:3:4:5:6:7:8:9']) {
      expect(() => parseDpid(bad, { bareDigits: 'decimal' }), bad).to.throw(RangeError, 'not a datapath id');
    }
    expect(() => parseDpid('a1', { bareDigits: 'decimal' })).to.throw(RangeError);
    expect(() => parseDpid('00000000000000001')).to.throw(RangeError); // 17 hex digits
  });

  it('parse(format(d)) = d for every 64-bit dpid', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_DPID }), (d) => parseDpid(dpidHex(d)) === d && parseDpid(dpidHex(d), { bareDigits: 'decimal' }) === d));
  });
});
