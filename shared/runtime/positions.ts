/**
 * Multimodal rotary positions (docs/model-package.md, "Positions"): every position carries
 * (p0, p1, p2). Text at running index n is (n, n, n); the patches of an image starting at n
 * are (n, n + row, n + col), and the running index then jumps to n + max(grid_h, grid_w).
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
