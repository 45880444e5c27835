import { describe, expect, it } from 'vitest';
import { chooseBatch } from './autotune.js';

const m = (batch: number, rowsPerSecond: number) => ({ batch, rowsPerSecond, msPerCall: (1000 * batch) / rowsPerSecond });

describe('chooseBatch', () => {
  it('takes the smallest batch within 90 % of the best throughput', () => {
    // A CPU: flat throughput, so batching buys nothing and one job per call is chosen.
    expect(chooseBatch([m(1, 100), m(2, 104), m(4, 101), m(8, 99), m(16, 98)])).toBe(1);
    // A GPU: throughput grows with the batch until it saturates.
    expect(chooseBatch([m(1, 50), m(2, 100), m(4, 190), m(8, 350), m(16, 380)])).toBe(8);
  });

  it('does not depend on the order of the measurements', () => {
    expect(chooseBatch([m(16, 380), m(4, 190), m(8, 350)])).toBe(8);
  });

  it('refuses an empty list', () => {
    expect(() => chooseBatch([])).toThrow(RangeError);
  });
});
