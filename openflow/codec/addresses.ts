/**
 * Text forms of the addresses OpenFlow carries (Ethernet, IPv4, IPv6): parsing with full validation,
 * throwing the codec's {@link OfpEncodeError}. Formatting and the non-throwing MAC / IPv4 parsers that
 * write straight into the writer's buffer are lib/addresses.ts, re-exported here.
 */
import { ipv4Into, macInto } from '../../lib/addresses.js';
import { OfpEncodeError } from './errors.js';

export { formatIpv4At, formatIpv6, formatMacAt, ipv4Into, macInto } from '../../lib/addresses.js';

/** "aa:bb:cc:dd:ee:ff" (or with '-') → 6 bytes. @throws OfpEncodeError */
export function parseMac(s: string): Buffer {
  const out = Buffer.alloc(6);
  if (!macInto(s, out, 0)) throw new OfpEncodeError(`bad MAC address: ${String(s)}`);
  return out;
}

/** Dotted quad → 4 bytes. @throws OfpEncodeError */
export function parseIpv4(s: string): Buffer {
  const out = Buffer.alloc(4);
  if (!ipv4Into(s, out, 0)) throw new OfpEncodeError(`bad IPv4 address: ${String(s)}`);
  return out;
}

/** IPv6 text (full or with one '::') → 16 bytes. @throws OfpEncodeError */
export function parseIpv6(s: string): Buffer {
  const bad = (): never => {
    throw new OfpEncodeError(`bad IPv6 address: ${String(s)}`);
  };
  const halves = typeof s === 'string' ? s.split('::') : [];
  if (halves.length < 1 || halves.length > 2) bad();
  const parse = (h: string): number[] =>
    h === '' ? [] : h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad()));
  const head = parse(halves[0]!);
  const back = halves.length === 2 ? parse(halves[1]!) : [];
  const zeros = halves.length === 2 ? 8 - head.length - back.length : 0;
  if (halves.length === 2 ? zeros < 1 : head.length !== 8) bad();
  const groups = [...head, ...new Array<number>(zeros).fill(0), ...back];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
