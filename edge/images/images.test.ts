import { describe, expect, it } from 'vitest';
import { decodePngRgb } from '../../shared/images/png.js';
import { patchesToRgb } from '../../shared/runtime/index.js';
import { dataUrl, jpegBytes, pngBytes } from '../../test/support/images.js';
import { ApiError } from '../errors.js';
import { parseImageDataUrl, prepareInputImage, sniffFormat } from './index.js';

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

describe('sniffFormat', () => {
  it('knows the four formats by their magic numbers', () => {
    expect(sniffFormat(pngBytes(1, 1, () => [0, 0, 0, 255]))).toBe('png');
    expect(sniffFormat(jpegBytes(1, 1, [0, 0, 0]))).toBe('jpeg');
    expect(sniffFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffFormat(Buffer.from('GIF89a'))).toBe('gif');
    expect(sniffFormat(Buffer.from('hello, world'))).toBeNull();
  });
});

describe('parseImageDataUrl', () => {
  it('decodes base64 data URLs of the four types', () => {
    expect(parseImageDataUrl('data:image/png;base64,AAEC', 0)).toEqual({ mime: 'image/png', bytes: new Uint8Array([0, 1, 2]) });
    for (const mime of ['image/jpeg', 'image/webp', 'image/gif']) expect(parseImageDataUrl(`data:${mime};base64,AA==`, 0).mime).toBe(mime);
  });

  it.each([
    ['data:image/tiff;base64,AAAA', 'unsupported_image'],
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
  it('composites alpha on white, resizes to 64x64 and makes patches and a PNG in the shared codec', async () => {
    // Left half opaque red, right half fully transparent (-> white).
    const png = pngBytes(128, 32, (x) => (x < 64 ? [255, 0, 0, 255] : [0, 0, 0, 0]));
    const input = await prepareInputImage(dataUrl('image/png', png), 0, geometry);
    expect(input.patches).toHaveLength(64 * 64 * 3);
    const rgb = patchesToRgb(input.patches, geometry);
    expect([...rgb.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...rgb.subarray(63 * 3, 64 * 3)]).toEqual([255, 255, 255]);
    const stored = decodePngRgb(input.png);
    expect(stored.width).toBe(64);
    expect(Buffer.from(stored.rgb).equals(Buffer.from(rgb))).toBe(true);
  });

  it('keeps a model-size image exactly (what the model drew, described back)', async () => {
    const png = pngBytes(64, 64, (x, y) => [(x * 4) % 256, (y * 4) % 256, (x * y) % 256, 255]);
    const input = await prepareInputImage(dataUrl('image/png', png), 0, geometry);
    const rgb = patchesToRgb(input.patches, geometry);
    const expected = decodePngRgb(png).rgb;
    expect(Buffer.from(rgb).equals(Buffer.from(expected))).toBe(true);
  });

  it('reads JPEG', async () => {
    const input = await prepareInputImage(dataUrl('image/jpeg', jpegBytes(40, 40, [0, 0, 255])), 0, geometry);
    const rgb = patchesToRgb(input.patches, geometry);
    expect(rgb[2]).toBeGreaterThan(240);
    expect(rgb[0]).toBeLessThan(15);
  });
});
