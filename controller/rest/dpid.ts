/**
 * Datapath ids in URLs. Output is always 16 lower-case hex digits; input may also be `0x`-prefixed hex,
 * colon-separated hex bytes (`00:00:00:00:00:00:00:01`) or decimal (`1`, as Ryu's /stats URLs use).
 * Exactly 16 hex digits is read as hex even when every digit is decimal.
 */
import { ApiError } from './errors.js';

const MAX_DPID = (1n << 64n) - 1n;

/** Parses a dpid from a URL. @throws ApiError BAD_DPID (400) */
export function parseApiDpid(text: string): bigint {
  const t = text.trim();
  let value: bigint | undefined;
  if (/^[0-9a-fA-F]{16}$/.test(t)) value = BigInt(`0x${t}`);
  else if (/^0[xX][0-9a-fA-F]{1,16}$/.test(t)) value = BigInt(t.toLowerCase());
  else if (/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){1,7}$/.test(t)) value = BigInt(`0x${t.split(':').map((b) => b.padStart(2, '0')).join('')}`);
  else if (/^[0-9]{1,20}$/.test(t)) value = BigInt(t);
  if (value === undefined || value > MAX_DPID) {
    throw new ApiError(
      'BAD_DPID',
      `not a datapath id: "${text}" (use 16 hex digits, 0x-hex, colon-separated hex bytes or decimal)`,
    );
  }
  return value;
}
