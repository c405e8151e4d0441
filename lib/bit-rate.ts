/**
 * Bit rates written by people: "100M", "10 Gbit/s", "1.5G", "500k", "100Mbps" (SI prefixes, 1000-based,
 * ARCHITECTURE.md "Principles": bit rates are 1000-based). The configuration schema checks the text
 * against its pattern before this parses it.
 */

const SI: Readonly<Record<string, number>> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/**
 * Parses a bit rate already checked against the schema (a number, or a string matching the schema's
 * bit-rate pattern) → bits per second.
 * @throws RangeError when the string does not start with a number
 */
export function parseBitRate(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kKMGT]?)/.exec(value);
  if (!m) throw new RangeError(`not a bit rate: "${value}"`);
  return Math.round(Number(m[1]) * SI[m[2]!]!);
}
