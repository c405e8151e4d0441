/**
 * Text forms of Ethernet, IPv4 and IPv6 addresses: formatting bytes as lowercase "aa:bb:cc:dd:ee:ff",
 * dotted quad and RFC 5952 IPv6 from lookup tables (no per-byte toString on hot paths), and parsing MAC
 * and IPv4 text straight into a buffer without regular expressions or intermediate arrays (false on bad
 * text, never a throw). The codec (openflow/codec/addresses.ts) re-exports these and adds the parsers
 * that throw its encode error.
 */

/** "00".."ff" by byte value (MAC formatting without per-byte toString/padStart). */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** "0".."255" by byte value (IPv4 formatting without number → string conversions). */
const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * Text of recently formatted addresses, direct-mapped by a hash of their bytes (1024 slots per kind):
 * every packet-in formats two MACs and two IPv4 addresses, mostly of the same few hosts, so the text is
 * built once per address instead of per packet, and the routes and hosts that keep it share one string
 * (fewer objects for the garbage collector to carry). A slot taken by another address is overwritten.
 */
const TEXT_SLOTS = 1024;
const macHi = new Int32Array(TEXT_SLOTS);
const macLo = new Int32Array(TEXT_SLOTS);
const macText: (string | undefined)[] = new Array<string | undefined>(TEXT_SLOTS).fill(undefined);
const ipv4Key = new Int32Array(TEXT_SLOTS);
const ipv4Text: (string | undefined)[] = new Array<string | undefined>(TEXT_SLOTS).fill(undefined);

/** Bytes buf[p..p+6) as lowercase "aa:bb:cc:dd:ee:ff" (the caller checks the bounds). */
export function formatMacAt(b: Uint8Array, p: number): string {
  const hi = (b[p]! << 8) | b[p + 1]!;
  const lo = (b[p + 2]! << 24) | (b[p + 3]! << 16) | (b[p + 4]! << 8) | b[p + 5]!;
  const i = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 22;
  const cached = macText[i];
  if (cached !== undefined && macLo[i] === lo && macHi[i] === hi) return cached;
  const text = `${HEX2[b[p]!]}:${HEX2[b[p + 1]!]}:${HEX2[b[p + 2]!]}:${HEX2[b[p + 3]!]}:${HEX2[b[p + 4]!]}:${HEX2[b[p + 5]!]}`;
  macText[i] = text;
  macHi[i] = hi;
  macLo[i] = lo;
  return text;
}

/** Bytes buf[p..p+4) as a dotted quad (the caller checks the bounds). */
export function formatIpv4At(b: Uint8Array, p: number): string {
  const v = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  const i = Math.imul(v, 0x9e3779b1) >>> 22;
  const cached = ipv4Text[i];
  if (cached !== undefined && ipv4Key[i] === v) return cached;
  const text = `${DEC[b[p]!]}.${DEC[b[p + 1]!]}.${DEC[b[p + 2]!]}.${DEC[b[p + 3]!]}`;
  ipv4Text[i] = text;
  ipv4Key[i] = v;
  return text;
}

/** 16 bytes → RFC 5952 text: lowercase, no leading zeros, the longest run (≥2) of zero groups as '::'. */
export function formatIpv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[i * 2]! << 8) | b[i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (arr: number[]): string => arr.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

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
