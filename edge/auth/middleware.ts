/**
 * Bearer authentication for /v1: sets `c.var.tenant`, or answers 401. Paths for which
 * `exempt` is true (signed file URLs, which carry their own proof) pass without a key.
 */
import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../env.js';
import { ApiError } from '../errors.js';
import type { Authenticator } from './tenants.js';

export function tenantAuth(auth: Authenticator, exempt: (path: string) => boolean = () => false): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    if (exempt(c.req.path)) return next();
    const result = auth.authenticate(c.req.header('authorization'));
    if (!result.ok) {
      const message = result.reason === 'missing' ? 'send the API key as Authorization: Bearer <key>' : 'the API key is not valid';
      throw new ApiError('unauthorized', message, { 'WWW-Authenticate': 'Bearer' });
    }
    c.set('tenant', result.tenant);
    await next();
  };
}
