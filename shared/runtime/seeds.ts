/**
 * Independent random streams from one request seed. A job used `seed + k` for image k, so
 * seed 5's second image was seed 6's first and its text after an image reused a neighbour's
 * stream. Each stream is now seeded by a hash of (seed, purpose, index): streams of one
 * job, and of jobs with nearby seeds, share nothing.
 */
import { createHash } from 'node:crypto';

/** What a stream is for; part of the hash, so the same (seed, index) differs per purpose. */
export type SeedPurpose = 'image-noise' | 'text';

/** The 32-bit seed of stream (purpose, index) of request seed `seed`: the first 4 bytes of SHA-256("seed:purpose:index"). */
export function streamSeed(seed: number, purpose: SeedPurpose, index: number): number {
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`stream index must be a non-negative integer, got ${index}`);
  return createHash('sha256').update(`${seed}:${purpose}:${index}`).digest().readUInt32BE(0);
}
