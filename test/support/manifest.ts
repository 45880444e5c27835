/** Manifests for tests that parse one: small, but complete as the schema asks. */
import { createHash } from 'node:crypto';

export const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

/** A small but complete manifest, listing the given files. */
export function smallManifest(files: Record<string, string>): Record<string, unknown> {
  const tensor = (name: string) => ({ name, dtype: 'float32', shape: ['batch', 'new'] });
  return {
    format: 'unified-model-package',
    format_version: 1,
    image: { height: 64, width: 64, channels: 3, patch_size: 8, grid_h: 8, grid_w: 8, num_patches: 64, patch_dim: 192 },
    tokenizer: {
      file: 'tokenizer.json',
      type: 'byte-bpe',
      vocab_size: 263,
      chunk_pattern: ' ?[^ \\t\\n\\r\\f\\v]+|[ \\t\\n\\r\\f\\v]+',
      special_tokens: { bos: 256, eos: 257, user: 258, assistant: 259, boi: 260, eoi: 261, pad: 262 },
    },
    rope: { sections: 3 },
    graph: {
      file: 'model.onnx',
      num_layers: 2,
      key_dim: 16,
      value_dim: 32,
      inputs: ['tokens', 'patches', 'is_image', 'noise_level', 'positions', 'attention_mask', 'past_keys', 'past_values'].map(tensor),
      outputs: ['logits', 'denoised', 'present_keys', 'present_values'].map(tensor),
    },
    diffusion: { sampler: 'euler', default_steps: 10, default_guidance: 2, time_shift: 1, guidance_interval: [0, 1] },
    files: Object.fromEntries(
      Object.entries(files).map(([name, body]) => [name, { sha256: sha256(body), bytes: Buffer.byteLength(body) }]),
    ),
    data_card: { name: 'none' },
  };
}
