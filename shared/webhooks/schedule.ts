/**
 * When to try a failed delivery again: exponential backoff (x4 a step) from `baseMs`,
 * each wait at most 6 hours, and no attempt later than 24 hours after the first was queued.
 * With the default 10 s base: 10 s, 40 s, 2.7 min, 10.7 min, 43 min, 2.8 h, 6 h (8 attempts).
 */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;
export const MAX_WAIT_MS = 6 * 3600 * 1000;

/** The time of the next attempt after failed attempt `attempt` (1-based), or null: give up. */
export function nextAttemptAt(attempt: number, firstQueuedAt: number, now: number, baseMs: number): number | null {
  const wait = Math.min(MAX_WAIT_MS, baseMs * 4 ** (attempt - 1));
  const at = now + wait;
  return at - firstQueuedAt <= RETRY_WINDOW_MS ? at : null;
}
