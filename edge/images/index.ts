/**
 * An input image, from its data URL to what the model reads: checked (mime, base64, bytes,
 * header dimensions), decoded, composited on white, resized to the model's size, and both
 * as patches (for the prefill) and as a PNG (stored under inputs/ for the worker).
 */
import { rgbaOnWhite, rgbToPatches, type ImageGeometry } from '../../shared/runtime/index.js';
import { decodeImage, encodeRgbPng } from './codec.js';
import { parseImageDataUrl } from './data-url.js';
import { readImageHeader } from './header.js';
import { resizeArea } from './resize.js';

export interface InputImage {
  /** num_patches * patch_dim values in -1..1. */
  patches: Float32Array;
  /** The model-size RGB image as PNG. */
  png: Uint8Array;
}

export function prepareInputImage(dataUrl: string, index: number, geometry: ImageGeometry, maxBytes?: number): InputImage {
  const { bytes } = parseImageDataUrl(dataUrl, index, maxBytes);
  const header = readImageHeader(bytes, index);
  const image = decodeImage(bytes, header, index);
  const rgb = resizeArea(rgbaOnWhite(image.rgba), image.width, image.height, geometry.width, geometry.height);
  return { patches: rgbToPatches(rgb, geometry), png: encodeRgbPng(rgb, geometry.width, geometry.height) };
}

export { parseImageDataUrl } from './data-url.js';
export { readImageHeader, sniffFormat, MAX_PIXELS, MAX_SIDE, type ImageHeader } from './header.js';
export { resizeArea } from './resize.js';
export { decodeImage, decodePngRgb, encodeRgbPng } from './codec.js';
