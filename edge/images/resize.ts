/**
 * Area-average resampling of RGB bytes: each output pixel is the mean of the input area it
 * covers, with fractional weights at the edges. Downscaling by any factor keeps every input
 * pixel's contribution (no aliasing); upscaling degenerates to a blend of the nearest pixels.
 */

/** The weights of source indices covering destination index d: [start, end) in source units. */
function spans(src: number, dst: number): { first: number; weights: number[] }[] {
  const scale = src / dst;
  const out: { first: number; weights: number[] }[] = [];
  for (let d = 0; d < dst; d += 1) {
    const start = d * scale;
    const end = (d + 1) * scale;
    const first = Math.floor(start);
    const weights: number[] = [];
    for (let s = first; s < end && s < src; s += 1) {
      weights.push((Math.min(end, s + 1) - Math.max(start, s)) / scale);
    }
    out.push({ first, weights });
  }
  return out;
}

/** Resizes row-major RGB (`channels` per pixel) from w x h to outW x outH. */
export function resizeArea(
  pixels: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  channels = 3,
): Uint8Array {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`expected ${width * height * channels} values, got ${pixels.length}`);
  }
  const xs = spans(width, outWidth);
  const ys = spans(height, outHeight);
  const out = new Uint8Array(outWidth * outHeight * channels);
  const acc = new Float64Array(channels);
  for (let oy = 0; oy < outHeight; oy += 1) {
    const ySpan = ys[oy]!;
    for (let ox = 0; ox < outWidth; ox += 1) {
      const xSpan = xs[ox]!;
      acc.fill(0);
      ySpan.weights.forEach((wy, j) => {
        const row = (ySpan.first + j) * width;
        xSpan.weights.forEach((wx, i) => {
          const at = (row + xSpan.first + i) * channels;
          const w = wy * wx;
          for (let c = 0; c < channels; c += 1) acc[c]! += pixels[at + c]! * w;
        });
      });
      const o = (oy * outWidth + ox) * channels;
      for (let c = 0; c < channels; c += 1) out[o + c] = Math.min(255, Math.max(0, Math.round(acc[c]!)));
    }
  }
  return out;
}
