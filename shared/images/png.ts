/**
 * The one PNG codec of the model-size images that the edge stores under inputs/ and the
 * worker reads back and writes under outputs/ (pngjs, synchronous: they are 64 x 64).
 * Encoding is byte-stable (fixed colour type, filter and compression level), so a
 * redelivered job writes identical files and a stored input's bytes depend only on its pixels.
 * Arbitrary user images are decoded elsewhere (edge/images/, sharp).
 */
import { PNG } from 'pngjs';
import { type ImageGeometry, patchesToRgb, rgbaOnWhite, rgbToPatches } from '../runtime/index.js';

/** A stored image the worker cannot use: the job fails (its input is bad), it is not retried. */
export class ImageInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageInputError';
  }
}

const ENCODE = { colorType: 2, inputColorType: 2, inputHasAlpha: false, filterType: 4, deflateLevel: 6 } as const;

/** An 8-bit RGB PNG (no alpha) of row-major RGB bytes. */
export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  if (rgb.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return new Uint8Array(PNG.sync.write(png, ENCODE));
}

/** Row-major RGB bytes of any PNG (alpha composited on white). */
export function decodePngRgb(bytes: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new ImageInputError(`not a readable PNG: ${(err as Error).message}`);
  }
  // pngjs always hands back RGBA, whatever the file's colour type.
  return {
    width: png.width,
    height: png.height,
    rgb: rgbaOnWhite(new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength)),
  };
}

/** Patches (values in -1..1) as a PNG of the model's size. */
export function encodePng(patches: Float32Array, image: ImageGeometry): Uint8Array {
  return encodeRgbPng(patchesToRgb(patches, image), image.width, image.height);
}

/** A PNG of exactly the model's size to patches. */
export function decodePng(bytes: Uint8Array, image: ImageGeometry): Float32Array {
  const { width, height, rgb } = decodePngRgb(bytes);
  if (width !== image.width || height !== image.height) {
    throw new ImageInputError(`image is ${width}x${height}, the model takes ${image.width}x${image.height}`);
  }
  return rgbToPatches(rgb, image);
}
