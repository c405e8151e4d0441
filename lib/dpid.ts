/**
 * Datapath ids (OpenFlow 1.3.5 §7.3.1: `datapath_id`, 64 bits; the lower 48 bits are usually a MAC): the
 * one text form Rivulet writes and the one parser it reads them with. A utility of the bottom layer
 * (ARCHITECTURE.md "Layers"): logs, the REST API, the config, LLDP chassis ids and link keys all use it.
 */

/** Largest datapath id (2^64 − 1). */
export const MAX_DPID = (1n << 64n) - 1n;

/** A datapath id as 16 lower-case hex digits, e.g. `0000aabbccddeeff` (logs, REST, LLDP, keys). */
export function dpidHex(dpid: bigint): string {
  return dpid.toString(16).padStart(16, '0');
}

/** `<16 hex digits>:<port>`: the key of one switch port (link capacities, the allocator's link ids). */
export function dpidPortKey(dpid: bigint, portNo: number): string {
  return `${dpidHex(dpid)}:${portNo}`;
}

export interface ParseDpidOptions {
  /**
   * How to read bare digits that are not exactly 16 hex digits: `hex` (default; config keys, LLDP) or
   * `decimal` when they are all decimal (Ryu's /stats URLs write `1`). 16 hex digits are always hex.
   */
  readonly bareDigits?: 'hex' | 'decimal';
}

/**
 * Parses a datapath id: 16 hex digits; `0x` + 1–16 hex digits; colon-separated hex bytes
 * (`00:00:00:00:00:00:00:01`, 2–8 bytes); or 1–15 bare digits, read as hex or as decimal
 * ({@link ParseDpidOptions.bareDigits}). Surrounding white space is ignored.
 * @throws RangeError `not a datapath id: "…"` for anything else or a value above 2^64 − 1
 */
export function parseDpid(text: string, opts: ParseDpidOptions = {}): bigint {
  const t = text.trim();
  let value: bigint | undefined;
  if (/^[0-9a-fA-F]{16}$/.test(t)) value = BigInt(`0x${t}`);
  else if (/^0[xX][0-9a-fA-F]{1,16}$/.test(t)) value = BigInt(`0x${t.slice(2)}`);
  else if (/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){1,7}$/.test(t)) value = BigInt(`0x${t.split(':').map((b) => b.padStart(2, '0')).join('')}`);
  else if (opts.bareDigits === 'decimal' && /^[0-9]{1,20}$/.test(t)) value = BigInt(t);
  else if (opts.bareDigits !== 'decimal' && /^[0-9a-fA-F]{1,16}$/.test(t)) value = BigInt(`0x${t}`);
  if (value === undefined || value > MAX_DPID) throw new RangeError(`not a datapath id: "${text}"`);
  return value;
}
