/**
 * Waits for generations to reach a terminal state by reading their records, which works the
 * same on every back end (file store, S3). Used by the OpenAI images route, whose clients
 * expect the images in the response.
 */
import type { JobRepository } from '../../shared/jobs/repository.js';
import { isTerminal } from '../../shared/jobs/status.js';
import type { JobRecord } from '../../shared/schemas/job.js';

export interface WaitOptions {
  /** Give up at this time (ms since the epoch); the records as last read are returned. */
  deadline: number;
  /** Between reads of a record still running. */
  intervalMs?: number;
  /** Stops waiting early (the client went away). */
  signal?: AbortSignal;
}

export interface WaitResult {
  records: JobRecord[];
  /** Every record is terminal. */
  done: boolean;
}

export async function waitForGenerations(jobs: JobRepository<JobRecord>, initial: readonly JobRecord[], options: WaitOptions): Promise<WaitResult> {
  const interval = options.intervalMs ?? 150;
  const records = [...initial];
  for (;;) {
    await Promise.all(
      records.map(async (r, k) => {
        if (isTerminal(r.status)) return;
        records[k] = (await jobs.get(r.id)) ?? r;
      }),
    );
    if (records.every((r) => isTerminal(r.status))) return { records, done: true };
    if (Date.now() >= options.deadline || options.signal?.aborted) return { records, done: false };
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, options.deadline - Date.now()))));
  }
}
