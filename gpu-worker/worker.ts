/**
 * One worker, assembled from its parts: the engine and the dead-letter drain loop (an
 * arrival there marks its job failed). main.ts builds the parts from the configuration;
 * tests build them by hand.
 */
import { runDeadLetterLoop } from '../shared/jobs/dead-letters.js';
import { JobRepository } from '../shared/jobs/repository.js';
import type { Logger } from '../shared/logging/index.js';
import type { JobQueue } from '../shared/ports/queue.js';
import type { ObjectStore } from '../shared/ports/store.js';
import { JobRecord } from '../shared/schemas/job.js';
import { Engine, type EngineOptions } from './engine.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import type { ModelRunner } from './model-runner.js';

export interface WorkerParts {
  queue: JobQueue;
  deadLetters?: JobQueue;
  /** The source queue's maxReceiveCount, quoted in the failure reason when known. */
  maxReceiveCount?: number;
  store: ObjectStore;
  /** One runner per model served, the default model first. */
  runners: readonly ModelRunner[];
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Long-poll wait of the dead-letter receive (default 20 s; shutdown cuts it short). */
  deadLetterWaitSeconds?: number;
}

export interface Worker {
  readonly engine: Engine;
  readonly metrics: WorkerMetrics;
  /** Finishes or hands back the held jobs within `graceMs`, stops the drain loop. */
  stop(graceMs: number): Promise<void>;
}

export function startWorker(parts: WorkerParts, options: EngineOptions): Worker {
  const metrics = parts.metrics ?? createWorkerMetrics();
  const jobs = new JobRepository<JobRecord>(parts.store, { schema: JobRecord });
  const engine = new Engine({ queue: parts.queue, store: parts.store, jobs, runners: parts.runners, metrics, logger: parts.logger }, options);
  engine.start();
  const drainAbort = new AbortController();
  const drain = parts.deadLetters
    ? runDeadLetterLoop({
        deadLetters: parts.deadLetters,
        // The drain reads records with the lifecycle schema only: it must fail a job whose record the worker cannot parse.
        jobs: new JobRepository(parts.store),
        logger: parts.logger.child({ loop: 'dead-letters' }),
        signal: drainAbort.signal,
        waitSeconds: parts.deadLetterWaitSeconds ?? 20,
        ...(parts.maxReceiveCount !== undefined ? { maxReceiveCount: parts.maxReceiveCount } : {}),
      })
    : Promise.resolve();
  let stopping: Promise<void> | undefined;
  return {
    engine,
    metrics,
    stop(graceMs) {
      stopping ??= (async () => {
        drainAbort.abort();
        await Promise.all([engine.shutdown(graceMs), drain]);
      })();
      return stopping;
    },
  };
}
