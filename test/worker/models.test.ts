/**
 * One worker serving two models (packages/tiny, the default here, and packages/shapes64) on
 * the real runtimes, a SQLite queue and a file store: each model's jobs batch together on
 * its own runner, never with the other's, and each image is the one its model makes alone;
 * a job for a model the worker does not serve fails at once, saying so.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { counterValue } from '../../gpu-worker/metrics.js';
import { ModelRunner, type StepInput } from '../../gpu-worker/model-runner.js';
import { startWorker, type Worker } from '../../gpu-worker/worker.js';
import { encodeJobMessage } from '../../shared/jobs/message.js';
import { createRuntime, drawContext, type OnnxModelRuntime, sampleImage, streamSeed, uncondContext } from '../../shared/runtime/index.js';
import { hasTiny, maxAbsDiff, TINY_DIR } from '../support/tiny-package.js';
import { type Backend, drawRecord, silentLogger, submit, tempBackend, waitFor } from './helpers.js';

const SHAPES_DIR = fileURLToPath(new URL('../../packages/shapes64/', import.meta.url));
const hasShapes = existsSync(`${SHAPES_DIR}manifest.json`);

/** A runner that records the size of every call it makes. */
class RecordingRunner extends ModelRunner {
  readonly calls: number[] = [];
  override async step(inputs: readonly StepInput[]): Promise<Float32Array[]> {
    this.calls.push(inputs.length);
    return super.step(inputs);
  }
}

describe.skipIf(!hasTiny || !hasShapes)('a worker serving two models', () => {
  let tiny: OnnxModelRuntime;
  let shapes: OnnxModelRuntime;
  let backend: Backend;
  let worker: Worker | undefined;

  beforeAll(async () => {
    tiny = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
    // fp32: int8's activations are quantized with one scale per call, so a job's image would depend on its batch-mates.
    shapes = await createRuntime(SHAPES_DIR, { intraOpThreads: 1, precision: 'fp32' });
  });
  afterAll(async () => {
    await tiny?.close();
    await shapes?.close();
  });
  afterEach(async () => {
    await worker?.stop(0);
    worker = undefined;
    await backend?.close();
  });

  const start = (runners: ModelRunner[], maxBatch = 8): Worker => {
    worker = startWorker(
      {
        queue: backend.queue,
        deadLetters: backend.deadLetters,
        maxReceiveCount: 3,
        store: backend.store,
        runners,
        logger: silentLogger(),
        deadLetterWaitSeconds: 1,
      },
      { maxBatch, visibilityTimeoutSeconds: 5, receiveWaitSeconds: 1, progressIntervalMs: 0, cancelCheckMs: 0 },
    );
    return worker;
  };
  const terminal = (id: string) =>
    waitFor(
      async () => {
        const r = await backend.jobs.get(id);
        return r && ['succeeded', 'failed', 'canceled'].includes(r.status) ? r : undefined;
      },
      `job ${id} to finish`,
      60_000,
    );

  it("batches each model's jobs on its own runner, and every image is the one its model makes alone", async () => {
    backend = tempBackend();
    const jobs = [
      { id: 't0', runtime: tiny, caption: 'a small red circle at the top', seed: 1 },
      { id: 's0', runtime: shapes, caption: 'a large red circle at the top left', seed: 2 },
      { id: 't1', runtime: tiny, caption: 'a blue square', seed: 3 },
      { id: 's1', runtime: shapes, caption: 'a small green 7 at the bottom right', seed: 4 },
    ];
    // All four are queued before the worker starts, so they join at its first tick.
    for (const job of jobs)
      await submit(backend, drawRecord(job.runtime, { id: job.id, caption: job.caption, seed: job.seed, steps: 3, guidance: 2 }));
    const runners = [new RecordingRunner(tiny), new RecordingRunner(shapes)];
    const w = start(runners);
    for (const job of jobs) {
      const record = await terminal(job.id);
      expect(record.status, JSON.stringify(record.error)).toBe('succeeded');
      expect(record.model).toBe(job.runtime.manifest.name);
      const png = PNG.sync.read(Buffer.from((await backend.store.get(`outputs/${job.id}/0.png`))!.body));
      expect([png.width, png.height]).toEqual([job.runtime.manifest.image.width, job.runtime.manifest.image.height]);
    }
    // 3 steps of each model's 2 jobs: 3 calls of 2 per runner, none with the other model's jobs.
    expect(runners[0]!.calls).toEqual([2, 2, 2]);
    expect(runners[1]!.calls).toEqual([2, 2, 2]);
    expect(await counterValue(w.metrics.denoiseCalls)).toBe(6);
  });

  it('makes the same image for a job whatever the other model runs beside it', async () => {
    backend = tempBackend();
    const images = new Map<string, Float32Array>();
    const jobs = [
      { id: 'a0', runtime: shapes, caption: 'a large blue square at the center', seed: 21, guidance: 3 },
      { id: 'a1', runtime: tiny, caption: 'a small red circle', seed: 22, guidance: 2 },
      { id: 'a2', runtime: shapes, caption: 'a small yellow triangle at the top right', seed: 23, guidance: 1 },
    ];
    for (const job of jobs)
      await submit(
        backend,
        drawRecord(job.runtime, { id: job.id, caption: job.caption, seed: job.seed, steps: 3, guidance: job.guidance }),
      );
    worker = startWorker(
      { queue: backend.queue, store: backend.store, runners: [new ModelRunner(tiny), new ModelRunner(shapes)], logger: silentLogger() },
      {
        maxBatch: 8,
        visibilityTimeoutSeconds: 5,
        receiveWaitSeconds: 1,
        progressIntervalMs: 0,
        cancelCheckMs: 0,
        onImage: (id, _k, patches) => images.set(id, patches),
      },
    );
    for (const job of jobs) expect((await terminal(job.id)).status).toBe('succeeded');
    for (const job of jobs) {
      const { runtime } = job;
      const cond = await runtime.prefill(drawContext(runtime.tokenizer, job.caption));
      const uncond = await runtime.prefill(uncondContext(runtime.tokenizer));
      const alone = await sampleImage(runtime, cond, uncond, {
        steps: 3,
        guidance: job.guidance,
        seed: streamSeed(job.seed, 'image-noise', 0),
      });
      expect(maxAbsDiff(images.get(job.id)!, alone), job.id).toBeLessThan(1e-4);
    }
  });

  it('fails a job for a model it does not serve, saying which it serves, and deletes the message', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(tiny, { id: 'x0', model: 'emoji64' }));
    start([new ModelRunner(tiny), new ModelRunner(shapes)]);
    const record = await terminal('x0');
    expect(record.status).toBe('failed');
    expect(record.error).toEqual({
      code: 'model_not_served',
      message: 'the job asks for model emoji64, which this worker does not serve (it serves: tiny, shapes64)',
    });
    await waitFor(async () => {
      const s = await backend.queue.stats();
      return s.visible === 0 && s.inFlight === 0;
    }, 'the message to be deleted');
  });

  it('fails a job whose message and record name different models', async () => {
    backend = tempBackend();
    const record = drawRecord(tiny, { id: 'm0' });
    await backend.jobs.create(record);
    await backend.queue.send(encodeJobMessage({ jobId: 'm0', requestId: 'r', model: 'shapes64' }));
    start([new ModelRunner(tiny), new ModelRunner(shapes)]);
    const done = await terminal('m0');
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({
      code: 'invalid_job',
      message: expect.stringMatching(/message names model shapes64 but the job record tiny/),
    });
  });

  it('runs a record without a model (written before several models) on the default model', async () => {
    backend = tempBackend();
    const { model: _drop, ...old } = drawRecord(shapes, { id: 'o0', steps: 2 });
    await backend.jobs.create(old);
    await backend.queue.send(encodeJobMessage({ jobId: 'o0', requestId: 'r' }));
    const runners = [new RecordingRunner(shapes), new RecordingRunner(tiny)];
    start(runners);
    expect((await terminal('o0')).status).toBe('succeeded');
    expect(runners[0]!.calls).toEqual([1, 1]);
    expect(runners[1]!.calls).toEqual([]);
  });
});
