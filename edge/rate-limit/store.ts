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
import type { ObjectStore } from '../../shared/ports/store.js';
import type { Backoff } from '../../shared/store/backoff.js';
import { type Change, conditionalUpdate, UpdateConflictError } from '../../shared/store/conditional-update.js';
import { readJsonObject } from '../../shared/store/json-object.js';
import type { RateLimiter } from './limiter.js';
import { decide, type RateDecision, WINDOW_MS } from './window.js';

const Counter = z.object({ count: z.number().int().min(0) }).strict();
type Counter = z.infer<typeof Counter>;
/** Shorter pauses than a record's (below 2, 4, 8 .. 50 ms): a request is waiting on the count. */
const COUNT_BACKOFF: Backoff = { baseMs: 1, capMs: 50 };

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
    const update = { key: rateLimitKey(counter, index), schema: Counter, maxAttempts: this.maxAttempts, backoff: COUNT_BACKOFF };
    try {
      return await conditionalUpdate(this.store, update, (current): Change<Counter, RateDecision> => {
        const count = current?.count ?? 0;
        const decision = decide({ index, current: count, previous }, limit, this.now());
        return decision.allowed ? { write: { count: count + 1 }, result: decision } : { result: decision };
      });
    } catch (err) {
      if (!(err instanceof UpdateConflictError)) throw err;
      return { allowed: false, retryAfterSeconds: 1 };
    }
  }

  private async previousCount(counter: string, index: number): Promise<number> {
    const cached = this.previous.get(counter);
    if (cached?.index === index) return cached.count;
    const count = (await readJsonObject(this.store, rateLimitKey(counter, index - 1), Counter))?.value.count ?? 0;
    this.previous.set(counter, { index, count });
    return count;
  }
}
