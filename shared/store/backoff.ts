/**
 * Capped exponential backoff with full jitter: after the n-th lost race, pause a uniformly
 * random time below min(cap, base * 2^n), so that racing writers fall out of step instead
 * of colliding again on their next try.
 */
export interface Backoff {
  readonly baseMs: number;
  readonly capMs: number;
}

/** The upper bound of the pause after lost race `attempt` (1-based). */
export function pauseCeilingMs(attempt: number, backoff: Backoff): number {
  return Math.min(backoff.capMs, backoff.baseMs * 2 ** attempt);
}

/** A pause in [0, ceiling) for `random` in [0, 1). */
export function jitteredPauseMs(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  return random() * pauseCeilingMs(attempt, backoff);
}
