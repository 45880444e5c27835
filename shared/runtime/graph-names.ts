/** The serving graph's input and output names, fixed by docs/model-package.md. */
export const GRAPH_INPUTS = [
  'tokens',
  'patches',
  'is_image',
  'noise_level',
  'positions',
  'attention_mask',
  'past_keys',
  'past_values',
] as const;
export const GRAPH_OUTPUTS = ['logits', 'denoised', 'present_keys', 'present_values'] as const;
export type GraphOutput = (typeof GRAPH_OUTPUTS)[number];
