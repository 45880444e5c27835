/**
 * The file the worker image runs, tested without Docker: gpu-worker/bundle.ts builds
 * dist/worker.mjs (as the Dockerfile does) into a folder laid out like the image's /app
 * (the bundle, node_modules, the model package, nothing else: no TypeScript sources), and
 * plain `node dist/worker.mjs` there serves a job on the CPU from the embedded queue and store,
 * submitted by the image's own smoke check (dist/smoke.mjs draw), as gpu-worker/smoke-gpu.sh does.
 * With EXECUTION_PROVIDER=cuda on a machine without the CUDA provider it must exit once, with
 * the configuration exit code and a message that names the cause, before opening the queue.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker, type WorkerBundle } from '../../gpu-worker/bundle.js';
import { EXIT_CONFIG } from '../../gpu-worker/exit-codes.js';
import { embeddedPaths } from '../../shared/adapters.js';
import { JobRecord, outputImageKey } from '../../shared/schemas/job.js';
import { FileStore } from '../../shared/store/file-store.js';
import { tempDir } from '../adapters/tmp-dir.js';
import { waitFor } from '../worker/helpers.js';

const execFileAsync = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const TINY = join(REPO, 'packages/tiny');

interface Run {
  child: ChildProcessWithoutNullStreams;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node dist/worker.mjs` in `app` with only the variables given (and PATH): nothing leaks in from the test runner. */
function runBundle(app: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['dist/worker.mjs'], { cwd: app, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  return { child, lines, stderr: () => stderr, exited };
}

describe('the worker bundle (dist/worker.mjs, as the image runs it)', () => {
  const tmp = tempDir('worker-bundle');
  const app = join(tmp.dir, 'app');
  let bundle: WorkerBundle;

  beforeAll(async () => {
    bundle = await bundleWorker(join(app, 'dist'), REPO);
    // The image's /app: the bundle, the installed packages, the model package. No sources.
    symlinkSync(join(REPO, 'node_modules'), join(app, 'node_modules'), 'dir');
    cpSync(TINY, join(app, 'packages/tiny'), { recursive: true });
  });
  afterAll(() => tmp.remove());

  it('imports only runtime dependencies, onnxruntime-node among them', () => {
    expect(bundle.packages).toContain('onnxruntime-node');
    expect(bundle.packages).not.toContain('vitest');
    expect(existsSync(`${bundle.files.worker}.map`)).toBe(true);
    expect(bundle.files.worker).toBe(join(app, 'dist/worker.mjs'));
  });

  it('serves a draw job on the CPU from the bundle alone and stops cleanly on SIGTERM', async () => {
    const dataDir = join(tmp.dir, 'data-cpu');
    mkdirSync(dataDir);
    const run = runBundle(app, {
      EXECUTION_PROVIDER: 'cpu',
      MODEL_DIR: 'packages/tiny',
      DATA_DIR: dataDir,
      STORE: 'file',
      QUEUE: 'sqlite',
      WORKER_HEALTH_PORT: '0',
      WORKER_MAX_BATCH: '2',
      LOG_LEVEL: 'info',
    });
    try {
      await waitFor(
        async () =>
          run.lines.find((l) => l['msg'] === 'worker ready') ??
          (run.child.exitCode !== null ? Promise.reject(new Error(`worker exited: ${run.stderr()}`)) : undefined),
        'worker ready',
        60_000,
      );

      // dist/smoke.mjs draw: the record and the message, as the edge writes them; then it waits.
      const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MODEL_DIR: 'packages/tiny', DATA_DIR: dataDir };
      const submitted = await execFileAsync(process.execPath, ['dist/smoke.mjs', 'draw', 'a small red circle at the top', '--timeout=60'], {
        cwd: app,
        env,
      });
      const result = JSON.parse(submitted.stdout.trim().split('\n').pop()!) as { id: string; status: string; images: string[] };
      expect(result.status).toBe('succeeded');
      expect(result.images).toEqual([outputImageKey(result.id, 0)]);
      const store = new FileStore({ root: embeddedPaths(dataDir).store });
      try {
        const png = await store.get(outputImageKey(result.id, 0));
        expect(Buffer.from(png!.body.subarray(1, 4)).toString('ascii')).toBe('PNG');
        const record = JobRecord.parse(JSON.parse(Buffer.from((await store.get(`jobs/${result.id}.json`))!.body).toString('utf8')));
        expect(record.progress).toEqual({ step: 4, steps: 4, image: 0, images_so_far: 1 }); // the tiny package's default_steps
      } finally {
        store.close();
      }

      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });

  it('dist/smoke.mjs steps times one guided denoising step per batch size', async () => {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MODEL_DIR: 'packages/tiny', EXECUTION_PROVIDER: 'cpu' };
    const { stdout } = await execFileAsync(process.execPath, ['dist/smoke.mjs', 'steps', '--sizes=1,3', '--reps=1'], { cwd: app, env });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as {
      executionProvider: string;
      measurements: { batch: number; msPerCall: number }[];
    };
    expect(report.executionProvider).toBe('cpu');
    expect(report.measurements.map((m) => m.batch)).toEqual([1, 3]);
    expect(report.measurements.every((m) => Number.isFinite(m.msPerCall) && m.msPerCall > 0)).toBe(true);
    expect(stdout).toMatch(/^jobs {2}rows {2}ms\/step {2}jobs\/s$/m);
  });

  it('with EXECUTION_PROVIDER=cuda and no CUDA provider: one clear message, the configuration exit code, no queue opened', async () => {
    const dataDir = join(tmp.dir, 'data-cuda');
    mkdirSync(dataDir);
    const run = runBundle(app, {
      EXECUTION_PROVIDER: 'cuda',
      MODEL_DIR: 'packages/tiny',
      DATA_DIR: dataDir,
      STORE: 'file',
      QUEUE: 'sqlite',
      WORKER_HEALTH_PORT: '0',
    });
    const { code } = await run.exited;
    expect(code).toBe(EXIT_CONFIG);
    const fatal = run.lines.filter((l) => l['level'] === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!['msg']).toMatch(/EXECUTION_PROVIDER=cuda.*(no CUDA execution provider|could not create a CUDA session)/);
    expect(run.lines.some((l) => l['msg'] === 'worker ready')).toBe(false);
    expect(existsSync(embeddedPaths(dataDir).queue)).toBe(false);
  }, 60_000);
});
