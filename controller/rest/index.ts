/** The REST API: server, error codes, dpid parsing, the bearer guard, JSON schemas and projections. */
export { createRestServer, packageVersion, type RestAddress, type RestServer, type RestServerOptions } from './server.js';
export { ApiError, API_ERRORS, errorBody, type ApiErrorCode } from './errors.js';
export { bearerAuth } from './auth.js';
export { parseApiDpid } from './dpid.js';
export type { SwitchInfo, ViewContext } from './views.js';
export * as schemas from './schemas.js';
