/** The configuration file: schema, loading, errors (see schema.ts for the keys and their defaults; each app's section lives with the app). */
export { ConfigError, CONFIG_ERROR_CODES, type ConfigErrorCode } from '../../lib/config-error.js';
export { defaultConfig, expectation, formatOf, loadConfig, parseConfigText, resolveConfig, type ConfigFormat, type ConfigInput } from './load.js';
export { CONFIG_SECTIONS, ConfigSchema, type RivuletConfig } from './schema.js';
export { LINK_KEY_PATTERN, normalizeLinkKey } from '../../lib/config-schema.js';
export { parseBitRate } from '../../lib/bit-rate.js';
export { checkQos, DEFAULT_DSCP_MAP, PLATFORM_MAX_QUEUES } from '../../apps/qos/config.js';
export { ecnThresholdPackets } from '../../apps/qos/ecn-threshold.js';
export { checkTenants, ENFORCEMENT_MODES, IPV4_OR_CIDR_PATTERN } from '../../apps/enforcement/config.js';
export { ALLOCATOR_POLICIES } from '../../apps/allocator/config.js';
