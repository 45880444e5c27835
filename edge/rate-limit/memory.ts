/**
 * The rate limiter in this process's memory: exact for one edge process (the Node server,
 * `npm start`). Lambda runs many instances, each with its own memory: there the store's
 * limiter (./store.ts) counts for all of them.
 */
import type { RateLimiter } from './limiter.js';
import { decide, type RateDecision, rollTo, WINDOW_MS, type WindowCounts } from './window.js';

export class MemoryRateLimiter implements RateLimiter {
  private readonly counts = new Map<string, WindowCounts>();

  constructor(private readonly now: () => number = Date.now) {}

  async hit(counter: string, limit: number): Promise<RateDecision> {
    const now = this.now();
    const counts = rollTo(this.counts.get(counter), Math.floor(now / WINDOW_MS));
    const decision = decide(counts, limit, now);
    if (decision.allowed) counts.current += 1;
    this.counts.set(counter, counts);
    return decision;
  }
}
