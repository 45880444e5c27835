/**
 * The runtime's KvCache: per-layer keys [L, S, K] and values [L, S, E] of one sequence (a
 * batch of one, so the layout equals the graph's [L, 1, S, K] and feeds it without a copy),
 * the per-position image ids the attention mask needs, and the logits after the last position
 * (what the next token is drawn from). Immutable: every extension makes a new cache.
 */
import type { KvCache } from './types.js';

export interface CacheDims {
  readonly layers: number;
  readonly keyDim: number;
  readonly valueDim: number;
}

export class TensorKvCache implements KvCache {
  constructor(
    readonly dims: CacheDims,
    /** [L, S, K], keys after rotary. */
    readonly keys: Float32Array,
    /** [L, S, E]. */
    readonly values: Float32Array,
    /** [S]: -1 at text positions, the image's id (unique within this sequence) at patches. */
    readonly imageIds: Int32Array,
    readonly nextIndex: number,
    /** Id the next image in this sequence will take. */
    readonly nextImageId: number,
    /** Running index at which the latest image started (undefined before the first). */
    readonly lastImageStart: number | undefined,
    /** Logits [vocab] after the last position; undefined for an empty cache. */
    readonly lastLogits: Float32Array | undefined,
  ) {
    const length = imageIds.length;
    if (keys.length !== dims.layers * length * dims.keyDim || values.length !== dims.layers * length * dims.valueDim) {
      throw new RangeError(`KV cache arrays do not match ${length} positions`);
    }
  }

  get length(): number {
    return this.imageIds.length;
  }

  static empty(dims: CacheDims): TensorKvCache {
    return new TensorKvCache(dims, new Float32Array(0), new Float32Array(0), new Int32Array(0), 0, 0, undefined, undefined);
  }
}

/** Narrow a public KvCache to this runtime's implementation, refusing foreign objects. */
export function asTensorCache(cache: KvCache): TensorKvCache {
  if (!(cache instanceof TensorKvCache)) throw new TypeError('KvCache was not made by this runtime');
  return cache;
}
