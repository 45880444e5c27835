/**
 * The job lifecycle: queued -> running -> succeeded | failed | canceled, with shortcuts
 * queued -> canceled | failed, and queued -> succeeded: a worker does not hold a job's answer
 * back for its `running` write, which a one-step image can outrun (gpu-worker/emitter.ts
 * `complete`; the late write then leaves the terminal record alone). Terminal states are final. Staying in a non-terminal state
 * is allowed (progress updates while running); going backwards never is, which is what
 * makes a redelivered message harmless once its job has moved on.
 */
import { z } from 'zod';

export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']);
export type JobStatus = z.infer<typeof JobStatus>;

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['succeeded', 'failed', 'canceled']);

const NEXT: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['queued', 'running', 'succeeded', 'failed', 'canceled'],
  running: ['running', 'succeeded', 'failed', 'canceled'],
  succeeded: [],
  failed: [],
  canceled: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Whether a record in status `from` may be rewritten with status `to`. */
export function isTransitionAllowed(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}
