/**
 * Poll until finished: read again every `intervalMs` until the value is done, the deadline
 * passes or the signal aborts. The one loop behind `Prefer: wait` and the OpenAI routes
 * that answer with finished images: both wait by reading job records, which works the same
 * on every back end.
 */
import { sleep } from '../shared/queue/sleep.js';

export interface PollOptions<T> {
  /** Whether the value is final: polling stops with done = true. */
  isDone: (value: T) => boolean;
  /** The next value, given the last (read again from the store). */
  next: (value: T) => Promise<T>;
  /** Give up at this time (ms since the epoch); the value as last read is returned. */
  deadline: number;
  intervalMs: number;
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
    await sleep(Math.min(options.intervalMs, left), options.signal);
    value = await options.next(value);
  }
}
