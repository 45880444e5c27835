/**
 * Lays segments out as graph rows: one entry per new position with its token, patch values,
 * noise level, rotary position and image id. Text positions carry zeros for patches; patch
 * positions carry the `pad` token, which the graph ignores there.
 */

import { type Grid, imagePositions, imageStart, textPositions } from './positions.js';
import type { Segment } from './types.js';

export interface LayoutGeometry extends Grid {
  readonly num_patches: number;
  readonly patch_dim: number;
  readonly padId: number;
  /** The package's `rope.image_gap` (0 when it has none). */
  readonly imageGap: number;
}

/** Where a sequence stands: the running rotary index, the next image's id and where its latest image started. */
export interface SequenceState {
  readonly nextIndex: number;
  readonly nextImageId: number;
  readonly lastImageStart: number | undefined;
}

export interface RowLayout {
  readonly length: number;
  readonly tokens: number[];
  /** [length, patch_dim]. */
  readonly patches: Float32Array;
  readonly noiseLevel: Float32Array;
  /** Flat [length, 3]. */
  readonly positions: number[];
  /** -1 at text, the image id at patches. */
  readonly imageIds: Int32Array;
  readonly end: SequenceState;
}

/** Lay out segments after `start`; image segments get noise level `noiseLevel` (0 = clean). */
export function layoutSegments(segments: readonly Segment[], start: SequenceState, geometry: LayoutGeometry, noiseLevel = 0): RowLayout {
  const length = segments.reduce((n, s) => n + (s.type === 'text' ? s.ids.length : geometry.num_patches), 0);
  const tokens: number[] = [];
  const patches = new Float32Array(length * geometry.patch_dim);
  const noise = new Float32Array(length);
  const positions: number[] = [];
  const imageIds = new Int32Array(length).fill(-1);
  let { nextIndex, nextImageId, lastImageStart } = start;
  for (const segment of segments) {
    const offset = tokens.length;
    if (segment.type === 'text') {
      const placed = textPositions(nextIndex, segment.ids.length);
      tokens.push(...segment.ids);
      positions.push(...placed.positions);
      nextIndex = placed.next;
      continue;
    }
    const expected = geometry.num_patches * geometry.patch_dim;
    if (segment.patches.length !== expected) {
      throw new RangeError(`image segment has ${segment.patches.length} values, expected ${expected} (num_patches * patch_dim)`);
    }
    lastImageStart = imageStart(nextIndex, lastImageStart, geometry.imageGap);
    const placed = imagePositions(lastImageStart, geometry);
    for (let i = 0; i < geometry.num_patches; i += 1) tokens.push(geometry.padId);
    patches.set(segment.patches, offset * geometry.patch_dim);
    noise.fill(noiseLevel, offset, offset + geometry.num_patches);
    imageIds.fill(nextImageId, offset, offset + geometry.num_patches);
    positions.push(...placed.positions);
    nextIndex = placed.next;
    nextImageId += 1;
  }
  return { length, tokens, patches, noiseLevel: noise, positions, imageIds, end: { nextIndex, nextImageId, lastImageStart } };
}
