/**
 * The ObjectStore contract, run against every back end (file store and S3/versitygw),
 * followed by the job repository on that store. Each test gets its own key prefix.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobAlreadyExistsError, JobNotFoundError, type JobRecordBase, JobRepository, JobTransitionError } from '../../shared/jobs/index.js';
import { type ObjectStore, PreconditionFailedError, type PutOptions } from '../../shared/ports/store.js';

export interface StoreHarness {
  store: ObjectStore;
  /** Fetches what urlFor returned (a presigned URL, or a local path the edge would serve). */
  fetchUrl(url: string): Promise<Uint8Array>;
  cleanup(): Promise<void>;
}
export type StoreFactory = () => Promise<StoreHarness>;

export interface StoreTraits {
  /**
   * Whether the back end evaluates a conditional write atomically with the write itself
   * (S3 and the file store do). When it does not, the tests that fire truly simultaneous
   * conditional writes are skipped with `why`; the interleaved ones still run.
   */
  atomicConditionalWrites: boolean;
  why?: string;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

export function newJob(id = randomUUID()): JobRecordBase {
  const now = new Date().toISOString();
  return { id, status: 'queued', created_at: now, updated_at: now, progress: { step: 0, steps: 10 } };
}

export function storeContract(name: string, factory: StoreFactory, traits: StoreTraits = { atomicConditionalWrites: true }): void {
  const concurrent = traits.atomicConditionalWrites ? it : it.skip;
  if (!traits.atomicConditionalWrites) console.warn(`${name}: simultaneous conditional-write tests skipped: ${traits.why}`);
  describe(`ObjectStore contract: ${name}`, () => {
    let h: StoreHarness;
    beforeAll(async () => {
      h = await factory();
    });
    afterAll(async () => {
      await h.cleanup();
    });
    const key = (leaf: string) => `outputs/${randomUUID()}/${leaf}`;

    it('puts and gets an object with its content type and etag', async () => {
      const k = key('a.png');
      const { etag } = await h.store.put(k, bytes('hello'), { contentType: 'image/png' });
      expect(etag).toBeTruthy();
      const got = await h.store.get(k);
      expect(got && text(got.body)).toBe('hello');
      expect(got?.contentType).toBe('image/png');
      expect(got?.etag).toBe(etag);
    });

    it('returns null for a missing key', async () => {
      expect(await h.store.get(key('missing.json'))).toBeNull();
    });

    it('replaces an object unconditionally and changes its etag', async () => {
      const k = key('r.json');
      const a = await h.store.put(k, bytes('1'), { contentType: 'application/json' });
      const b = await h.store.put(k, bytes('2'), { contentType: 'application/json' });
      expect(b.etag).not.toBe(a.etag);
      expect(text((await h.store.get(k))!.body)).toBe('2');
    });

    it('conditional create (ifNoneMatch) refuses the second write', async () => {
      const k = key('once.json');
      await h.store.put(k, bytes('first'), { contentType: 'application/json', ifNoneMatch: '*' });
      await expect(h.store.put(k, bytes('second'), { contentType: 'application/json', ifNoneMatch: '*' })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      expect(text((await h.store.get(k))!.body)).toBe('first');
    });

    concurrent('lets exactly one of several simultaneous conditional creates win', async () => {
      const k = key('race.json');
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => h.store.put(k, bytes(`w${i}`), { contentType: 'text/plain', ifNoneMatch: '*' })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
    });

    it('ifMatch replaces the current version and refuses a stale etag', async () => {
      const k = key('cas.json');
      const v1 = await h.store.put(k, bytes('v1'), { contentType: 'application/json' });
      const v2 = await h.store.put(k, bytes('v2'), { contentType: 'application/json', ifMatch: v1.etag });
      await expect(h.store.put(k, bytes('v3'), { contentType: 'application/json', ifMatch: v1.etag })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      const got = await h.store.get(k);
      expect(text(got!.body)).toBe('v2');
      expect(got!.etag).toBe(v2.etag);
    });

    it('ifMatch on a missing key fails the precondition', async () => {
      await expect(h.store.put(key('none.json'), bytes('x'), { contentType: 'text/plain', ifMatch: '"abc"' })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
    });

    it('deletes, and deleting a missing key is not an error', async () => {
      const k = key('d.txt');
      await h.store.put(k, bytes('x'), { contentType: 'text/plain' });
      await h.store.delete(k);
      expect(await h.store.get(k)).toBeNull();
      await h.store.delete(k);
    });

    it('gives a URL that fetches the object', async () => {
      const k = key('img.png');
      await h.store.put(k, bytes('png-bytes'), { contentType: 'image/png' });
      const url = await h.store.urlFor(k);
      expect(text(await h.fetchUrl(url))).toBe('png-bytes');
    });

    it('refuses keys that could escape the store', async () => {
      await expect(h.store.get('../etc/passwd')).rejects.toThrow(/invalid object key/);
      await expect(h.store.put('jobs//x', bytes('x'), { contentType: 'text/plain' })).rejects.toThrow(/invalid object key/);
    });

    describe('JobRepository on it', () => {
      let jobs: JobRepository;
      beforeAll(() => {
        jobs = new JobRepository(h.store);
      });

      it('creates once and reads back', async () => {
        const job = newJob();
        await jobs.create(job);
        expect(await jobs.get(job.id)).toEqual(job);
        await expect(jobs.create(job)).rejects.toBeInstanceOf(JobAlreadyExistsError);
        expect(await jobs.get(randomUUID())).toBeNull();
        await expect(jobs.update(randomUUID(), (j) => j)).rejects.toBeInstanceOf(JobNotFoundError);
      });

      it('moves forward through the lifecycle and never backwards', async () => {
        const job = newJob();
        await jobs.create(job);
        await jobs.update(job.id, (j) => ({ ...j, status: 'running' }));
        await jobs.update(job.id, (j) => ({ ...j, progress: { step: 5, steps: 10 } }));
        const done = await jobs.update(job.id, (j) => ({ ...j, status: 'succeeded', progress: { step: 10, steps: 10 } }));
        expect(done.status).toBe('succeeded');
        expect(done.created_at).toBe(job.created_at);
        await expect(jobs.update(job.id, (j) => ({ ...j, status: 'running' }))).rejects.toBeInstanceOf(JobTransitionError);
        await expect(jobs.update(job.id, (j) => ({ ...j, status: 'queued' }))).rejects.toBeInstanceOf(JobTransitionError);
        await expect(jobs.update(job.id, (j) => ({ ...j, status: 'failed' }))).rejects.toBeInstanceOf(JobTransitionError);
        expect((await jobs.get(job.id))?.status).toBe('succeeded');
      });

      it('lands two interleaved updates: the stale writer is refused, retries, and lands', async () => {
        const gated = new InterleavingStore(h.store);
        const repo = new JobRepository(gated);
        const job = newJob();
        await repo.create(job);
        gated.holdReads(2); // both updates read the same version before either writes
        const bump = () => repo.update(job.id, (j) => ({ ...j, progress: { ...j.progress, step: j.progress.step + 1 } }));
        await Promise.all([bump(), bump()]);
        expect(gated.refusedWrites).toBe(1);
        expect((await repo.get(job.id))?.progress.step).toBe(2);
      });

      concurrent('lands every one of several simultaneous updates (losers retry)', async () => {
        const job = newJob();
        await jobs.create(job);
        const n = 5;
        await Promise.all(
          Array.from({ length: n }, () => jobs.update(job.id, (j) => ({ ...j, progress: { ...j.progress, step: j.progress.step + 1 } }))),
        );
        expect((await jobs.get(job.id))?.progress.step).toBe(n);
      });

      it('records and reports a cancel request, idempotently', async () => {
        const job = newJob();
        await jobs.create(job);
        expect(await jobs.isCancelRequested(job.id)).toBe(false);
        await jobs.requestCancel(job.id);
        await jobs.requestCancel(job.id);
        expect(await jobs.isCancelRequested(job.id)).toBe(true);
      });
    });
  });
}

/**
 * Wraps a store so that two updates interleave deterministically: the next `n` reads wait
 * for each other, and writes go one at a time. Counts writes refused by a precondition.
 */
class InterleavingStore implements ObjectStore {
  refusedWrites = 0;
  private waiting: Array<() => void> = [];
  private held = 0;
  private writes: Promise<unknown> = Promise.resolve();
  constructor(private readonly inner: ObjectStore) {}

  holdReads(n: number): void {
    this.held = n;
  }

  async get(key: string) {
    const got = await this.inner.get(key);
    if (this.held > 0) {
      this.held -= 1;
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        if (this.held === 0) for (const w of this.waiting.splice(0)) w();
      });
    }
    return got;
  }

  put(key: string, body: Uint8Array, options: PutOptions) {
    const run = this.writes.then(() => this.inner.put(key, body, options));
    this.writes = run.catch((err: unknown) => {
      if (err instanceof PreconditionFailedError) this.refusedWrites += 1;
    });
    return run;
  }

  delete(key: string) {
    return this.inner.delete(key);
  }

  urlFor(key: string) {
    return this.inner.urlFor(key);
  }
}
