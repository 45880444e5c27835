import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ObjectStore, PreconditionFailedError, type PutOptions } from '../ports/store.js';
import { jitteredPauseMs, pauseCeilingMs } from './backoff.js';
import { type Change, conditionalUpdate, UpdateConflictError, versionedUpdate } from './conditional-update.js';
import { FileStore } from './file-store.js';
import { encodeJson, readJsonObject } from './json-object.js';

const Counter = z.object({ count: z.number().int() }).strict();
type Counter = z.infer<typeof Counter>;
const KEY = 'ratelimit/t/1.json';

/** Another writer that gets in between this update's read and its write, `races` times. */
class RacingStore implements Pick<ObjectStore, 'get' | 'put'> {
  readonly puts: PutOptions[] = [];
  gets = 0;
  constructor(
    private readonly inner: ObjectStore,
    private races: number,
  ) {}
  get(key: string) {
    this.gets += 1;
    return this.inner.get(key);
  }
  async put(key: string, body: Uint8Array, options: PutOptions) {
    this.puts.push(options);
    if (this.races > 0) {
      this.races -= 1;
      const theirs = (await readJsonObject(this.inner, key, Counter))?.value.count ?? 0;
      await this.inner.put(key, encodeJson({ count: theirs + 10 }), { contentType: 'application/json' });
    }
    return this.inner.put(key, body, options);
  }
}

const increment =
  (calls: Array<Counter | null>) =>
  (current: Counter | null): Change<Counter, number> => {
    calls.push(current);
    const count = (current?.count ?? 0) + 1;
    return { write: { count }, result: count };
  };

describe('conditionalUpdate', () => {
  let dir: string;
  let inner: FileStore;
  const pauses: number[] = [];
  const sleep = async (ms: number) => void pauses.push(ms);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'conditional-update-'));
    inner = new FileStore({ root: dir });
    pauses.length = 0;
  });
  afterEach(() => {
    inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a missing object with a create-only write, then replaces it naming the etag it read', async () => {
    const calls: Array<Counter | null> = [];
    const store = new RacingStore(inner, 0);
    expect(await conditionalUpdate(store, { key: KEY, schema: Counter, maxAttempts: 3, sleep }, increment(calls))).toBe(1);
    const first = (await inner.get(KEY))?.etag;
    expect(await conditionalUpdate(store, { key: KEY, schema: Counter, maxAttempts: 3, sleep }, increment(calls))).toBe(2);
    expect(calls).toEqual([null, { count: 1 }]);
    expect(store.puts[0]).toMatchObject({ ifNoneMatch: '*' });
    expect(store.puts[1]).toMatchObject({ ifMatch: first });
    expect(store.puts[1]?.ifNoneMatch).toBeUndefined();
    expect(pauses).toEqual([]);
  });

  it('after a lost race, pauses, reads again and applies the change to the newer object', async () => {
    const calls: Array<Counter | null> = [];
    const store = new RacingStore(inner, 2);
    const result = await conditionalUpdate(store, { key: KEY, schema: Counter, maxAttempts: 5, sleep }, increment(calls));
    // The racer wrote 10, then 20; this update lost twice and counted on top of both.
    expect(result).toBe(21);
    expect(calls).toEqual([null, { count: 10 }, { count: 20 }]);
    expect((await readJsonObject(inner, KEY, Counter))?.value).toEqual({ count: 21 });
    expect(pauses).toHaveLength(2);
  });

  it('gives up after maxAttempts lost races with UpdateConflictError, pausing between tries but not after the last', async () => {
    const calls: Array<Counter | null> = [];
    const store = new RacingStore(inner, Infinity);
    const update = conditionalUpdate(store, { key: KEY, schema: Counter, maxAttempts: 3, sleep }, increment(calls));
    const err = await update.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpdateConflictError);
    // Still a failed precondition to code that caught the store's own error before.
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect(err).toMatchObject({ key: KEY, attempts: 3, code: 'update_conflict' });
    expect(calls).toHaveLength(3);
    expect(pauses).toHaveLength(2);
  });

  it('leaves the object alone when the change decides no write', async () => {
    await inner.put(KEY, encodeJson({ count: 7 }), { contentType: 'application/json' });
    const store = new RacingStore(inner, 0);
    const result = await conditionalUpdate(store, { key: KEY, schema: Counter, maxAttempts: 3, sleep }, (c) => ({ result: c?.count }));
    expect(result).toBe(7);
    expect(store.puts).toEqual([]);
  });

  it('does not retry what the change throws, nor a store error other than a failed precondition', async () => {
    const store = new RacingStore(inner, 0);
    let calls = 0;
    const refused = conditionalUpdate(store, { key: KEY, schema: Counter, maxAttempts: 3, sleep }, () => {
      calls += 1;
      throw new Error('not allowed');
    });
    await expect(refused).rejects.toThrow('not allowed');
    expect(calls).toBe(1);
    const broken = { get: inner.get.bind(inner), put: async () => Promise.reject(new Error('disk full')) };
    await expect(conditionalUpdate(broken, { key: KEY, schema: Counter, maxAttempts: 3, sleep }, increment([]))).rejects.toThrow(
      'disk full',
    );
    expect(pauses).toEqual([]);
  });

  it('pauses within the jitter bounds of each lost race', async () => {
    const backoff = { baseMs: 1, capMs: 50 };
    const store = new RacingStore(inner, Infinity);
    await expect(
      conditionalUpdate(store, { key: KEY, schema: Counter, maxAttempts: 8, backoff, sleep }, increment([])),
    ).rejects.toBeInstanceOf(UpdateConflictError);
    expect(pauses).toHaveLength(7);
    pauses.forEach((ms, k) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(pauseCeilingMs(k + 1, backoff));
    });
  });

  it('from a version the caller holds, writes naming its etag without a read, and answers the version it leaves', async () => {
    const store = new RacingStore(inner, 0);
    const update = { key: KEY, schema: Counter, maxAttempts: 3, sleep };
    const first = await versionedUpdate(store, update, increment([]));
    const reads = store.gets;
    const second = await versionedUpdate(store, { ...update, from: first.version! }, increment([]));
    expect(store.gets).toBe(reads);
    expect(store.puts[1]).toMatchObject({ ifMatch: first.version?.etag });
    expect(second).toEqual({ result: 2, version: { value: { count: 2 }, etag: (await inner.get(KEY))?.etag } });
  });

  it('from a stale version, loses the race, reads and applies the change to the stored object', async () => {
    const update = { key: KEY, schema: Counter, maxAttempts: 3, sleep };
    const stale = (await versionedUpdate(inner, update, increment([]))).version!;
    await conditionalUpdate(inner, update, increment([])); // another writer: 2
    const calls: Array<Counter | null> = [];
    const store = new RacingStore(inner, 0);
    expect(await conditionalUpdate(store, { ...update, from: stale }, increment(calls))).toBe(3);
    expect(calls).toEqual([{ count: 1 }, { count: 2 }]);
    expect(store.gets).toBe(1);
  });

  it("a change that declines on the caller's copy decides again on the stored object", async () => {
    const update = { key: KEY, schema: Counter, maxAttempts: 3, sleep };
    const stale = (await versionedUpdate(inner, update, increment([]))).version!;
    await conditionalUpdate(inner, update, increment([])); // now 2
    const onlyFromOne = (current: Counter | null): Change<Counter, number> =>
      current?.count === 2 ? { write: { count: 3 }, result: 3 } : { result: current?.count ?? 0 };
    const store = new RacingStore(inner, 0);
    // On the stale copy (1) it declines; on the stored object (2) it writes.
    expect(await versionedUpdate(store, { ...update, from: stale }, onlyFromOne)).toMatchObject({
      result: 3,
      version: { value: { count: 3 } },
    });
    expect(store.gets).toBe(1);
    expect(store.puts).toHaveLength(1);
  });

  it("draws each pause from its random source, scaled to that race's ceiling", async () => {
    const store = new RacingStore(inner, Infinity);
    const update = { key: KEY, schema: Counter, maxAttempts: 4, sleep, random: () => 0.5 };
    await expect(conditionalUpdate(store, update, increment([]))).rejects.toBeInstanceOf(UpdateConflictError);
    // Default backoff: ceilings 10, 20, 40 ms after races 1, 2, 3.
    expect(pauses).toEqual([5, 10, 20]);
  });
});

describe('jittered backoff', () => {
  const backoff = { baseMs: 5, capMs: 100 };

  it('doubles the ceiling from base * 2 per lost race up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => pauseCeilingMs(n, backoff))).toEqual([10, 20, 40, 80, 100, 100, 100]);
  });

  it('scales the ceiling by the random draw: from 0 up to, not including, the ceiling', () => {
    expect(jitteredPauseMs(3, backoff, () => 0)).toBe(0);
    expect(jitteredPauseMs(3, backoff, () => 0.5)).toBe(20);
    for (let k = 0; k < 1000; k++) {
      const attempt = 1 + (k % 8);
      const ms = jitteredPauseMs(attempt, backoff);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(pauseCeilingMs(attempt, backoff));
    }
  });
});
