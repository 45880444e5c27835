import { describe, expect, it } from 'vitest';
import { pollUntil } from './poll.js';

/** A value read from a sequence: each `next` returns the following entry (the last one repeats). */
function reads(values: number[]) {
  const seen: number[] = [];
  return {
    seen,
    next: async (last: number) => {
      seen.push(last);
      return values[Math.min(seen.length - 1, values.length - 1)]!;
    },
  };
}

const isDone = (n: number) => n >= 3;

describe('pollUntil', () => {
  it('answers a value already done without reading', async () => {
    const r = reads([]);
    expect(await pollUntil(5, { isDone, next: r.next, deadline: Date.now() + 60_000, intervalMs: 1 })).toEqual({ value: 5, done: true });
    expect(r.seen).toEqual([]);
  });

  it('reads again until the value is done, passing each read the value before', async () => {
    const r = reads([1, 2, 3, 4]);
    expect(await pollUntil(0, { isDone, next: r.next, deadline: Date.now() + 60_000, intervalMs: 1 })).toEqual({ value: 3, done: true });
    expect(r.seen).toEqual([0, 1, 2]);
  });

  it('gives up at the deadline with the value as last read', async () => {
    const r = reads([1]);
    const result = await pollUntil(0, { isDone, next: r.next, deadline: Date.now() + 30, intervalMs: 5 });
    expect(result).toEqual({ value: 1, done: false });
    expect(r.seen.length).toBeGreaterThan(0);
  });

  it('does not read at all when the deadline has passed', async () => {
    const r = reads([3]);
    expect(await pollUntil(0, { isDone, next: r.next, deadline: Date.now() - 1, intervalMs: 5 })).toEqual({ value: 0, done: false });
    expect(r.seen).toEqual([]);
  });

  it('stops early when the signal aborts, cutting the pause short', async () => {
    const abort = new AbortController();
    const r = reads([1]);
    setTimeout(() => abort.abort(), 20);
    const started = Date.now();
    // An hour between reads: only an aborted pause lets this finish within the test's time.
    const result = await pollUntil(0, {
      isDone,
      next: r.next,
      deadline: Date.now() + 3_600_000,
      intervalMs: 3_600_000,
      signal: abort.signal,
    });
    expect(result).toEqual({ value: 1, done: false });
    expect(r.seen).toEqual([0]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
