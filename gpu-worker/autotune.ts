/**
 * WORKER_MAX_BATCH=auto: measure the denoising step's throughput at a few batch sizes on
 * the real model and take the smallest batch that reaches a fraction (90 %) of the best.
 * A CPU, already full at one job, gets a small batch (no latency traded for nothing); a GPU
 * gets a large one.
 */
import { type DenoiseRow, drawContext, needsUnconditional } from '../shared/runtime/index.js';
import type { ModelRunner } from './model-runner.js';

export interface BatchMeasurement {
  readonly batch: number;
  readonly msPerCall: number;
  /** Jobs (one image step each) per second. */
  readonly rowsPerSecond: number;
}

export interface AutoBatch {
  readonly chosen: number;
  readonly measurements: readonly BatchMeasurement[];
}

export const DEFAULT_SIZES = [1, 2, 4, 8, 16] as const;

/** The smallest batch whose throughput is at least `fraction` of the best measured. Pure. */
export function chooseBatch(measurements: readonly BatchMeasurement[], fraction = 0.9): number {
  if (measurements.length === 0) throw new RangeError('no measurements');
  const best = Math.max(...measurements.map((m) => m.rowsPerSecond));
  const sorted = [...measurements].sort((a, b) => a.batch - b.batch);
  return sorted.find((m) => m.rowsPerSecond >= fraction * best)!.batch;
}

export interface MeasureOptions {
  sizes?: readonly number[];
  /** Least timed calls per size, after one untimed warm-up call (default 3). */
  reps?: number;
  /** More calls, up to 20, until a size has been timed this long (default 200 ms). */
  minMsPerSize?: number;
  fraction?: number;
}

/** Times batched steps with dummy jobs (a short draw prompt, guidance on, as at a mid step). */
export async function measureAutoBatch(runner: ModelRunner, options: MeasureOptions = {}): Promise<AutoBatch> {
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const reps = options.reps ?? 3;
  const minMs = options.minMsPerSize ?? 200;
  const { runtime } = runner;
  const { diffusion } = runtime.manifest;
  const cond = await runner.prefill(drawContext(runtime.tokenizer, 'a small red circle at the top left'));
  // Inside the guidance interval, so that each job carries its unconditional row as most steps do
  // (none where the package's guidance is fixed: what its jobs run).
  const uncond = needsUnconditional(runtime.manifest) ? await runner.uncond() : undefined;
  const [lo, hi] = diffusion.guidance_interval;
  const t = Math.min(1, Math.max(1e-3, (lo + hi) / 2));
  const guidance = diffusion.default_guidance === 1 ? 2 : diffusion.default_guidance;
  const measurements: BatchMeasurement[] = [];
  for (const batch of sizes) {
    const rows: DenoiseRow[] = Array.from({ length: batch }, (_, i) => ({
      cond,
      ...(uncond ? { uncond } : {}),
      x: runner.noise(i, 0),
      t,
      tNext: t / 2,
      guidance,
    }));
    await runtime.denoiseStep(rows);
    // The fastest call: on a shared machine the slow ones measure the neighbours, not the model.
    let msPerCall = Infinity;
    let spent = 0;
    for (let r = 0; r < 20 && (r < reps || spent < minMs); r += 1) {
      const start = performance.now();
      await runtime.denoiseStep(rows);
      const ms = performance.now() - start;
      spent += ms;
      msPerCall = Math.min(msPerCall, ms);
    }
    measurements.push({ batch, msPerCall, rowsPerSecond: (1000 * batch) / msPerCall });
  }
  return { chosen: chooseBatch(measurements, options.fraction), measurements };
}
