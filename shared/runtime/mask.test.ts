import { describe, expect, it } from 'vitest';
import { attentionMask, MASKED } from './mask.js';

/** sees[b][q][s]: whether query q of row b may attend to key s. */
function sees(mask: Float32Array, batch: number, T: number, S: number): boolean[][][] {
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: T }, (_, q) => Array.from({ length: S }, (_, s) => mask[(b * T + q) * S + s] === 0)),
  );
}

describe('attentionMask', () => {
  it('makes text causal: no query sees a later key', () => {
    const T = 5;
    const m = sees(attentionMask([{ past: [], next: [-1, -1, -1, -1, -1] }], 0, T), 1, T, T)[0]!;
    for (let q = 0; q < T; q += 1) for (let s = 0; s < T; s += 1) expect(m[q]![s]).toBe(s <= q);
  });

  it('lets the patches of one image see each other, and earlier text not see them', () => {
    // text, text, image 0 (3 patches), text, image 1 (2 patches)
    const ids = [-1, -1, 0, 0, 0, -1, 1, 1];
    const m = sees(attentionMask([{ past: [], next: ids }], 0, ids.length), 1, ids.length, ids.length)[0]!;
    // patch 2 sees patches 3 and 4 of its own image (later in the sequence)
    expect(m[2]![4]).toBe(true);
    expect(m[4]![2]).toBe(true);
    // earlier text never sees the image
    expect(m[0]![2]).toBe(false);
    expect(m[1]![4]).toBe(false);
    // text after an image sees all of it, but not the next image
    expect(m[5]![2] && m[5]![3] && m[5]![4]).toBe(true);
    expect(m[5]![6]).toBe(false);
    // image 0 does not see image 1; image 1 sees image 0
    expect(m[4]![6]).toBe(false);
    expect(m[6]![4]).toBe(true);
    expect(m[6]![7]).toBe(true);
  });

  it('left-aligns pasts of different lengths and masks the padding', () => {
    const rows = [
      { past: [-1, -1, -1], next: [0, 0] },
      { past: [-1], next: [0, 0] },
    ];
    const P = 3;
    const T = 2;
    const mask = attentionMask(rows, P, T);
    const m = sees(mask, 2, T, P + T);
    expect(m[0]![0]).toEqual([true, true, true, true, true]);
    expect(m[1]![0]).toEqual([true, false, false, true, true]);
    expect(m[1]![1]).toEqual([true, false, false, true, true]);
    expect(mask[(1 * T + 0) * (P + T) + 1]).toBe(MASKED);
  });

  it('masks padded new positions as keys; a padded query sees only itself', () => {
    const m = sees(attentionMask([{ past: [-1], next: [-1] }], 1, 3), 1, 3, 4)[0]!;
    expect(m[0]).toEqual([true, true, false, false]);
    expect(m[1]).toEqual([false, false, true, false]);
    expect(m[2]).toEqual([false, false, false, true]);
  });

  it('refuses a row longer than the batch', () => {
    expect(() => attentionMask([{ past: [-1, -1], next: [] }], 1, 1)).toThrow(RangeError);
  });
});
