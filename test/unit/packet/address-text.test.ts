/**
 * Address text (lib/addresses.ts): the formatters keep recently formatted addresses, so a packet's
 * address must never come back as the text of another address that shares its cache slot.
 */
import { expect } from 'chai';
import { formatIpv4At, formatMacAt } from '../../../lib/addresses.js';
import { mulberry32 } from '../../../testing/random.js';

const refMac = (b: Uint8Array, p: number): string => Array.from(b.subarray(p, p + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
const refIpv4 = (b: Uint8Array, p: number): string => Array.from(b.subarray(p, p + 4), String).join('.');

describe('address text', () => {
  it('formats MACs and IPv4 addresses exactly, however addresses share and reuse cache slots', () => {
    const rand = mulberry32(5);
    const b = new Uint8Array(64);
    // a few thousand random addresses (many slot collisions), each formatted twice, interleaved with repeats
    const seen: Uint8Array[] = [];
    for (let n = 0; n < 5000; n++) {
      const fresh = rand() < 0.6 || seen.length === 0;
      const bytes = fresh ? Uint8Array.from({ length: 6 }, () => Math.floor(rand() * 256)) : seen[Math.floor(rand() * seen.length)]!;
      if (fresh) seen.push(bytes);
      const at = 1 + (n % 40);
      b.set(bytes, at);
      expect(formatMacAt(b, at)).to.equal(refMac(b, at));
      expect(formatMacAt(b, at)).to.equal(refMac(b, at));
      expect(formatIpv4At(b, at)).to.equal(refIpv4(b, at));
      expect(formatIpv4At(b, at + 2)).to.equal(refIpv4(b, at + 2));
    }
    b.fill(0);
    expect(formatMacAt(b, 0)).to.equal('00:00:00:00:00:00');
    expect(formatIpv4At(b, 0)).to.equal('0.0.0.0');
    b.fill(255);
    expect(formatMacAt(b, 0)).to.equal('ff:ff:ff:ff:ff:ff');
    expect(formatIpv4At(b, 0)).to.equal('255.255.255.255');
  });
});
