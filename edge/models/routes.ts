/**
 * GET /v1/models and GET /v1/models/{id}: the catalog in OpenAI's list shape (its clients'
 * `models.list()` and `models.retrieve()` read it), extended with what each model is for.
 * The catalog (./catalog.ts) is the model registry (shared/models) in this shape.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { EdgeEnv } from '../env.js';
import { OpenAiError, OpenAiErrorBody } from '../openai/errors.js';
import { type ModelCatalog, ModelEntry, ModelList } from './catalog.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

export const listModelsRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['models'],
  summary: 'List the models',
  description:
    'OpenAI\'s list shape (`object: "list"`, `data: [{id, object: "model", created, owned_by}]`), each model extended with its image size, the prompts it understands and its licences.',
  security: [{ bearerAuth: [] }],
  responses: {
    200: json(ModelList, 'The models this server serves; `default: true` marks the one used when a request names none.'),
    401: json(OpenAiErrorBody, 'unauthorized'),
  },
});

export const getModelRoute = createRoute({
  method: 'get',
  path: '/v1/models/{id}',
  tags: ['models'],
  summary: 'Read one model',
  security: [{ bearerAuth: [] }],
  request: { params: z.object({ id: z.string().meta({ param: { name: 'id', in: 'path' }, example: 'shapes64' }) }) },
  responses: {
    200: json(ModelEntry, 'The model.'),
    401: json(OpenAiErrorBody, 'unauthorized'),
    404: json(OpenAiErrorBody, 'model_not_found'),
  },
});

export function registerModelRoutes(app: OpenAPIHono<EdgeEnv>, catalog: ModelCatalog): void {
  app.openapi(listModelsRoute, (c) => c.json(catalog.list(), 200));
  app.openapi(getModelRoute, (c) => c.json(resolveOrThrow(catalog, c.req.valid('param').id).entry, 200));
}

/** The catalog's answer for a name, with OpenAI's `model_not_found` for an unknown one. */
export function resolveOrThrow(catalog: ModelCatalog, name: string | null | undefined): ReturnType<ModelCatalog['resolve']> {
  try {
    return catalog.resolve(name ?? undefined);
  } catch {
    const known = catalog
      .list()
      .data.map((m) => m.id)
      .join(', ');
    throw new OpenAiError(
      'not_found',
      `the model ${JSON.stringify(String(name).slice(0, 100))} does not exist; this server has: ${known}`,
      {
        param: 'model',
        code: 'model_not_found',
      },
    );
  }
}
