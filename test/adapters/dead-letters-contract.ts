/**
 * The dead-letter path end to end on one back end: a message that is never completed
 * reaches the dead-letter queue after 3 receives, and draining it marks the job failed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEAD_LETTERED, drainDeadLettersOnce, encodeJobMessage, JobRepository } from '../../shared/jobs/index.js';
import type { JobQueue } from '../../shared/ports/queue.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import { newJob } from './store-contract.js';

export interface DeadLetterHarness {
  queue: JobQueue;
  deadLetters: JobQueue;
  store: ObjectStore;
  cleanup(): Promise<void>;
}

export function deadLetterContract(name: string, factory: () => Promise<DeadLetterHarness>): void {
  describe(`dead letters: ${name}`, () => {
    let h: DeadLetterHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    async function poison(jobs: JobRepository, status: 'queued' | 'running' | 'succeeded'): Promise<string> {
      const job = newJob();
      await jobs.create(job);
      if (status !== 'queued') await jobs.update(job.id, (j) => ({ ...j, status: 'running' }));
      if (status === 'succeeded') await jobs.update(job.id, (j) => ({ ...j, status: 'succeeded' }));
      await h.queue.send(encodeJobMessage({ jobId: job.id, requestId: `req-${job.id}` }));
      // Three receives that never complete (a worker that always crashes).
      for (let i = 0; i < 3; i++) {
        const [m] = await h.queue.receive({ maxMessages: 1, waitSeconds: 2 });
        expect(m?.receiveCount).toBe(i + 1);
        await h.queue.release(m!.receiptHandle);
      }
      expect(await h.queue.receive({ maxMessages: 1, waitSeconds: 1 })).toEqual([]);
      return job.id;
    }

    it('marks a job failed with dead_lettered and deletes the dead letter', async () => {
      const jobs = new JobRepository(h.store);
      const id = await poison(jobs, 'running');
      const result = await drainDeadLettersOnce({ deadLetters: h.deadLetters, jobs, waitSeconds: 2 });
      expect(result).toEqual({ failed: 1, dropped: 0, errors: 0 });
      const job = await jobs.get(id);
      expect(job?.status).toBe('failed');
      expect(job?.error?.code).toBe(DEAD_LETTERED);
      expect(job?.error?.message).toMatch(/received 3 times/);
      expect(await h.deadLetters.receive({ maxMessages: 10, waitSeconds: 0 })).toEqual([]);
    });

    it('leaves a job that already finished as it is, and drops invalid bodies', async () => {
      const jobs = new JobRepository(h.store);
      const id = await poison(jobs, 'succeeded');
      await h.deadLetters.send('not a job message');
      let total = { failed: 0, dropped: 0, errors: 0 };
      for (let i = 0; i < 3 && total.dropped < 2; i++) {
        const r = await drainDeadLettersOnce({ deadLetters: h.deadLetters, jobs, waitSeconds: 1, maxReceiveCount: 3 });
        total = { failed: total.failed + r.failed, dropped: total.dropped + r.dropped, errors: total.errors + r.errors };
      }
      expect(total).toEqual({ failed: 0, dropped: 2, errors: 0 });
      expect((await jobs.get(id))?.status).toBe('succeeded');
    });
  });
}
