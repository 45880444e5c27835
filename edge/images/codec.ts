/**
 * PNG and JPEG to RGBA (pngjs, jpeg-js) and RGB to PNG. Decoders are only reached after the
 * header check (header.ts), and jpeg-js gets its own resolution and memory caps as well.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ApiError } from '../errors.js';
import { MAX_PIXELS, type ImageHeader } from './header.js';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major. */
  rgba: Uint8Array;
}

export function decodeImage(bytes: Uint8Array, header: ImageHeader, index: number): RgbaImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let image: RgbaImage;
  try {
    if (header.format === 'png') {
      const png = PNG.sync.read(buffer);
      image = { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } else {
      const jpg = jpeg.decode(buffer, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_PIXELS / 1_000_000,
        maxMemoryUsageInMB: 256,
      });
      image = { width: jpg.width, height: jpg.height, rgba: jpg.data };
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ApiError('unsupported_image', `images[${index}]: the ${header.format.toUpperCase()} data could not be decoded (${why})`);
  }
  if (image.width !== header.width || image.height !== header.height || image.rgba.length !== image.width * image.height * 4) {
    throw new ApiError('unsupported_image', `images[${index}]: the decoded image does not match its header`);
  }
  return image;
}

/** An 8-bit RGB PNG (no alpha) of row-major RGB bytes. */
export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
}

/** Row-major RGB bytes of a PNG (alpha composited on white); for reading stored inputs back. */
export function decodePngRgb(bytes: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, o = 0; i < png.data.length; i += 4, o += 3) {
    const a = png.data[i + 3]! / 255;
    for (let c = 0; c < 3; c += 1) rgb[o + c] = Math.round(png.data[i + c]! * a + 255 * (1 - a));
  }
  return { width: png.width, height: png.height, rgb };
}
