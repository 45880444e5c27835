/**
 * Answers of several images on the real tiny model (no stand-in runner): the worker makes
 * each image as the model reaches `<boi>`, puts it back into the context, resumes the text,
 * batches every image with the other jobs' rows, shows each image as it is made, and a job
 * interrupted mid-answer resumes after its last finished image without making one twice.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../gpu-worker/engine.js';
import { counterValue } from '../../gpu-worker/metrics.js';
import { ModelRunner } from '../../gpu-worker/model-runner.js';
import type { Worker } from '../../gpu-worker/worker.js';
import { createRuntime, type OnnxModelRuntime } from '../../shared/runtime/index.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { hasTiny, TINY_DIR } from '../support/tiny-package.js';
import { type Answer, edgeRecord, MULTI_IMAGE_JOB, referenceAnswer } from './answers.js';
import { type Backend, drawRecord, SlowRunner, startTestWorker, submit, tempBackend, waitFor } from './helpers.js';

describe.skipIf(!hasTiny)('answers with several images (packages/tiny)', () => {
  let runtime: OnnxModelRuntime;
  let backend: Backend;
  let workers: Worker[] = [];
  let record: JobRecord;
  let expected: Answer;
  const steps = 3;

  beforeAll(async () => {
    runtime = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
    const made = await edgeRecord(runtime, { id: 'multi', steps, ...MULTI_IMAGE_JOB });
    if (!made) throw new Error('the fixture prompt no longer asks for an image');
    record = made;
    expected = await referenceAnswer(runtime, record);
  });
  afterAll(async () => {
    await runtime?.close();
  });
  afterEach(async () => {
    for (const w of workers) await w.stop(0);
    workers = [];
    await backend?.close();
  });

  const start = (runner: ModelRunner = new ModelRunner(runtime), options: Partial<EngineOptions> = {}): Worker => {
    const w = startTestWorker(backend, runner, options);
    workers.push(w);
    return w;
  };
  const terminal = (id: string) =>
    waitFor(async () => {
      const r = await backend.jobs.get(id);
      return r && ['succeeded', 'failed', 'canceled'].includes(r.status) ? r : undefined;
    }, `job ${id} to finish`);
  const images = (r: Pick<JobRecord, 'output'>) => r.output.filter((p) => p.type === 'image').length;
  const outputObjects = (id: string) => readdirSync(join(backend.dir, 'store', 'objects', 'outputs', id)).sort();

  /** The finished record and its PNGs are the answer worked out with the runtime alone. */
  async function expectTheAnswer(done: JobRecord): Promise<void> {
    const n = expected.pngs.length;
    expect(done.status).toBe('succeeded');
    expect(done.output).toEqual(expected.output);
    expect(done.tokens_used).toBe(expected.tokensUsed);
    expect(done.progress).toEqual({ step: steps, steps, image: n - 1, images_so_far: n });
    for (const [k, png] of expected.pngs.entries())
      expect(Buffer.from((await backend.store.get(`outputs/${done.id}/${k}.png`))!.body).equals(Buffer.from(png))).toBe(true);
    expect(outputObjects(done.id)).toEqual(expected.pngs.map((_, k) => `${k}.png`));
  }

  it('the fixture answers with several images and text between them', () => {
    expect(expected.pngs.length).toBeGreaterThanOrEqual(2);
    const kinds = expected.output.map((p) => p.type);
    expect(kinds.indexOf('text', kinds.indexOf('image'))).toBeLessThan(kinds.lastIndexOf('image'));
  });

  it('makes every image as the model asks, text resumed after each, each shown as soon as it is made', async () => {
    backend = tempBackend();
    await submit(backend, record);
    // Steps slower than a record write, so that every progress write lands (they coalesce otherwise).
    start(new SlowRunner(runtime, 60));
    await expectTheAnswer(await terminal('multi'));
    const history = backend.store.records('multi') as unknown as JobRecord[];
    const running = history.filter((r) => r.status === 'running');
    // The first image was in the output while the answer went on, and every record's progress agrees with its output.
    expect(running.some((r) => images(r) >= 1)).toBe(true);
    for (const r of running) expect(r.progress.images_so_far).toBe(images(r));
    // A running record can always be resumed: its context ends with the <boi> of the image to make.
    const { boi } = runtime.tokenizer.specialTokens;
    for (const r of running) expect((r.context.at(-1) as { ids: number[] }).ids.at(-1)).toBe(boi);
    // Progress walks image by image, never back, each image's steps counted from 0.
    const walk = running.map((r) => [r.progress.image!, r.progress.step] as const);
    expect(walk[0]).toEqual([0, 1]); // marked running once its first step is done (Emitter.admitted)
    for (const [i, [image, step]] of walk.entries()) {
      const [before, stepBefore] = walk[i - 1] ?? [0, 0];
      expect(image > before || (image === before && step >= stepBefore)).toBe(true);
    }
    expect(Math.max(...walk.map(([image]) => image))).toBeGreaterThanOrEqual(1);
  });

  it("batches every image of a job with the other jobs' rows", async () => {
    backend = tempBackend();
    const n = expected.pngs.length;
    // A one-image job as long as the whole multi-image answer: both take part in every call.
    await submit(backend, record);
    await submit(backend, drawRecord(runtime, { id: 'long', steps: n * steps }));
    const w = start();
    await expectTheAnswer(await terminal('multi'));
    expect((await terminal('long')).status).toBe('succeeded');
    expect(await counterValue(w.metrics.denoiseCalls)).toBe(n * steps);
    expect(await counterValue(w.metrics.denoiseRows)).toBe(2 * n * steps);
    expect(await counterValue(w.metrics.images)).toBe(n + 1);
  });

  it('resumes a job stopped mid-answer after its last finished image, and makes none twice', async () => {
    backend = tempBackend();
    await submit(backend, record);
    // Slow steps: the first worker is stopped while it denoises the second image.
    const first = start(new SlowRunner(runtime, 300));
    await waitFor(async () => {
      const r = await backend.jobs.get('multi');
      return r && r.status === 'running' && images(r) === 1 && r.progress.image === 1;
    }, 'the first image checkpointed');
    await first.stop(0);
    workers = [];
    const interrupted = (await backend.jobs.get('multi'))!;
    expect(interrupted.status).toBe('running');
    expect(images(interrupted)).toBe(1);
    // Its context ends with the <boi> of the second image: where the next attempt starts.
    const lastIds = interrupted.context.at(-1)!;
    expect(lastIds.type === 'text' && lastIds.ids.at(-1)).toBe(runtime.tokenizer.specialTokens.boi);

    const second = start();
    await expectTheAnswer(await terminal('multi'));
    // The second attempt made only the images after the first.
    const n = expected.pngs.length;
    expect(await counterValue(second.metrics.denoiseCalls)).toBe((n - 1) * steps);
    expect(await counterValue(second.metrics.images)).toBe(n - 1);
    const restarts = (backend.store.records('multi') as unknown as JobRecord[]).filter(
      (r) => r.status === 'running' && r.progress.step === 0 && r.progress.image === 1 && images(r) === 1,
    );
    expect(restarts.length).toBeGreaterThanOrEqual(1);
  });
});
