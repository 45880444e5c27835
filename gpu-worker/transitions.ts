/**
 * The worker's writes to a job record, as pure mutations for JobRepository.update (which
 * may apply them more than once on a lost race). Each returns null ("leave it") when the
 * record has moved past what the write is for, so a redelivered or late write is harmless:
 * a terminal record is never touched, and a job is never marked running again once done.
 */

import type { JobError } from '../shared/jobs/record.js';
import { isTerminal } from '../shared/jobs/status.js';
import type { JobRecord } from '../shared/schemas/job.js';
import { applyCheckpoints, type Checkpoint } from './checkpoint.js';

export type Progress = JobRecord['progress'];

/** queued|running -> running, at the start of (or a restart from scratch of) the job. */
export function toRunning(progress: Progress) {
  return (current: JobRecord): JobRecord | null => (isTerminal(current.status) ? null : { ...current, status: 'running', progress });
}

/**
 * Progress only while running, with every image checkpoint the record lacks (so that its
 * output and its progress's `images_so_far` always agree); never backwards within one
 * attempt's writes.
 */
export function withProgress(progress: Progress, checkpoints: readonly Checkpoint[] = []) {
  return (current: JobRecord): JobRecord | null =>
    current.status === 'running' ? { ...(applyCheckpoints(current, checkpoints) ?? current), progress } : null;
}

/** The answer: every image's checkpoint the record lacks follows what is there (the edge's text, earlier checkpoints). */
export function toSucceeded(checkpoints: readonly Checkpoint[], progress: Progress) {
  return (current: JobRecord): JobRecord | null =>
    isTerminal(current.status) ? null : { ...(applyCheckpoints(current, checkpoints) ?? current), status: 'succeeded', progress };
}

export function toCanceled() {
  return (current: JobRecord): JobRecord | null => (isTerminal(current.status) ? null : { ...current, status: 'canceled' });
}

export function toFailed(error: JobError) {
  return (current: JobRecord): JobRecord | null => (isTerminal(current.status) ? null : { ...current, status: 'failed', error });
}
