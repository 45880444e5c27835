/**
 * PNG <-> patches at the model's image geometry (pngjs, synchronous: images are 64 x 64).
 * Encoding is deterministic (fixed filter and compression level), so a redelivered job
 * writes byte-identical files.
 */
import { PNG } from 'pngjs';
import { patchesToRgb, rgbaOnWhite, rgbToPatches, type ImageGeometry } from '../shared/runtime/index.js';

export class ImageInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageInputError';
  }
}

export function encodePng(patches: Float32Array, image: ImageGeometry): Uint8Array {
  const rgb = patchesToRgb(patches, image);
  const png = new PNG({ width: image.width, height: image.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, filterType: 4, deflateLevel: 6 }));
}

/** A PNG of exactly the model's size to patches (alpha composited on white). */
export function decodePng(bytes: Uint8Array, image: ImageGeometry): Float32Array {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new ImageInputError(`not a readable PNG: ${(err as Error).message}`);
  }
  if (png.width !== image.width || png.height !== image.height) {
    throw new ImageInputError(`image is ${png.width}x${png.height}, the model takes ${image.width}x${image.height}`);
  }
  // pngjs always hands back RGBA, whatever the file's colour type.
  return rgbToPatches(rgbaOnWhite(new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength)), image);
}
