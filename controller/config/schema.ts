/**
 * The schema of Rivulet's one configuration file (README.md "Configuration"), as TypeBox schemas: one
 * object per section, every key with its default (so an empty file serves the Mininet demo), unknown keys
 * rejected. Units: ms for durations unless the key says `S` (seconds); bit/s for capacities (also
 * accepted as strings with an SI prefix, 1000-based: "100M", "10Gbit/s").
 *
 * To add a section (qos, allocator, enforcement, tenants…): write its `Type.Object({...}, SECTION)` below
 * and add it to {@link CONFIG_SECTIONS}; {@link RivuletConfig} and validation follow from the schema.
 *
 * Leaf schemas may carry `errorMessage`: the text shown after the key when the value is rejected
 * (otherwise one is derived from the schema, see load.ts).
 */
import { Type, type StaticDecode, type TSchema } from '@sinclair/typebox';
import { dpidPortKey, parseDpid } from '../../lib/dpid.js';
import { parseBitRate } from '../../lib/bit-rate.js';

/** Options of every section: unknown keys rejected; an absent section means all defaults. */
const SECTION = { additionalProperties: false, default: {} } as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function int(minimum: number, maximum: number, def: number, description: string) {
  return Type.Integer({ minimum, maximum, default: def, description });
}

function tcpPort(def: number, what: string) {
  return int(0, 65535, def, `TCP port ${what} (0 = any free port)`);
}

/** "100M", "10 Gbit/s", "1.5G", "500k", "100Mbps" → bits per second (SI, 1000-based). */
const BIT_RATE_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s*[kKMGT]?(bit/s|bps|bit|b/s)?$';

export { parseBitRate } from '../../lib/bit-rate.js';

function bitRate(description: string) {
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

export const OpenflowSection = Type.Object(
  {
    port: tcpPort(6653, 'for switches (OpenFlow 1.3.5 §6.3.1)'),
    host: Type.String({ minLength: 1, default: '0.0.0.0', description: 'address to listen on for switches' }),
    missSendLen: int(0, 65535, 65535, 'SET_CONFIG miss_send_len in bytes (65535 = OFPCML_NO_BUFFER, whole packets)'),
    echoIntervalMs: int(100, 3_600_000, 5000, 'period of ECHO_REQUESTs to each switch, ms'),
    echoMaxUnanswered: int(1, 1000, 3, 'unanswered ECHO_REQUESTs after which a switch is declared dead'),
    tls: Type.Optional(Type.Object({
      keyFile: Type.String({ minLength: 1, description: "the controller's private key (PEM), e.g. ovs-pki's ctl-privkey.pem" }),
      certFile: Type.String({ minLength: 1, description: "the controller's certificate (PEM), e.g. ctl-cert.pem" }),
      caFile: Type.String({ minLength: 1, description: "the CA that signs switch certificates (PEM), e.g. ovs-pki's switchca/cacert.pem" }),
      dpidsByCertificate: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ pattern: '^(0x)?[0-9a-fA-F]{1,16}$' })), {
        description: 'certificate subject CN → the datapath ids (hex) it may claim; absent: any dpid',
      })),
    }, { additionalProperties: false, description: 'OpenFlow over TLS (mutual: switches present a certificate signed by caFile); absent: plain TCP' })),
  },
  { ...SECTION, description: 'the OpenFlow listener and switch sessions' },
);

export const ApiSection = Type.Object(
  {
    port: tcpPort(8080, 'of the REST API'),
    host: Type.String({ minLength: 1, default: '0.0.0.0', description: 'address the REST API listens on' }),
    token: Type.Optional(
      Type.String({ minLength: 16, description: 'bearer token required by mutating endpoints (none: they are refused)' }),
    ),
    tls: Type.Optional(Type.Object({
      keyFile: Type.String({ minLength: 1, description: 'private key (PEM) of the REST server' }),
      certFile: Type.String({ minLength: 1, description: 'certificate (PEM) of the REST server' }),
    }, { additionalProperties: false, description: 'serve the REST API (and the agents\' wss://) over HTTPS; absent: plain HTTP' })),
  },
  { ...SECTION, description: 'the REST API (fastify, prefix /api/v1)' },
);

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

export const RoutingSection = Type.Object(
  {
    seed: int(0, 0xffffffff, 1, 'seed of the random choice among equal-cost paths (same seed, same choices)'),
    idleTimeoutS: int(0, 65535, 10, 'idle timeout of pinned flow entries, s (0 = none)'),
    priority: int(1, 65535, 1000, 'priority of pinned flow entries'),
    maxRoutes: int(1, 10_000_000, 20_000, 'pinned flows at most (all switches); beyond, the least recently used route is removed with its entries'),
    maxRoutesPerSwitch: int(1, 10_000_000, 5000, 'pinned flows crossing one switch at most (bounds its flow table); beyond, the least recently used route through it is removed'),
    maxProbesPerSecond: int(0, 1_000_000, 50, 'ARP probes for unknown destinations per second at most, all addresses together (0 = none sent)'),
  },
  { ...SECTION, description: 'explicit path pinning (random among equal-cost paths)' },
);

function packetInBudget(defaults: { lldp: number; arp: number; ipv4: number; other: number }, where: string) {
  const pps = (cls: string, def: number) => int(0, 10_000_000, def, `${cls} packet-ins per second ${where} (0 = not limited)`);
  return Type.Object(
    { lldp: pps('LLDP', defaults.lldp), arp: pps('ARP', defaults.arp), ipv4: pps('IPv4 (new flows)', defaults.ipv4), other: pps('other', defaults.other) },
    { additionalProperties: false, default: {}, description: `packet-in budgets ${where}, by class` },
  );
}

export const PacketInSection = Type.Object(
  {
    perPortPps: packetInBudget({ lldp: 1000, arp: 500, ipv4: 500, other: 200 }, 'per ingress port'),
    perSwitchPps: packetInBudget({ lldp: 10_000, arp: 2000, ipv4: 2000, other: 1000 }, 'per switch'),
    burstS: Type.Number({ minimum: 0.01, maximum: 60, default: 1, description: 'token bucket depth, seconds of the rate' }),
    maxQueued: int(1, 1_000_000, 4096, 'new-flow packet-ins waiting for dispatch at most (beyond: dropped and counted)'),
    batch: int(1, 100_000, 64, 'new-flow packet-ins dispatched per event-loop turn (LLDP, ARP, echo and the REST API run between batches)'),
    controllerMeter: Type.Boolean({ default: true, description: "set OpenFlow's controller meter (OFPM_CONTROLLER) on each switch at the per-switch budget (all classes), where the switch supports it (probed, reported in /api/v1/packet-ins)" }),
  },
  { ...SECTION, description: 'packet-in protection: budgets per port and per switch by class, excess dropped early and counted' },
);

/** Queues per port linux-htb on OVS (and PicOS) offer to Rivulet: OpenFlow queue ids 0…7. */
export const PLATFORM_MAX_QUEUES = 8;
/** DSCP → queue defaults for 4 queues (highest queue = highest priority): EF/CS6 top, AF3x/AF4x, AF1x/AF2x. */
export const DEFAULT_DSCP_MAP: Readonly<Record<string, readonly number[]>> = { '3': [46, 48], '2': [26, 34], '1': [10, 18] };

const dscpList = Type.Array(
  Type.Integer({ minimum: 0, maximum: 63, errorMessage: 'must be a DSCP 0–63' }),
  { description: 'DSCP values (0–63) steered to this queue', errorMessage: 'must be a list of DSCP values 0–63' },
);

export const EcnSection = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'configure ECN marking (RED with ecn under each class, where the platform has it)' }),
    bySpeed: Type.Record(Type.String({ pattern: BIT_RATE_PATTERN }), Type.Integer({ minimum: 1, errorMessage: 'must be a threshold in packets ≥ 1' }), {
      additionalProperties: false,
      default: { '1G': 20, '10G': 65 },
      description: 'marking threshold K in packets by link speed (DCTCP: ≈20 at 1 Gbit/s, 65 at 10 Gbit/s); interpolated between speeds, scaled in proportion below the lowest',
      keyMessage: 'is not a link speed such as "1G" or "10Gbit/s"',
    }),
    minPackets: int(1, 100_000, 2, 'smallest threshold the speed scaling may give, packets'),
    ports: Type.Record(Type.String({ pattern: LINK_KEY_PATTERN }), Type.Integer({ minimum: 1, errorMessage: 'must be a threshold in packets ≥ 1' }), {
      additionalProperties: false,
      default: {},
      description: 'per-port thresholds in packets, "<dpid hex>:<port>" → packets (override bySpeed)',
      keyMessage: 'is not a port key "<dpid hex>:<port number>" (e.g. "0000000000000001:3")',
    }),
    packetBytes: int(64, 9216, 1500, 'bytes per packet when a threshold is given to the platform in bytes'),
  },
  { ...SECTION, description: 'per-port ECN marking thresholds (Karuna, DCTCP K)' },
);

export const PriorityThresholdsSection = Type.Object(
  {
    cdfFile: Type.Optional(Type.String({ minLength: 1, description: 'flow-size distribution (.cdf: "bytes cumulative_probability" lines; `rivulet trace --json` gives one from a capture); absent: no thresholds' })),
    load: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.6, description: 'offered load ρ of the PIAS model', errorMessage: 'must be a load between 0 and 1 (exclusive)' }),
  },
  { ...SECTION, description: 'PIAS/Karuna demotion thresholds for the queues, computed at start from a flow-size distribution' },
);

export const QosSection = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'apply the QoS plan (queues, DSCP classifier, ECN) to every switch port' }),
    queues: Type.Integer({
      minimum: 1,
      maximum: PLATFORM_MAX_QUEUES,
      default: 4,
      description: `strict-priority queues per port (queue 0 best effort, the highest queue served first), 1–${PLATFORM_MAX_QUEUES}`,
      errorMessage: `must be an integer 1–${PLATFORM_MAX_QUEUES} (more queues than the platform offers: OVS linux-htb and PicOS give ${PLATFORM_MAX_QUEUES} per port)`,
    }),
    dscpMap: Type.Record(Type.String({ pattern: '^[0-7]$' }), dscpList, {
      additionalProperties: false,
      default: DEFAULT_DSCP_MAP,
      description: 'queue → DSCP values steered to it (a DSCP in no list goes to queue 0); one DSCP in one queue only',
      keyMessage: `is not a queue number 0–${PLATFORM_MAX_QUEUES - 1}`,
    }),
    bufferPackets: Type.Optional(Type.Integer({
      minimum: 1, maximum: 1_000_000,
      description: 'per-class buffer of every port, packets (a marking threshold must fit in it); absent: derived per port from bufferDelayMs',
      errorMessage: 'must be an integer 1–1000000',
    })),
    bufferDelayMs: Type.Number({
      exclusiveMinimum: 0, maximum: 10_000, default: 20,
      description: "per-class buffer when bufferPackets is absent: this many ms of queueing at the port's capacity (in ecn.packetBytes packets), at least bufferMinPackets and the port's ECN threshold",
      errorMessage: 'must be a number of ms > 0',
    }),
    bufferMinPackets: int(1, 1_000_000, 32, 'floor of the derived per-class buffer, packets'),
    ecn: EcnSection,
    dscpClassifier: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
      default: 'auto',
      description: 'tc u32 DSCP filters on the port: auto = where set_queue does not steer (userspace datapath, datapath_type=netdev)',
      errorMessage: 'must be one of auto|on|off',
    }),
    ovsdb: Type.String({ minLength: 1, default: 'unix:/var/run/openvswitch/db.sock', description: 'OVSDB of the switches (unix:/path or tcp:host:port)' }),
    priorityThresholds: PriorityThresholdsSection,
  },
  { ...SECTION, description: 'strict-priority queues by DSCP and ECN thresholds on every switch port (Karuna)' },
);

export const LogSection = Type.Object(
  {
    level: Type.Optional(
      Type.Union(
        LOG_LEVELS.map((l) => Type.Literal(l)),
        { description: 'log level (absent: $RIVULET_LOG_LEVEL, else info)', errorMessage: `must be one of ${LOG_LEVELS.join('|')}` },
      ),
    ),
  },
  { ...SECTION, description: 'structured logging (pino, JSON lines)' },
);

function oneOf<const T extends readonly string[]>(names: T, def: T[number], description: string) {
  return Type.Union(names.map((n) => Type.Literal(n)), {
    default: def, description, errorMessage: `must be one of ${names.join('|')}`,
  });
}

/** Policies the online allocator runs (apps/allocator createPolicy). */
export const ALLOCATOR_POLICIES = ['flowtune', 'maxmin', 'fca'] as const;

export const AllocatorSection = Type.Object(
  {
    policy: oneOf(ALLOCATOR_POLICIES, 'flowtune', 'flowtune: weighted proportional fairness (NED + F-NORM); maxmin: weighted max-min (BwE); fca: transfer-aware (FCA)'),
    intervalMs: int(10, 3_600_000, 100, 'period of the allocator run besides the run after each batch of agent events, ms'),
    iterationsPerRun: int(1, 10_000, 1, 'NED iterations per run (flowtune: one per change, warm-started prices)'),
    rateChangeThreshold: Type.Number({
      minimum: 0, maximum: 10, default: 0.05,
      description: 'push a rate to agents and meters only when it changed by more than this fraction (0.05 = 5%) AND by more than rateChangeMinBps',
      errorMessage: 'must be a fraction ≥ 0 (0.05 = 5%)',
    }),
    rateChangeMinBps: Type.Number({
      minimum: 0, maximum: 1e15, default: 500_000,
      description: 'absolute hysteresis: push a rate only when it changed by more than this many bit/s (and by more than rateChangeThreshold)',
      errorMessage: 'must be a number of bit/s ≥ 0',
    }),
    minUpdateIntervalMs: int(0, 3_600_000, 500, "a flowlet's rate (a meter's) changes at most once per this period; first rates and clears are exempt, ms"),
    runOnProgress: Type.Boolean({
      default: false,
      description: 'run the allocator after every batch of agent events; false: only after batches that start, enlarge or end an allocated flowlet (and every intervalMs)',
    }),
    tenantWeightPer: oneOf(['tenant', 'flowlet'] as const, 'tenant', "tenant: a tenant's weight is divided equally among its allocated flowlets, so each tenant gets its weighted share however many flowlets it runs (BwE); flowlet: every flowlet carries its tenant's full weight"),
    smallFlowletBytes: int(0, 1e15, 50_000, 'flowlets below this many bytes (declared size, or bytes sent so far) are not allocated: they ride the top priority (FCA §4.4)'),
  },
  { ...SECTION, description: 'the online flowlet allocator (apps/allocator) fed by the host agents' },
);

export const ENFORCEMENT_MODES = ['meters', 'agents', 'both', 'mark'] as const;

export const EnforcementSection = Type.Object(
  {
    mode: oneOf(ENFORCEMENT_MODES, 'both', 'who enforces the rates: OpenFlow meters on the ingress leaf, the host agents (HTB), or both (agents shape, meters police above); mark = no rate allocation at all: agents only mark DSCP by the PIAS/Karuna thresholds (the priority-only baseline of experiments)'),
    meterMarginFraction: Type.Number({
      minimum: 0, maximum: 10, default: 0.1,
      description: "mode 'both': meters police at rate·(1 + margin), above the agents' shaping",
      errorMessage: 'must be a fraction ≥ 0 (0.1 = 10% above the rate)',
    }),
    meterPer: oneOf(['flowlet', 'hostPair'] as const, 'flowlet', 'one meter per allocated flowlet, or per (source, destination) host pair on the ingress leaf'),
    meterBurstMs: int(1, 10_000, 20, "meter burst, ms of traffic at the meter's rate (too small a burst starves TCP below the rate)"),
    statsIntervalMs: int(100, 3_600_000, 1000, 'period of meter statistics polls (measured rate per meter), ms'),
    meterExpiryS: int(0, 65_535, 10, "metered entries expire this long after the controller's last refresh (every third of it), so the switches stop policing within this time once the controller is gone, like the agents after their grace (default 10 s); 0 = meters stay while the controller is down, s"),
  },
  { ...SECTION, description: 'how allocated rates are enforced' },
);

export const AgentsSection = Type.Object(
  {
    socketPath: Type.String({ default: '/run/rivulet/agents.sock', description: 'unix socket the host agents connect to (NDJSON; "" = none: agents use the WebSocket /api/v1/agents/ws)' }),
    heartbeatMs: int(10, 600_000, 1000, 'ping period on every agent channel; a channel silent for 3 periods is dropped, ms'),
    expiryMs: int(0, 86_400_000, 5000, "a vanished agent's flowlets expire after this long unless it comes back, ms"),
    idleGapMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000, description: 'idle gap that ends a flowlet, pushed to agents (absent: the agents\' own default), ms' })),
    socketMode: Type.String({ pattern: '^0?[0-7]{3}$', default: '0600', description: 'file mode of the unix socket (octal; default owner only: the socket\'s protection when agents need no secret on it)' }),
    auth: Type.Object({
      secrets: Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ minLength: 16, maxLength: 1024 }), {
        default: {}, description: 'per-agent secrets, agent id → secret (≥ 16 characters); an agent listed here must prove this one',
      }),
      sharedSecret: Type.Optional(Type.String({ minLength: 16, maxLength: 1024, description: 'secret of every agent not listed in `secrets`' })),
      unix: Type.Boolean({ default: false, description: 'require authentication on the unix socket too (else its file mode protects it; a second hello with a connected agent id must authenticate either way)' }),
      timeoutMs: int(100, 600_000, 5000, 'a channel that has not authenticated this long after its hello is closed, ms'),
    }, { additionalProperties: false, default: {}, description: 'agent authentication (HMAC challenge-response); the WebSocket channel is off unless a secret is configured' }),
    maxAgents: int(1, 1_000_000, 1024, 'agents registered at once; more hellos are refused'),
    maxActiveFlowletsPerAgent: int(1, 10_000_000, 1024, "an agent's active flowlets; further starts are rejected (error on the channel, counted, not stored)"),
    maxEventsPerSecond: int(1, 100_000_000, 20_000, 'flowlet events (starts, progress, ends, acks) per second per agent, with a burst of one second; the excess is rejected and counted'),
  },
  { ...SECTION, description: 'the host-agent channel (protocol/agent.ts)' },
);

/** An IPv4 address or prefix: `10.0.1.2`, `10.0.1.0/24`. */
export const IPV4_OR_CIDR_PATTERN =
  '^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}(/([0-9]|[12][0-9]|3[0-2]))?$';

export const TenantSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, description: 'tenant name (agents may declare it per flowlet)' }),
    weight: Type.Number({ exclusiveMinimum: 0, maximum: 1e6, default: 1, description: "weight of each of the tenant's flowlets in the allocator", errorMessage: 'must be a weight > 0' }),
    members: Type.Array(Type.String({ pattern: IPV4_OR_CIDR_PATTERN, errorMessage: 'must be an IPv4 address or prefix such as 10.0.1.0/24' }), {
      default: [], description: 'source hosts of the tenant: IPv4 addresses or CIDR prefixes',
    }),
  },
  { additionalProperties: false },
);

export const TenantsSection = Type.Array(TenantSchema, {
  default: [],
  description: "tenants with weights; a flowlet's weight is its declared tenant's, else the first tenant whose members hold its source, else 1",
  errorMessage: 'must be a list of tenants { name, weight, members }',
});

/** Every section of the file, by key. Add new sections here. */
export const CONFIG_SECTIONS = {
  openflow: OpenflowSection,
  api: ApiSection,
  topology: TopologySection,
  routing: RoutingSection,
  packetIn: PacketInSection,
  qos: QosSection,
  allocator: AllocatorSection,
  enforcement: EnforcementSection,
  agents: AgentsSection,
  tenants: TenantsSection,
  log: LogSection,
} satisfies Record<string, TSchema>;

export const ConfigSchema = Type.Object(CONFIG_SECTIONS, {
  additionalProperties: false,
  default: {},
  title: 'Rivulet configuration',
});

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The validated configuration, defaults filled in, bit rates as numbers (bit/s), link keys normalized. */
export type RivuletConfig = DeepReadonly<StaticDecode<typeof ConfigSchema>>;
