/**
 * The worker loop on the real runtime (packages/tiny), a real SQLite queue and a real file
 * store in a temporary folder: lifecycle, batching invisible, cancel, redelivery, poison,
 * heartbeats and shutdown.
 */
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../gpu-worker/engine.js';
import { counterValue } from '../../gpu-worker/metrics.js';
import { ModelRunner } from '../../gpu-worker/model-runner.js';
import type { Worker } from '../../gpu-worker/worker.js';
import { encodeJobMessage } from '../../shared/jobs/message.js';
import { cancelKey } from '../../shared/jobs/record.js';
import { JobRepository } from '../../shared/jobs/repository.js';
import { createRuntime, drawContext, type OnnxModelRuntime, sampleImage, streamSeed, uncondContext } from '../../shared/runtime/index.js';
import { inputImageKey } from '../../shared/schemas/job.js';
import { hasTiny, maxAbsDiff, TINY_DIR } from '../support/tiny-package.js';
import { type Backend, drawRecord, MoreImagesRunner, SlowRunner, startTestWorker, submit, tempBackend, waitFor } from './helpers.js';

describe.skipIf(!hasTiny)('worker loop on packages/tiny', () => {
  let runtime: OnnxModelRuntime;
  let backend: Backend;
  let worker: Worker | undefined;

  beforeAll(async () => {
    runtime = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await runtime?.close();
  });
  afterEach(async () => {
    await worker?.stop(0);
    worker = undefined;
    await backend?.close();
  });

  const start = (options: Partial<EngineOptions> = {}, runner = new ModelRunner(runtime)): Worker => {
    worker = startTestWorker(backend, runner, options);
    return worker;
  };
  const statusOf = async (id: string) => (await backend.jobs.get(id))?.status;
  const terminal = (id: string) =>
    waitFor(async () => {
      const r = await backend.jobs.get(id);
      return r && ['succeeded', 'failed', 'canceled'].includes(r.status) ? r : undefined;
    }, `job ${id} to finish`);
  const queueEmpty = () =>
    waitFor(async () => {
      const s = await backend.queue.stats();
      return s.visible === 0 && s.inFlight === 0;
    }, 'the queue to empty');

  it('takes a 4-step job queued -> running -> succeeded, writes a 64x64 PNG and deletes the message', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 'job1', steps: 4 }));
    const w = start();
    const record = await terminal('job1');
    expect(record.status).toBe('succeeded');
    expect(record.progress).toEqual({ step: 4, steps: 4, image: 0, images_so_far: 1 });
    const statuses = backend.store.statuses('job1');
    expect(statuses[0]).toBe('queued');
    expect(statuses).toContain('running');
    expect(statuses.at(-1)).toBe('succeeded');
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(1);
    const image = record.output.find((p) => p.type === 'image');
    expect(image).toEqual({ type: 'image', key: 'outputs/job1/0.png', width: 64, height: 64, mime_type: 'image/png' });
    const png = PNG.sync.read(Buffer.from((await backend.store.get('outputs/job1/0.png'))!.body));
    expect([png.width, png.height]).toEqual([64, 64]);
    await queueEmpty();
    expect(await counterValue(w.metrics.jobs, { status: 'succeeded' })).toBe(1);
    expect(await counterValue(w.metrics.images)).toBe(1);
    expect(await counterValue(w.metrics.denoiseCalls)).toBe(4);
    expect(await w.metrics.render()).toMatch(/^job_latency_seconds_count 1$/m);
  });

  it('batches 3 concurrent jobs into one call per step, each image equal to the job run alone', async () => {
    backend = tempBackend();
    const jobs = [
      { id: 'b0', caption: 'a small red circle at the top', seed: 11, steps: 4, guidance: 2.5 },
      { id: 'b1', caption: 'a large blue 7 at the bottom right and a small green square', seed: 12, steps: 4, guidance: 1 },
      { id: 'b2', caption: 'x', seed: 13, steps: 6, guidance: 4 },
    ];
    for (const job of jobs) await submit(backend, drawRecord(runtime, job));
    const images = new Map<string, Float32Array>();
    const w = start({ maxBatch: 4, onImage: (id, _k, patches) => images.set(id, patches) });
    for (const job of jobs) expect((await terminal(job.id)).status).toBe('succeeded');
    // All three were received before the first tick: 4 calls of 3 jobs, then 2 of 1.
    expect(await counterValue(w.metrics.denoiseCalls)).toBe(6);
    expect(await counterValue(w.metrics.denoiseRows)).toBe(3 * 4 + 2);
    const uncond = await runtime.prefill(uncondContext(runtime.tokenizer));
    for (const job of jobs) {
      const cond = await runtime.prefill(drawContext(runtime.tokenizer, job.caption));
      const alone = await sampleImage(runtime, cond, uncond, {
        steps: job.steps,
        guidance: job.guidance,
        seed: streamSeed(job.seed, 'image-noise', 0),
      });
      expect(maxAbsDiff(images.get(job.id)!, alone)).toBeLessThan(1e-4);
    }
  });

  it('makes another image when the model asks for one, up to the cap', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 'n1', steps: 3 }));
    start({ maxImages: 2 }, new MoreImagesRunner(runtime, 5));
    const record = await terminal('n1');
    expect(record.status).toBe('succeeded');
    expect(record.output.map((p) => (p.type === 'image' ? p.key : p.text))).toEqual([
      'outputs/n1/0.png',
      ' and',
      'outputs/n1/1.png',
      ' and',
    ]);
    expect(record.progress).toEqual({ step: 3, steps: 3, image: 1, images_so_far: 2 });
    expect(record.tokens_used).toBe(2 * runtime.tokenizer.encode(' and').length);
    // Each image went back into the context by its key, followed by <eoi> and the text after it.
    const { eoi, boi } = runtime.tokenizer.specialTokens;
    const and = runtime.tokenizer.encode(' and');
    expect(record.context.slice(-4)).toEqual([
      { type: 'image', key: 'outputs/n1/0.png' },
      { type: 'text', ids: [eoi, ...and, boi] },
      { type: 'image', key: 'outputs/n1/1.png' },
      { type: 'text', ids: [eoi, ...and, boi] },
    ]);
    for (const k of [0, 1]) expect(await backend.store.get(`outputs/n1/${k}.png`)).not.toBeNull();
  });

  it('stops a job at a cancel between steps and marks it canceled', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 'c1', steps: 100 }));
    const w = start({}, new SlowRunner(runtime, 20));
    await waitFor(async () => ((await backend.jobs.get('c1'))?.progress.step ?? 0) >= 2, 'a few steps');
    await backend.jobs.requestCancel('c1');
    const record = await terminal('c1');
    expect(record.status).toBe('canceled');
    expect(record.progress.step).toBeLessThan(100);
    expect(record.output).toEqual([]);
    expect(await backend.store.get('outputs/c1/0.png')).toBeNull();
    await queueEmpty();
    expect(await counterValue(w.metrics.jobs, { status: 'canceled' })).toBe(1);
  });

  it('cancels a job whose marker is set before it is received, without running it', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 'c2' }));
    await backend.jobs.requestCancel('c2');
    const w = start();
    expect((await terminal('c2')).status).toBe('canceled');
    await queueEmpty();
    expect(await counterValue(w.metrics.denoiseCalls)).toBe(0);
  });

  it('deletes a redelivered message of a succeeded job without redoing it', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 'r1' }));
    const w = start();
    const done = await terminal('r1');
    await queueEmpty();
    const calls = await counterValue(w.metrics.denoiseCalls);
    await backend.queue.send(encodeJobMessage({ jobId: 'r1', requestId: 'req-r1' }));
    await queueEmpty();
    expect(await counterValue(w.metrics.denoiseCalls)).toBe(calls);
    expect(await backend.jobs.get('r1')).toEqual(done);
    expect(backend.store.statuses('r1').filter((s) => s === 'succeeded')).toHaveLength(1);
  });

  it('leaves poison to the dead-letter queue, whose drain marks the job failed with a reason', async () => {
    backend = tempBackend();
    // A record the worker cannot read (its context is not a list), and a body that is not a job message.
    const record = { ...drawRecord(runtime, { id: 'p1' }), context: 'not a context' };
    await backend.store.put('jobs/p1.json', Buffer.from(JSON.stringify(record)), { contentType: 'application/json', ifNoneMatch: '*' });
    await backend.queue.send(encodeJobMessage({ jobId: 'p1', requestId: 'req-p1' }));
    await backend.queue.send('{"not":"a job message"}');
    start({ retryDelaySeconds: () => 0 });
    const lifecycle = new JobRepository(backend.store);
    const failed = await waitFor(async () => {
      const r = await lifecycle.get('p1');
      return r?.status === 'failed' ? r : undefined;
    }, 'the poison job to fail');
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('dead_lettered');
    expect(failed.error?.message).toMatch(/received 3 times/);
    await queueEmpty();
    await waitFor(async () => (await backend.deadLetters.stats()).visible === 0, 'the dead-letter queue to drain');
  });

  it('fails a job whose input image is missing at once, with a clear code', async () => {
    backend = tempBackend();
    const { bos, user, boi, eoi, assistant } = runtime.tokenizer.specialTokens;
    const context = [
      { type: 'text' as const, ids: [bos, user, boi] },
      { type: 'image' as const, key: inputImageKey('m1', 0) },
      { type: 'text' as const, ids: [eoi, assistant, boi] },
    ];
    await submit(backend, drawRecord(runtime, { id: 'm1', context }));
    start();
    const record = await terminal('m1');
    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({ code: 'invalid_input' });
    expect(record.error?.message).toMatch(/missing/);
    await queueEmpty();
  });

  it('reads an input image from the store into the context', async () => {
    backend = tempBackend();
    const png = new PNG({ width: 64, height: 64 });
    png.data.fill(200);
    await backend.store.put(inputImageKey('i1', 0), PNG.sync.write(png), { contentType: 'image/png' });
    const { bos, user, boi, eoi, assistant } = runtime.tokenizer.specialTokens;
    const context = [
      { type: 'text' as const, ids: [bos, user, boi] },
      { type: 'image' as const, key: inputImageKey('i1', 0) },
      { type: 'text' as const, ids: [eoi, ...runtime.tokenizer.encode('draw it again'), assistant, boi] },
    ];
    await submit(backend, drawRecord(runtime, { id: 'i1', context }));
    start();
    expect((await terminal('i1')).status).toBe('succeeded');
  });

  it('keeps a job longer than the visibility timeout by heartbeats: one delivery, one success', async () => {
    backend = tempBackend({ visibilityTimeoutSeconds: 1 });
    await submit(backend, drawRecord(runtime, { id: 'h1', steps: 12 }));
    // 12 steps of >= 250 ms: three times the visibility timeout.
    start({ visibilityTimeoutSeconds: 1 }, new SlowRunner(runtime, 250));
    const record = await terminal('h1');
    expect(record.status).toBe('succeeded');
    // One start: marked running after its first step, and no redelivery started it over (its steps never go back).
    const steps = backend.store
      .records('h1')
      .filter((r) => r.status === 'running')
      .map((r) => r.progress.step);
    expect(steps[0]).toBe(1);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    await queueEmpty();
  });

  it('on shutdown hands back a job that cannot finish within the grace period', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 's1', steps: 100 }));
    const w = start({}, new SlowRunner(runtime, 20));
    await waitFor(async () => (await statusOf('s1')) === 'running', 'the job to run');
    await w.stop(100);
    worker = undefined;
    // Visible again at once, still running in the record: the next worker starts it over.
    expect(await backend.queue.stats()).toEqual({ visible: 1, inFlight: 0 });
    expect(await statusOf('s1')).toBe('running');
    start();
    expect((await terminal('s1')).status).toBe('succeeded');
  });

  it('on shutdown finishes a running job that fits the grace period', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 'g1', steps: 10 }));
    const w = start({}, new SlowRunner(runtime, 20));
    await waitFor(async () => (await statusOf('g1')) === 'running', 'the job to run');
    await w.stop(10_000);
    worker = undefined;
    expect(await statusOf('g1')).toBe('succeeded');
    expect(await backend.queue.stats()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('acknowledges a job canceled at the edge while it ran', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 'e1', steps: 100 }));
    // Progress at a realistic interval: a record rewritten every 20 ms step can outrun the
    // edge's read-modify-write on a loaded machine (20 conflicts in a row), which no
    // deployment does (WORKER_PROGRESS_INTERVAL_MS defaults to 250).
    start({ progressIntervalMs: 100 }, new SlowRunner(runtime, 20));
    await waitFor(async () => (await statusOf('e1')) === 'running', 'the job to run');
    await backend.jobs.update('e1', (r) => ({ ...r, status: 'canceled' }));
    await queueEmpty();
    expect(await statusOf('e1')).toBe('canceled');
    expect(await backend.store.get(cancelKey('e1'))).toBeNull();
  });
});
