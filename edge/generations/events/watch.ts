/**
 * The states of one generation as they change, read from the store whenever `changes` says
 * to (the worker wrote the record, or a read is due: shared/ports/job-changes.ts; the worker
 * writes progress at most every WORKER_PROGRESS_INTERVAL_MS). Yields the first state at
 * once, then each state whose event id differs, and returns after a terminal state or when
 * `signal` aborts.
 */

import type { JobRepository } from '../../../shared/jobs/repository.js';
import { isTerminal } from '../../../shared/jobs/status.js';
import type { JobChanges } from '../../../shared/ports/job-changes.js';
import type { JobQueue } from '../../../shared/ports/queue.js';
import type { JobRecord } from '../../../shared/schemas/job.js';
import { queuePosition } from '../queue-position.js';
import { eventId } from './event-id.js';

export interface GenerationState {
  record: JobRecord;
  queuePosition: number | undefined;
  id: string;
  terminal: boolean;
}

export interface WatchOptions {
  changes: JobChanges;
  signal?: AbortSignal;
}

export async function readState(jobs: JobRepository<JobRecord>, queue: JobQueue, id: string): Promise<GenerationState | null> {
  const record = await jobs.get(id);
  if (!record) return null;
  const position = await queuePosition(queue, record);
  return { record, queuePosition: position, id: eventId(record, position), terminal: isTerminal(record.status) };
}

export async function* watchGeneration(
  jobs: JobRepository<JobRecord>,
  queue: JobQueue,
  id: string,
  options: WatchOptions,
): AsyncGenerator<GenerationState> {
  let last: string | undefined;
  // Watched before the first read, so that a write between the two is not missed.
  const watch = options.changes.watch([id]);
  try {
    while (!options.signal?.aborted) {
      const state = await readState(jobs, queue, id);
      if (!state) return; // deleted (expired) meanwhile
      if (state.id !== last) {
        last = state.id;
        yield state;
      }
      if (state.terminal) return;
      await watch.next(Infinity, options.signal);
    }
  } finally {
    watch.close();
  }
}
