/**
 * The text side of a generation: prefill the user turn and decode until `<boi>`, `<eos>` or
 * the budget. A dependency of the app (real runtime by default) so that a test can force
 * the image path, which a random-weight model only takes by chance.
 */
import type { ModelRuntime, Segment, TextDecodeOptions, TextStop } from '../shared/runtime/index.js';

export interface DecodedText {
  /** Generated ids, the stop token excluded. */
  ids: number[];
  text: string;
  stop: TextStop;
}

export type TextDecodeFn = (runtime: ModelRuntime, segments: readonly Segment[], options: TextDecodeOptions) => Promise<DecodedText>;

export const decodeWithRuntime: TextDecodeFn = async (runtime, segments, options) => {
  const cache = await runtime.prefill(segments);
  const { ids, text, stop } = await runtime.decodeText(cache, options);
  return { ids, text, stop };
};
