import { describe, expect, it } from 'vitest';
import { assembleBatch, padPasts, rowPresent } from './batch.js';
import { TensorKvCache } from './kv-cache.js';
import { layoutSegments } from './layout.js';

const dims = { layers: 2, keyDim: 2, valueDim: 1 };
const geometry = { grid_h: 2, grid_w: 2, num_patches: 4, patch_dim: 3, padId: 9, imageGap: 0 };

/** A cache of `length` text positions whose key values encode (layer, position). */
function cache(length: number): TensorKvCache {
  const keys = Float32Array.from(
    { length: dims.layers * length * dims.keyDim },
    (_, i) => 100 * Math.floor(i / (length * 2)) + Math.floor((i % (length * 2)) / 2) + 1,
  );
  const values = Float32Array.from({ length: dims.layers * length }, (_, i) => i + 1);
  return new TensorKvCache(dims, keys, values, new Int32Array(length).fill(-1), length, 0, undefined, undefined);
}

describe('layoutSegments', () => {
  it('lays out text and a clean image with pad tokens and positions', () => {
    const row = layoutSegments(
      [
        { type: 'text', ids: [5, 6] },
        { type: 'image', patches: new Float32Array(12).fill(0.5) },
        { type: 'text', ids: [7] },
      ],
      { nextIndex: 3, nextImageId: 1, lastImageStart: undefined },
      geometry,
    );
    expect(row.tokens).toEqual([5, 6, 9, 9, 9, 9, 7]);
    expect(Array.from(row.imageIds)).toEqual([-1, -1, 1, 1, 1, 1, -1]);
    expect(row.positions.slice(6, 9)).toEqual([5, 5, 5]);
    expect(row.positions.slice(-3)).toEqual([7, 7, 7]);
    expect(row.end).toEqual({ nextIndex: 8, nextImageId: 2, lastImageStart: 5 });
    expect(row.patches[6]).toBe(0.5);
    expect(row.patches[0]).toBe(0);
  });

  it('starts an image that follows another at the earlier start + image gap, the text after it from there', () => {
    const gapped = { ...geometry, imageGap: 10 };
    const image = { type: 'image', patches: new Float32Array(12) } as const;
    const row = layoutSegments(
      [image, { type: 'text', ids: [5, 6] }, image, { type: 'text', ids: [7] }],
      { nextIndex: 0, nextImageId: 0, lastImageStart: undefined },
      gapped,
    );
    const p0 = row.positions.filter((_, i) => i % 3 === 0);
    // the first image at 0 (spans 2), text at 2 and 3, the second image at 0 + 10, the text after it at 12
    expect(p0).toEqual([0, 0, 0, 0, 2, 3, 10, 10, 10, 10, 12]);
    expect(row.end).toEqual({ nextIndex: 13, nextImageId: 2, lastImageStart: 10 });
    // an image in a later call measures from the cache's latest image
    const later = layoutSegments([image], row.end, gapped);
    expect(later.positions.slice(0, 3)).toEqual([20, 20, 20]);
  });

  it('refuses an image of the wrong size', () => {
    expect(() =>
      layoutSegments(
        [{ type: 'image', patches: new Float32Array(5) }],
        { nextIndex: 0, nextImageId: 0, lastImageStart: undefined },
        geometry,
      ),
    ).toThrow(RangeError);
  });
});

describe('assembleBatch', () => {
  it('pads pasts left-aligned and new positions right-padded', () => {
    const a = cache(3);
    const b = cache(1);
    const next = (c: TensorKvCache) => layoutSegments([{ type: 'image', patches: new Float32Array(12) }], c, geometry, 0.7);
    const inputs = assembleBatch(
      [
        { past: a, next: next(a) },
        { past: b, next: next(b) },
      ],
      dims,
      3,
      9,
    );
    expect(inputs.pastLength).toBe(3);
    expect(inputs.newLength).toBe(4);
    // layer 1, row 1: its single past key first, zeros after
    const row = (l: number, r: number) => Array.from(inputs.pastKeys.subarray((l * 2 + r) * 3 * 2, ((l * 2 + r) * 3 + 3) * 2));
    expect(row(1, 1)).toEqual([101, 101, 0, 0, 0, 0]);
    expect(row(0, 0)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(Array.from(inputs.noiseLevel)).toEqual(Array(8).fill(0.7).map(Math.fround));
    expect(inputs.positions[1 * 4 * 3]).toBe(1n);
  });

  it('feeds a lone unpadded cache without copying', () => {
    const a = cache(2);
    expect(padPasts([a.keys], [2], 2, 2, 2)).toBe(a.keys);
  });

  it('adds a masked dummy past when asked (zero-length past workaround)', () => {
    const empty = TensorKvCache.empty(dims);
    const inputs = assembleBatch([{ past: empty, next: layoutSegments([{ type: 'text', ids: [1, 2] }], empty, geometry) }], dims, 3, 9, 1);
    expect(inputs.pastLength).toBe(1);
    expect(inputs.pastKeys).toHaveLength(4);
    expect(inputs.attentionMask[0]).toBe(-1e9);
    expect(inputs.attentionMask[1]).toBe(0);
  });
});

describe('rowPresent', () => {
  it('takes a row real past and new positions out of a padded present', () => {
    // [L=1, B=2, S=3+1, D=1]: row 1 has 1 real past position
    const present = Float32Array.of(10, 11, 12, 13, 20, 0, 0, 23);
    expect(Array.from(rowPresent(present, 1, { layers: 1, batch: 2, pastLength: 3, newLength: 1, dim: 1 }, 1, 1))).toEqual([20, 23]);
    expect(Array.from(rowPresent(present, 0, { layers: 1, batch: 2, pastLength: 3, newLength: 1, dim: 1 }, 3, 1))).toEqual([
      10, 11, 12, 13,
    ]);
  });
});
