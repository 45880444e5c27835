/**
 * How the edge and the worker pool of one process tree (`npm start`, the sampling benchmark)
 * hear of each other at once, instead of at their next read: the workers tell the edge of
 * each job record they write (a waiting request is answered when its image is stored), and
 * the edge tells the workers of each job it queues (a worker takes it now, not at its
 * queue's next poll). Reads on a timer remain behind both, for what nobody tells.
 */
import { NotifiedJobChanges } from '../edge/changes/notified.js';
import { DEFAULT_EVENTS } from '../edge/generations/events/route.js';
import type { WorkerPool } from '../gpu-worker/pool.js';
import type { JobQueue } from '../shared/ports/queue.js';
import { TellingQueue } from '../shared/queue/telling-queue.js';

export interface PoolLinks {
  /** The edge's queue, telling the workers after each send. */
  queue: JobQueue;
  /** Wakes the edge's waits on a job when a worker wrote its record. */
  jobChanges: NotifiedJobChanges;
}

export function linkEdgeToPool(pool: Pick<WorkerPool, 'onJobChange' | 'jobsQueued'>, queue: JobQueue): PoolLinks {
  const jobChanges = new NotifiedJobChanges(DEFAULT_EVENTS.pollMs);
  pool.onJobChange((jobId) => jobChanges.notify(jobId));
  return { queue: new TellingQueue(queue, () => pool.jobsQueued()), jobChanges };
}
