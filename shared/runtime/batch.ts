/**
 * Assembles one graph call from rows (a cache and the new positions laid out after it): pads
 * every row's past to the longest with its own positions left-aligned, pads new positions to
 * the longest, and builds the attention mask that hides the padding. Pure: typed arrays only.
 */

import type { CacheDims, TensorKvCache } from './kv-cache.js';
import type { RowLayout } from './layout.js';
import { attentionMask } from './mask.js';

export interface BatchRow {
  readonly past: TensorKvCache;
  readonly next: RowLayout;
}

export interface BatchInputs {
  readonly batch: number;
  /** Padded past length P. */
  readonly pastLength: number;
  /** Padded new length T. */
  readonly newLength: number;
  readonly tokens: BigInt64Array; // [B, T]
  readonly patches: Float32Array; // [B, T, patch_dim]
  readonly isImage: Float32Array; // [B, T]
  readonly noiseLevel: Float32Array; // [B, T]
  readonly positions: BigInt64Array; // [B, T, 3]
  readonly attentionMask: Float32Array; // [B, T, P + T]
  readonly pastKeys: Float32Array; // [L, B, P, K]
  readonly pastValues: Float32Array; // [L, B, P, E]
}

/**
 * `minPast` forces at least that many past positions (all masked when the rows have none):
 * the workaround for a backend that refuses a zero-length past.
 */
export function assembleBatch(rows: readonly BatchRow[], dims: CacheDims, patchDim: number, padId: number, minPast = 0): BatchInputs {
  const batch = rows.length;
  const pastLengths = rows.map((r) => r.past.length);
  const pastLength = Math.max(minPast, ...pastLengths);
  const padPast = (part: 'keys' | 'values', dim: number) =>
    padPasts(
      rows.map((r) => r.past[part]),
      pastLengths,
      dims.layers,
      dim,
      pastLength,
    );
  const newLength = Math.max(...rows.map((r) => r.next.length));
  const tokens = new BigInt64Array(batch * newLength).fill(BigInt(padId));
  const patches = new Float32Array(batch * newLength * patchDim);
  const isImage = new Float32Array(batch * newLength);
  const noiseLevel = new Float32Array(batch * newLength);
  const positions = new BigInt64Array(batch * newLength * 3);
  rows.forEach(({ next }, b) => {
    const base = b * newLength;
    next.tokens.forEach((id, t) => {
      tokens[base + t] = BigInt(id);
    });
    patches.set(next.patches, base * patchDim);
    noiseLevel.set(next.noiseLevel, base);
    next.imageIds.forEach((id, t) => {
      isImage[base + t] = id >= 0 ? 1 : 0;
    });
    next.positions.forEach((p, i) => {
      positions[base * 3 + i] = BigInt(p);
    });
    // Padding positions repeat the row's last real position, so that rotary stays in range.
    const last = next.positions.slice(-3);
    for (let t = next.length; t < newLength; t += 1)
      last.forEach((p, c) => {
        positions[(base + t) * 3 + c] = BigInt(p);
      });
  });
  return {
    batch,
    pastLength,
    newLength,
    tokens,
    patches,
    isImage,
    noiseLevel,
    positions,
    attentionMask: attentionMask(
      rows.map((r) => ({ past: r.past.imageIds, next: r.next.imageIds })),
      pastLength,
      newLength,
    ),
    pastKeys: padPast('keys', dims.keyDim),
    pastValues: padPast('values', dims.valueDim),
  };
}

/**
 * Rewrites row b of an assembled denoising batch in place with a new noisy image x at noise
 * level t. Everything else in a denoising row (tokens, positions, mask, pasts) depends only on
 * its past, so a batch over the same pasts is reused from step to step with only this changed.
 */
export function refillNoisyRow(inputs: BatchInputs, b: number, x: Float32Array, t: number, patchDim: number): void {
  const T = inputs.newLength;
  if (x.length !== T * patchDim) throw new RangeError(`row ${b}: x has ${x.length} values, expected ${T * patchDim}`);
  inputs.patches.set(x, b * T * patchDim);
  inputs.noiseLevel.fill(t, b * T, (b + 1) * T);
}

/** Stack [L, P_b, D] arrays into [L, B, P, D], each row left-aligned, zeros after it. */
export function padPasts(
  arrays: readonly Float32Array[],
  lengths: readonly number[],
  layers: number,
  dim: number,
  pastLength: number,
): Float32Array {
  const batch = arrays.length;
  // One row with no padding already has the graph's layout: share it.
  if (batch === 1 && lengths[0] === pastLength) return arrays[0]!;
  const out = new Float32Array(layers * batch * pastLength * dim);
  arrays.forEach((data, b) => {
    const length = lengths[b]!;
    for (let l = 0; l < layers; l += 1) {
      const src = l * length * dim;
      out.set(data.subarray(src, src + length * dim), (l * batch + b) * pastLength * dim);
    }
  });
  return out;
}

/**
 * Row b's cache out of a present tensor [L, B, P + T, D]: its real past [0, P_b) followed by
 * its real new positions [P, P + T_b).
 */
export function rowPresent(
  present: Float32Array,
  b: number,
  shape: { layers: number; batch: number; pastLength: number; newLength: number; dim: number },
  pastRow: number,
  newRow: number,
): Float32Array {
  const { layers, batch, pastLength, newLength, dim } = shape;
  const total = pastLength + newLength;
  const length = pastRow + newRow;
  if (batch === 1 && pastRow === pastLength && newRow === newLength) return present;
  const out = new Float32Array(layers * length * dim);
  for (let l = 0; l < layers; l += 1) {
    const row = (l * batch + b) * total * dim;
    const dst = l * length * dim;
    out.set(present.subarray(row, row + pastRow * dim), dst);
    out.set(present.subarray(row + pastLength * dim, row + (pastLength + newRow) * dim), dst + pastRow * dim);
  }
  return out;
}
