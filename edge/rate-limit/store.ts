/**
 * The rate limiter on the object store, shared by every edge instance (Lambda): one small
 * object per counter and minute, `ratelimit/<counter>/<window>.json` = {"count": n}, counted up
 * with compare-and-swap (If-Match, or If-None-Match for the window's first request), so
 * concurrent requests on any number of instances are each counted once. A request costs a
 * read and a write (and, once per counter and minute, a read of the window before). Old
 * windows expire by the bucket's lifecycle rule (infra/lib/storage.ts).
 *
 * Under heavy contention on one counter a request may lose the swap `maxAttempts`
 * times; it is then refused (429, retry in a second) rather than let through uncounted.
 */
import { z } from 'zod';
import { PreconditionFailedError, type ObjectStore } from '../../shared/ports/store.js';
import { sleep } from '../../shared/queue/sleep.js';
import type { RateLimiter } from './limiter.js';
import { decide, WINDOW_MS, type RateDecision } from './window.js';

const Counter = z.object({ count: z.number().int().min(0) }).strict();
const JSON_TYPE = 'application/json';

export interface StoreRateLimiterOptions {
  now?: () => number;
  maxAttempts?: number;
}

export function rateLimitKey(counter: string, window: number): string {
  return `ratelimit/${counter}/${window}.json`;
}

export class StoreRateLimiter implements RateLimiter {
  private readonly now: () => number;
  private readonly maxAttempts: number;
  /** The previous window's count per counter, read once per window: it is closed by then. */
  private readonly previous = new Map<string, { index: number; count: number }>();

  constructor(
    private readonly store: ObjectStore,
    options: StoreRateLimiterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? 12;
  }

  async hit(counter: string, limit: number): Promise<RateDecision> {
    const index = Math.floor(this.now() / WINDOW_MS);
    const previous = await this.previousCount(counter, index);
    const key = rateLimitKey(counter, index);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const current = await this.read(key);
      const decision = decide({ index, current: current?.count ?? 0, previous }, limit, this.now());
      if (!decision.allowed) return decision;
      const body = new TextEncoder().encode(JSON.stringify({ count: (current?.count ?? 0) + 1 }));
      try {
        await this.store.put(key, body, { contentType: JSON_TYPE, ...(current ? { ifMatch: current.etag } : { ifNoneMatch: '*' }) });
        return decision;
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
        await sleep(Math.random() * Math.min(50, 2 ** attempt));
      }
    }
    return { allowed: false, retryAfterSeconds: 1 };
  }

  private async previousCount(counter: string, index: number): Promise<number> {
    const cached = this.previous.get(counter);
    if (cached?.index === index) return cached.count;
    const count = (await this.read(rateLimitKey(counter, index - 1)))?.count ?? 0;
    this.previous.set(counter, { index, count });
    return count;
  }

  private async read(key: string): Promise<{ count: number; etag: string } | null> {
    const object = await this.store.get(key);
    if (!object) return null;
    const { count } = Counter.parse(JSON.parse(new TextDecoder().decode(object.body)));
    return { count, etag: object.etag };
  }
}
