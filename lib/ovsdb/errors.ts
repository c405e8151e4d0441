/**
 * Typed errors of the OVSDB client (ARCHITECTURE.md "Principles": classes with stable `code`s callers and tests branch on).
 * RFC 7047 §4.1.1: a JSON-RPC `error` member; §5.2: per-operation results `{error, details}`.
 */

export const OVSDB_ERROR_CODES = {
  /** The socket could not be opened or closed under a pending request. */
  OVSDB_CONNECTION: 'OVSDB_CONNECTION',
  /** No reply within the request's timeout. */
  OVSDB_TIMEOUT: 'OVSDB_TIMEOUT',
  /** The server answered the JSON-RPC request with an error (RFC 7047 §4.1.1). */
  OVSDB_RPC: 'OVSDB_RPC',
  /** A transaction operation failed (RFC 7047 §5.2: an element `{error, details}` of the result array). */
  OVSDB_TXN: 'OVSDB_TXN',
  /** The peer sent something that is not JSON-RPC, or a frame above the size limit. */
  OVSDB_PROTOCOL: 'OVSDB_PROTOCOL',
} as const;

export type OvsdbErrorCode = keyof typeof OVSDB_ERROR_CODES;

export class OvsdbError extends Error {
  /**
   * @param code stable code
   * @param detail the server's error string (`constraint violation`, `referential integrity violation`…) or ours
   * @param opIndex for OVSDB_TXN: the index of the failing operation in the transaction
   */
  constructor(
    readonly code: OvsdbErrorCode,
    readonly detail: string,
    readonly opIndex?: number,
  ) {
    super(`${code}: ${detail}${opIndex === undefined ? '' : ` (operation ${opIndex})`}`);
    this.name = 'OvsdbError';
  }
}
