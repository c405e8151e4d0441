/**
 * Datapath ids in URLs: the one parser of lib/dpid.ts with bare digits read as decimal (`1`, as
 * Ryu's /stats URLs write it); 16 hex digits, `0x`-hex and colon-separated hex bytes are hex. Output is
 * always 16 lower-case hex digits (dpidHex).
 */
import { parseDpid } from '../../lib/dpid.js';
import { ApiError } from './errors.js';

/** Parses a dpid from a URL. @throws ApiError BAD_DPID (400) */
export function parseApiDpid(text: string): bigint {
  try {
    return parseDpid(text, { bareDigits: 'decimal' });
  } catch {
    throw new ApiError(
      'BAD_DPID',
      `not a datapath id: "${text}" (use 16 hex digits, 0x-hex, colon-separated hex bytes or decimal)`,
    );
  }
}
