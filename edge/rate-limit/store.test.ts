import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectStore, PutOptions } from '../../shared/ports/store.js';
import { FileStore } from '../../shared/store/file-store.js';
import { StoreRateLimiter } from './store.js';

/** Another edge instance counts the same request window just before every write of this one. */
class RacedStore implements ObjectStore {
  writes = 0;
  constructor(private readonly inner: FileStore) {}
  get(key: string) {
    return this.inner.get(key);
  }
  async put(key: string, body: Uint8Array, options: PutOptions) {
    this.writes += 1;
    const stored = await this.inner.get(key);
    const count = stored ? (JSON.parse(new TextDecoder().decode(stored.body)) as { count: number }).count : 0;
    await this.inner.put(key, new TextEncoder().encode(JSON.stringify({ count: count + 1 })), { contentType: 'application/json' });
    return this.inner.put(key, body, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  urlFor(key: string) {
    return this.inner.urlFor(key);
  }
}

describe('StoreRateLimiter under contention', () => {
  let dir: string;
  let inner: FileStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rate-limit-store-'));
    inner = new FileStore({ root: dir });
  });
  afterEach(() => {
    inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses (retry in a second) a request that loses every swap, rather than let it through uncounted', async () => {
    const store = new RacedStore(inner);
    const limiter = new StoreRateLimiter(store, { now: () => 90_000, maxAttempts: 4 });
    expect(await limiter.hit('tenant', 1000)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(store.writes).toBe(4);
  });

  it('counts a request once it wins a swap, on top of what the others counted', async () => {
    const store = new RacedStore(inner);
    const limiter = new StoreRateLimiter(store, { now: () => 90_000, maxAttempts: 4 });
    // Lose twice, then win: the other instance's two counts and this one make three.
    let races = 2;
    const put = store.put.bind(store);
    store.put = (key, body, options) => (races-- > 0 ? put(key, body, options) : inner.put(key, body, options));
    expect((await limiter.hit('tenant', 1000)).allowed).toBe(true);
    const stored = await inner.get('ratelimit/tenant/1.json');
    expect(JSON.parse(new TextDecoder().decode(stored!.body))).toEqual({ count: 3 });
  });
});
