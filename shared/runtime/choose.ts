/**
 * Choosing the next token from logits: greedy (argmax, first index on ties, as torch.argmax)
 * or temperature sampling from a seeded uniform generator.
 */
import type { Uniform } from './prng.js';

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i += 1) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** temperature 0 = greedy; otherwise one draw from softmax(logits / temperature). */
export function chooseToken(logits: Float32Array, temperature: number, uniform: Uniform): number {
  if (temperature <= 0) return argmax(logits);
  const max = logits[argmax(logits)]!;
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i += 1) {
    total += weights[i] = Math.exp((logits[i]! - max) / temperature);
  }
  let target = uniform() * total;
  for (let i = 0; i < weights.length; i += 1) {
    target -= weights[i]!;
    if (target < 0) return i;
  }
  // Rounding left a sliver: the last token with any weight.
  for (let i = weights.length - 1; i > 0; i -= 1) if (weights[i]! > 0) return i;
  return 0;
}
