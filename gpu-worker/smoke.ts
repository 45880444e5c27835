/**
 * Smoke checks that run inside the worker image (bundled to dist/smoke.mjs beside the
 * worker; gpu-worker/smoke-gpu.sh drives them on a GPU host). Configuration comes from the
 * same environment as the worker's (MODELS: its default model, EXECUTION_PROVIDER, DATA_DIR, ...).
 *
 *   node dist/smoke.mjs steps [--sizes=1,4,16,64] [--reps=5]
 *       the model opened as the worker opens it (a CUDA failure is explained the same way),
 *       then one batched guided denoising step timed per batch size: a table and a JSON line
 *   node dist/smoke.mjs draw "<caption>" [--timeout=300]
 *       one draw job into the embedded queue and store under DATA_DIR (what the edge does),
 *       then waits for a running worker to finish it; prints the record's status and the PNG key
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { embeddedPaths } from '../shared/adapters.js';
import { configFromProcessEnv } from '../shared/config/index.js';
import { encodeJobMessage } from '../shared/jobs/message.js';
import { JobRepository } from '../shared/jobs/repository.js';
import { SqliteQueue } from '../shared/queue/sqlite-queue.js';
import { createRuntime, drawContext, loadModelInfo } from '../shared/runtime/index.js';
import { JobRecord } from '../shared/schemas/job.js';
import { FileStore } from '../shared/store/file-store.js';
import { measureAutoBatch } from './autotune.js';
import { EXIT_CONFIG } from './exit-codes.js';
import { ExecutionProviderUnavailable, openWorkerRuntime } from './provider-check.js';

const USAGE = 'usage: smoke.mjs steps [--sizes=1,4,16,64] [--reps=5] | smoke.mjs draw "<caption>" [--timeout=300]';

/** Parses "1,4,16,64" into positive integers, or fails naming the flag. */
function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) {
    throw new Error(`--sizes must be a comma-separated list of batch sizes in 1..1024, got "${text}"`);
  }
  return sizes;
}

async function steps(sizes: number[], reps: number): Promise<void> {
  const config = configFromProcessEnv();
  const { runtime, runner } = await openWorkerRuntime(config.modelDirs[0]!, {
    executionProvider: config.executionProvider,
    open: createRuntime,
  });
  try {
    const { measurements } = await measureAutoBatch(runner, { sizes, reps, minMsPerSize: 500 });
    process.stdout.write(
      `model ${runtime.manifest.name} (${runtime.precision}) on ${config.executionProvider}; guided step: 2 rows per job\n`,
    );
    process.stdout.write('jobs  rows  ms/step  jobs/s\n');
    for (const m of measurements) {
      process.stdout.write(
        `${String(m.batch).padStart(4)}  ${String(2 * m.batch).padStart(4)}  ${m.msPerCall.toFixed(2).padStart(7)}  ${m.rowsPerSecond.toFixed(1).padStart(6)}\n`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({ executionProvider: config.executionProvider, precision: runtime.precision, measurements })}\n`,
    );
  } finally {
    await runtime.close();
  }
}

async function draw(caption: string, timeoutSeconds: number): Promise<void> {
  const config = configFromProcessEnv();
  const { tokenizer, manifest } = await loadModelInfo(config.modelDirs[0]!);
  const paths = embeddedPaths(config.dataDir);
  const store = new FileStore({ root: paths.store });
  const queue = new SqliteQueue({
    path: paths.queue,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    maxReceiveCount: config.queueMaxReceiveCount,
  });
  const jobs = new JobRepository<JobRecord>(store, { schema: JobRecord });
  try {
    const id = `smoke-${randomUUID()}`;
    const now = new Date().toISOString();
    const steps = manifest.diffusion.default_steps;
    const record = JobRecord.parse({
      id,
      request_id: id,
      created_at: now,
      updated_at: now,
      status: 'queued',
      progress: { step: 0, steps },
      params: { seed: 1, steps, guidance: manifest.diffusion.default_guidance, max_tokens: 16, temperature: 0 },
      context: drawContext(tokenizer, caption).map((s) => {
        if (s.type !== 'text') throw new Error('a draw prompt is text only');
        return { type: 'text', ids: [...s.ids] };
      }),
      output: [],
      tokens_used: 0,
    });
    const started = Date.now();
    await jobs.create(record);
    await queue.send(encodeJobMessage({ jobId: id, requestId: id }));
    for (;;) {
      const current = await jobs.get(id);
      if (current && ['succeeded', 'failed', 'canceled'].includes(current.status)) {
        const images = current.output.flatMap((p) => (p.type === 'image' ? [p.key] : []));
        process.stdout.write(
          `${JSON.stringify({ id, status: current.status, seconds: (Date.now() - started) / 1000, images, error: current.error })}\n`,
        );
        if (current.status !== 'succeeded' || images.length === 0) process.exitCode = 1;
        return;
      }
      if (Date.now() - started > timeoutSeconds * 1000) {
        process.stdout.write(`${JSON.stringify({ id, status: current?.status ?? 'missing', timedOutAfterSeconds: timeoutSeconds })}\n`);
        process.exitCode = 1;
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await queue.close();
    store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sizes: { type: 'string', default: '1,4,16,64' },
      reps: { type: 'string', default: '5' },
      timeout: { type: 'string', default: '300' },
    },
  });
  const [command, caption] = positionals;
  try {
    if (command === 'steps') await steps(parseSizes(values.sizes), Number(values.reps));
    else if (command === 'draw' && caption) await draw(caption, Number(values.timeout));
    else {
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 2;
    }
  } catch (err) {
    if (!(err instanceof ExecutionProviderUnavailable)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = EXIT_CONFIG;
  }
}

await main(process.argv.slice(2));
