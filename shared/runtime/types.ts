/**
 * The model runtime's public types: what the edge and the worker use. Implemented in
 * shared/runtime/ over onnxruntime-node; see docs/model-package.md for the contract.
 */

/** A piece of a conversation: text as token ids, or an image as raw patches. */
export type Segment =
  | { readonly type: 'text'; readonly ids: readonly number[] }
  /** num_patches * patch_dim values in -1..1, layout in docs/model-package.md. */
  | { readonly type: 'image'; readonly patches: Float32Array };

/** Keys and values of a prefilled context, kept between calls. Immutable. */
export interface KvCache {
  readonly length: number;
  /** Running rotary index of the next position. */
  readonly nextIndex: number;
}

export interface TextDecodeOptions {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  seed: number;
  /**
   * Whether a `boi` stop is read into the returned cache (default true: the next image's
   * context). A caller that drops the cache (the edge) passes false: one network call less.
   */
  cacheStop?: boolean;
}

export type TextStop = 'boi' | 'eos' | 'length';

export interface TextDecodeResult {
  /** New token ids, the stop token excluded. */
  ids: number[];
  text: string;
  stop: TextStop;
  /** The cache after the decoded tokens (and the stop token when it is `boi`). */
  cache: KvCache;
}

/** One row of a batched denoising step: a job's current noisy image. */
export interface DenoiseRow {
  /** Context of the image: everything up to and including `<boi>`. */
  cond: KvCache;
  /** Unconditional context, present when guidance applies at this step. */
  uncond?: KvCache;
  /** Current noisy patches x_t (num_patches * patch_dim). */
  x: Float32Array;
  t: number;
  tNext: number;
  guidance: number;
}

export interface ModelRuntime {
  readonly manifest: import('./manifest.js').Manifest;
  readonly tokenizer: import('./tokenizer.js').Tokenizer;
  /** Extend a cache (or start one when `cache` is undefined) with segments. */
  prefill(segments: readonly Segment[], cache?: KvCache): Promise<KvCache>;
  /** Decode text from a cache until `<boi>`, `<eos>` or the budget. */
  decodeText(cache: KvCache, options: TextDecodeOptions): Promise<TextDecodeResult>;
  /** One batched Euler step for all rows in one network call; returns x at tNext for each row. */
  denoiseStep(rows: readonly DenoiseRow[]): Promise<Float32Array[]>;
  /** The sampler's time grid for a number of steps (steps + 1 values from 1 to 0). */
  timeGrid(steps: number): number[];
  /** Standard normal noise for one image, from a seed (deterministic). */
  initialNoise(seed: number): Float32Array;
  close(): Promise<void>;
}
