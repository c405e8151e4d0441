/**
 * The schema of Rivulet's one configuration file (README.md "Configuration"), as TypeBox schemas: one
 * object per section, every key with its default (so an empty file serves the Mininet demo), unknown keys
 * rejected. Units: ms for durations unless the key says `S` (seconds); bit/s for capacities (also
 * accepted as strings with an SI prefix, 1000-based: "100M", "10Gbit/s").
 *
 * Each app owns the schema of its section (`topology/config.ts`, `apps/routing/config.ts`,
 * `apps/qos/config.ts`, `apps/allocator/config.ts`, `apps/enforcement/config.ts`, the controller meter's
 * key in `apps/controlplane/config.ts`), built from lib/config-schema.ts; this file holds the program's
 * own sections (openflow, api, packetIn, log) and composes them all. To add a section: write its
 * `Type.Object({...}, SECTION)` where its app lives and add it to {@link CONFIG_SECTIONS};
 * {@link RivuletConfig} and validation follow from the schema.
 *
 * Leaf schemas may carry `errorMessage`: the text shown after the key when the value is rejected
 * (otherwise one is derived from the schema, see load.ts).
 */
import { Type, type StaticDecode, type TSchema } from '@sinclair/typebox';
import { int, SECTION } from '../../lib/config-schema.js';
import { AllocatorSection } from '../../apps/allocator/config.js';
import { ControllerMeterKey, PortMeterKey } from '../../apps/controlplane/config.js';
import { AgentsSection, EnforcementSection, TenantsSection } from '../../apps/enforcement/config.js';
import { QosSection } from '../../apps/qos/config.js';
import { RoutingSection } from '../../apps/routing/config.js';
import { TopologySection } from '../../topology/config.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function tcpPort(def: number, what: string) {
  return int(0, 65535, def, `TCP port ${what} (0 = any free port)`);
}

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
    controllerMeter: ControllerMeterKey,
    portMeter: PortMeterKey,
  },
  { ...SECTION, description: 'packet-in protection: budgets per port and per switch by class, excess dropped early and counted' },
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
