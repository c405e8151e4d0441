/** Test helpers for writing wire bytes as commented hex. */

/**
 * Hex text → bytes. Everything after `//` or `#` on a line is a comment; whitespace, '|' and ',' are
 * ignored. Throws on an odd number of digits or a non-hex character, so typos in vectors fail loudly.
 */
export function hex(text: string): Buffer {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/(\/\/|#).*$/, ''))
    .join('')
    .replace(/[\s|,]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length % 2 !== 0) throw new Error(`bad hex vector: ${digits}`);
  return Buffer.from(digits, 'hex');
}

/** An OF1.3 frame: version 4, `type`, the right length, `xid`, then the body given as hex. */
export function frame(type: number, body: string, xid = 1, version = 4): Buffer {
  const b = hex(body);
  const h = Buffer.alloc(8);
  h.writeUInt8(version, 0);
  h.writeUInt8(type, 1);
  h.writeUInt16BE(8 + b.length, 2);
  h.writeUInt32BE(xid, 4);
  return Buffer.concat([h, b]);
}
