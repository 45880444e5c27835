/**
 * How long the pool waits before it starts a dead worker's slot again: doubling from
 * `initialMs` with each death in a row, capped at `maxMs`, so that a worker that dies at
 * once does not spin a core, and one that died once comes back quickly.
 */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** A worker that has stayed ready this long clears its slot's run of deaths. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 10_000, resetAfterMs: 30_000 };

/** The wait before the next start after `deaths` deaths in a row (1 for the first). */
export function restartDelayMs(deaths: number, backoff: Pick<Backoff, 'initialMs' | 'maxMs'>): number {
  const exponent = Math.max(0, deaths - 1);
  // 2 ** 30 already dwarfs any cap; the bound keeps the product finite.
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(30, exponent));
}
