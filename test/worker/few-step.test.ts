/**
 * Few steps on the worker (issue 30): progress writes and progress webhooks follow the job's
 * own step count (packages/tiny at 1 and 2 steps), and a package whose manifest declares its
 * guidance fixed runs no unconditional row, with no special case in the worker; a one-step
 * job's answer does not wait for its `running` write, unless its webhook wants `start`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelRunner } from '../../gpu-worker/model-runner.js';
import type { Worker } from '../../gpu-worker/worker.js';
import { createRuntime, drawContext, type OnnxModelRuntime, sampleImage, streamSeed } from '../../shared/runtime/index.js';
import { parseWebhookMessage } from '../../shared/webhooks/message.js';
import { DeclaredRuntime } from '../support/student-runtime.js';
import { hasTiny, maxAbsDiff, TINY_DIR } from '../support/tiny-package.js';
import { type Backend, drawRecord, startTestWorker, submit, tempBackend, waitFor } from './helpers.js';

describe.skipIf(!hasTiny)('few-step jobs on the worker', () => {
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

  const start = (runner: ModelRunner): void => {
    worker = startTestWorker(backend, runner, { visibilityTimeoutSeconds: 5 });
  };
  const succeeded = (id: string) =>
    waitFor(async () => {
      const r = await backend.jobs.get(id);
      return r?.status === 'succeeded' ? r : undefined;
    }, `job ${id} to succeed`);

  for (const steps of [1, 2]) {
    it(`writes progress and sends progress webhooks for each of ${steps} step(s), counted of ${steps}`, async () => {
      backend = tempBackend();
      const sent = vi.spyOn(backend.queue, 'send');
      const id = `few${steps}`;
      await submit(backend, {
        ...drawRecord(runtime, { id, steps }),
        webhook: { url: 'https://example.com/hook', events: ['progress', 'completed'] },
      });
      start(new ModelRunner(runtime));
      const done = await succeeded(id);
      expect(done.progress).toMatchObject({ step: steps, steps });
      const running = backend.store.records(id).filter((r) => r.status === 'running');
      // Every write counts of the job's own steps, in order (writes in flight coalesce: a middle step may be passed over).
      expect(running.map((r) => r.progress.steps)).toEqual(running.map(() => steps));
      const written = running.map((r) => r.progress.step);
      expect(written).toEqual([...written].sort((a, b) => a - b));
      expect(written.every((step) => step >= 0 && step <= steps)).toBe(true);
      const webhookIds = sent.mock.calls.map(([body]) => parseWebhookMessage(body)?.webhookId).filter((w) => w !== undefined);
      const progressIds = webhookIds.filter((w) => w.includes('_progress_'));
      // A webhook per progress write, naming the step written (1..N; writes coalesce, so which ones varies); the
      // last step is the image, which `completed` reports (N of N): a one-step image sends no progress webhook.
      expect(progressIds.every((w) => new RegExp(`^msg_${id}_progress_([1-${steps}])$`).test(w))).toBe(true);
      if (steps === 1) expect(progressIds).toEqual([]);
      expect(webhookIds).toContain(`msg_${id}_completed`);
    });
  }

  it('runs a package with fixed guidance without unconditional rows, at each step count it declares', async () => {
    backend = tempBackend();
    const student = new DeclaredRuntime(runtime);
    start(new ModelRunner(student, 'student'));
    for (const steps of [1, 2]) {
      await submit(backend, drawRecord(student, { id: `student${steps}`, steps, guidance: student.manifest.diffusion.default_guidance }));
      const done = await succeeded(`student${steps}`);
      expect(done.progress).toMatchObject({ step: steps, steps });
    }
    expect(student.denoiseCalls).toBe(1 + 2);
    expect(student.unconditionalRows).toBe(0);
    // The image is the conditional sampler's: what sampleImage gives without an unconditional context.
    const cond = await runtime.prefill(drawContext(runtime.tokenizer, 'a small red circle at the top'));
    const expected = await sampleImage(student, cond, await runtime.prefill(drawContext(runtime.tokenizer, '')), {
      steps: 1,
      guidance: 2.5,
      noise: runtime.initialNoise(streamSeed(1, 'image-noise', 0)),
    });
    const alone = await sampleImage(runtime, cond, undefined, {
      steps: 1,
      guidance: 2.5,
      noise: runtime.initialNoise(streamSeed(1, 'image-noise', 0)),
    });
    expect(maxAbsDiff(expected, alone)).toBe(0);
  });

  it('ends the answer at its image, without reading it back, where the manifest says answers end there', async () => {
    backend = tempBackend();
    // Tiny's answer ends after its image either way; without the declaration the worker reads the image back to learn so.
    const plain = new DeclaredRuntime(runtime, {}, 'plain');
    const ending = new DeclaredRuntime(runtime, {}, 'ending', { image_ends_answer: true });
    worker = startTestWorker(backend, [new ModelRunner(plain, 'plain'), new ModelRunner(ending, 'ending')], {
      visibilityTimeoutSeconds: 5,
    });
    for (const model of ['plain', 'ending']) await submit(backend, drawRecord(runtime, { id: model, model, steps: 1, maxTokens: 16 }));
    const [went, ended] = [await succeeded('plain'), await succeeded('ending')];
    expect(plain.readBacks).toBe(1);
    expect(ending.readBacks).toBe(0);
    expect(ended.output).toHaveLength(1);
    expect(ended.output[0]).toMatchObject({ type: 'image' });
    expect(ended.tokens_used).toBe(0);
    // The same image either way: the declaration changes what follows it, not the drawing.
    expect(went.output[0]).toMatchObject({ type: 'image' });
    const png = async (r: typeof went) => (await backend.store.get((r.output[0] as { key: string }).key))?.body;
    expect(Buffer.from((await png(ended))!).equals(Buffer.from((await png(went))!))).toBe(true);
  });

  it('takes a one-step job from queued to succeeded in one record write, with no read before it', async () => {
    backend = tempBackend();
    await submit(backend, drawRecord(runtime, { id: 'fast', steps: 1 }));
    const reads = vi.spyOn(backend.files, 'get');
    worker = startTestWorker(backend, new ModelRunner(runtime), { visibilityTimeoutSeconds: 5 });
    await queueDrained();
    expect(backend.store.statuses('fast')).toEqual(['queued', 'succeeded']);
    // The record read at intake is the version the success names (JobRepository.updateFrom).
    expect(reads.mock.calls.filter(([key]) => key === 'jobs/fast.json')).toHaveLength(1);
  });

  it('lands the success after a running write slower than the rest of the job, never racing it', async () => {
    backend = tempBackend();
    // The running write is held until the image's PNG is stored: the success must wait for it.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const put = backend.files.put.bind(backend.files);
    let refused = 0; // record writes that lost a race (a write naming a version another write replaced)
    vi.spyOn(backend.files, 'put').mockImplementation(async (key, body, options) => {
      if (key.startsWith('outputs/slow/')) release();
      if (key === 'jobs/slow.json' && JSON.parse(Buffer.from(body).toString('utf8')).status === 'running') await held;
      return put(key, body, options).catch((err: unknown) => {
        if (key === 'jobs/slow.json') refused += 1;
        throw err;
      });
    });
    await submit(backend, drawRecord(runtime, { id: 'slow', steps: 3 }));
    worker = startTestWorker(backend, new ModelRunner(runtime), { visibilityTimeoutSeconds: 5 });
    await queueDrained();
    const history = backend.store.records('slow');
    expect(history.map((r) => r.status)).toEqual(['queued', ...history.slice(1, -1).map(() => 'running'), 'succeeded']);
    expect(history.length).toBeGreaterThan(2);
    expect(history[1]?.progress.step).toBe(1); // marked running once its first step was done
    expect(refused).toBe(0); // each write named the version the one before it left
  });

  it('still writes running first when the webhook wants the start event, which goes out before completed', async () => {
    backend = tempBackend();
    const sent = vi.spyOn(backend.queue, 'send');
    await submit(backend, {
      ...drawRecord(runtime, { id: 'watched', steps: 1 }),
      webhook: { url: 'https://example.com/hook', events: ['start', 'completed'] },
    });
    worker = startTestWorker(backend, new ModelRunner(runtime), { visibilityTimeoutSeconds: 5 });
    await waitFor(async () => ((await backend.jobs.get('watched'))?.status === 'succeeded' ? true : undefined), 'the job');
    await waitFor(async () => ((await backend.queue.stats()).inFlight === 0 ? true : undefined), 'the message to go');
    expect(backend.store.statuses('watched')).toEqual(['queued', 'running', 'succeeded']);
    const ids = sent.mock.calls.map(([body]) => parseWebhookMessage(body)?.webhookId).filter((w) => w !== undefined);
    expect(ids).toEqual(['msg_watched_start', 'msg_watched_completed']);
  });

  /** The job's message is gone: everything the worker does for it is done. */
  async function queueDrained(): Promise<void> {
    await waitFor(async () => {
      const { visible, inFlight } = await backend.queue.stats();
      return visible === 0 && inFlight === 0 ? true : undefined;
    }, 'the message to go');
  }
});
