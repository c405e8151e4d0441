/**
 * Errors the REST API answers with: every error body is `{ error: { code, message } }` with a stable
 * `code` and the matching HTTP status.
 */

export const API_ERRORS = {
  /** A datapath id that is neither 16 hex digits, 0x-hex, colon-separated hex bytes nor decimal. */
  BAD_DPID: 400,
  /** The request failed schema validation (params, query, body). */
  BAD_REQUEST: 400,
  /** A mutating endpoint without a valid bearer token. */
  UNAUTHORIZED: 401,
  /** A mutating endpoint while no `api.token` is configured. */
  MUTATIONS_DISABLED: 403,
  /** A well-formed dpid that is not connected nor known to the topology. */
  UNKNOWN_DPID: 404,
  /** No such route. */
  NOT_FOUND: 404,
  /** A bug: logged with the request. */
  INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERRORS[code];
  }
}

/** The JSON body of an error response. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
