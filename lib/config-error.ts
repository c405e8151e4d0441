/**
 * Typed configuration errors (ARCHITECTURE.md "Principles": classes with a stable `code` that callers and tests branch on),
 * raised by the loader (controller/config) and by the apps that check their own section (the QoS
 * thresholds, the QoS and tenant cross-key checks).
 * The message is one line that names the offending key, e.g.
 * `config: openflow.port: must be an integer 0–65535, got "abc"`.
 */

export const CONFIG_ERROR_CODES = {
  /** The file cannot be read (missing, permissions) or its extension is not .json/.yaml/.yml. */
  CONFIG_READ: 'CONFIG_READ',
  /** The text is not valid JSON / YAML. */
  CONFIG_PARSE: 'CONFIG_PARSE',
  /** A key has a value of the wrong type or out of range. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** A key the schema does not know (a typo, or a section of a later version). */
  CONFIG_UNKNOWN_KEY: 'CONFIG_UNKNOWN_KEY',
} as const;

export type ConfigErrorCode = keyof typeof CONFIG_ERROR_CODES;

export class ConfigError extends Error {
  /**
   * @param code stable code
   * @param key dotted path of the offending key (`openflow.port`, `topology.links.00000000000000a1:3`),
   *   or undefined when the whole file is at fault
   * @param detail what is wrong, without the key (e.g. `must be an integer 0–65535, got "abc"`)
   * @param file the file read, when there is one
   */
  constructor(
    readonly code: ConfigErrorCode,
    readonly key: string | undefined,
    readonly detail: string,
    readonly file?: string,
  ) {
    super(`config: ${key === undefined ? '' : `${key}: `}${detail}${file === undefined ? '' : ` (in ${file})`}`);
    this.name = 'ConfigError';
  }
}
