/**
 * Job records in the object store, at `jobs/<id>.json`, with a cancel marker at
 * `jobs/<id>.cancel`. The edge creates a record once (conditional create); workers update
 * it with optimistic concurrency (If-Match, re-read and retry on a lost race), and an
 * update that would move the status backwards is refused.
 */
import type { z } from 'zod';
import { type ObjectStore, PreconditionFailedError } from '../ports/store.js';
import { UpdateConflictError, versionedUpdate } from '../store/conditional-update.js';
import { encodeJson, JSON_CONTENT_TYPE, readJsonObject, type VersionedJson } from '../store/json-object.js';
import { cancelKey, JobRecordBase, jobKey } from './record.js';
import { isTransitionAllowed, type JobStatus } from './status.js';

export class JobNotFoundError extends Error {
  readonly code = 'job_not_found';
  constructor(readonly jobId: string) {
    super(`job ${jobId} not found`);
    this.name = 'JobNotFoundError';
  }
}

export class JobAlreadyExistsError extends Error {
  readonly code = 'job_exists';
  constructor(readonly jobId: string) {
    super(`job ${jobId} already exists`);
    this.name = 'JobAlreadyExistsError';
  }
}

export class JobTransitionError extends Error {
  readonly code = 'invalid_transition';
  constructor(
    readonly jobId: string,
    readonly from: JobStatus,
    readonly to: JobStatus,
  ) {
    super(`job ${jobId}: status may not go from ${from} to ${to}`);
    this.name = 'JobTransitionError';
  }
}

export class JobUpdateConflictError extends Error {
  readonly code = 'update_conflict';
  constructor(
    readonly jobId: string,
    attempts: number,
  ) {
    super(`job ${jobId}: gave up after ${attempts} conflicting concurrent updates`);
    this.name = 'JobUpdateConflictError';
  }
}

export interface JobRepositoryOptions<T extends JobRecordBase> {
  /** The full record schema; defaults to the lifecycle fields with the rest passed through. */
  schema?: z.ZodType<T>;
  /** Attempts of an update that keeps losing races before JobUpdateConflictError. */
  maxAttempts?: number;
  /** Clock for `updated_at` (tests). */
  now?: () => Date;
}

/** Return the next record, or null/undefined to leave the stored one as it is. */
export type JobMutation<T> = (current: T) => T | null | undefined;

const encoder = new TextEncoder();

export class JobRepository<T extends JobRecordBase = JobRecordBase> {
  private readonly schema: z.ZodType<T>;
  private readonly maxAttempts: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: ObjectStore,
    options: JobRepositoryOptions<T> = {},
  ) {
    this.schema = options.schema ?? (JobRecordBase as unknown as z.ZodType<T>);
    this.maxAttempts = options.maxAttempts ?? 20;
    this.now = options.now ?? (() => new Date());
  }

  /** Writes a new record; JobAlreadyExistsError when the id is taken. */
  async create(record: T): Promise<T> {
    const valid = this.schema.parse(record);
    try {
      await this.store.put(jobKey(valid.id), encodeJson(valid), { contentType: JSON_CONTENT_TYPE, ifNoneMatch: '*' });
    } catch (err) {
      if (err instanceof PreconditionFailedError) throw new JobAlreadyExistsError(valid.id);
      throw err;
    }
    return valid;
  }

  async get(id: string): Promise<T | null> {
    return (await this.read(id))?.value ?? null;
  }

  /** The record with its etag: the version a later updateFrom() starts from. */
  async read(id: string): Promise<VersionedJson<T> | null> {
    return readJsonObject(this.store, jobKey(id), this.schema);
  }

  /**
   * Applies `mutate` to the current record and writes the result if nobody wrote in
   * between; otherwise re-reads and applies it again, so `mutate` must be a pure function
   * of the record it is given. Sets `updated_at`. Throws JobTransitionError when the
   * status would go backwards or leave a terminal state, JobNotFoundError for an unknown id.
   */
  async update(id: string, mutate: JobMutation<T>): Promise<T> {
    return (await this.updateFrom(id, undefined, mutate)).value;
  }

  /**
   * update() from the version the caller holds (its last read() or updateFrom()): when nobody
   * wrote since, the write goes without a read first. Answers the version it leaves, for the next.
   */
  async updateFrom(id: string, from: VersionedJson<T> | undefined, mutate: JobMutation<T>): Promise<VersionedJson<T>> {
    try {
      const update = { key: jobKey(id), schema: this.schema, maxAttempts: this.maxAttempts, ...(from ? { from } : {}) };
      const { version } = await versionedUpdate(this.store, update, (current) => {
        if (!current) throw new JobNotFoundError(id);
        // A clone: what is answered when `mutate` declines must be the record as stored.
        const proposed = mutate(structuredClone(current));
        if (proposed === null || proposed === undefined) return { result: current };
        const next = this.validateNext(current, proposed);
        return { write: next, result: next };
      });
      if (!version) throw new JobNotFoundError(id); // the change throws first; this satisfies the type
      return version;
    } catch (err) {
      if (err instanceof UpdateConflictError) throw new JobUpdateConflictError(id, err.attempts);
      throw err;
    }
  }

  /** Leaves the cancel marker; the worker sees it at its next step. Idempotent. */
  async requestCancel(id: string): Promise<void> {
    try {
      await this.store.put(cancelKey(id), encoder.encode(this.now().toISOString()), {
        contentType: 'text/plain',
        ifNoneMatch: '*',
      });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
  }

  async isCancelRequested(id: string): Promise<boolean> {
    return (await this.store.get(cancelKey(id))) !== null;
  }

  private validateNext(current: T, proposed: T): T {
    if (proposed.id !== current.id) throw new Error(`job ${current.id}: an update may not change the id`);
    if (!isTransitionAllowed(current.status, proposed.status)) {
      throw new JobTransitionError(current.id, current.status, proposed.status);
    }
    // Never let updated_at go back, even when clocks of two hosts disagree.
    const now = this.now();
    const updated_at = now.getTime() > Date.parse(current.updated_at) ? now.toISOString() : current.updated_at;
    return this.schema.parse({ ...proposed, created_at: current.created_at, updated_at });
  }
}
