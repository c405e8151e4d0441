/**
 * Bearer-token guard for mutating endpoints (README.md "Configuration", `api.token`).
 * Attach as a route's `preHandler`. Without a configured token every mutation is refused (403), so an
 * unconfigured controller is read-only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * A preHandler that admits a request only with `Authorization: Bearer <token>`.
 * @throws ApiError MUTATIONS_DISABLED (403) when `token` is undefined, UNAUTHORIZED (401, with
 *   `WWW-Authenticate: Bearer`) when the header is missing or wrong
 */
export function bearerAuth(token: string | undefined): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = token === undefined ? undefined : digest(token);
  return async (req, reply) => {
    if (expected === undefined) {
      throw new ApiError('MUTATIONS_DISABLED', 'mutating endpoints are disabled: set api.token in the configuration');
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      reply.header('www-authenticate', 'Bearer realm="rivulet"');
      throw new ApiError('UNAUTHORIZED', m ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <api.token>)');
    }
  };
}
