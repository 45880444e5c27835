/**
 * The benchmark's FLOP count (bench/flops.ts) includes the pixel head. The expected count
 * per position for the shipped head's shape (width 24, 8 features, 3 layers, 8 x 8 x 3
 * patches, d_model 256) is what torch.utils.flop_counter.FlopCounterMode counts for
 * model.PixelHead over 64 positions, divided by 64.
 */
import { describe, expect, it } from 'vitest';
import { type ModelShape, pixelHeadFlops, rowFlops } from '../../bench/flops.js';

const trunk: ModelShape = {
  d_model: 256,
  n_layers: 8,
  expansion: 512,
  qk_dim: 128,
  vocab_size: 366,
  time_freq_dim: 128,
  patch_dim: 192,
};
const withHead: ModelShape = { ...trunk, pixel: { width: 24, features: 8, layers: 3, patch_size: 8, channels: 3 } };

describe('pixel head FLOPs', () => {
  it('counts the features layer and each convolution on its shrinking ring', () => {
    // features 2*256*64*8 + conv 12x12 (15 -> 24) + conv 10x10 (24 -> 24) + conv 8x8 (24 -> 3)
    expect(pixelHeadFlops(withHead)).toBe(262_144 + 933_120 + 1_036_800 + 82_944);
  });

  it('is nothing for a model without one, and adds to every new position of a row', () => {
    expect(pixelHeadFlops(trunk)).toBe(0);
    expect(pixelHeadFlops({ ...trunk, pixel: { width: 0, features: 8, layers: 3, patch_size: 8, channels: 3 } })).toBe(0);
    expect(rowFlops(withHead, 30, 64) - rowFlops(trunk, 30, 64)).toBe(64 * pixelHeadFlops(withHead));
  });
});
