/**
 * Poll until finished: read again when `watch` says to (a job changed, or its read is due:
 * shared/ports/job-changes.ts), else every `intervalMs`, until the value is done, the
 * deadline passes or the signal aborts. The one loop behind `Prefer: wait` and the OpenAI
 * routes that answer with finished images: both read job records, which works the same on
 * every back end; only when to read differs.
 */
import type { JobWatch } from '../shared/ports/job-changes.js';
import { sleep } from '../shared/queue/sleep.js';

export interface PollOptions<T> {
  /** Whether the value is final: polling stops with done = true. */
  isDone: (value: T) => boolean;
  /** The next value, given the last (read again from the store). */
  next: (value: T) => Promise<T>;
  /** Give up at this time (ms since the epoch); the value as last read is returned. */
  deadline: number;
  intervalMs?: number;
  /** When to read again (closed by the caller); without it, every `intervalMs`. */
  watch?: JobWatch;
  /** Stops waiting early (the client went away); the pause ends at once. */
  signal?: AbortSignal;
}

export interface PollResult<T> {
  value: T;
  done: boolean;
}

/** Checks `initial` first, so a value already done costs no read and no pause. */
export async function pollUntil<T>(initial: T, options: PollOptions<T>): Promise<PollResult<T>> {
  let value = initial;
  for (;;) {
    if (options.isDone(value)) return { value, done: true };
    const left = options.deadline - Date.now();
    if (left <= 0 || options.signal?.aborted) return { value, done: false };
    if (options.watch) await options.watch.next(left, options.signal);
    else await sleep(Math.min(options.intervalMs ?? 250, left), options.signal);
    value = await options.next(value);
  }
}
