import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, restartDelayMs } from './backoff.js';

describe('restartDelayMs', () => {
  it('doubles from the first wait with each death in a row, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => restartDelayMs(n, DEFAULT_BACKOFF))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('stays at the cap however long the run of deaths', () => {
    expect(restartDelayMs(10_000, { initialMs: 250, maxMs: 10_000 })).toBe(10_000);
    expect(restartDelayMs(0, { initialMs: 250, maxMs: 10_000 })).toBe(250);
  });
});
