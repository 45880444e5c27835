/** The per-tenant rate limit: the sliding-window arithmetic, both limiters, and the 429 through the app. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../../shared/config/index.js';
import { ApiErrorBody } from '../../shared/schemas/index.js';
import { FileStore } from '../../shared/store/file-store.js';
import { tinyFixture } from '../../test/support/tiny-fixture.js';
import { createApp } from '../app.js';
import type { RateLimiter } from './limiter.js';
import { MemoryRateLimiter } from './memory.js';
import { READ_MULTIPLIER } from './middleware.js';
import { StoreRateLimiter } from './store.js';
import { decide, estimate, retryAfter, rollTo, WINDOW_MS } from './window.js';

const T0 = 1_000 * WINDOW_MS; // the start of window 1000

describe('sliding window', () => {
  it('weighs the previous window by what is left of it', () => {
    expect(estimate({ index: 1000, current: 2, previous: 10 }, T0)).toBe(12);
    expect(estimate({ index: 1000, current: 2, previous: 10 }, T0 + WINDOW_MS / 4)).toBe(9.5);
  });

  it('rolls counts forward with time', () => {
    expect(rollTo(undefined, 5)).toEqual({ index: 5, current: 0, previous: 0 });
    expect(rollTo({ index: 4, current: 7, previous: 3 }, 5)).toEqual({ index: 5, current: 0, previous: 7 });
    expect(rollTo({ index: 3, current: 7, previous: 3 }, 5)).toEqual({ index: 5, current: 0, previous: 0 });
    expect(rollTo({ index: 5, current: 1, previous: 2 }, 5)).toEqual({ index: 5, current: 1, previous: 2 });
  });

  it('refuses the request over the limit and says when one would pass', () => {
    expect(decide({ index: 1000, current: 4, previous: 0 }, 5, T0)).toEqual({ allowed: true, remaining: 0 });
    expect(decide({ index: 1000, current: 5, previous: 0 }, 5, T0 + 10_000)).toEqual({ allowed: false, retryAfterSeconds: 62 });
    // 5 in the window, limit 5: at the next window's start the estimate is 5, and 4 once 1/5 of it has passed (12 s).
    expect(retryAfter({ index: 1000, current: 5, previous: 0 }, 5, T0 + 10_000)).toBe(50 + 12);
    // 2 now and 10 before, limit 5: room for 2 more of the previous window's weight: when 10 * (1 - x) <= 2, x = 0.8.
    expect(retryAfter({ index: 1000, current: 2, previous: 10 }, 5, T0)).toBe(48);
  });

  it('agrees with itself: after Retry-After seconds the request passes, a second sooner it does not', () => {
    for (const [current, previous, elapsed] of [
      [5, 0, 10_000],
      [2, 10, 0],
      [0, 9, 30_000],
      [7, 3, 59_000],
    ] as const) {
      const limit = 5;
      const now = T0 + elapsed;
      const wait = retryAfter({ index: 1000, current, previous }, limit, now) * 1000;
      const at = (t: number) => decide(rollTo({ index: 1000, current, previous }, Math.floor(t / WINDOW_MS)), limit, t).allowed;
      expect(at(now + wait)).toBe(true);
      expect(at(now + wait - 1000)).toBe(false);
    }
  });
});

function limiterContract(name: string, make: (now: () => number) => { limiter: RateLimiter; close(): void }): void {
  describe(name, () => {
    it('lets `limit` requests of a counter pass in a minute, counts counters apart, and recovers', async () => {
      let now = T0 + 1;
      const { limiter, close } = make(() => now);
      const hits = async (counter: string, n: number) => Promise.all(Array.from({ length: n }, () => limiter.hit(counter, 3)));
      const a = await hits('a', 5);
      expect(a.filter((d) => d.allowed)).toHaveLength(3);
      const refused = a.find((d) => !d.allowed);
      expect(refused).toMatchObject({ allowed: false });
      expect((await hits('b', 3)).every((d) => d.allowed)).toBe(true);
      now += 2 * WINDOW_MS;
      expect((await limiter.hit('a', 3)).allowed).toBe(true);
      close();
    });
  });
}

limiterContract('MemoryRateLimiter', (now) => ({ limiter: new MemoryRateLimiter(now), close: () => {} }));
limiterContract('StoreRateLimiter on the file store (concurrent hits, compare-and-swap)', (now) => {
  const dir = mkdtempSync(join(tmpdir(), 'rate-limit-'));
  const store = new FileStore({ root: dir });
  return {
    limiter: new StoreRateLimiter(store, { now, maxAttempts: 50 }),
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('RATE_LIMIT_PER_MINUTE through the app', () => {
  const tiny = tinyFixture();

  it('answers 429 rate_limited with Retry-After to the tenant over it, not to another; reads have ten times the room', async () => {
    const deps = tiny.deps({ config: { apiKeys: apiKeys('a:key-of-tenant-a', 'b:key-of-tenant-b'), rateLimitPerMinute: 2 } });
    const app = createApp(deps);
    const cancel = (key: string) =>
      app.request('/v1/generations/gen_x/cancel', { method: 'POST', headers: { Authorization: `Bearer ${key}` } });
    const get = (key: string) => app.request('/v1/generations/gen_x', { headers: { Authorization: `Bearer ${key}` } });
    const first = await cancel('key-of-tenant-a');
    expect(first.status).toBe(404);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect((await cancel('key-of-tenant-a')).status).toBe(404);
    const limited = await cancel('key-of-tenant-a');
    expect([limited.status, ApiErrorBody.parse(await limited.json()).error.code]).toEqual([429, 'rate_limited']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await cancel('key-of-tenant-b')).status).toBe(404);
    // Reads are counted apart, with READ_MULTIPLIER times the limit.
    const reads = [];
    for (let i = 0; i < 2 * READ_MULTIPLIER + 1; i++) reads.push((await get('key-of-tenant-a')).status);
    expect(reads.filter((s) => s === 404)).toHaveLength(2 * READ_MULTIPLIER);
    expect(reads[reads.length - 1]).toBe(429);
    // Unauthenticated requests are refused before they count; /healthz is never limited.
    expect((await app.request('/v1/generations/gen_x')).status).toBe(401);
    expect((await app.request('/healthz')).status).toBe(200);
  });
});
