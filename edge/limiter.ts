/**
 * At most `n` tasks at once, the rest wait in order. The CPU decode is compute-bound:
 * running more at once than there are cores only makes every request slower.
 */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(n: number): Limiter {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`limiter size must be a positive integer, got ${n}`);
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same), or free it.
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}
