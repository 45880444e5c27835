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
import { generationView } from '../shared/schemas/view.js';
import { WebhookDeliverer, type WebhookSettings } from '../shared/webhooks/deliver.js';
import { webhookDeliveries } from '../shared/webhooks/log.js';
import { queueWebhookEvent } from '../shared/webhooks/outbox.js';
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
  /** Webhook secrets and delivery settings (default: no secrets, so deliveries record that and stop). */
  webhooks?: WebhookSettings;
}

const NO_WEBHOOKS: WebhookSettings = { secrets: { byTenant: {} }, allowPrivate: false, retryBaseMs: 10_000, timeoutMs: 10_000 };

export interface Worker {
  readonly engine: Engine;
  readonly metrics: WorkerMetrics;
  /** Finishes or hands back the held jobs within `graceMs`, stops the drain loop. */
  stop(graceMs: number): Promise<void>;
}

export function startWorker(parts: WorkerParts, options: EngineOptions): Worker {
  const metrics = parts.metrics ?? createWorkerMetrics();
  const jobs = new JobRepository<JobRecord>(parts.store, { schema: JobRecord });
  const webhooks = new WebhookDeliverer({
    queue: parts.queue,
    store: parts.store,
    jobs,
    settings: parts.webhooks ?? NO_WEBHOOKS,
    // The payload's generation as GET shows it (a record without a model ran on the default, served first).
    view: async (record) =>
      generationView(record, parts.store, parts.runners[0]?.name ?? 'model', await webhookDeliveries(parts.store, record)),
    logger: parts.logger.child({ part: 'webhooks' }),
  });
  const engine = new Engine(
    { queue: parts.queue, store: parts.store, jobs, runners: parts.runners, metrics, logger: parts.logger, webhooks },
    options,
  );
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
        onTerminal: async (record) => void (await queueWebhookEvent({ queue: parts.queue, store: parts.store }, record, 'completed')),
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
