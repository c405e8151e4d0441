/**
 * Tenants (README.md "Configuration" `tenants`, BwE groups, SCC tenants): a flowlet's allocator weight from the
 * config's `tenants` list. Rule: the tenant the agent declares for the flowlet wins (an unknown name
 * gives weight 1, reported once); else the first tenant whose members (IPv4 addresses or CIDR
 * prefixes) hold the flowlet's source address; else weight 1, no tenant. Pure.
 */

/** One `tenants` entry of the config. */
export interface TenantConfig {
  readonly name: string;
  readonly weight: number;
  readonly members: readonly string[];
}

/** What a flowlet gets: its tenant (null: none), weight, and the tenant's index (−1: none). */
export interface TenantChoice {
  readonly tenant: string | null;
  readonly weight: number;
  readonly index: number;
  /** the declared name is not a configured tenant (weight 1) */
  readonly unknownDeclared?: string;
}

interface Prefix {
  readonly net: number;
  readonly mask: number;
}

/** `a.b.c.d` → unsigned 32-bit integer; NaN when not a dotted quad. */
export function ipv4ToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return NaN;
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^[0-9]{1,3}$/.test(p) || n > 255) return NaN;
    v = v * 256 + n;
  }
  return v;
}

/** `10.0.1.0/24` or `10.0.1.2` (= /32) → network and mask. @throws RangeError for anything else */
export function parsePrefix(text: string): Prefix {
  const [ip, bitsText] = text.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const addr = ipv4ToInt(ip ?? '');
  if (Number.isNaN(addr) || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new RangeError(`not an IPv4 address or prefix: "${text}"`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { net: (addr & mask) >>> 0, mask };
}

/** The tenants of the config, with membership resolved once. */
export class Tenants {
  private readonly byName = new Map<string, { index: number; weight: number }>();
  private readonly prefixes: { index: number; prefix: Prefix }[] = [];

  constructor(readonly list: readonly TenantConfig[]) {
    list.forEach((t, index) => {
      if (!this.byName.has(t.name)) this.byName.set(t.name, { index, weight: t.weight });
      for (const m of t.members) this.prefixes.push({ index, prefix: parsePrefix(m) });
    });
  }

  /** Tenant and weight of a flowlet from `srcIp`, optionally declaring `declared`. */
  choose(declared: string | undefined, srcIp: string): TenantChoice {
    if (declared !== undefined) {
      const t = this.byName.get(declared);
      if (t) return { tenant: declared, weight: t.weight, index: t.index };
      return { tenant: declared, weight: 1, index: -1, unknownDeclared: declared };
    }
    const addr = ipv4ToInt(srcIp);
    if (!Number.isNaN(addr)) {
      for (const { index, prefix } of this.prefixes) {
        if (((addr & prefix.mask) >>> 0) === prefix.net) {
          const t = this.list[index]!;
          return { tenant: t.name, weight: t.weight, index };
        }
      }
    }
    return { tenant: null, weight: 1, index: -1 };
  }
}
