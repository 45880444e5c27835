import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectStore, PutOptions } from '../ports/store.js';
import { FileStore } from '../store/file-store.js';
import type { JobRecordBase } from './record.js';
import { JobRepository, JobUpdateConflictError } from './repository.js';

/** Every conditional write loses: another writer changes the record just before it. */
class AlwaysRacedStore implements ObjectStore {
  writes = 0;
  constructor(private readonly inner: FileStore) {}
  get(key: string) {
    return this.inner.get(key);
  }
  async put(key: string, body: Uint8Array, options: PutOptions) {
    if (options.ifMatch !== undefined) {
      this.writes += 1;
      const stored = await this.inner.get(key);
      // A new body: the etag of an unchanged one may be the same (the file store hashes it).
      const theirs = { ...(JSON.parse(new TextDecoder().decode(stored!.body)) as object), touched: this.writes };
      await this.inner.put(key, new TextEncoder().encode(JSON.stringify(theirs)), { contentType: 'application/json' });
    }
    return this.inner.put(key, body, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  urlFor(key: string) {
    return this.inner.urlFor(key);
  }
}

describe('JobRepository.update under contention', () => {
  let dir: string;
  let inner: FileStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'job-repository-'));
    inner = new FileStore({ root: dir });
  });
  afterEach(() => {
    inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives up after maxAttempts lost races with JobUpdateConflictError, leaving the record as the others wrote it', async () => {
    const store = new AlwaysRacedStore(inner);
    const jobs = new JobRepository(store, { maxAttempts: 3 });
    const now = new Date().toISOString();
    const job: JobRecordBase = {
      id: '7d3f1a52-4c1b-4e8a-9b1e-2f3c4d5e6f70',
      status: 'queued',
      created_at: now,
      updated_at: now,
      progress: { step: 0, steps: 10 },
    };
    await jobs.create(job);
    const err = await jobs.update(job.id, (r) => ({ ...r, status: 'running' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobUpdateConflictError);
    expect(err).toMatchObject({
      jobId: job.id,
      code: 'update_conflict',
      message: `job ${job.id}: gave up after 3 conflicting concurrent updates`,
    });
    expect(store.writes).toBe(3);
    expect(await jobs.get(job.id)).toMatchObject({ status: 'queued', touched: 3 });
  });
});
