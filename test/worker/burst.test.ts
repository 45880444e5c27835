/**
 * A burst larger than one receive (SQS and the SQLite queue return at most 10 messages)
 * joins the running set at one tick: 16 queued jobs with WORKER_MAX_BATCH=16 run every
 * denoising step in one call of 16 (issue 5's batching target).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterValue } from '../../gpu-worker/metrics.js';
import { ModelRunner } from '../../gpu-worker/model-runner.js';
import { startWorker } from '../../gpu-worker/worker.js';
import { createRuntime, type OnnxModelRuntime } from '../../shared/runtime/index.js';
import { hasTiny, TINY_DIR } from '../support/tiny-package.js';
import { drawRecord, silentLogger, submit, tempBackend, waitFor } from './helpers.js';

describe.skipIf(!hasTiny)('a burst of 16 jobs', () => {
  let runtime: OnnxModelRuntime;
  beforeAll(async () => {
    runtime = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('runs in calls of 16 jobs from the first step to the last', async () => {
    const backend = tempBackend({ visibilityTimeoutSeconds: 30 });
    try {
      const ids = Array.from({ length: 16 }, (_, i) => `burst${i}`);
      for (const [i, id] of ids.entries()) await submit(backend, drawRecord(runtime, { id, seed: i, steps: 4 }));
      const worker = startWorker(
        {
          queue: backend.queue,
          deadLetters: backend.deadLetters,
          store: backend.store,
          runners: [new ModelRunner(runtime)],
          logger: silentLogger(),
          deadLetterWaitSeconds: 1,
        },
        { maxBatch: 16, visibilityTimeoutSeconds: 30, receiveWaitSeconds: 1 },
      );
      try {
        for (const id of ids) {
          await waitFor(async () => (await backend.jobs.get(id))?.status === 'succeeded', `${id} to succeed`, 60_000); // 16 jobs on a busy CI machine
        }
        expect(await counterValue(worker.metrics.denoiseCalls)).toBe(4);
        expect(await counterValue(worker.metrics.denoiseRows)).toBe(64);
      } finally {
        await worker.stop(0);
      }
    } finally {
      await backend.close();
    }
  }, 120_000);
});
