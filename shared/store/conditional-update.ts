/**
 * Read, change, write if unchanged: the optimistic-concurrency loop of every
 * read-modify-write of a JSON object in the store (job records, webhook delivery logs,
 * rate-limit counters). The write names the version it read (If-Match its etag, or
 * If-None-Match: * when there was no object), so a write made in between fails it with
 * PreconditionFailedError; the loop then pauses a random while and starts over from a
 * fresh read. After `maxAttempts` lost races it gives up with UpdateConflictError.
 */
import type { z } from 'zod';
import { type ObjectStore, PreconditionFailedError } from '../ports/store.js';
import { sleep } from '../queue/sleep.js';
import { type Backoff, jitteredPauseMs } from './backoff.js';
import { encodeJson, JSON_CONTENT_TYPE, readJsonObject, type VersionedJson } from './json-object.js';

const DEFAULT_BACKOFF: Backoff = { baseMs: 5, capMs: 100 };

/**
 * Every attempt lost its race. A PreconditionFailedError still, so that code that caught
 * the write's own error before this helper existed catches this one the same way.
 */
export class UpdateConflictError extends PreconditionFailedError {
  readonly code = 'update_conflict';
  constructor(
    readonly key: string,
    readonly attempts: number,
  ) {
    super(key);
    this.message = `${key}: gave up after ${attempts} conflicting concurrent updates`;
    this.name = 'UpdateConflictError';
  }
}

/** What a change decides: write `write` and answer `result`, or (no `write`) leave the object as it is. */
export interface Change<T, R> {
  readonly write?: T;
  readonly result: R;
}

export interface ConditionalUpdate<T> {
  readonly key: string;
  /** Parses the stored object; what is written is not parsed again (the change validates it). */
  readonly schema: z.ZodType<T>;
  /** Attempts (reads and writes) before UpdateConflictError; at least 1. */
  readonly maxAttempts: number;
  /**
   * The object as the caller last read or wrote it: the first write names its etag with no
   * read before it (a worker updating the record it holds). A lost race reads afresh, and so
   * does a change that declines to write, so that what it answers is never a stale copy.
   */
  readonly from?: VersionedJson<T>;
  /** Default: pauses below 10, 20, 40, 80, then 100 ms. */
  readonly backoff?: Backoff;
  /** The jitter's source and the pause (tests). */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Applies `change` to the object at `key` (null when there is none) and writes what it
 * decides if nobody wrote in between. `change` runs again after a lost race, on the newer
 * object, so it must depend on nothing but its argument (and the clock). What it throws
 * ends the update, as does any store error other than a failed precondition.
 */
export async function conditionalUpdate<T, R>(
  store: Pick<ObjectStore, 'get' | 'put'>,
  update: ConditionalUpdate<T>,
  change: (current: T | null) => Change<T, R>,
): Promise<R> {
  return (await versionedUpdate(store, update, change)).result;
}

/** conditionalUpdate, also answering the version it leaves: the object it wrote, or the one it read (null: none). */
export async function versionedUpdate<T, R>(
  store: Pick<ObjectStore, 'get' | 'put'>,
  update: ConditionalUpdate<T>,
  change: (current: T | null) => Change<T, R>,
): Promise<{ result: R; version: VersionedJson<T> | null }> {
  const pause = update.sleep ?? sleep;
  const random = update.random ?? Math.random;
  const backoff = update.backoff ?? DEFAULT_BACKOFF;
  const read = () => readJsonObject(store, update.key, update.schema);
  let held = update.from; // the first attempt only
  for (let attempt = 1; ; attempt++) {
    let current = held ?? (await read());
    let decided = change(current?.value ?? null);
    if (held && decided.write === undefined) {
      // Declined on the caller's copy: decide on the stored object, so the answer is never stale.
      current = await read();
      decided = change(current?.value ?? null);
    }
    held = undefined;
    if (decided.write === undefined) return { result: decided.result, version: current };
    try {
      const { etag } = await store.put(update.key, encodeJson(decided.write), {
        contentType: JSON_CONTENT_TYPE,
        ...(current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const }),
      });
      return { result: decided.result, version: { value: decided.write, etag } };
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      if (attempt >= update.maxAttempts) throw new UpdateConflictError(update.key, attempt);
      await pause(jitteredPauseMs(attempt, backoff, random));
    }
  }
}
