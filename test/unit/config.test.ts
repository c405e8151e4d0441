/**
 * The configuration file (controller/config): defaults, JSON and YAML, flags over the file, and a
 * ConfigError with a stable code naming the key for every kind of bad value and for unknown keys.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONFIG_SECTIONS,
  ConfigError,
  defaultConfig,
  loadConfig,
  normalizeLinkKey,
  parseBitRate,
  resolveConfig,
  type ConfigErrorCode,
} from '../../controller/config/index.js';

function rejects(doc: unknown, code: ConfigErrorCode, key: string | undefined, message: RegExp | string): ConfigError {
  let caught: unknown;
  try {
    resolveConfig(doc);
  } catch (err) {
    caught = err;
  }
  expect(caught, JSON.stringify(doc)).to.be.instanceOf(ConfigError);
  const e = caught as ConfigError;
  expect(e.code).to.equal(code);
  expect(e.key).to.equal(key);
  if (typeof message === 'string') expect(e.message).to.equal(message);
  else expect(e.message).to.match(message);
  expect(e.message).to.not.include('\n');
  return e;
}

describe('config: defaults', () => {
  it('an empty document gives the Mininet demo defaults', () => {
    expect(defaultConfig()).to.deep.equal({
      openflow: { port: 6653, host: '0.0.0.0', missSendLen: 65535, echoIntervalMs: 5000, echoMaxUnanswered: 3 },
      api: { port: 8080, host: '0.0.0.0' },
      topology: { lldpIntervalMs: 1000, linkTimeoutPeriods: 3, links: {}, linkDelayFactor: 10, linkDelayFloorMs: 100, maxHosts: 4096, hostIdleS: 3600 },
      routing: { seed: 1, idleTimeoutS: 10, priority: 1000, maxRoutes: 20_000, maxRoutesPerSwitch: 5000, maxProbesPerSecond: 50 },
      packetIn: {
        perPortPps: { lldp: 1000, arp: 500, ipv4: 500, other: 200 },
        perSwitchPps: { lldp: 10_000, arp: 2000, ipv4: 2000, other: 1000 },
        burstS: 1,
        maxQueued: 4096,
        batch: 64,
        controllerMeter: true,
        portMeter: { enabled: true, mode: 'port', headroomPct: 20, maxPortsPerSwitch: 64, statsIntervalMs: 1000, releaseAfterMs: 2000 },
      },
      qos: {
        enabled: true,
        queues: 4,
        dscpMap: { '3': [46, 48], '2': [26, 34], '1': [10, 18] },
        bufferDelayMs: 20,
        bufferMinPackets: 32,
        minQueueShare: 0.01,
        ecn: { enabled: true, bySpeed: { '1G': 20, '10G': 65 }, minPackets: 2, ports: {}, packetBytes: 1500 },
        dscpClassifier: 'auto',
        ovsdb: 'unix:/var/run/openvswitch/db.sock',
        priorityThresholds: { load: 0.6 },
      },
      allocator: { policy: 'flowtune', intervalMs: 100, iterationsPerRun: 1, rateChangeThreshold: 0.05, rateChangeMinBps: 500000, minUpdateIntervalMs: 500, runOnProgress: false, tenantWeightPer: 'tenant', fcaReserve: 0.000001, fcaMinRateBps: 250000, smallFlowletBytes: 50000 },
      enforcement: { mode: 'both', workConserving: true, meterMarginFraction: 0.1, meterPer: 'flowlet', meterBurstMs: 20, statsIntervalMs: 1000, meterExpiryS: 10, tenantLimits: true, tenantIdleMs: 5000, fcaEnforce: 'rates' },
      agents: {
        socketPath: '/run/rivulet/agents.sock', heartbeatMs: 1000, expiryMs: 5000, socketMode: '0600',
        auth: { secrets: {}, unix: false, timeoutMs: 5000 }, maxAgents: 1024, maxActiveFlowletsPerAgent: 1024, maxEventsPerSecond: 20000,
      },
      tenants: [],
      log: {},
    });
    expect(resolveConfig(null)).to.deep.equal(defaultConfig());
    expect(resolveConfig({ openflow: {} })).to.deep.equal(defaultConfig());
    expect(resolveConfig({ openflow: null, api: { token: null }, topology: { links: null } })).to.deep.equal(defaultConfig()); // YAML `key:` alone
  });

  it('keeps given values and fills the rest of the section', () => {
    const c = resolveConfig({ openflow: { port: 6633 }, routing: { seed: 42 }, log: { level: 'debug' }, api: { token: 'x'.repeat(16) } });
    expect(c.openflow).to.include({ port: 6633, host: '0.0.0.0', echoIntervalMs: 5000 });
    expect(c.routing).to.deep.equal({ seed: 42, idleTimeoutS: 10, priority: 1000, maxRoutes: 20_000, maxRoutesPerSwitch: 5000, maxProbesPerSecond: 50 });
    expect(c.log.level).to.equal('debug');
    expect(c.api.token).to.equal('x'.repeat(16));
  });

  it('does not modify the document it was given', () => {
    const doc = { openflow: { port: 1 } };
    resolveConfig(doc);
    expect(doc).to.deep.equal({ openflow: { port: 1 } });
  });

  it('documents every key of every section (description) and gives it a default or makes it optional', () => {
    for (const [name, sec] of Object.entries(CONFIG_SECTIONS)) {
      const top = sec as unknown as Record<string, unknown>;
      expect(top['description'], name).to.be.a('string');
      expect(top, `${name} default`).to.have.property('default');
      // a list section (tenants) is checked through its entries' object schema
      const section = (top['type'] === 'array' ? top['items'] : sec) as { additionalProperties?: unknown; required?: string[]; properties: Record<string, unknown> };
      expect(section.additionalProperties, name).to.equal(false);
      // entries of a list are written by the user: their required keys (a tenant's name) have no default
      const required = new Set(top['type'] === 'array' ? [] : (section.required ?? []));
      for (const [key, schema] of Object.entries(section.properties) as [string, Record<string, unknown>][]) {
        expect(schema['description'], `${name}.${key}`).to.be.a('string');
        if (required.has(key)) expect(schema, `${name}.${key} default`).to.have.property('default');
      }
    }
  });
});

describe('config: bit rates and link keys', () => {
  it('reads capacities as numbers or SI strings (1000-based)', () => {
    expect(parseBitRate(12345)).to.equal(12345);
    expect(parseBitRate('100M')).to.equal(100e6);
    expect(parseBitRate('10Gbit/s')).to.equal(10e9);
    expect(parseBitRate('1.5G')).to.equal(1.5e9);
    expect(parseBitRate('500k')).to.equal(500e3);
    expect(parseBitRate('100 Mbps')).to.equal(100e6);
    expect(parseBitRate('300')).to.equal(300);
  });

  it('normalizes per-link keys to <16 hex digits>:<port>', () => {
    expect(normalizeLinkKey('1:3')).to.equal('0000000000000001:3');
    expect(normalizeLinkKey('0xA1:12')).to.equal('00000000000000a1:12');
    const c = resolveConfig({ topology: { defaultCapacityBps: '100M', links: { 'a1:2': '10M', '0000000000000002:3': 5e6 } } });
    expect(c.topology.defaultCapacityBps).to.equal(100e6);
    expect(c.topology.links).to.deep.equal({ '00000000000000a1:2': 10e6, '0000000000000002:3': 5e6 });
  });
});

describe('config: each kind of bad value names its key', () => {
  it('wrong type', () => {
    rejects({ openflow: { port: 'abc' } }, 'CONFIG_INVALID', 'openflow.port', 'config: openflow.port: must be an integer 0–65535, got "abc"');
    rejects({ api: { host: 5 } }, 'CONFIG_INVALID', 'api.host', 'config: api.host: must be a non-empty string, got 5');
    rejects({ topology: { lldpIntervalMs: true } }, 'CONFIG_INVALID', 'topology.lldpIntervalMs', /must be an integer 100–60000, got true$/);
  });

  it('out of range and not an integer', () => {
    rejects({ openflow: { port: 70000 } }, 'CONFIG_INVALID', 'openflow.port', /must be an integer 0–65535, got 70000$/);
    rejects({ openflow: { echoMaxUnanswered: 0 } }, 'CONFIG_INVALID', 'openflow.echoMaxUnanswered', /must be an integer 1–1000, got 0$/);
    rejects({ routing: { idleTimeoutS: 1.5 } }, 'CONFIG_INVALID', 'routing.idleTimeoutS', /must be an integer 0–65535, got 1.5$/);
    rejects({ routing: { seed: -1 } }, 'CONFIG_INVALID', 'routing.seed', /must be an integer 0–4294967295, got -1$/);
  });

  it('not one of the allowed names, too short', () => {
    rejects({ log: { level: 'loud' } }, 'CONFIG_INVALID', 'log.level', 'config: log.level: must be one of fatal|error|warn|info|debug|trace|silent, got "loud"');
    rejects({ api: { token: 'secret' } }, 'CONFIG_INVALID', 'api.token', /must be a string of at least 16 characters, got "secret"$/);
  });

  it('bad bit rates and link keys', () => {
    rejects({ qos: { minQueueShare: 0.3 } }, 'CONFIG_INVALID', 'qos.minQueueShare', /0\.3 × 4 queues guarantees more than the capacity \(at most 0\.2500 with 4 queues\)$/);
    rejects({ qos: { minQueueShare: 0 } }, 'CONFIG_INVALID', 'qos.minQueueShare', /must be a share of the capacity in \(0, 1\], got 0$/);
    rejects({ topology: { defaultCapacityBps: 0 } }, 'CONFIG_INVALID', 'topology.defaultCapacityBps', /must be a bit rate > 0 in bit\/s.*got 0$/);
    rejects({ topology: { defaultCapacityBps: '100MB' } }, 'CONFIG_INVALID', 'topology.defaultCapacityBps', /got "100MB"$/);
    rejects({ topology: { links: { '1:2': 'fast' } } }, 'CONFIG_INVALID', 'topology.links.1:2', /must be a bit rate.*got "fast"$/);
    rejects({ topology: { links: { s1: 100 } } }, 'CONFIG_INVALID', 'topology.links.s1', /key is not a link key "<dpid hex>:<port number>"/);
  });

  it('a section or the whole file of the wrong shape', () => {
    rejects({ openflow: 5 }, 'CONFIG_INVALID', 'openflow', /^config: openflow: must be a mapping \(keys: port, host, .*\), got 5$/);
    rejects([1, 2], 'CONFIG_INVALID', undefined, /^config: the file must be a mapping of sections \(openflow, api, topology, routing, packetIn, qos, allocator, enforcement, agents, tenants, log\), got \[1,2\]$/);
    rejects('text', 'CONFIG_INVALID', undefined, /got "text"$/);
  });

  it('unknown keys, with the known ones and a likely meant one', () => {
    rejects({ tenant: [] }, 'CONFIG_UNKNOWN_KEY', 'tenant', 'config: tenant: unknown key (known: openflow, api, topology, routing, packetIn, qos, allocator, enforcement, agents, tenants, log); did you mean "tenants"?');
    rejects({ openflow: { prot: 1 } }, 'CONFIG_UNKNOWN_KEY', 'openflow.prot', /unknown key \(known: port, host, missSendLen, echoIntervalMs, echoMaxUnanswered, tls\); did you mean "port"\?$/);
    rejects({ topology: { lldpIntervalMS: 1 } }, 'CONFIG_UNKNOWN_KEY', 'topology.lldpIntervalMS', /did you mean "lldpIntervalMs"\?$/);
    rejects({ routing: { seed: 1, bogus: true } }, 'CONFIG_UNKNOWN_KEY', 'routing.bogus', /unknown key \(known: seed, idleTimeoutS, priority, maxRoutes, maxRoutesPerSwitch, maxProbesPerSecond\)$/);
  });

  it('any non-integer port value is rejected naming openflow.port; any valid one is kept', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double({ noInteger: true }), fc.boolean(), fc.integer({ min: 65536 }), fc.integer({ max: -1 })), (v) => {
        rejects({ openflow: { port: v } }, 'CONFIG_INVALID', 'openflow.port', /^config: openflow\.port: must be an integer 0–65535, got /);
      }),
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), (p) => resolveConfig({ openflow: { port: p } }).openflow.port === p));
  });
});

describe('config: allocator, enforcement, agents, tenants (live allocation)', () => {
  it('keeps given values and fills the rest', () => {
    const c = resolveConfig({
      allocator: { policy: 'maxmin', rateChangeThreshold: 0.1 },
      enforcement: { mode: 'meters', meterPer: 'hostPair' },
      agents: { socketPath: '', idleGapMs: 2.5 },
      tenants: [{ name: 'blue', weight: 3, members: ['10.0.1.1', '10.0.2.0/24'] }, { name: 'red' }],
    });
    expect(c.allocator).to.deep.equal({ policy: 'maxmin', intervalMs: 100, iterationsPerRun: 1, rateChangeThreshold: 0.1, rateChangeMinBps: 500000, minUpdateIntervalMs: 500, runOnProgress: false, tenantWeightPer: 'tenant', fcaReserve: 0.000001, fcaMinRateBps: 250000, smallFlowletBytes: 50000 });
    expect(c.enforcement).to.deep.include({ mode: 'meters', meterPer: 'hostPair', meterMarginFraction: 0.1 });
    expect(c.agents).to.deep.include({ socketPath: '', heartbeatMs: 1000, expiryMs: 5000, idleGapMs: 2.5 });
    expect(c.tenants).to.deep.equal([
      { name: 'blue', weight: 3, members: ['10.0.1.1', '10.0.2.0/24'] },
      { name: 'red', weight: 1, members: [] },
    ]);
  });

  it('rejects bad values naming the key', () => {
    rejects({ allocator: { policy: 'fair' } }, 'CONFIG_INVALID', 'allocator.policy', 'config: allocator.policy: must be one of flowtune|maxmin|fca, got "fair"');
    rejects({ allocator: { intervalMs: 0 } }, 'CONFIG_INVALID', 'allocator.intervalMs', /must be an integer 10–3600000, got 0$/);
    rejects({ allocator: { iterationsPerRun: 0 } }, 'CONFIG_INVALID', 'allocator.iterationsPerRun', /must be an integer 1–10000, got 0$/);
    rejects({ allocator: { rateChangeThreshold: -0.1 } }, 'CONFIG_INVALID', 'allocator.rateChangeThreshold', /must be a fraction ≥ 0 \(0\.05 = 5%\), got -0\.1$/);
    rejects({ allocator: { rateChangeMinBps: -1 } }, 'CONFIG_INVALID', 'allocator.rateChangeMinBps', /must be a number of bit\/s ≥ 0/);
    rejects({ allocator: { minUpdateIntervalMs: 1.5 } }, 'CONFIG_INVALID', 'allocator.minUpdateIntervalMs', /./);
    rejects({ enforcement: { mode: 'tc' } }, 'CONFIG_INVALID', 'enforcement.mode', /must be one of meters\|agents\|both\|mark, got "tc"$/);
    rejects({ enforcement: { meterPer: 'host' } }, 'CONFIG_INVALID', 'enforcement.meterPer', /must be one of flowlet\|hostPair, got "host"$/);
    rejects({ agents: { heartbeatMs: 5 } }, 'CONFIG_INVALID', 'agents.heartbeatMs', /must be an integer 10–600000, got 5$/);
    rejects({ agents: { idleGapMs: 0 } }, 'CONFIG_INVALID', 'agents.idleGapMs', /must be a number > 0/);
    rejects({ agents: { auth: { sharedSecret: 'short' } } }, 'CONFIG_INVALID', 'agents.auth.sharedSecret', /16/);
    rejects({ agents: { sockPath: 'x' } }, 'CONFIG_UNKNOWN_KEY', 'agents.sockPath', /did you mean "socketPath"\?$/);
    rejects({ tenants: { name: 'a' } }, 'CONFIG_INVALID', 'tenants', /must be a list of tenants/);
    rejects({ tenants: [{ name: 'a', weight: 0 }] }, 'CONFIG_INVALID', 'tenants.0.weight', /must be a weight > 0, got 0$/);
    rejects({ tenants: [{ name: 'a', members: ['10.0.0.300'] }] }, 'CONFIG_INVALID', 'tenants.0.members.0', /must be an IPv4 address or prefix/);
    rejects({ tenants: [{ name: 'a', members: ['10.0.0.0/33'] }] }, 'CONFIG_INVALID', 'tenants.0.members.0', /must be an IPv4 address or prefix/);
    rejects({ tenants: [{ weight: 2 }] }, 'CONFIG_INVALID', 'tenants.0.name', /must be a non-empty string|name/);
    rejects({ tenants: [{ name: 'a', colour: 'x' }] }, 'CONFIG_UNKNOWN_KEY', 'tenants.0.colour', /unknown key \(known: name, weight, members\)$/);
    rejects({ tenants: [{ name: 'a' }, { name: 'a' }] }, 'CONFIG_INVALID', 'tenants.1.name', 'config: tenants.1.name: tenant "a" is already defined by tenants.0');
  });
});

describe('config: files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }

  it('reads JSON and YAML (.yaml, .yml) to the same configuration', () => {
    const json = file('c.json', JSON.stringify({ openflow: { port: 6633 }, topology: { links: { '1:1': '10M' } }, log: { level: 'warn' } }));
    const yaml = file('c.yaml', '# demo\nopenflow:\n  port: 6633\ntopology:\n  links:\n    "1:1": 10M\nlog:\n  level: warn\n');
    const yml = file('c.yml', 'openflow: {port: 6633}\ntopology: {links: {"1:1": 10M}}\nlog: {level: warn}\n');
    const expected = loadConfig(json);
    expect(expected.openflow.port).to.equal(6633);
    expect(expected.topology.links).to.deep.equal({ '0000000000000001:1': 10e6 });
    expect(loadConfig(yaml)).to.deep.equal(expected);
    expect(loadConfig(yml)).to.deep.equal(expected);
  });

  it('an empty file, or no file, is all defaults', () => {
    expect(loadConfig(file('empty.json', ''))).to.deep.equal(defaultConfig());
    expect(loadConfig(file('empty.yaml', '# nothing\n'))).to.deep.equal(defaultConfig());
    expect(loadConfig()).to.deep.equal(defaultConfig());
  });

  it('the documented example (controller/config/example.yaml) is exactly the defaults', () => {
    const example = fileURLToPath(new URL('../../../controller/config/example.yaml', import.meta.url));
    expect(loadConfig(example)).to.deep.equal(defaultConfig());
  });

  it('names the file in validation errors', () => {
    const bad = file('bad.yaml', 'openflow:\n  port: abc\n');
    expect(() => loadConfig(bad)).to.throw(ConfigError, `config: openflow.port: must be an integer 0–65535, got "abc" (in ${bad})`);
  });

  it('flags (overrides) win over the file, and a bad override is named too', () => {
    const f = file('o.json', JSON.stringify({ openflow: { port: 6633, host: '127.0.0.1' }, api: { port: 9000 } }));
    const c = loadConfig(f, { openflow: { port: 7000 }, log: { level: 'error' } });
    expect(c.openflow).to.include({ port: 7000, host: '127.0.0.1' });
    expect(c.api.port).to.equal(9000);
    expect(c.log.level).to.equal('error');
    expect(() => loadConfig(f, { api: { port: -1 } })).to.throw(ConfigError, /api\.port: must be an integer 0–65535, got -1/);
  });

  it('unreadable, unparsable and unknown-format files: CONFIG_READ / CONFIG_PARSE', () => {
    const codeOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as Error).message).to.not.include('\n');
        return (err as ConfigError).code;
      }
      return undefined;
    };
    expect(codeOf(() => loadConfig(join(dir, 'missing.json')))).to.equal('CONFIG_READ');
    expect(codeOf(() => loadConfig(file('c.toml', 'a = 1')))).to.equal('CONFIG_READ');
    expect(codeOf(() => loadConfig(file('broken.json', '{"openflow": ')))).to.equal('CONFIG_PARSE');
    expect(codeOf(() => loadConfig(file('broken.yaml', 'openflow:\n  port: [1\n')))).to.equal('CONFIG_PARSE');
    expect(codeOf(() => loadConfig(file('dup.yaml', 'api:\n  port: 1\napi:\n  port: 2\n')))).to.equal('CONFIG_PARSE');
    expect(() => loadConfig(join(dir, 'missing.json'))).to.throw(/^config: cannot read ".*missing\.json": no such file$/);
  });
});
