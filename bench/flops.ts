/**
 * Floating-point operations of one denoising row, counted from the manifest's model config
 * (model/model.py): every matrix multiply the graph executes, at 2 operations per
 * multiply-add. Elementwise work (norms, rotary, softmax, SiLU) is left out: it is a few
 * percent and no matrix unit does it.
 */
export interface ModelShape {
  d_model: number;
  n_layers: number;
  expansion: number;
  qk_dim: number;
  vocab_size: number;
  time_freq_dim: number;
  patch_dim: number;
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
  const heads = (logits ? 2 * d * V : 0) + 2 * d * pd; // lm_head (full graph only) + patch_out
  return newPositions * (embed + L * layer + heads);
}

/** Weights of the dense layers (what int8 quantizes), for the record. */
export function denseParams(m: ModelShape): number {
  const { d_model: d, n_layers: L, expansion: e, qk_dim: s, vocab_size: V, time_freq_dim: tf, patch_dim: pd } = m;
  return pd * d + tf * d + d * d + L * (d * (2 * e + s) + e * d) + d * V + d * pd;
}
