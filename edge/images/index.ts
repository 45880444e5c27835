/**
 * An input image, from its data URL to what the model reads: checked (type, base64, bytes,
 * pixel count), decoded off the event loop (decode.ts), and both as patches (for the
 * prefill) and as a PNG (stored under inputs/ for the worker, in the codec the worker reads).
 */
import { encodeRgbPng } from '../../shared/images/png.js';
import { type ImageGeometry, rgbToPatches } from '../../shared/runtime/index.js';
import { parseImageDataUrl } from './data-url.js';
import { decodeToModelSize } from './decode.js';
import type { InputMime } from './formats.js';

export interface InputImage {
  /** num_patches * patch_dim values in -1..1. */
  patches: Float32Array;
  /** The model-size RGB image as PNG. */
  png: Uint8Array;
}

export async function prepareInputImage(dataUrl: string, index: number, geometry: ImageGeometry, maxBytes?: number): Promise<InputImage> {
  const { mime, bytes } = parseImageDataUrl(dataUrl, index, maxBytes);
  return prepareInputBytes(bytes, mime, index, geometry);
}

/** The same from the image's bytes (a multipart upload, or a data URL decoded with its body). */
export async function prepareInputBytes(bytes: Uint8Array, mime: InputMime, index: number, geometry: ImageGeometry): Promise<InputImage> {
  const { rgb } = await decodeToModelSize(bytes, mime, index, geometry);
  return { patches: rgbToPatches(rgb, geometry), png: encodeRgbPng(rgb, geometry.width, geometry.height) };
}

export { parseImageDataUrl } from './data-url.js';
export { decodeToModelSize, MAX_PIXELS } from './decode.js';
export { INPUT_FORMATS, type InputMime, sniffFormat } from './formats.js';
