/**
 * JobChanges that are told: `notify(id)` after each write of a job record wakes every watch
 * following it at once. The embedded default feeds it from the workers' IPC messages (they
 * share this machine's store; gpu-worker/telling-store.ts). A watch still wakes every
 * `fallbackMs` to read anyway: a write nobody reports (the edge's own cancel, a worker
 * started apart with the same DATA_DIR) is then seen as late as it was before.
 */
import type { JobChanges, JobWatch } from '../../shared/ports/job-changes.js';

interface Watcher {
  changed: boolean;
  wake?: () => void;
}

export class NotifiedJobChanges implements JobChanges {
  private readonly byJob = new Map<string, Set<Watcher>>();

  constructor(
    private readonly fallbackMs: number,
    private readonly timers: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void } = {
      set: (fn, ms) => setTimeout(fn, ms),
      clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
    },
  ) {}

  /** A job's record was written. */
  notify(jobId: string): void {
    for (const watcher of this.byJob.get(jobId) ?? []) {
      watcher.changed = true;
      watcher.wake?.();
    }
  }

  /** Watches open now (tests; a leak shows here). */
  get watching(): number {
    let n = 0;
    for (const set of this.byJob.values()) n += set.size;
    return n;
  }

  watch(ids: readonly string[]): JobWatch {
    const watcher: Watcher = { changed: false };
    for (const id of ids) {
      let set = this.byJob.get(id);
      if (!set) {
        set = new Set();
        this.byJob.set(id, set);
      }
      set.add(watcher);
    }
    return {
      next: (maxMs, signal) =>
        new Promise<void>((resolve) => {
          if (watcher.changed || signal?.aborted) {
            watcher.changed = false;
            return resolve();
          }
          const done = (): void => {
            this.timers.clear(timer);
            signal?.removeEventListener('abort', done);
            watcher.wake = undefined;
            watcher.changed = false;
            resolve();
          };
          const timer = this.timers.set(done, Math.min(this.fallbackMs, maxMs));
          watcher.wake = done;
          signal?.addEventListener('abort', done, { once: true });
        }),
      close: () => {
        watcher.wake?.();
        for (const id of ids) {
          const set = this.byJob.get(id);
          set?.delete(watcher);
          if (set?.size === 0) this.byJob.delete(id);
        }
      },
    };
  }
}
