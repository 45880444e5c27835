/**
 * Patches <-> RGB pixels (docs/model-package.md, "Images and patches"): patches row-major over
 * the grid, values inside a patch ordered (row, column, channel), pixel v <-> v / 127.5 - 1.
 */

export interface ImageGeometry {
  readonly height: number;
  readonly width: number;
  readonly patch_size: number;
}

const CHANNELS = 3;

/** Visits every pixel channel once: (index in the RGB buffer, index in the patch array). */
function forEachPixel(image: ImageGeometry, visit: (rgbIndex: number, patchIndex: number) => void): void {
  const p = image.patch_size;
  const gridW = image.width / p;
  const patchDim = p * p * CHANNELS;
  for (let y = 0; y < image.height; y += 1) {
    const gy = Math.floor(y / p);
    const py = y % p;
    for (let x = 0; x < image.width; x += 1) {
      const patch = gy * gridW + Math.floor(x / p);
      const inPatch = (py * p + (x % p)) * CHANNELS;
      const rgb = (y * image.width + x) * CHANNELS;
      for (let c = 0; c < CHANNELS; c += 1) visit(rgb + c, patch * patchDim + inPatch + c);
    }
  }
}

/** RGB bytes (height * width * 3, row-major) to patch values in -1..1. */
export function rgbToPatches(rgb: Uint8Array, image: ImageGeometry): Float32Array {
  const size = image.height * image.width * CHANNELS;
  if (rgb.length !== size) throw new RangeError(`expected ${size} RGB bytes, got ${rgb.length}`);
  const patches = new Float32Array(size);
  forEachPixel(image, (rgbIndex, patchIndex) => {
    patches[patchIndex] = rgb[rgbIndex]! / 127.5 - 1;
  });
  return patches;
}

/** Patch values to RGB bytes: round((x + 1) * 127.5) clamped to 0..255. */
export function patchesToRgb(patches: Float32Array, image: ImageGeometry): Uint8Array {
  const size = image.height * image.width * CHANNELS;
  if (patches.length !== size) throw new RangeError(`expected ${size} patch values, got ${patches.length}`);
  const rgb = new Uint8Array(size);
  forEachPixel(image, (rgbIndex, patchIndex) => {
    const v = Math.round((patches[patchIndex]! + 1) * 127.5);
    rgb[rgbIndex] = Number.isNaN(v) ? 0 : Math.min(255, Math.max(0, v));
  });
  return rgb;
}

/** RGBA bytes to RGB, compositing alpha on a white background (the contract's rule for inputs). */
export function rgbaOnWhite(rgba: Uint8Array): Uint8Array {
  if (rgba.length % 4 !== 0) throw new RangeError(`RGBA length ${rgba.length} is not a multiple of 4`);
  const rgb = new Uint8Array((rgba.length / 4) * CHANNELS);
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += CHANNELS) {
    const alpha = rgba[i + 3]! / 255;
    for (let c = 0; c < CHANNELS; c += 1) rgb[o + c] = Math.round(rgba[i + c]! * alpha + 255 * (1 - alpha));
  }
  return rgb;
}
