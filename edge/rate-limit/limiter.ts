/** The rate limiter port: counts one request of a tenant and says whether it may pass. */
import type { RateDecision } from './window.js';

export interface RateLimiter {
  readonly limit: number;
  hit(tenant: string): Promise<RateDecision>;
}
