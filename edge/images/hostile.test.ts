/**
 * Hostile and unusual input images: every mode the edge promises to read, and every way a
 * file can lie. Each is built in memory with a real encoder (sharp) or by hand.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { patchesToRgb } from '../../shared/runtime/index.js';
import { dataUrl, halves, jpegBytes, jpegHeaderClaiming, pngBytes, pngHeaderClaiming } from '../../test/support/images.js';
import { ApiError } from '../errors.js';
import { MAX_PIXELS, prepareInputImage } from './index.js';

const geometry = { width: 64, height: 64, patch_size: 8 };
const RED: [number, number, number] = [255, 0, 0];
const BLUE: [number, number, number] = [0, 0, 255];

async function pixels(mime: string, bytes: Uint8Array): Promise<Uint8Array> {
  return patchesToRgb((await prepareInputImage(dataUrl(mime, bytes), 0, geometry)).patches, geometry);
}
const at = (rgb: Uint8Array, x: number, y: number): number[] => [...rgb.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
const near = (actual: number[], expected: number[], tolerance = 12): void => {
  actual.forEach((v, i) => {
    expect(Math.abs(v - expected[i]!), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
  });
};

async function errorOf(mime: string, bytes: Uint8Array): Promise<{ code: string; status: number; message: string }> {
  try {
    await prepareInputImage(dataUrl(mime, bytes), 2, geometry);
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, status: err.status, message: err.message };
    throw err;
  }
  return { code: 'no error', status: 0, message: '' };
}

describe('modes the edge reads', () => {
  it('applies the EXIF orientation (a photo taken sideways comes out upright)', async () => {
    // Stored 40 wide x 20 high, left half red; orientation 6 means "rotate 90 degrees clockwise to view",
    // so the upright image is 20 x 40 with red on top.
    const stored = await halves(40, 20, RED, BLUE).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const rgb = await pixels('image/jpeg', stored);
    near(at(rgb, 32, 4), RED, 30);
    near(at(rgb, 32, 60), BLUE, 30);
  });

  it('reads a palette PNG', async () => {
    const bytes = await halves(32, 32, RED, BLUE).png({ palette: true }).toBuffer();
    const rgb = await pixels('image/png', bytes);
    near(at(rgb, 2, 30), RED);
    near(at(rgb, 60, 30), BLUE);
  });

  it('reads a grey PNG as grey', async () => {
    const bytes = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 100, g: 100, b: 100 } } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(bytes).metadata()).channels).toBe(1);
    near(at(await pixels('image/png', bytes), 10, 10), [100, 100, 100], 2);
  });

  it('reads a 16-bit PNG', async () => {
    const bytes = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 0, g: 128, b: 255 } } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(bytes).metadata()).depth).toBe('ushort');
    near(at(await pixels('image/png', bytes), 10, 10), [0, 128, 255], 2);
  });

  it('composites a half-transparent PNG on white', async () => {
    const bytes = pngBytes(8, 8, () => [0, 0, 0, 128]);
    near(at(await pixels('image/png', bytes), 5, 5), [127, 127, 127], 3);
  });

  it('reads a CMYK JPEG as sRGB', async () => {
    const bytes = await halves(32, 32, RED, BLUE).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(bytes).metadata()).space).toBe('cmyk');
    const rgb = await pixels('image/jpeg', bytes);
    const left = at(rgb, 4, 30);
    const right = at(rgb, 60, 30);
    expect(left[0]).toBeGreaterThan(180);
    expect(left[2]).toBeLessThan(80);
    expect(right[2]).toBeGreaterThan(120);
    expect(right[0]).toBeLessThan(80);
  });

  it('reads WebP, lossless and lossy', async () => {
    near(at(await pixels('image/webp', await halves(32, 32, RED, BLUE).webp({ lossless: true }).toBuffer()), 2, 2), RED, 2);
    near(at(await pixels('image/webp', await halves(32, 32, RED, BLUE).webp({ quality: 90 }).toBuffer()), 60, 2), BLUE, 40);
  });

  it('reads the first frame of an animated GIF', async () => {
    const red = await sharp({ create: { width: 16, height: 16, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    const blue = await sharp({ create: { width: 16, height: 16, channels: 3, background: 'blue' } })
      .png()
      .toBuffer();
    const gif = await sharp([red, blue], { join: { animated: true } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    near(at(await pixels('image/gif', gif), 10, 10), RED, 10);
  });

  it('reads a 4000 x 3000 photo (under the pixel limit)', async () => {
    const bytes = await halves(4000, 3000, RED, BLUE).jpeg({ quality: 80 }).toBuffer();
    const rgb = await pixels('image/jpeg', bytes);
    near(at(rgb, 5, 30), RED, 30);
  });
});

describe('files that lie or break', () => {
  it('refuses a header claiming a huge canvas with 413 image_too_large, before decoding', async () => {
    for (const [mime, bytes] of [
      ['image/png', pngHeaderClaiming(30_000, 30_000)],
      ['image/jpeg', jpegHeaderClaiming(30_000, 30_000)],
    ] as const) {
      const e = await errorOf(mime, bytes);
      expect(e, mime).toMatchObject({ code: 'image_too_large', status: 413 });
      expect(e.message).toContain('images[2]');
    }
  });

  it('refuses a real decompression bomb: a tiny PNG of 8192 x 8192 blank pixels', async () => {
    const bomb = await sharp({ create: { width: 8192, height: 8192, channels: 3, background: 'white' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(bomb.length).toBeLessThan(1_000_000);
    expect(8192 * 8192).toBeGreaterThan(MAX_PIXELS);
    expect(await errorOf('image/png', bomb)).toMatchObject({ code: 'image_too_large', status: 413 });
  });

  it('refuses truncated files with 400', async () => {
    const jpg = await halves(64, 64, RED, BLUE).jpeg().toBuffer();
    const png = await halves(64, 64, RED, BLUE).png().toBuffer();
    const webp = await halves(64, 64, RED, BLUE).webp().toBuffer();
    for (const [mime, bytes] of [
      ['image/jpeg', jpg.subarray(0, Math.floor(jpg.length / 2))],
      ['image/png', png.subarray(0, Math.floor(png.length / 2))],
      ['image/webp', webp.subarray(0, Math.floor(webp.length / 2))],
      ['image/jpeg', jpegHeaderClaiming(16, 16)],
      ['image/png', pngHeaderClaiming(16, 16)],
    ] as const) {
      expect(await errorOf(mime, bytes), `${mime} ${bytes.length} bytes`).toMatchObject({ code: 'unsupported_image', status: 400 });
    }
  });

  it('refuses a file whose declared type is not what its bytes are', async () => {
    const e = await errorOf('image/png', jpegBytes(8, 8, RED));
    expect(e).toMatchObject({ code: 'unsupported_image', status: 400 });
    expect(e.message).toMatch(/declared image\/png but the bytes are JPEG/);
  });

  it('refuses a PNG whose header lies about its size or whose checksum is wrong', async () => {
    const honest = pngBytes(8, 8, () => [10, 20, 30, 255]);
    const lying = Buffer.from(honest);
    lying.writeUInt32BE(4000, 16); // IHDR width, CRC now wrong as well
    expect(await errorOf('image/png', lying)).toMatchObject({ code: 'unsupported_image', status: 400 });
  });

  it('refuses bytes that are no image at all', async () => {
    expect(await errorOf('image/png', Buffer.from('just some text, no image'))).toMatchObject({ code: 'unsupported_image', status: 400 });
    expect(await errorOf('image/gif', Buffer.from('GIF89a'))).toMatchObject({ code: 'unsupported_image', status: 400 });
  });
});
