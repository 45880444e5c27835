/**
 * A conversation's images read as the model takes them: a data URL decoded (edge/images; or
 * already decoded with the body, edge/body), or
 * an earlier output image of the caller's tenant read back from the store (another tenant's
 * or an unknown generation is 404, as everywhere). Either way the job gets its own copy.
 */

import { encodeRgbPng } from '../../shared/images/png.js';
import type { JobRepository } from '../../shared/jobs/repository.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import { type ImageGeometry, rgbToPatches } from '../../shared/runtime/index.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import type { InlineImages } from '../body/index.js';
import { ApiError } from '../errors.js';
import { getGeneration } from '../generations/service.js';
import { decodeToModelSize, type InputImage, prepareInputBytes, prepareInputImage } from '../images/index.js';
import type { ImageSource } from './spec.js';

export interface ImageReadDeps {
  jobs: JobRepository<JobRecord>;
  store: Pick<ObjectStore, 'get'>;
  tenant: string;
  /** Images read with the body, by the key that stands for them in it (edge/body). */
  inline?: InlineImages;
}

export async function readImage(deps: ImageReadDeps, source: ImageSource, geometry: ImageGeometry): Promise<InputImage> {
  if (source.kind === 'data_url') {
    try {
      const inline = deps.inline?.get(source.url);
      if (inline && !inline.ok) throw new ApiError(inline.code, inline.message);
      if (inline?.prepare) return await inline.prepare(geometry); // on the body thread, as the body was read
      return await (inline ? prepareInputBytes(inline.bytes, inline.mime, 0, geometry) : prepareInputImage(source.url, 0, geometry));
    } catch (err) {
      // The decoder names `images[0]`; say which part of the request it was.
      if (err instanceof ApiError) throw new ApiError(err.code, err.message.replace(/^images\[\d+\]/, source.where), err.headers);
      throw err;
    }
  }
  const record = await getGeneration(deps.jobs, source.generation, deps.tenant);
  const outputs = record.output.filter((p) => p.type === 'image');
  const part = outputs[source.index];
  if (!part) {
    throw new ApiError(
      'not_found',
      `${source.where}: generation ${source.generation} has no output image ${source.index} (it has ${outputs.length}${record.status === 'succeeded' ? '' : `, and is ${record.status}`})`,
    );
  }
  const object = await deps.store.get(part.key);
  if (!object)
    throw new ApiError('not_found', `${source.where}: the image ${source.index} of generation ${source.generation} is no longer stored`);
  // Outputs are PNGs of their model's size; another model's size is resized like any input.
  const { rgb } = await decodeToModelSize(object.body, 'image/png', 0, geometry);
  return { patches: rgbToPatches(rgb, geometry), png: encodeRgbPng(rgb, geometry.width, geometry.height) };
}
