/**
 * The worker's metrics (issue 5): what the accelerator did and what users waited, on the
 * shared registry. `denoise_rows_total / denoise_calls_total` is the mean number of jobs
 * per batched call.
 */
import { MetricsRegistry, type Counter, type Gauge, type Histogram, type MetricsSource } from '../shared/metrics/index.js';

/** Seconds: from a tenth of a second to ten minutes. */
const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

export type FinalStatus = 'succeeded' | 'failed' | 'canceled';

export interface WorkerMetrics extends MetricsSource {
  /** Batched denoising calls (one per tick). */
  readonly denoiseCalls: Counter;
  /** Jobs those calls carried (guidance rows not counted: they double every job alike). */
  readonly denoiseRows: Counter;
  readonly images: Counter;
  /** Jobs finished by this worker, by final status. */
  readonly jobs: Counter<'status'>;
  /** From the message's first send to the job's admission into the running set. */
  readonly queueWait: Histogram;
  /** From the message's first send to the final status. */
  readonly jobLatency: Histogram;
  readonly activeJobs: Gauge;
  readonly batchSize: Histogram;
}

export function createWorkerMetrics(): WorkerMetrics {
  const r = new MetricsRegistry();
  const metrics = {
    denoiseCalls: r.counter('denoise_calls_total', 'Batched denoising calls of the model.'),
    denoiseRows: r.counter('denoise_rows_total', 'Jobs carried by the batched denoising calls.'),
    images: r.counter('images_total', 'Images generated.'),
    jobs: r.counter('jobs_total', 'Jobs the worker finished, by final status.', ['status']),
    queueWait: r.histogram('queue_wait_seconds', 'Time from enqueue to the start of denoising.', [], LATENCY_BUCKETS),
    jobLatency: r.histogram('job_latency_seconds', 'Time from enqueue to the final status.', [], LATENCY_BUCKETS),
    activeJobs: r.gauge('active_jobs', 'Jobs in the running set.'),
    batchSize: r.histogram('batch_size', 'Jobs per batched denoising call.', [], BATCH_BUCKETS),
    render: () => r.render(),
  };
  // Zero series from the start, so that a scrape before the first job sees every name.
  metrics.denoiseCalls.inc({}, 0);
  metrics.denoiseRows.inc({}, 0);
  metrics.images.inc({}, 0);
  for (const status of ['succeeded', 'failed', 'canceled'] as const) metrics.jobs.inc({ status }, 0);
  metrics.activeJobs.set({}, 0);
  return metrics;
}

export function countJob(metrics: WorkerMetrics, status: FinalStatus): void {
  metrics.jobs.inc({ status });
}
