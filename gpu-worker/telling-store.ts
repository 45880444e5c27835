/**
 * The worker's store in the embedded default: after each write of a job record it tells
 * whoever waits (the pool's parent, over IPC: `job-changed`), so that the edge answers a
 * waiting request as soon as its image is stored instead of at its next read. The record
 * is written first: a reader woken by the message sees it.
 */

import type { JobChangeListener } from '../shared/ports/job-changes.js';
import type { ObjectStore } from '../shared/ports/store.js';
import { ObservedStore } from '../shared/store/observed-store.js';

const JOB_RECORD = /^jobs\/([^/]+)\.json$/;

/** The job id of a record's key (`jobs/<id>.json`); undefined for any other key. */
export function jobIdOfKey(key: string): string | undefined {
  return JOB_RECORD.exec(key)?.[1];
}

export class TellingStore extends ObservedStore {
  constructor(
    inner: ObjectStore,
    private readonly tell: JobChangeListener,
  ) {
    super(inner);
  }

  protected afterPut(key: string): void {
    const id = jobIdOfKey(key);
    if (id !== undefined) this.tell(id);
  }
}
