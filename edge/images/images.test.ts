import { describe, expect, it } from 'vitest';
import { patchesToRgb } from '../../shared/runtime/index.js';
import { ApiError } from '../errors.js';
import { decodePngRgb, parseImageDataUrl, prepareInputImage, readImageHeader, resizeArea } from './index.js';
import { dataUrl, jpegBytes, jpegHeaderClaiming, pngBytes, pngHeaderClaiming } from './test-images.js';

const geometry = { width: 64, height: 64, patch_size: 8 };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('resizeArea', () => {
  it('averages 2x2 blocks when halving', () => {
    const src = new Uint8Array([0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40]);
    expect([...resizeArea(src, 2, 2, 1, 1)]).toEqual([85, 85, 85]);
  });

  it('weights partial coverage (3 -> 2 pixels)', () => {
    const src = new Uint8Array([0, 0, 0, 90, 90, 90, 180, 180, 180]);
    // Each output covers 1.5 inputs: (0 + 0.5 * 90) / 1.5 = 30 and (0.5 * 90 + 180) / 1.5 = 150.
    expect([...resizeArea(src, 3, 1, 2, 1)]).toEqual([30, 30, 30, 150, 150, 150]);
  });

  it('keeps an image of the same size and replicates when upscaling', () => {
    const src = new Uint8Array([10, 20, 30, 40, 50, 60]);
    expect([...resizeArea(src, 2, 1, 2, 1)]).toEqual([...src]);
    expect([...resizeArea(src, 2, 1, 4, 1)]).toEqual([10, 20, 30, 10, 20, 30, 40, 50, 60, 40, 50, 60]);
  });

  it('refuses a buffer of the wrong length', () => {
    expect(() => resizeArea(new Uint8Array(5), 2, 1, 1, 1)).toThrow(RangeError);
  });
});

describe('readImageHeader', () => {
  it('reads PNG and JPEG sizes', () => {
    expect(readImageHeader(pngBytes(3, 5, () => [0, 0, 0, 255]), 0)).toEqual({ format: 'png', width: 3, height: 5 });
    expect(readImageHeader(jpegBytes(17, 9, [1, 2, 3]), 0)).toEqual({ format: 'jpeg', width: 17, height: 9 });
  });

  it('refuses huge claimed dimensions before decoding', () => {
    expect(codeOf(() => readImageHeader(pngHeaderClaiming(30000, 30000), 0))).toBe('image_dimensions_too_large');
    expect(codeOf(() => readImageHeader(jpegHeaderClaiming(30000, 30000), 0))).toBe('image_dimensions_too_large');
    expect(codeOf(() => readImageHeader(pngHeaderClaiming(4096, 4097), 0))).toBe('image_dimensions_too_large');
  });

  it('refuses bytes that are not an image and truncated headers', () => {
    expect(codeOf(() => readImageHeader(Buffer.from('hello, world'), 0))).toBe('unsupported_image');
    expect(codeOf(() => readImageHeader(pngHeaderClaiming(10, 10).subarray(0, 20), 0))).toBe('unsupported_image');
    expect(codeOf(() => readImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 0))).toBe('unsupported_image');
  });
});

describe('parseImageDataUrl', () => {
  it('decodes base64 png and jpeg data URLs', () => {
    expect(parseImageDataUrl('data:image/png;base64,AAEC', 0)).toEqual({ mime: 'image/png', bytes: new Uint8Array([0, 1, 2]) });
    expect(parseImageDataUrl('data:image/jpeg;base64,AA==', 0).mime).toBe('image/jpeg');
  });

  it.each([
    ['data:image/gif;base64,AAAA', 'unsupported_image'],
    ['data:text/plain;base64,AAAA', 'unsupported_image'],
    ['data:image/png,rawbytes', 'invalid_base64'],
    ['data:image/png;base64,@@@@', 'invalid_base64'],
    ['data:image/png;base64,AAA', 'invalid_base64'],
    ['data:image/png;base64,', 'invalid_base64'],
  ])('%s -> %s', (url, code) => expect(codeOf(() => parseImageDataUrl(url, 0))).toBe(code));

  it('refuses an oversized payload from its length alone', () => {
    expect(codeOf(() => parseImageDataUrl(`data:image/png;base64,${'A'.repeat(1000)}`, 0, 100))).toBe('image_too_large');
  });
});

describe('prepareInputImage', () => {
  it('composites alpha on white, resizes to 64x64 and makes patches and a PNG', () => {
    // Left half opaque red, right half fully transparent (-> white).
    const png = pngBytes(128, 32, (x) => (x < 64 ? [255, 0, 0, 255] : [0, 0, 0, 0]));
    const input = prepareInputImage(dataUrl('image/png', png), 0, geometry);
    expect(input.patches).toHaveLength(64 * 64 * 3);
    const rgb = patchesToRgb(input.patches, geometry);
    expect([...rgb.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...rgb.subarray(63 * 3, 64 * 3)]).toEqual([255, 255, 255]);
    const stored = decodePngRgb(input.png);
    expect(stored.width).toBe(64);
    expect(Buffer.from(stored.rgb).equals(Buffer.from(rgb))).toBe(true);
  });

  it('reads JPEG', () => {
    const input = prepareInputImage(dataUrl('image/jpeg', jpegBytes(40, 40, [0, 0, 255])), 0, geometry);
    const rgb = patchesToRgb(input.patches, geometry);
    expect(rgb[2]).toBeGreaterThan(240);
    expect(rgb[0]).toBeLessThan(15);
  });

  it('refuses a JPEG whose body is damaged', () => {
    const bytes = jpegHeaderClaiming(16, 16);
    expect(codeOf(() => prepareInputImage(dataUrl('image/jpeg', bytes), 1, geometry))).toBe('unsupported_image');
  });
});
