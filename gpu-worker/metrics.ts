/**
 * The worker's metrics (issue 5): what the accelerator did and what users waited, on its
 * own prom-client registry with Node's default metrics. `denoise_rows_total /
 * denoise_calls_total` is the mean number of jobs per batched call.
 */
import { Counter, Gauge, Histogram, type MetricsSource, newRegistry, type Registry, sourceOf } from '../shared/metrics/index.js';

/** Seconds: from a tenth of a second to ten minutes. */
const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

export type FinalStatus = 'succeeded' | 'failed' | 'canceled';

export interface WorkerMetrics extends MetricsSource {
  readonly registry: Registry;
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
  /** The Prometheus text of this worker alone (its health server's /metrics). */
  render(): Promise<string>;
}

/** `defaults: false` leaves Node's default metrics out (many workers in one test process). */
export function createWorkerMetrics(options: { defaults?: boolean } = {}): WorkerMetrics {
  const registry = newRegistry({ defaults: options.defaults ?? true });
  const registers = [registry];
  const metrics: WorkerMetrics = {
    registry,
    denoiseCalls: new Counter({ name: 'denoise_calls_total', help: 'Batched denoising calls of the model.', registers }),
    denoiseRows: new Counter({ name: 'denoise_rows_total', help: 'Jobs carried by the batched denoising calls.', registers }),
    images: new Counter({ name: 'images_total', help: 'Images generated.', registers }),
    jobs: new Counter({ name: 'jobs_total', help: 'Jobs the worker finished, by final status.', labelNames: ['status'], registers }),
    queueWait: new Histogram({
      name: 'queue_wait_seconds',
      help: 'Time from enqueue to the start of denoising.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    jobLatency: new Histogram({
      name: 'job_latency_seconds',
      help: 'Time from enqueue to the final status.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    activeJobs: new Gauge({ name: 'active_jobs', help: 'Jobs in the running set.', registers }),
    batchSize: new Histogram({ name: 'batch_size', help: 'Jobs per batched denoising call.', buckets: BATCH_BUCKETS, registers }),
    json: sourceOf(registry).json,
    render: () => registry.metrics(),
  };
  // Zero series from the start, so that a scrape before the first job sees every name.
  for (const status of ['succeeded', 'failed', 'canceled'] as const) metrics.jobs.inc({ status }, 0);
  metrics.activeJobs.set(0);
  return metrics;
}

export function countJob(metrics: WorkerMetrics, status: FinalStatus): void {
  metrics.jobs.inc({ status });
}

/** A counter's current value (tests and benchmarks). */
export async function counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}
