/**
 * sampleImage: the whole Euler sampler for one image, for single-job use (tests, CLI). The
 * worker batches many jobs itself by calling denoiseStep once per tick.
 */
import { defaultGuidance, needsUnconditional } from './sampling.js';
import type { KvCache, ModelRuntime } from './types.js';

export interface SampleImageOptions {
  steps?: number;
  guidance?: number;
  seed?: number;
  /** Start from this x_1 instead of initialNoise(seed). */
  noise?: Float32Array;
  onStep?: (step: number, steps: number) => void;
}

/** Denoise one image from noise given its context (ending in `<boi>`) and the unconditional one. */
export async function sampleImage(
  runtime: ModelRuntime,
  cond: KvCache,
  uncond: KvCache | undefined,
  options: SampleImageOptions = {},
): Promise<Float32Array> {
  const { diffusion } = runtime.manifest;
  const steps = options.steps ?? diffusion.default_steps;
  const guidance = options.guidance ?? defaultGuidance(runtime.manifest, steps);
  const grid = runtime.timeGrid(steps);
  let x = options.noise ?? runtime.initialNoise(options.seed ?? 0);
  // Fixed guidance is in the network: the unconditional context is never run.
  if (!needsUnconditional(runtime.manifest)) uncond = undefined;
  for (let i = 0; i < steps; i += 1) {
    const [next] = await runtime.denoiseStep([{ cond, ...(uncond ? { uncond } : {}), x, t: grid[i]!, tNext: grid[i + 1]!, guidance }]);
    x = next!;
    options.onStep?.(i + 1, steps);
  }
  return x;
}
