/**
 * JSON schemas (TypeBox) of every REST response: fastify validates requests and serializes responses
 * with them, and @fastify/swagger turns them into the OpenAPI document. Units: bit/s for rates and
 * capacities, ms for ages, ISO-8601 UTC for timestamps; dpids as 16 lower-case hex digits.
 */
import { NextCursor } from './page.js';
import { Type, type Static } from '@sinclair/typebox';

const Dpid = Type.String({ pattern: '^[0-9a-f]{16}$', description: 'datapath id, 16 hex digits' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }) },
  { title: 'Error', description: 'every error: a stable code and a message' },
);

export const PortRefSchema = Type.Object(
  { dpid: Dpid, port: Type.Integer({ description: 'port number' }) },
  { title: 'PortRef' },
);

export const PortSchema = Type.Object(
  {
    portNo: Type.Integer(),
    name: Type.String(),
    hwAddr: Type.String(),
    up: Type.Boolean({ description: 'link up and port not administratively down' }),
    currSpeedBps: Type.Number({ description: 'current speed, bit/s (0 when the switch does not say)' }),
    maxSpeedBps: Nullable(Type.Number({ description: 'maximum speed, bit/s' })),
    kind: Type.Union([Type.Literal('fabric'), Type.Literal('edge')], { description: 'fabric: has an LLDP neighbour' }),
    neighbor: Nullable(PortRefSchema),
  },
  { title: 'Port' },
);

export const FeaturesSchema = Type.Object(
  {
    nTables: Type.Integer(),
    nBuffers: Type.Integer(),
    auxiliaryId: Type.Integer(),
    capabilities: Type.Array(Type.String(), { description: 'OFPC_* flags set (OpenFlow 1.3.5 §7.3.1)' }),
    capabilitiesMask: Type.Integer(),
  },
  { title: 'Features' },
);

export const SwitchSchema = Type.Object(
  {
    dpid: Dpid,
    role: Type.Union([Type.Literal('leaf'), Type.Literal('spine'), Type.Literal('unknown')]),
    connected: Type.Boolean({ description: 'an OpenFlow session is up' }),
    peer: Nullable(Type.String({ description: 'the switch end of the connection, address:port' })),
    features: Nullable(FeaturesSchema),
    ports: Type.Array(PortSchema),
  },
  { title: 'Switch' },
);

export const LinkSchema = Type.Object(
  {
    src: PortRefSchema,
    dst: PortRefSchema,
    capacityBps: Type.Number({ description: 'from the config (per link, else default), else the port speed' }),
    loadBps: Nullable(Type.Number({ description: 'current load, bit/s: the allocated rates of the flowlets crossing it (null: no allocator)' })),
    lastSeen: Type.String({ format: 'date-time', description: 'last LLDP frame proving the link' }),
    ageMs: Type.Number({ description: 'ms since lastSeen' }),
  },
  { title: 'Link', description: 'a directed link: src sent the LLDP frame, dst received it' },
);

export const HostSchema = Type.Object(
  {
    mac: Type.String(),
    ipv4: Nullable(Type.String()),
    attachment: PortRefSchema,
    lastSeen: Type.String({ format: 'date-time' }),
    ageMs: Type.Number(),
  },
  { title: 'Host' },
);

export const RouteSchema = Type.Object(
  {
    flowKey: Type.Object({
      ipv4Src: Type.String(),
      ipv4Dst: Type.String(),
      ipProto: Type.Integer(),
      srcPort: Type.Optional(Type.Integer()),
      dstPort: Type.Optional(Type.Integer()),
    }),
    srcHost: Type.String({ description: 'source host MAC' }),
    dstHost: Type.String({ description: 'destination host MAC' }),
    path: Type.Array(Type.Object({ dpid: Dpid, inPort: Type.Integer(), outPort: Type.Integer() }), {
      description: 'the switches crossed, ingress first',
    }),
    spine: Nullable(Dpid),
    choice: Type.Object({ index: Type.Integer(), of: Type.Integer() }, { description: 'chosen path among the equal-cost ones' }),
    cookie: Type.String(),
    installed: Type.Boolean(),
    created: Type.String({ format: 'date-time' }),
    ageMs: Type.Number(),
    repinned: Type.Integer({ description: 'times moved to another path' }),
  },
  { title: 'Route', description: 'a pinned flow and its path' },
);

export const SwitchList = Type.Object({ switches: Type.Array(SwitchSchema) });
export const RejectedLinkSchema = Type.Object(
  {
    src: PortRefSchema,
    dst: PortRefSchema,
    reason: Type.Union([Type.Literal('hostPort'), Type.Literal('delay')], {
      description: 'hostPort: an end has carried host traffic (a relay between hosts); delay: the probe took far longer than on the fabric’s other links',
    }),
    hostPort: Type.Optional(PortRefSchema),
    delayMs: Type.Optional(Type.Number({ description: 'smallest probe delay of this link over its recent probes, ms' })),
    fabricMedianDelayMs: Type.Optional(Type.Number({ description: 'median of the other links’ smallest probe delays, ms' })),
    count: Type.Integer({ description: 'LLDP sightings refused' }),
    lastSeen: Type.String({ format: 'date-time' }),
    ageMs: Type.Number(),
  },
  { title: 'RejectedLink', description: 'an LLDP sighting that did not become a link (link fabrication defence)' },
);

export const LinkList = Type.Object({
  links: Type.Array(LinkSchema),
  rejected: Type.Optional(Type.Array(RejectedLinkSchema, { description: 'sightings refused or links flagged and not used, newest first' })),
  hostPorts: Type.Optional(Type.Array(PortRefSchema, { description: 'ports that carried host traffic: not probed, never a link end until they go down and up' })),
});
export const HostList = Type.Object({ hosts: Type.Array(HostSchema), nextCursor: Type.Optional(NextCursor) });
export const RouteList = Type.Object({ routes: Type.Array(RouteSchema), nextCursor: Type.Optional(NextCursor) });

export const TopologySchema = Type.Object(
  {
    ready: Type.Boolean({ description: 'discovery settled' }),
    switches: Type.Array(SwitchSchema),
    links: Type.Array(LinkSchema),
    hosts: Type.Array(HostSchema),
  },
  { title: 'Topology' },
);

export const HealthSchema = Type.Object(
  {
    status: Type.Literal('ok'),
    ready: Type.Boolean({ description: 'topology ready: discovery settled, safe to start sending' }),
    uptimeS: Type.Number(),
    switches: Type.Integer({ description: 'switches connected' }),
    links: Type.Integer(),
    hosts: Type.Integer(),
    routes: Type.Integer(),
    version: Type.String(),
  },
  { title: 'Health' },
);

export const HealthQuery = Type.Object(
  {
    waitReadyMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 60000, description: 'wait up to this long for `ready` before answering' }),
    ),
  },
  { additionalProperties: false },
);

export const DpidParams = Type.Object({ dpid: Type.String({ description: 'datapath id: 16 hex digits, 0x-hex, aa:bb:… or decimal' }) });

/* Ryu-compatible shapes (/v1.0/topology/...): snake_case, port numbers as 8 hex digits. */
export const RyuPort = Type.Object({ dpid: Dpid, port_no: Type.String(), hw_addr: Type.String(), name: Type.String() });
export const RyuSwitch = Type.Object({ dpid: Dpid, ports: Type.Array(RyuPort) });
export const RyuLink = Type.Object({ src: RyuPort, dst: RyuPort });
export const RyuHost = Type.Object({ mac: Type.String(), ipv4: Type.Array(Type.String()), ipv6: Type.Array(Type.String()), port: RyuPort });

export type SwitchJson = Static<typeof SwitchSchema>;
export type PortJson = Static<typeof PortSchema>;
export type LinkJson = Static<typeof LinkSchema>;
export type HostJson = Static<typeof HostSchema>;
export type RouteJson = Static<typeof RouteSchema>;
export type HealthJson = Static<typeof HealthSchema>;
export type TopologyJson = Static<typeof TopologySchema>;
export type RyuPortJson = Static<typeof RyuPort>;
export type RyuSwitchJson = Static<typeof RyuSwitch>;
export type RyuLinkJson = Static<typeof RyuLink>;
export type RyuHostJson = Static<typeof RyuHost>;

const ClassCountsSchema = Type.Object({ admitted: Type.Integer(), dropped: Type.Integer() });
const CountsByClassSchema = Type.Object({ lldp: ClassCountsSchema, arp: ClassCountsSchema, ipv4: ClassCountsSchema, other: ClassCountsSchema });
const PerClass = Type.Object({ lldp: Type.Integer(), arp: Type.Integer(), ipv4: Type.Integer(), other: Type.Integer() });

/** GET /packet-ins: packet-in protection counters, totals and per switch and port. */
export const PacketInsSchema = Type.Object({
  admitted: PerClass,
  dropped: PerClass,
  queueOverflow: Type.Integer({ description: 'new-flow packet-ins dropped because the dispatch queue was full' }),
  queued: Type.Integer({ description: 'new-flow packet-ins waiting for dispatch now' }),
  controllerMeters: Type.Array(Type.Object({
    dpid: Type.String(),
    state: Type.Union([Type.Literal('pending'), Type.Literal('applied'), Type.Literal('unsupported')]),
    ratePps: Type.Integer(),
    reason: Type.Optional(Type.String()),
  }), { description: 'the OFPM_CONTROLLER meter per switch: applied, or unsupported with the switch error' }),
  droppedAtSwitch: Type.Object({ lldp: Type.Integer(), arp: Type.Integer(), ipv4: Type.Integer(), other: Type.Integer() }, {
    description: 'packet-ins dropped at the switches by the per-port meters (their band counts, read every packetIn.portMeter.statsIntervalMs); `dropped` counts the controller\'s own drops',
  }),
  portMeters: Type.Array(Type.Object({
    dpid: Type.String(),
    port: Type.Integer(),
    meterId: Type.Integer(),
    state: Type.Union([Type.Literal('installing'), Type.Literal('applied'), Type.Literal('failed')]),
    ratePps: Type.Integer(),
    droppedAtSwitch: Type.Integer({ description: "IPv4 packets the meter's band dropped, as last read" }),
    reason: Type.Optional(Type.String()),
  }), { description: 'per-port packet-in meters: host ports that overspent their IPv4 budget, metered at the switch' }),
  switches: Type.Array(Type.Object({
    dpid: Type.String(),
    total: CountsByClassSchema,
    ports: Type.Array(Type.Object({ port: Type.Integer(), counts: CountsByClassSchema })),
  })),
});
