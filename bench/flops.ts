/**
 * Floating-point operations of one denoising row, counted from the manifest's model config
 * (model/network/transformer.py): every matrix multiply the graph executes, convolutions included, at 2
 * operations per multiply-add. Elementwise work (norms, rotary, softmax, SiLU) is left out:
 * it is a few percent and no matrix unit does it.
 */
export interface ModelShape {
  d_model: number;
  n_layers: number;
  expansion: number;
  qk_dim: number;
  vocab_size: number;
  time_freq_dim: number;
  patch_dim: number;
  /** The pixel head (model.PixelHead); width 0: none. */
  pixel?: { width: number; features: number; layers: number; patch_size: number; channels: number };
}

/**
 * One position's pixel head: the token's features for its pixels, then 3 x 3 convolutions
 * over the patch and a halo of one pixel per layer, each layer's output a ring smaller.
 */
export function pixelHeadFlops(m: ModelShape): number {
  if (!m.pixel || m.pixel.width === 0) return 0;
  const { width: w, features: c, layers, patch_size: p, channels: ch } = m.pixel;
  let flops = 2 * m.d_model * p * p * c;
  let channelsIn = 2 * ch + 1 + c;
  for (let i = 0; i < layers; i++) {
    const side = p + 2 * (layers - i - 1);
    const channelsOut = i === layers - 1 ? ch : w;
    flops += 2 * side * side * channelsIn * channelsOut * 9;
    channelsIn = channelsOut;
  }
  return flops;
}

/**
 * One row: `newPositions` patches after `past` cached positions (padded past included: the
 * graph computes it). `logits`: whether the graph computes the LM head (the full graph does,
 * the denoise-only cut does not).
 */
export function rowFlops(m: ModelShape, past: number, newPositions: number, logits = true): number {
  const { d_model: d, n_layers: L, expansion: e, qk_dim: s, vocab_size: V, time_freq_dim: tf, patch_dim: pd } = m;
  const S = past + newPositions;
  const embed = 2 * pd * d + 2 * (tf * d + d * d); // patch_in + time MLP (computed at every position)
  const layer = 2 * d * (2 * e + s) + 2 * e * d + 2 * s * S + 2 * e * S; // proj, out, q.k, att.v
  const heads = (logits ? 2 * d * V : 0) + 2 * d * pd + pixelHeadFlops(m); // lm_head (full graph only), patch_out, pixel head
  return newPositions * (embed + L * layer + heads);
}
