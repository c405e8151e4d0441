/** The configuration file: schema, loading, errors (see schema.ts for the keys and their defaults). */
export { ConfigError, CONFIG_ERROR_CODES, type ConfigErrorCode } from './errors.js';
export { defaultConfig, expectation, formatOf, loadConfig, parseConfigText, resolveConfig, type ConfigFormat, type ConfigInput } from './load.js';
export { CONFIG_SECTIONS, ConfigSchema, LINK_KEY_PATTERN, normalizeLinkKey, parseBitRate, type RivuletConfig } from './schema.js';
export { checkQos, ecnThresholdPackets } from './qos-check.js';
export { checkTenants } from './tenants-check.js';
export { ALLOCATOR_POLICIES, ENFORCEMENT_MODES, IPV4_OR_CIDR_PATTERN } from './schema.js';
export { DEFAULT_DSCP_MAP, PLATFORM_MAX_QUEUES } from './schema.js';
