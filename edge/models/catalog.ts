/**
 * The models this edge serves, as `GET /v1/models` lists them and the OpenAI routes find them:
 * the model registry (shared/models: every package's manifest and tokenizer, the default
 * first) in OpenAI's list shape, extended with what each model is for (shared/schemas/models.ts).
 * The OpenAI routes and the playground depend only on `ModelCatalog`.
 */
import { type ModelRegistry, modelObject } from '../../shared/models/index.js';
import type { ModelInfo } from '../../shared/runtime/index.js';
import { ModelList, ModelObject } from '../../shared/schemas/models.js';
import { ApiError } from '../errors.js';

/** One model of the list (shared/schemas/models.ts's ModelObject). */
export const ModelEntry = ModelObject;
export type ModelEntry = ModelObject;
export { ModelList };

export interface CatalogModel {
  readonly entry: ModelEntry;
  readonly info: ModelInfo;
}

export interface ModelCatalog {
  list(): ModelList;
  /** The named model, or the default when `name` is absent; an unknown name throws ApiError unknown_model. */
  resolve(name: string | undefined): CatalogModel;
}

/** The registry as a catalog; it does not change while the process runs, so the answers are built once. */
export function registryCatalog(registry: ModelRegistry): ModelCatalog {
  const served = new Map(registry.models.map((m): [string, CatalogModel] => [m.name, { entry: modelObject(m), info: m }]));
  const list = ModelList.parse({ object: 'list', data: [...served.values()].map((m) => m.entry) });
  return {
    list: () => list,
    resolve(name) {
      const model = served.get(name ?? registry.default.name);
      if (model) return model;
      throw new ApiError(
        'unknown_model',
        `unknown model ${JSON.stringify((name ?? '').slice(0, 100))}; this server serves: ${registry.names.join(', ')}`,
      );
    },
  };
}
