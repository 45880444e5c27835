/**
 * Waits for generations to reach a terminal state by reading their records, which works the
 * same on every back end (file store, S3), again whenever `changes` says to. Used by the
 * OpenAI image and chat routes, whose clients expect the images in the response.
 */
import type { JobRepository } from '../../shared/jobs/repository.js';
import { isTerminal } from '../../shared/jobs/status.js';
import type { JobChanges } from '../../shared/ports/job-changes.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { pollUntil } from '../poll.js';
import { OpenAiError } from './errors.js';

export interface WaitOptions {
  /** Give up at this time (ms since the epoch); the records as last read are returned. */
  deadline: number;
  /** When to read again (a generation changed, or a read is due). */
  changes: JobChanges;
  /** Stops waiting early (the client went away). */
  signal?: AbortSignal;
}

export interface WaitResult {
  records: JobRecord[];
  /** Every record is terminal. */
  done: boolean;
}

export async function waitForGenerations(
  jobs: JobRepository<JobRecord>,
  initial: readonly JobRecord[],
  options: WaitOptions,
): Promise<WaitResult> {
  // Reads before the first check: the records given may be stale by now.
  const refresh = (records: readonly JobRecord[]) =>
    Promise.all(records.map(async (r) => (isTerminal(r.status) ? r : ((await jobs.get(r.id)) ?? r))));
  const watch = options.changes.watch(initial.map((r) => r.id));
  try {
    const { value, done } = await pollUntil(await refresh(initial), {
      isDone: (records) => records.every((r) => isTerminal(r.status)),
      next: refresh,
      deadline: options.deadline,
      watch,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { records: value, done };
  } finally {
    watch.close();
  }
}

/** A generation that ended otherwise is OpenAI's 500, with the generation's own error code where it has one. */
export function assertSucceeded(record: JobRecord): void {
  if (record.status === 'succeeded') return;
  const why = record.error ? `${record.error.code}: ${record.error.message}` : record.status;
  throw new OpenAiError('internal_error', `generation ${record.id} ended ${record.status} (${why})`, {
    status: 500,
    code: record.error?.code ?? `generation_${record.status}`,
    generationIds: [record.id],
  });
}
