/**
 * Seeded randomness for the runtime: a small PRNG (mulberry32) so that sampling and initial
 * noise are reproducible from a seed across processes and machines, with no dependency.
 */

/** A uniform generator in [0, 1). */
export type Uniform = () => number;

/** mulberry32: 32-bit state, fast, good enough for sampling (not for cryptography). */
export function mulberry32(seed: number): Uniform {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` standard normal values by Box–Muller (both outputs of each pair are used). */
export function standardNormal(seed: number, n: number): Float32Array {
  const uniform = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    // 1 - u is in (0, 1], so the log is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < n) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}
