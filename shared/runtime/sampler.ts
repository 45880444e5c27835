/**
 * The diffusion sampler's arithmetic (docs/model-package.md, "Diffusion"): the shifted
 * time grid, classifier-free guidance and the Euler step. Pure functions over arrays.
 */

export interface DiffusionParams {
  readonly time_shift: number;
  readonly guidance_interval: readonly [number, number];
}

/** shift(t) = s t / (1 + (s - 1) t): s > 1 spends more steps at high noise. */
export function shiftTime(t: number, s: number): number {
  return (s * t) / (1 + (s - 1) * t);
}

/** steps + 1 times from 1 down to 0: t_i = shift(1 - i / steps). */
export function timeGrid(steps: number, timeShift: number): number[] {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  const grid: number[] = [];
  for (let i = 0; i <= steps; i += 1) grid.push(shiftTime(1 - i / steps, timeShift));
  // Pin the ends exactly: the first step starts from pure noise, the last lands on x0.
  grid[0] = 1;
  grid[steps] = 0;
  return grid;
}

/** Whether guidance changes the prediction at time t (inside the interval, inclusive, and g != 1). */
export function guidanceApplies(t: number, guidance: number, params: DiffusionParams): boolean {
  const [lo, hi] = params.guidance_interval;
  return guidance !== 1 && t >= lo && t <= hi;
}

/** x0 = x0_u + g (x0_c - x0_u). */
export function applyGuidance(cond: Float32Array, uncond: Float32Array, guidance: number): Float32Array {
  const out = new Float32Array(cond.length);
  for (let i = 0; i < cond.length; i += 1) {
    const u = uncond[i]!;
    out[i] = u + guidance * (cond[i]! - u);
  }
  return out;
}

/**
 * Euler step of the flow: v = (x_t - x0) / t, x_next = x_t + (tNext - t) v.
 * Written as x0 + (tNext / t)(x_t - x0) so that tNext = 0 lands exactly on x0.
 */
export function eulerStep(x: Float32Array, x0: Float32Array, t: number, tNext: number): Float32Array {
  if (!(t > 0)) throw new RangeError(`Euler step needs t > 0, got ${t}`);
  const ratio = tNext / t;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += 1) {
    const clean = x0[i]!;
    out[i] = clean + ratio * (x[i]! - clean);
  }
  return out;
}
