/**
 * The checks every process that serves jobs shares: its store and its queue answer. Each
 * asks for as little as it can: a read of a key that does not exist (S3 answers 404 with
 * the ListBucket grant the edge has anyway) and the queue's counts (GetQueueAttributes).
 */
import type { JobQueue } from '../ports/queue.js';
import type { ObjectStore } from '../ports/store.js';
import type { ReadinessCheck } from './report.js';

/** Under jobs/, which every role may read; no job id looks like it (they start with gen_). */
export const STORE_PROBE_KEY = 'jobs/_readyz-probe.json';

export function storeCheck(store: ObjectStore): ReadinessCheck {
  return {
    name: 'store',
    run: async () => {
      try {
        await store.get(STORE_PROBE_KEY);
        return { ok: true };
      } catch (err) {
        return { ok: false, message: `the store is unreachable: ${(err as Error).message}` };
      }
    },
  };
}

export function queueCheck(queue: JobQueue): ReadinessCheck {
  return {
    name: 'queue',
    run: async () => {
      try {
        await queue.stats();
        return { ok: true };
      } catch (err) {
        return { ok: false, message: `the queue is unreachable: ${(err as Error).message}` };
      }
    },
  };
}
