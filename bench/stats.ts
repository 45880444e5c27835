/** Small statistics and timing helpers for the benchmark. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export interface Timing {
  /** Milliseconds per call. */
  median: number;
  min: number;
  reps: number;
}

export interface TimeOptions {
  /** Least timed calls (after one untimed warm-up). */
  minReps: number;
  /** Keep calling until this many milliseconds have been timed (bounded by maxReps). */
  minMs: number;
  maxReps?: number;
}

/** Times an async call: one warm-up, then at least minReps calls and minMs milliseconds. */
export async function timeAsync(fn: () => Promise<unknown>, options: TimeOptions): Promise<Timing & { samples: number[] }> {
  await fn();
  const samples: number[] = [];
  let spent = 0;
  const maxReps = options.maxReps ?? 500;
  while (samples.length < options.minReps || (spent < options.minMs && samples.length < maxReps)) {
    const start = performance.now();
    await fn();
    const ms = performance.now() - start;
    samples.push(ms);
    spent += ms;
  }
  return { median: median(samples), min: Math.min(...samples), reps: samples.length, samples };
}

export const round = (x: number, digits = 2): number => {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Progress for a person watching: one line per stage on stderr. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
