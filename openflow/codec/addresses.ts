/**
 * Text forms of the addresses OpenFlow carries (Ethernet, IPv4, IPv6): parsing with full validation,
 * without regular expressions or intermediate arrays on the hot paths (MAC and IPv4 are parsed straight
 * into the writer's buffer). Formatting is lib/addresses.ts (lookup tables), re-exported here.
 */
import { OfpEncodeError } from './errors.js';

export { formatIpv4At, formatIpv6, formatMacAt } from '../../lib/addresses.js';

/** Value of hex digit code `c`, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/**
 * Parses "aa:bb:cc:dd:ee:ff" (groups of 1–2 hex digits separated by ':' or '-', exactly six) into
 * out[at..at+6). Returns false (out possibly partly written) when `s` is not such an address.
 */
export function macInto(s: unknown, out: Uint8Array, at: number): boolean {
  if (typeof s !== 'string') return false;
  const n = s.length;
  let i = 0;
  for (let g = 0; g < 6; g++) {
    if (g > 0) {
      const sep = s.charCodeAt(i++);
      if (sep !== 58 && sep !== 45) return false; // ':' '-'
    }
    const d0 = hexDigit(s.charCodeAt(i));
    if (d0 < 0) return false;
    i++;
    const d1 = i < n ? hexDigit(s.charCodeAt(i)) : -1;
    if (d1 < 0) out[at + g] = d0;
    else {
      out[at + g] = (d0 << 4) | d1;
      i++;
    }
  }
  return i === n;
}

/**
 * Parses a dotted quad (exactly four groups of 1–3 decimal digits, each ≤ 255) into out[at..at+4).
 * Returns false (out possibly partly written) when `s` is not one.
 */
export function ipv4Into(s: unknown, out: Uint8Array, at: number): boolean {
  if (typeof s !== 'string') return false;
  const n = s.length;
  let i = 0;
  for (let g = 0; g < 4; g++) {
    if (g > 0 && s.charCodeAt(i++) !== 46) return false; // '.'
    let v = 0;
    let digits = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
      if (++digits > 3) return false;
    }
    if (digits === 0 || v > 255) return false;
    out[at + g] = v;
  }
  return i === n;
}

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
