/**
 * The worker under load, in process: the real engine (gpu-worker: scheduler, model runner,
 * emitter) on the real runtime, with the embedded back end (SQLite queue + file store in a
 * temporary folder). For each concurrency c, c draw jobs are queued at once (as the edge
 * queues them), then a fresh worker starts; a job's latency runs from its enqueue to its
 * final record write. The same jobs run with WORKER_MAX_BATCH=1 (one job at a time) and with
 * continuous batching, in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { type AutoBatch, measureAutoBatch } from '../gpu-worker/autotune.js';
import { counterValue, createWorkerMetrics, type WorkerMetrics } from '../gpu-worker/metrics.js';
import { ModelRunner } from '../gpu-worker/model-runner.js';
import { startWorker } from '../gpu-worker/worker.js';
import { encodeJobMessage } from '../shared/jobs/message.js';
import { JobRepository } from '../shared/jobs/repository.js';
import type { MetricsJson } from '../shared/metrics/index.js';
import { SqliteQueue } from '../shared/queue/sqlite-queue.js';
import { createRuntime, drawContext, type OnnxModelRuntime, type Precision } from '../shared/runtime/index.js';
import { JobRecord } from '../shared/schemas/job.js';
import { FileStore } from '../shared/store/file-store.js';
import { ObservedStore } from '../shared/store/observed-store.js';
import { CountingRuntime } from './counting-runtime.js';
import { mean, percentile, progress, round } from './stats.js';

const CAPTIONS = [
  'a small red circle at the top left',
  'a large blue square at the center',
  'a small green 7 at the bottom right',
  'a large yellow triangle at the top',
];

/** Resolves each job's final status as its record is written: no polling. */
class WatchingStore extends ObservedStore {
  private readonly waiters = new Map<string, (at: number) => void>();
  expect(jobId: string): Promise<number> {
    return new Promise((resolve) => this.waiters.set(`jobs/${jobId}.json`, resolve));
  }
  protected afterPut(key: string, body: Uint8Array): void {
    const waiter = this.waiters.get(key);
    if (!waiter) return;
    const status = (JSON.parse(Buffer.from(body).toString('utf8')) as { status: string }).status;
    if (status === 'succeeded' || status === 'failed' || status === 'canceled') {
      this.waiters.delete(key);
      waiter(performance.now());
    }
  }
}

export interface LoadRun {
  mode: string;
  maxBatch: number;
  concurrency: number;
  wallSeconds: number;
  imagesPerSecond: number;
  latencyP50: number;
  latencyP95: number;
  latencyMean: number;
  /** Worker metrics: denoise_rows_total / denoise_calls_total (jobs per batched call). */
  jobsPerCall: number;
  /** Network rows per call, guidance rows included. */
  networkRowsPerCall: number;
  denoiseCalls: number;
  /** Share of the wall time the model was busy (denoising, prefill, text). */
  modelBusy: number;
  failed: number;
  peakRssMb?: number;
}

export interface WorkerSection {
  precision: Precision;
  steps: number;
  guidance: number;
  auto: AutoBatch;
  runs: LoadRun[];
  rssBaselineMb: number;
  /** The worker's /metrics text after the last run (for the metrics check). */
  metricsText: string;
  /** The same metrics as prom-client JSON (merged into the edge's /metrics by the edge benchmark). */
  metricsJson: MetricsJson;
}

function record(runtime: OnnxModelRuntime, id: string, i: number): JobRecord {
  const now = new Date().toISOString();
  const { diffusion } = runtime.manifest;
  const ctx = drawContext(runtime.tokenizer, CAPTIONS[i % CAPTIONS.length]!);
  return {
    id,
    request_id: `req_${id}`,
    created_at: now,
    updated_at: now,
    status: 'queued',
    progress: { step: 0, steps: diffusion.default_steps },
    params: { seed: i + 1, steps: diffusion.default_steps, guidance: diffusion.default_guidance, max_tokens: 16, temperature: 0 },
    context: ctx.map((s) => ({ type: 'text' as const, ids: s.type === 'text' ? [...s.ids] : [] })),
    output: [],
    tokens_used: 0,
  };
}

async function runLoad(
  runtime: CountingRuntime,
  mode: string,
  maxBatch: number,
  concurrency: number,
  sampleRss: boolean,
): Promise<{ run: LoadRun; metrics: WorkerMetrics }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-worker-'));
  const queue = new SqliteQueue({ path: join(dir, 'queue.db'), visibilityTimeoutSeconds: 120, maxReceiveCount: 3, pollIntervalMs: 20 });
  const deadLetters = queue.deadLetterQueue();
  const files = new FileStore({ root: join(dir, 'store') });
  const store = new WatchingStore(files);
  const jobs = new JobRepository<JobRecord>(store, { schema: JobRecord });
  const metrics = createWorkerMetrics();
  const runner = new ModelRunner(runtime);
  await runner.uncond();
  const inner = runtime.inner as OnnxModelRuntime;
  let peakRss = 0;
  const rssTimer = sampleRss ? setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20) : undefined;
  try {
    // Queue every job first (records, then messages, as the edge does), then start the worker.
    const done: Promise<number>[] = [];
    const ids = Array.from({ length: concurrency }, (_, i) => `bench_${mode.replace(/\W/g, '')}_${concurrency}_${i}`);
    for (const [i, id] of ids.entries()) await jobs.create(record(inner, id, i));
    const start = performance.now();
    for (const id of ids) {
      done.push(store.expect(id));
      await queue.send(encodeJobMessage({ jobId: id, requestId: `req_${id}` }));
    }
    runtime.reset();
    const worker = startWorker(
      { queue, deadLetters, store, runners: [runner], logger: pino({ level: 'silent' }), metrics, deadLetterWaitSeconds: 1 },
      { maxBatch, visibilityTimeoutSeconds: 120, receiveWaitSeconds: 1 },
    );
    const ends = await Promise.all(done);
    const wall = (Math.max(...ends) - start) / 1000;
    const latencies = ends.map((e) => (e - start) / 1000);
    const busy = (runtime.denoiseMs + runtime.otherModelMs) / 1000;
    const calls = await counterValue(metrics.denoiseCalls);
    const failed = (await counterValue(metrics.jobs, { status: 'failed' })) + (await counterValue(metrics.jobs, { status: 'canceled' }));
    await worker.stop(5000);
    const run: LoadRun = {
      mode,
      maxBatch,
      concurrency,
      wallSeconds: round(wall, 3),
      imagesPerSecond: round(concurrency / wall, 3),
      latencyP50: round(percentile(latencies, 50), 3),
      latencyP95: round(percentile(latencies, 95), 3),
      latencyMean: round(mean(latencies), 3),
      jobsPerCall: round((await counterValue(metrics.denoiseRows)) / calls, 2),
      networkRowsPerCall: round(runtime.denoiseRows / runtime.denoiseCalls, 2),
      denoiseCalls: calls,
      modelBusy: round(busy / wall, 3),
      failed,
      ...(sampleRss ? { peakRssMb: round(peakRss / 2 ** 20, 1) } : {}),
    };
    return { run, metrics };
  } finally {
    if (rssTimer) clearInterval(rssTimer);
    await deadLetters.close();
    await queue.close();
    files.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WorkerOptions {
  concurrency: readonly number[];
  /** Continuous batching's WORKER_MAX_BATCH (16 in the target). */
  batch: number;
  /** The largest batch, run at the largest concurrency, for the memory figure. */
  maxBatch: number;
  /** Concurrency at which the autotuned default batch is compared with one-at-a-time. */
  autoAt: number;
}

export async function workerSection(packageDir: string, precision: Precision, options: WorkerOptions): Promise<WorkerSection> {
  const inner = await createRuntime(packageDir, { precision });
  const runtime = new CountingRuntime(inner);
  try {
    progress(`worker: WORKER_MAX_BATCH=auto measurement (${precision})`);
    const auto = await measureAutoBatch(new ModelRunner(inner));
    const rssBaselineMb = round(process.memoryUsage().rss / 2 ** 20, 1);
    const runs: LoadRun[] = [];
    let metricsText = '';
    let metricsJson: MetricsJson = [];
    const plan: [string, number, number, boolean][] = [];
    for (const c of options.concurrency) {
      plan.push(['one-at-a-time', 1, c, false]);
      // Right after its baseline, so that the two runs compared see the same machine.
      if (c === options.autoAt) plan.push([`default (auto=${auto.chosen})`, auto.chosen, c, false]);
      plan.push([`continuous`, options.batch, c, false]);
    }
    if (!options.concurrency.includes(options.autoAt)) plan.push([`default (auto=${auto.chosen})`, auto.chosen, options.autoAt, false]);
    const top = Math.max(...options.concurrency);
    plan.push(['continuous (max batch)', options.maxBatch, top, true]);
    for (const [mode, maxBatch, c, rss] of plan) {
      progress(`worker: ${mode}, WORKER_MAX_BATCH=${maxBatch}, ${c} concurrent job(s)`);
      const { run, metrics } = await runLoad(runtime, mode, maxBatch, c, rss);
      runs.push(run);
      metricsText = await metrics.render();
      metricsJson = await metrics.json();
    }
    const { diffusion } = inner.manifest;
    return {
      precision,
      steps: diffusion.default_steps,
      guidance: diffusion.default_guidance,
      auto,
      runs,
      rssBaselineMb,
      metricsText,
      metricsJson,
    };
  } finally {
    await runtime.close();
  }
}
