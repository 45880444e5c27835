import { describe, expect, it } from 'vitest';
import { patchesToRgb, rgbaOnWhite, rgbToPatches } from './pixels.js';

const image = { height: 64, width: 64, patch_size: 8 };

describe('patches <-> pixels', () => {
  it('orders patches row-major and values (row, column, channel) inside a patch', () => {
    const rgb = new Uint8Array(64 * 64 * 3);
    // pixel (y = 9, x = 18): patch (1, 2) = index 10, inside (1, 2)
    rgb.set([255, 0, 127.5], (9 * 64 + 18) * 3);
    const patches = rgbToPatches(rgb, image);
    const base = 10 * 192 + (1 * 8 + 2) * 3;
    expect(patches[base]).toBe(1);
    expect(patches[base + 1]).toBe(-1);
    expect(patches[base + 2]).toBeCloseTo(127 / 127.5 - 1);
  });

  it('round-trips every byte value', () => {
    const rgb = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7) % 256);
    expect(patchesToRgb(rgbToPatches(rgb, image), image)).toEqual(rgb);
  });

  it('clamps out-of-range values', () => {
    const patches = new Float32Array(64 * 64 * 3).fill(3);
    patches[0] = -5;
    const rgb = patchesToRgb(patches, image);
    expect(rgb[0]).toBe(0);
    expect(rgb[1]).toBe(255);
  });

  it('composites alpha on white', () => {
    expect(Array.from(rgbaOnWhite(Uint8Array.of(0, 0, 0, 0, 10, 20, 30, 255)))).toEqual([255, 255, 255, 10, 20, 30]);
  });
});
