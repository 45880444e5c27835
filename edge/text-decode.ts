/**
 * The text side of a generation: prefill the user turn and decode until `<boi>`, `<eos>` or
 * the budget, with the model the request named. A decoder owns its models and its
 * concurrency: the Node server's runs on a worker thread with its own sessions
 * (./decode-thread), one decode at a time; Lambda's runs on the event loop
 * (`eventLoopDecoder`); a test can inject one that forces the image path, which a
 * random-weight model only takes by chance.
 */
import type { ModelRuntime, Segment, TextDecodeOptions, TextStop } from '../shared/runtime/index.js';
import { createLimiter } from './limiter.js';

export interface DecodedText {
  /** Generated ids, the stop token excluded. */
  ids: number[];
  text: string;
  stop: TextStop;
}

/** Decodes with the named model (a name the app has already checked against its registry). */
export type TextDecodeFn = (model: string, segments: readonly Segment[], options: TextDecodeOptions) => Promise<DecodedText>;

/** One decode on `runtime`, on the calling thread; its cache is dropped (the worker prefills the stored context itself). */
export async function decodeText(runtime: ModelRuntime, segments: readonly Segment[], options: TextDecodeOptions): Promise<DecodedText> {
  const cache = await runtime.prefill(segments);
  const { ids, text, stop } = await runtime.decodeText(cache, { ...options, cacheStop: false });
  return { ids, text, stop };
}

/** A model's runtime by name (a RuntimeSet's `get`). */
export type RuntimeLookup = (model: string) => Promise<ModelRuntime>;

/**
 * Decodes on this thread's event loop, at most `concurrency` at once whatever the model
 * (default 1: the decode is compute-bound, and more at once than there are cores only makes
 * each slower).
 */
export function eventLoopDecoder(runtimes: RuntimeLookup, concurrency = 1): TextDecodeFn {
  const limit = createLimiter(concurrency);
  return (model, segments, options) => limit(async () => decodeText(await runtimes(model), segments, options));
}
