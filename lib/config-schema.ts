/**
 * The building blocks every section of the configuration schema uses (TypeBox, schema-first): the
 * options of a section (unknown keys rejected, an absent section means all defaults), bounded integers
 * with defaults, one-of-these-names strings, bit rates written by people, and the `<dpid hex>:<port>`
 * keys of per-port maps. Each app's section lives with the app (`apps/<app>/config.ts`,
 * `topology/config.ts`); controller/config composes them into the file's schema.
 *
 * Leaf schemas may carry `errorMessage`: the text shown after the key when the value is rejected
 * (otherwise the loader derives one from the schema); maps may carry `keyMessage` for a bad key.
 */
import { Type } from '@sinclair/typebox';
import { parseBitRate } from './bit-rate.js';
import { dpidPortKey, parseDpid } from './dpid.js';

/** Options of every section: unknown keys rejected; an absent section means all defaults. */
export const SECTION = { additionalProperties: false, default: {} } as const;

/** An integer in [minimum, maximum] with a default. */
export function int(minimum: number, maximum: number, def: number, description: string) {
  return Type.Integer({ minimum, maximum, default: def, description });
}

/** One of `names`, default `def`. */
export function oneOf<const T extends readonly string[]>(names: T, def: T[number], description: string) {
  return Type.Union(names.map((n) => Type.Literal(n)), {
    default: def, description, errorMessage: `must be one of ${names.join('|')}`,
  });
}

/** "100M", "10 Gbit/s", "1.5G", "500k", "100Mbps" → bits per second (SI, 1000-based). */
export const BIT_RATE_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s*[kKMGT]?(bit/s|bps|bit|b/s)?$';

/** A bit rate > 0: a number (bit/s) or a string such as "100M"; decoded to bit/s. */
export function bitRate(description: string) {
  const raw = Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.String({ pattern: BIT_RATE_PATTERN })], {
    description: `${description}; bit/s, a number or a string such as "100M" or "10Gbit/s" (1000-based)`,
    errorMessage: 'must be a bit rate > 0 in bit/s: a number, or a string such as "100M" or "10Gbit/s"',
  });
  return Type.Transform(raw)
    .Decode((v) => parseBitRate(v))
    .Encode((v) => v);
}

/** `<dpid hex>:<port>`, e.g. `0000000000000001:3` or `1:3`. */
export const LINK_KEY_PATTERN = '^(0x)?[0-9a-fA-F]{1,16}:[0-9]{1,10}$';

/** Normalizes a link key to `<16 hex digits>:<port>` (the form the topology app looks up). */
export function normalizeLinkKey(key: string): string {
  const i = key.lastIndexOf(':');
  return dpidPortKey(parseDpid(key.slice(0, i)), Number(key.slice(i + 1)));
}
