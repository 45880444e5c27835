/**
 * The additive attention mask (docs/model-package.md, "Attention rule"): a query sees a key
 * iff the key is not padding and (the key comes no later than the query, or both are patches
 * of the same image). Rows of a batch have different past lengths: each row's past is
 * left-aligned in [0, P) and the rest is padding; new positions follow at [P, P + T).
 */

/** Added to the attention score of a key a query must not see. */
export const MASKED = -1e9;

/**
 * Per-position image membership: -1 for text, otherwise an image id unique within the row's
 * sequence, so that "patches of the same image" is `id >= 0 && idA === idB`.
 */
export type ImageIds = ArrayLike<number>;

export interface MaskRow {
  /** The row's cached positions (length P_b <= pastLength). */
  readonly past: ImageIds;
  /** The row's new positions (length T_b <= newLength); the rest of T is padding. */
  readonly next: ImageIds;
}

/** [B, T, P + T] additive mask for rows padded to `pastLength` past and `newLength` new positions. */
export function attentionMask(rows: readonly MaskRow[], pastLength: number, newLength: number): Float32Array {
  const keys = pastLength + newLength;
  const mask = new Float32Array(rows.length * newLength * keys).fill(MASKED);
  rows.forEach((row, b) => {
    if (row.past.length > pastLength || row.next.length > newLength) {
      throw new RangeError(`mask row ${b} is longer than the batch (${row.past.length}/${pastLength}, ${row.next.length}/${newLength})`);
    }
    for (let q = 0; q < newLength; q += 1) {
      const base = (b * newLength + q) * keys;
      if (q >= row.next.length) {
        // A padding query: let it see itself only, so that its softmax stays well defined.
        mask[base + pastLength + q] = 0;
        continue;
      }
      // Every real past key comes before every new query.
      for (let s = 0; s < row.past.length; s += 1) mask[base + s] = 0;
      const qImage = row.next[q]!;
      for (let k = 0; k < row.next.length; k += 1) {
        const kImage = row.next[k]!;
        if (k <= q || (qImage >= 0 && qImage === kImage)) mask[base + pastLength + k] = 0;
      }
    }
  });
  return mask;
}
