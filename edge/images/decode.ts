/**
 * An untrusted image file to the model's RGB pixels with sharp (libvips, on libuv's thread
 * pool: the event loop only waits). In order:
 *  1. the bytes must be the format they claim (formats.ts);
 *  2. the header alone gives the size: over MAX_PIXELS is refused (413) before any pixel is
 *     decoded, and libvips gets the same limit as a second guard;
 *  3. decode the first frame only (GIF, animated WebP), fail on any warning (a truncated or
 *     damaged file is refused, not half-read), turn by the EXIF orientation, convert any
 *     colour space (palette, grey, 16-bit, CMYK with or without a profile) to 8-bit sRGB,
 *     composite alpha on white, resize to the model's size (stretched, as training images
 *     fill the canvas).
 */
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { ApiError } from '../errors.js';
import { INPUT_FORMATS, type InputMime, sniffFormat } from './formats.js';

/** 16.7 megapixels (4096 x 4096): a 4000 x 3000 photo passes, a decompression bomb does not. */
export const MAX_PIXELS = 4096 * 4096;

/**
 * libvips gets one thread per image, and at most (cores - 1) images are decoded at once:
 * a burst of large photos then leaves a core to the event loop instead of starving it.
 */
sharp.concurrency(1);
const MAX_DECODES = Math.max(1, availableParallelism() - 1);
let decoding = 0;
const waiting: (() => void)[] = [];

async function withDecodeSlot<T>(work: () => Promise<T>): Promise<T> {
  if (decoding >= MAX_DECODES) await new Promise<void>((resolve) => waiting.push(resolve));
  decoding += 1;
  try {
    return await work();
  } finally {
    decoding -= 1;
    waiting.shift()?.();
  }
}

export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major. */
  rgb: Uint8Array;
}

export async function decodeToModelSize(
  bytes: Uint8Array,
  mime: InputMime,
  index: number,
  size: { width: number; height: number },
): Promise<RgbImage> {
  const where = `images[${index}]`;
  const actual = sniffFormat(bytes);
  if (!actual) throw new ApiError('unsupported_image', `${where}: the bytes are not a PNG, JPEG, WebP or GIF image`);
  if (actual !== INPUT_FORMATS[mime]) {
    throw new ApiError('unsupported_image', `${where}: declared ${mime} but the bytes are ${actual.toUpperCase()}`);
  }
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const options = { failOn: 'warning', limitInputPixels: MAX_PIXELS, pages: 1, page: 0 } as const;

  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(input, options).metadata());
  } catch (err) {
    throw damaged(where, actual, err);
  }
  if (!width || !height) throw new ApiError('unsupported_image', `${where}: the ${actual.toUpperCase()} header gives no size`);
  if (width * height > MAX_PIXELS) {
    throw new ApiError(
      'image_too_large',
      `${where}: ${width}x${height} pixels; at most ${MAX_PIXELS} pixels (${MAX_PIXELS / 1_048_576} megapixels)`,
    );
  }

  try {
    const { data, info } = await withDecodeSlot(() =>
      sharp(input, options)
        .autoOrient()
        .toColourspace('srgb')
        .flatten({ background: '#ffffff' })
        .resize(size.width, size.height, { fit: 'fill', kernel: 'linear' })
        .removeAlpha()
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true }),
    );
    if (info.width !== size.width || info.height !== size.height || info.channels !== 3 || data.length !== size.width * size.height * 3) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}`);
    }
    return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw damaged(where, actual, err);
  }
}

function damaged(where: string, format: string, err: unknown): ApiError {
  const why = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
  if (/pixel limit/i.test(why)) return new ApiError('image_too_large', `${where}: more than ${MAX_PIXELS} pixels`);
  return new ApiError('unsupported_image', `${where}: the ${format.toUpperCase()} data could not be decoded (${why})`);
}
