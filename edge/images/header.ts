/**
 * Reads an image's format and dimensions from its header alone, so that a small file that
 * claims a huge canvas (a decompression bomb) is refused before a decoder allocates for it.
 */
import { ApiError } from '../errors.js';

export type ImageFormat = 'png' | 'jpeg';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

export const MAX_SIDE = 4096;
export const MAX_PIXELS = 16_777_216;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Width and height from the PNG IHDR chunk, which must come first. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== 'IHDR') return null;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Width and height from the first JPEG start-of-frame segment. */
function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  let i = 2; // after SOI
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan data before any frame
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (length < 2) return null;
    if (isStartOfFrame(marker)) {
      if (i + 9 > bytes.length) return null;
      return { height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]! };
    }
    i += 2 + length;
  }
  return null;
}

/** The image's header, or an ApiError: not an image, or dimensions beyond the limits. */
export function readImageHeader(bytes: Uint8Array, index: number): ImageHeader {
  const where = `images[${index}]`;
  const format = sniffFormat(bytes);
  if (!format) throw new ApiError('unsupported_image', `${where}: the bytes are not a PNG or JPEG image`);
  const size = format === 'png' ? pngSize(bytes) : jpegSize(bytes);
  if (!size) throw new ApiError('unsupported_image', `${where}: the ${format.toUpperCase()} header is damaged or incomplete`);
  const { width, height } = size;
  if (width === 0 || height === 0) throw new ApiError('unsupported_image', `${where}: the image is empty (${width}x${height})`);
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new ApiError(
      'image_dimensions_too_large',
      `${where}: ${width}x${height} pixels; at most ${MAX_SIDE} pixels a side and ${MAX_PIXELS / 1_048_576} megapixels`,
    );
  }
  return { format, width, height };
}
