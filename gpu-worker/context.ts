/**
 * A job's stored context (text ids and image keys) to runtime segments: images are read
 * from the store as PNGs and turned into raw patches. The stored context already holds the
 * `<boi> ... <eoi>` ids around each image and ends with the `<boi>` of the image to make.
 */

import { decodePng, ImageInputError } from '../shared/images/png.js';
import type { ObjectStore } from '../shared/ports/store.js';
import type { ImageGeometry, Segment } from '../shared/runtime/index.js';
import type { ContextSegment } from '../shared/schemas/job.js';

export async function loadContext(
  context: readonly ContextSegment[],
  store: Pick<ObjectStore, 'get'>,
  image: ImageGeometry,
  boi: number,
): Promise<Segment[]> {
  const last = context[context.length - 1];
  if (last?.type !== 'text' || last.ids[last.ids.length - 1] !== boi) {
    throw new ImageInputError('the job context does not end with <boi>');
  }
  return Promise.all(
    context.map(async (segment): Promise<Segment> => {
      if (segment.type === 'text') return { type: 'text', ids: segment.ids };
      const object = await store.get(segment.key);
      if (!object) throw new ImageInputError(`input image ${segment.key} is missing`);
      try {
        return { type: 'image', patches: decodePng(object.body, image) };
      } catch (err) {
        if (err instanceof ImageInputError) throw new ImageInputError(`${segment.key}: ${err.message}`);
        throw err;
      }
    }),
  );
}
