/**
 * The text side of a generation: prefill the user turn and decode until `<boi>`, `<eos>` or
 * the budget. A decoder owns its model and its concurrency: the Node server's runs on a
 * worker thread with its own session (./decode-thread), one decode at a time; Lambda's runs
 * on the event loop (`eventLoopDecoder`); a test can inject one that forces the image path,
 * which a random-weight model only takes by chance.
 */
import type { ModelRuntime, Segment, TextDecodeOptions, TextStop } from '../shared/runtime/index.js';
import { createLimiter } from './limiter.js';

export interface DecodedText {
  /** Generated ids, the stop token excluded. */
  ids: number[];
  text: string;
  stop: TextStop;
}

export type TextDecodeFn = (segments: readonly Segment[], options: TextDecodeOptions) => Promise<DecodedText>;

/** One decode on `runtime`, on the calling thread. */
export async function decodeText(runtime: ModelRuntime, segments: readonly Segment[], options: TextDecodeOptions): Promise<DecodedText> {
  const cache = await runtime.prefill(segments);
  const { ids, text, stop } = await runtime.decodeText(cache, options);
  return { ids, text, stop };
}

/**
 * Decodes on this thread's event loop, at most `concurrency` at once (default 1: the decode
 * is compute-bound, and more at once than there are cores only makes each slower).
 */
export function eventLoopDecoder(runtime: ModelRuntime, concurrency = 1): TextDecodeFn {
  const limit = createLimiter(concurrency);
  return (segments, options) => limit(() => decodeText(runtime, segments, options));
}
