/**
 * The `topology` section of the configuration (README.md "Configuration"): LLDP discovery, link
 * capacities, the link fabrication defence, the host table's bounds — its schema, composed into the
 * file's schema by controller/config, and the topology app's settings from it.
 */
import { Type, type StaticDecode } from '@sinclair/typebox';
import { bitRate, int, LINK_KEY_PATTERN, normalizeLinkKey, SECTION } from '../lib/config-schema.js';
import { parseBitRate } from '../lib/bit-rate.js';
import type { TopologyAppConfig } from './app.js';

const linkCapacities = Type.Transform(
  Type.Record(Type.String({ pattern: LINK_KEY_PATTERN }), bitRate('capacity of the links at this port'), {
    additionalProperties: false,
    default: {},
    description:
      'per-link capacities, "<dpid hex>:<port number>" → bit rate; a link takes the value of its source port, else of its destination port (so one entry sets both directions of a cable)',
    keyMessage: 'is not a link key "<dpid hex>:<port number>" (e.g. "0000000000000001:3")',
  }),
)
  .Decode((rec): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(rec)) out[normalizeLinkKey(k)] = parseBitRate(v);
    return out;
  })
  .Encode((rec) => rec);

export const TopologySection = Type.Object(
  {
    lldpIntervalMs: int(100, 60_000, 1000, 'period of LLDP probes on every port, ms'),
    linkTimeoutPeriods: int(1, 100, 3, 'LLDP periods without a frame after which a link expires'),
    defaultCapacityBps: Type.Optional(bitRate('capacity of every link not listed in `links` (absent: the port speed)')),
    links: linkCapacities,
    linkDelayFactor: Type.Number({
      minimum: 1, maximum: 1e6, default: 10,
      description: "a link whose smallest LLDP probe delay is above this multiple of the median of the other links' (and above linkDelayFloorMs) is flagged and not used (a relay through hosts)",
    }),
    linkDelayFloorMs: Type.Number({ minimum: 0, maximum: 60_000, default: 100, description: 'links whose smallest probe delay is at or below this are never flagged, ms' }),
    maxHosts: int(1, 10_000_000, 4096, 'hosts tracked at most; beyond, the host seen least recently is forgotten'),
    hostIdleS: int(0, 86_400, 3600, 'a host not seen for this long is forgotten, s (0 = never)'),
  },
  { ...SECTION, description: 'LLDP discovery, link capacities and the link fabrication defence' },
);

/** The `topology` section, validated, defaults filled in, capacities in bit/s, link keys normalized. */
export type TopologySectionConfig = StaticDecode<typeof TopologySection>;

/** The topology app's settings from its section (durations to ms); `ignoredMacs`, the controller's own probes, come from routing. */
export function topologySettings(c: Readonly<TopologySectionConfig>): TopologyAppConfig {
  return {
    lldpIntervalMs: c.lldpIntervalMs,
    linkTimeoutPeriods: c.linkTimeoutPeriods,
    ...(c.defaultCapacityBps === undefined ? {} : { defaultCapacityBps: c.defaultCapacityBps }),
    linkCapacityBps: c.links,
    guard: { delayFactor: c.linkDelayFactor, delayFloorMs: c.linkDelayFloorMs },
    maxHosts: c.maxHosts,
    hostIdleMs: c.hostIdleS * 1000,
  };
}
