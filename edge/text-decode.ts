/**
 * The text side of a generation: prefill the user turn and decode until `<boi>`, `<eos>` or
 * the budget. A dependency of the app: on a worker thread in the Node server
 * (./decode-thread), on the event loop under Lambda, and replaceable so that a test can
 * force the image path, which a random-weight model only takes by chance. A decoder owns
 * its concurrency: the thread serves one decode at a time; on the event loop, `limited`.
 */
import type { ModelRuntime, Segment, TextDecodeOptions, TextStop } from '../shared/runtime/index.js';
import type { Limiter } from './limiter.js';

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

/** A decoder that runs at most as many decodes at once as the limiter lets through. */
export function limited(decode: TextDecodeFn, limit: Limiter): TextDecodeFn {
  return (runtime, segments, options) => limit(() => decode(runtime, segments, options));
}
