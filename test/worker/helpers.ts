/**
 * Test helpers for the worker: a temporary embedded back end (SQLite queue + file store),
 * job records made the way the edge makes them, a store that records every write, waits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { EngineOptions } from '../../gpu-worker/engine.js';
import { type ContinueOptions, ModelRunner, type StepInput } from '../../gpu-worker/model-runner.js';
import { startWorker, type Worker } from '../../gpu-worker/worker.js';
import { encodeJobMessage } from '../../shared/jobs/message.js';
import { JobRepository } from '../../shared/jobs/repository.js';
import type { Logger } from '../../shared/logging/index.js';
import { SqliteQueue } from '../../shared/queue/sqlite-queue.js';
import type { KvCache, TextDecodeResult } from '../../shared/runtime/index.js';
import { drawContext, type ModelRuntime, type Segment } from '../../shared/runtime/index.js';
import { type ContextSegment, JobRecord } from '../../shared/schemas/job.js';
import { FileStore } from '../../shared/store/file-store.js';
import { ObservedStore } from '../../shared/store/observed-store.js';

export const silentLogger = (): Logger => pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

/** A store that records the bodies written to each key, in order (the job record's history). */
export class RecordingStore extends ObservedStore {
  readonly writes: { key: string; body: Uint8Array }[] = [];
  protected afterPut(key: string, body: Uint8Array): void {
    this.writes.push({ key, body });
  }
  /** Every version written of a job's record, in order. */
  records(jobId: string): { status: string; progress: { step: number; steps: number } }[] {
    return this.writes.filter((w) => w.key === `jobs/${jobId}.json`).map((w) => JSON.parse(Buffer.from(w.body).toString('utf8')));
  }
  /** Statuses written to a job's record, in order. */
  statuses(jobId: string): string[] {
    return this.records(jobId).map((r) => r.status);
  }
}

export interface Backend {
  dir: string;
  queue: SqliteQueue;
  deadLetters: SqliteQueue;
  files: FileStore;
  store: RecordingStore;
  jobs: JobRepository<JobRecord>;
  close(): Promise<void>;
}

export function tempBackend(options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {}): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'worker-test-'));
  const queue = new SqliteQueue({
    path: join(dir, 'queue.sqlite'),
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 2,
    maxReceiveCount: options.maxReceiveCount ?? 3,
    pollIntervalMs: 20,
  });
  const deadLetters = queue.deadLetterQueue();
  const files = new FileStore({ root: join(dir, 'store') });
  const store = new RecordingStore(files);
  const jobs = new JobRepository<JobRecord>(store, { schema: JobRecord });
  return {
    dir,
    queue,
    deadLetters,
    files,
    store,
    jobs,
    async close() {
      await deadLetters.close();
      await queue.close();
      files.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A worker on the backend with one runner, as the worker tests run it: every step written and
 * no cancel throttle (so each one is seen), short receives and dead-lettering; `options` override.
 */
/** A worker over the backend: one runner, or several (one model each, the default first). */
export function startTestWorker(
  backend: Backend,
  runner: ModelRunner | readonly ModelRunner[],
  options: Partial<EngineOptions> = {},
): Worker {
  return startWorker(
    {
      queue: backend.queue,
      deadLetters: backend.deadLetters,
      maxReceiveCount: 3,
      store: backend.store,
      runners: Array.isArray(runner) ? runner : [runner],
      logger: silentLogger(),
      deadLetterWaitSeconds: 1,
    },
    { maxBatch: 4, visibilityTimeoutSeconds: 2, receiveWaitSeconds: 1, progressIntervalMs: 0, cancelCheckMs: 0, ...options },
  );
}

export interface DrawJob {
  id: string;
  /** The model the record names (default: the runtime's manifest name). */
  model?: string;
  caption?: string;
  seed?: number;
  steps?: number;
  guidance?: number;
  maxTokens?: number;
  /** Context as stored; default: the draw prompt ending in `<boi>`. */
  context?: ContextSegment[];
}

/** Text-only segments to the stored form. */
export function storedContext(segments: readonly Segment[]): ContextSegment[] {
  return segments.map((s) => {
    if (s.type !== 'text') throw new Error('storedContext takes text segments only');
    return { type: 'text', ids: [...s.ids] };
  });
}

export function drawRecord(runtime: ModelRuntime, job: DrawJob): JobRecord {
  const now = new Date().toISOString();
  const steps = job.steps ?? 4;
  return {
    id: job.id,
    request_id: `req-${job.id}`,
    model: job.model ?? runtime.manifest.name ?? 'tiny',
    created_at: now,
    updated_at: now,
    status: 'queued',
    progress: { step: 0, steps },
    params: { seed: job.seed ?? 1, steps, guidance: job.guidance ?? 2.5, max_tokens: job.maxTokens ?? 16, temperature: 0 },
    context: job.context ?? storedContext(drawContext(runtime.tokenizer, job.caption ?? 'a small red circle at the top')),
    output: [],
    tokens_used: 0,
  };
}

/** What the edge does for a job: create the record once, then send its message. */
export async function submit(backend: Backend, record: JobRecord): Promise<void> {
  await backend.jobs.create(record);
  await backend.queue.send(
    encodeJobMessage({ jobId: record.id, requestId: record.request_id, ...(record.model !== undefined ? { model: record.model } : {}) }),
  );
}

export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A runner whose steps take at least `ms`: makes mid-job events (cancel, kill) easy to hit. */
export class SlowRunner extends ModelRunner {
  constructor(
    runtime: ModelRuntime,
    private readonly ms: number,
    name?: string,
  ) {
    super(runtime, name);
  }
  override async step(inputs: readonly StepInput[]): Promise<Float32Array[]> {
    await new Promise((r) => setTimeout(r, this.ms));
    return super.step(inputs);
  }
}

/** A runner whose model asks for another image after each of the first `extra` images (tiny never does). */
export class MoreImagesRunner extends ModelRunner {
  private asked = 0;
  constructor(
    runtime: ModelRuntime,
    private readonly extra: number,
  ) {
    super(runtime);
  }
  override async continueText(cache: KvCache, clean: Float32Array, options: ContinueOptions): Promise<TextDecodeResult> {
    if (this.asked >= this.extra) return super.continueText(cache, clean, options);
    this.asked += 1;
    const { eoi, boi } = this.specialTokens;
    const ids = this.runtime.tokenizer.encode(' and');
    const next = await this.runtime.prefill(
      [
        { type: 'image', patches: clean },
        { type: 'text', ids: [eoi, ...ids, boi] },
      ],
      cache,
    );
    return { ids, text: ' and', stop: 'boi', cache: next };
  }
}
