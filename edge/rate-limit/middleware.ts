/** Counts each authenticated /v1 request against its tenant's limit; over it: 429 rate_limited with Retry-After. */
import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../env.js';
import { ApiError } from '../errors.js';
import type { RateLimiter } from './limiter.js';

export function rateLimit(limiter: RateLimiter): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const tenant = c.get('tenant');
    if (tenant === undefined) return next(); // not an authenticated route (signed file URLs)
    const decision = await limiter.hit(tenant);
    if (!decision.allowed) {
      throw new ApiError('rate_limited', `more than ${limiter.limit} requests in a minute; retry in ${decision.retryAfterSeconds} s`, {
        'Retry-After': String(decision.retryAfterSeconds),
      });
    }
    c.header('RateLimit-Limit', String(limiter.limit));
    c.header('RateLimit-Remaining', String(decision.remaining));
    await next();
  };
}
