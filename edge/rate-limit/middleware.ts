/**
 * Counts each authenticated /v1 request against its tenant's limits; over one: 429
 * rate_limited with Retry-After. Two classes, counted apart (as hosted model APIs do):
 * requests that start or stop work (POST) get RATE_LIMIT_PER_MINUTE; reads (GET a
 * generation, its events) get READ_MULTIPLIER times that, so that following a few
 * generations (on Lambda, events reconnect about once a second) does not use up what
 * creating them needs.
 */
import type { MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../env.js';
import { ApiError } from '../errors.js';
import type { RateLimiter } from './limiter.js';

export const READ_MULTIPLIER = 10;

export function rateLimit(limiter: RateLimiter, perMinute: number): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const tenant = c.get('tenant');
    if (tenant === undefined) return next(); // not an authenticated route (signed file URLs)
    const reading = c.req.method === 'GET' || c.req.method === 'HEAD';
    const limit = reading ? perMinute * READ_MULTIPLIER : perMinute;
    const decision = await limiter.hit(`${tenant}/${reading ? 'read' : 'write'}`, limit);
    if (!decision.allowed) {
      throw new ApiError(
        'rate_limited',
        `more than ${limit} ${reading ? 'reads' : 'requests'} in a minute; retry in ${decision.retryAfterSeconds} s`,
        {
          'Retry-After': String(decision.retryAfterSeconds),
        },
      );
    }
    c.header('RateLimit-Limit', String(limit));
    c.header('RateLimit-Remaining', String(decision.remaining));
    await next();
  };
}
