/**
 * The worker's writes to a job record, as pure mutations for JobRepository.update (which
 * may apply them more than once on a lost race). Each returns null ("leave it") when the
 * record has moved past what the write is for, so a redelivered or late write is harmless:
 * a terminal record is never touched, and a job is never marked running again once done.
 */
import { isTerminal } from '../shared/jobs/status.js';
import type { JobError } from '../shared/jobs/record.js';
import type { JobRecord, StoredOutputPart } from '../shared/schemas/job.js';

export type Progress = JobRecord['progress'];

/** queued|running -> running, at the start of (or a restart from scratch of) the job. */
export function toRunning(progress: Progress) {
  return (current: JobRecord): JobRecord | null => (isTerminal(current.status) ? null : { ...current, status: 'running', progress });
}

/** Progress only while running; never backwards within one attempt's writes. */
export function withProgress(progress: Progress) {
  return (current: JobRecord): JobRecord | null => (current.status === 'running' ? { ...current, progress } : null);
}

/** The answer: the worker's parts follow what the edge already wrote. */
export function toSucceeded(parts: readonly StoredOutputPart[], tokensUsed: number, progress: Progress) {
  return (current: JobRecord): JobRecord | null =>
    isTerminal(current.status)
      ? null
      : { ...current, status: 'succeeded', progress, output: [...current.output, ...parts], tokens_used: tokensUsed };
}

export function toCanceled() {
  return (current: JobRecord): JobRecord | null => (isTerminal(current.status) ? null : { ...current, status: 'canceled' });
}

export function toFailed(error: JobError) {
  return (current: JobRecord): JobRecord | null => (isTerminal(current.status) ? null : { ...current, status: 'failed', error });
}
