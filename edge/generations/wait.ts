/**
 * `Prefer: wait=N` (RFC 7240) on POST /v1/generations: hold the response until the
 * generation is terminal or N seconds pass. N is clamped to 1..max (60, less where the
 * platform cuts a response short: Lambda); the applied value is echoed in
 * `Preference-Applied`. Other preferences in the header are ignored, as the RFC asks.
 */

import type { JobRepository } from '../../shared/jobs/repository.js';
import { isTerminal } from '../../shared/jobs/status.js';
import type { JobChanges } from '../../shared/ports/job-changes.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { pollUntil } from '../poll.js';

export const MAX_WAIT_SECONDS = 60;

/** The wait in seconds a Prefer header asks for, clamped to 1..max; undefined when it asks none. */
export function preferredWait(prefer: string | undefined, max: number = MAX_WAIT_SECONDS): number | undefined {
  if (!prefer) return undefined;
  for (const preference of prefer.split(',')) {
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(?:;.*)?$/i.exec(preference);
    if (match) return Math.min(Math.max(1, Number(match[1])), max);
  }
  return undefined;
}

/** The record once terminal, or as it is when `seconds` have passed; read again whenever `changes` says to. */
export async function waitUntilTerminal(
  jobs: JobRepository<JobRecord>,
  record: JobRecord,
  seconds: number,
  changes: JobChanges,
  signal?: AbortSignal,
): Promise<JobRecord> {
  const watch = changes.watch([record.id]);
  try {
    // Read once first: the job may have ended between its creation and the watch.
    const current = isTerminal(record.status) ? record : ((await jobs.get(record.id)) ?? record);
    const { value } = await pollUntil(current, {
      isDone: (r) => isTerminal(r.status),
      next: async (r) => (await jobs.get(r.id)) ?? r,
      deadline: Date.now() + seconds * 1000,
      watch,
      ...(signal ? { signal } : {}),
    });
    return value;
  } finally {
    watch.close();
  }
}
