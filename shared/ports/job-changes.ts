/**
 * JobChanges: how a request that waits on job records (`Prefer: wait`, live events, the
 * OpenAI routes) learns when to read them again. An adapter either hears of each change
 * (the embedded default: the worker tells the edge; edge/changes/notified.ts) or only knows
 * a schedule of reads (S3, where the edge has no change feed; edge/changes/polling.ts).
 * Either way the caller reads the record itself: a wake is a hint, never the state.
 */
export interface JobChanges {
  /** Starts following `ids`; changes from now on count, so watch before the first read. */
  watch(ids: readonly string[]): JobWatch;
}

export interface JobWatch {
  /**
   * Resolves when a followed job changed since the last call (at once if one already has),
   * when the adapter's next read is due anyway, after `maxMs`, or when `signal` aborts.
   * Never rejects.
   */
  next(maxMs: number, signal?: AbortSignal): Promise<void>;
  /** Stops following (a watch that is not closed keeps its listeners). */
  close(): void;
}

/** A job's record was written (the embedded worker's IPC message, or the process's own store). */
export type JobChangeListener = (jobId: string) => void;
