/** The rate limiter port: counts one request against a counter's limit and says whether it may pass. */
import type { RateDecision } from './window.js';

export interface RateLimiter {
  /** `counter` names what is counted (a tenant and a class of requests); ids of [A-Za-z0-9_-] joined by '/'. */
  hit(counter: string, limit: number): Promise<RateDecision>;
}
