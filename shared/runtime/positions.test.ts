import { describe, expect, it } from 'vitest';
import { imagePositions, imageStart, textPositions } from './positions.js';

describe('multimodal rotary positions', () => {
  it('gives text (n, n, n) with a running index', () => {
    expect(textPositions(4, 3)).toEqual({ positions: [4, 4, 4, 5, 5, 5, 6, 6, 6], next: 7 });
  });

  it('gives patches (n, n + row, n + col), row-major, and advances by max(grid_h, grid_w)', () => {
    const placed = imagePositions(10, { grid_h: 2, grid_w: 3 });
    expect(placed.positions).toEqual([10, 10, 10, 10, 10, 11, 10, 10, 12, 10, 11, 10, 10, 11, 11, 10, 11, 12]);
    expect(placed.next).toBe(13);
  });

  it('places <eoi> at n + grid after an 8 x 8 image', () => {
    // <bos> <user> <boi> at 0, 1, 2; the image starts at 3; <eoi> at 3 + 8.
    const before = textPositions(0, 3);
    const image = imagePositions(before.next, { grid_h: 8, grid_w: 8 });
    const eoi = textPositions(image.next, 1);
    expect(image.positions.slice(-3)).toEqual([3, 10, 10]);
    expect(eoi.positions).toEqual([11, 11, 11]);
  });

  it('starts an image after an earlier one at that image start + gap, unless the text ran past it', () => {
    expect(imageStart(30, 10, 64)).toBe(74);
    expect(imageStart(80, 10, 64)).toBe(80);
    expect(imageStart(30, undefined, 64)).toBe(30);
    expect(imageStart(30, 10, 0)).toBe(30);
  });
});
