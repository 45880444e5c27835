/**
 * What a worker process started by a parent (`npm start`, gpu-worker/pool.ts) and the parent
 * tell each other over the IPC channel. A worker without a parent channel sends nothing.
 */

export type WorkerMessage =
  /** Once it takes jobs. */
  | { type: 'worker-ready'; healthPort: number; maxBatch: number; pid: number }
  /** Every METRICS_PUSH_MS: its metrics as prom-client JSON, for the parent's /metrics. */
  | { type: 'worker-metrics'; metrics: MetricsJson }
  /** After each write of a job record: the edge wakes the requests waiting on it (edge/changes/notified.ts). */
  | { type: 'job-changed'; jobId: string };

import type { MetricsJson } from '../shared/metrics/index.js';

/** What the parent tells a worker it started. */
export type ParentMessage =
  /** The edge beside the pool queued a job: look now, not at the queue's next poll (receive-loop.ts). */
  { type: 'jobs-queued' };

export function isParentMessage(value: unknown): value is ParentMessage {
  return (value as { type?: unknown } | null)?.type === 'jobs-queued';
}

export type WorkerReadyMessage = Extract<WorkerMessage, { type: 'worker-ready' }>;

export const METRICS_PUSH_MS = 1000;

export function tell(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  const type = (value as { type?: unknown } | null)?.type;
  if (type === 'job-changed') return typeof (value as { jobId?: unknown }).jobId === 'string';
  return type === 'worker-ready' || type === 'worker-metrics';
}
