/**
 * The models this edge serves, as `GET /v1/models` lists them (OpenAI's list shape, extended
 * with what each model is for, from its manifest).
 *
 * ADAPTER, to be replaced by the multi-model work (issue 11): today the edge serves one
 * package, so the catalog has one entry. It follows the contract that work defines:
 * `{object: "list", data: [{id, object: "model", created, owned_by, name, description,
 * image: {width, height}, prompts: {draw_prefix, draw_template?, describe_prompt, styles?},
 * licenses, default}]}`. The OpenAI routes and the playground depend only on `ModelCatalog`.
 */
import { z } from 'zod';
import { DEFAULT_PROMPTS, type ModelInfo } from '../../shared/runtime/index.js';
import { ApiError } from '../errors.js';

export const ModelEntry = z
  .object({
    id: z.string().min(1),
    object: z.literal('model'),
    /** Unix seconds. */
    created: z.number().int().min(0),
    owned_by: z.string().min(1),
    name: z.string().min(1),
    description: z.string(),
    image: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
    prompts: z.object({
      draw_prefix: z.string(),
      draw_template: z.string().optional(),
      describe_prompt: z.string(),
      styles: z.array(z.string()).optional(),
    }),
    licenses: z.array(z.string()),
    default: z.boolean(),
  })
  .meta({ id: 'Model' });
export type ModelEntry = z.infer<typeof ModelEntry>;

export const ModelList = z.object({ object: z.literal('list'), data: z.array(ModelEntry) }).meta({ id: 'ModelList' });
export type ModelList = z.infer<typeof ModelList>;

export interface ServedModel {
  readonly entry: ModelEntry;
  readonly info: ModelInfo;
}

export interface ModelCatalog {
  list(): ModelList;
  /** The named model, or the default when `name` is absent; unknown names throw ApiError not_found. */
  resolve(name: string | undefined): ServedModel;
}

/** A fixed date for `created`: the manifest records no export time, and a stable value keeps the listing cacheable. */
const EPOCH_CREATED = 0;

export function describeModel(info: ModelInfo, isDefault: boolean): ModelEntry {
  const m = info.manifest;
  const name = m.name ?? 'unnamed';
  const { width, height } = m.image;
  return {
    id: name,
    object: 'model',
    created: EPOCH_CREATED,
    owned_by: 'unified-image-text',
    name,
    description: `Draws ${width} x ${height} images from a caption and describes images in words (one Transformer, text and raw pixel patches).`,
    image: { width, height },
    prompts: {
      draw_prefix: m.conversation?.draw_prefix ?? DEFAULT_PROMPTS.draw_prefix,
      describe_prompt: m.conversation?.describe_prompt ?? DEFAULT_PROMPTS.describe_prompt,
    },
    licenses: [],
    default: isDefault,
  };
}

export function singleModelCatalog(info: ModelInfo): ModelCatalog {
  const served: ServedModel = { entry: describeModel(info, true), info };
  return {
    list: () => ({ object: 'list', data: [served.entry] }),
    resolve(name) {
      if (name === undefined || name === served.entry.id) return served;
      throw new ApiError('not_found', `unknown model ${JSON.stringify(name.slice(0, 100))}; this server has: ${served.entry.id}`);
    },
  };
}
