/**
 * Multimodal rotary positions (docs/model-package.md, "Positions"): every position carries
 * (p0, p1, p2). Text at running index n is (n, n, n); the patches of an image starting at n
 * are (n, n + row, n + col), and the running index then jumps to n + max(grid_h, grid_w).
 * A package with `rope.image_gap` starts an image that follows an earlier one at that
 * image's start + gap (see imageStart).
 */

export interface Grid {
  readonly grid_h: number;
  readonly grid_w: number;
}

export interface Placed {
  /** Flat [count, 3] triples. */
  readonly positions: number[];
  /** Running index after these positions. */
  readonly next: number;
}

/** `count` text tokens starting at running index `start`. */
export function textPositions(start: number, count: number): Placed {
  const positions: number[] = [];
  for (let i = 0; i < count; i += 1) positions.push(start + i, start + i, start + i);
  return { positions, next: start + count };
}

/** One image's patches (row-major over the grid) starting at running index `start`. */
export function imagePositions(start: number, grid: Grid): Placed {
  const positions: number[] = [];
  for (let row = 0; row < grid.grid_h; row += 1) {
    for (let col = 0; col < grid.grid_w; col += 1) positions.push(start, start + row, start + col);
  }
  return { positions, next: start + Math.max(grid.grid_h, grid.grid_w) };
}

/**
 * Where the next image starts. With a gap (`rope.image_gap`), an image after an earlier one
 * starts `gap` positions after that image's start, unless the text between ran past it: a
 * patch and the same cell of the image before it then sit at one rotary offset whatever text
 * lies between, which is what lets the model copy an input image it edits. Gap 0 (packages
 * trained before it): the running index.
 */
export function imageStart(nextIndex: number, lastImageStart: number | undefined, gap: number): number {
  if (gap <= 0 || lastImageStart === undefined) return nextIndex;
  return Math.max(nextIndex, lastImageStart + gap);
}
