/**
 * Text forms of Ethernet, IPv4 and IPv6 addresses from bytes: lowercase "aa:bb:cc:dd:ee:ff", dotted quad,
 * RFC 5952 IPv6. Formatting only, from lookup tables (no per-byte toString on hot paths); parsing text
 * with validation is the codec's (openflow/codec/addresses.ts), which re-exports these.
 */

/** "00".."ff" by byte value (MAC formatting without per-byte toString/padStart). */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** "0".."255" by byte value (IPv4 formatting without number → string conversions). */
const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Bytes buf[p..p+6) as lowercase "aa:bb:cc:dd:ee:ff" (the caller checks the bounds). */
export function formatMacAt(b: Uint8Array, p: number): string {
  return `${HEX2[b[p]!]}:${HEX2[b[p + 1]!]}:${HEX2[b[p + 2]!]}:${HEX2[b[p + 3]!]}:${HEX2[b[p + 4]!]}:${HEX2[b[p + 5]!]}`;
}

/** Bytes buf[p..p+4) as a dotted quad (the caller checks the bounds). */
export function formatIpv4At(b: Uint8Array, p: number): string {
  return `${DEC[b[p]!]}.${DEC[b[p + 1]!]}.${DEC[b[p + 2]!]}.${DEC[b[p + 3]!]}`;
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
