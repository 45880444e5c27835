/**
 * createApp: the edge's Hono app, built only from its dependencies (no I/O setup here), so
 * tests drive it with app.request() and the Node and Lambda adapters wrap the same app.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import type { Config } from '../shared/config/index.js';
import type { JobRepository } from '../shared/jobs/repository.js';
import type { Logger } from '../shared/logging/index.js';
import { PROMETHEUS_CONTENT_TYPE, renderAll, type MetricsSource } from '../shared/metrics/index.js';
import type { JobQueue } from '../shared/ports/queue.js';
import type { ObjectStore } from '../shared/ports/store.js';
import type { ModelRegistry } from '../shared/models/index.js';
import { LIMITS } from '../shared/schemas/generation.js';
import type { JobRecord } from '../shared/schemas/job.js';
import { generationView } from '../shared/schemas/view.js';
import type { EdgeEnv } from './env.js';
import { ApiError, errorResponse } from './errors.js';
import { FILES_PREFIX, registerFilesDoc, serveFile } from './files.js';
import { cancelGeneration, createGeneration, getGeneration, type GenerationService } from './generations.js';
import { createEdgeMetrics } from './metrics.js';
import { bearerAuth } from './middleware/auth.js';
import { registryCatalog, type ModelCatalog } from './models/catalog.js';
import { registerModelRoutes } from './models/routes.js';
import { openAiErrorShape } from './openai/errors.js';
import { OPENAI_PATHS, registerOpenAiRoutes } from './openai/routes.js';
import { registerPlayground } from './playground/serve.js';
import { methodNotAllowedResponse, notFound, onError, validationHook } from './middleware/errors.js';
import { requestContext } from './middleware/request-context.js';
import { cancelGenerationRoute, createGenerationRoute, getGenerationRoute, healthRoute } from './routes.js';
import type { TextDecodeFn } from './text-decode.js';

export interface AppDeps {
  /** The models served: manifests and tokenizers, the default first (the graphs run in `textDecoder`). */
  models: ModelRegistry;
  store: ObjectStore;
  queue: JobQueue;
  jobs: JobRepository<JobRecord>;
  logger: Logger;
  config: Pick<Config, 'apiKeys'> & Partial<Pick<Config, 'openAiWaitSeconds'>>;
  /** The models as GET /v1/models and the OpenAI routes see them; default: the registry's (`models`). */
  catalog?: ModelCatalog;
  /** The playground's built files (edge/playground/dist); default: beside its source. */
  playgroundDir?: string;
  /** More metrics appended to /metrics (the embedded start adds the worker's). */
  metrics?: readonly MetricsSource[];
  /** The text decode (edge/text-decode.ts): the decode thread's in the Node server, the event loop's under Lambda. */
  textDecoder: TextDecodeFn;
  now?: () => Date;
}

/**
 * The whole-body cap: four images at the per-image cap in base64 (4/3 of the bytes) plus
 * room for the prompt and JSON, about 28 MB. Checked while reading, before parsing.
 */
/** OPENAI_WAIT_SECONDS's default, for apps built without a full config (tests). */
export const DEFAULT_OPENAI_WAIT_SECONDS = 60;

export const MAX_BODY_BYTES = LIMITS.images * Math.ceil((LIMITS.imageBytes * 4) / 3) + 256 * 1024;

export function createApp(deps: AppDeps): OpenAPIHono<EdgeEnv> {
  const metrics = createEdgeMetrics();
  const service: GenerationService = {
    models: deps.models,
    store: deps.store,
    queue: deps.queue,
    jobs: deps.jobs,
    decode: deps.textDecoder,
    metrics,
    now: deps.now ?? (() => new Date()),
  };
  const app = new OpenAPIHono<EdgeEnv>({ defaultHook: validationHook });
  const defaultModel = deps.models.default.name;

  app.use('*', requestContext(deps.logger, metrics));
  // Outside every other middleware: auth and method errors on these paths are rewritten too.
  for (const path of OPENAI_PATHS) app.use(path, openAiErrorShape);
  app.use('*', methodNotAllowed({ app, onMethodNotAllowed: methodNotAllowedResponse }));
  app.use('/v1/*', bearerAuth(deps.config.apiKeys));
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => errorResponse(c, new ApiError('payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes`)),
    }),
  );
  app.onError(onError);
  app.notFound(notFound);

  app.openapi(createGenerationRoute, async (c) => {
    const { status, record } = await createGeneration(service, c.req.valid('json'), c.var.requestId, c.var.log);
    const view = await generationView(record, deps.store, defaultModel);
    return status === 201 ? c.json(view, 201) : c.json(view, 202);
  });

  app.openapi(getGenerationRoute, async (c) => {
    const record = await getGeneration(deps.jobs, c.req.valid('param').id);
    return c.json(await generationView(record, deps.store, defaultModel), 200);
  });

  app.openapi(cancelGenerationRoute, async (c) => {
    const record = await cancelGeneration(deps.jobs, c.req.valid('param').id, c.var.log);
    return c.json(await generationView(record, deps.store, defaultModel), 200);
  });

  const catalog = deps.catalog ?? registryCatalog(deps.models);
  registerModelRoutes(app, catalog);
  registerOpenAiRoutes(app, { catalog, service, waitMs: (deps.config.openAiWaitSeconds ?? DEFAULT_OPENAI_WAIT_SECONDS) * 1000 });
  registerPlayground(app, deps.playgroundDir);

  app.get(`${FILES_PREFIX}*`, (c) => serveFile(c, deps.store));
  registerFilesDoc(app.openAPIRegistry);

  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const, model: defaultModel, models: deps.models.names }, 200));

  const sources: MetricsSource[] = [metrics.registry, ...(deps.metrics ?? [])];
  app.get('/metrics', (c) => c.body(renderAll(sources), 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE }));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'One of the server\'s API_KEYS. Required on /v1 routes when the server has keys; a server without keys listens on loopback only.',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Unified text-and-image model API',
      version: '1.0.0',
      description:
        'Text answers come back at once; images are made by a worker pool: poll the generation. ' +
        'Errors are `{error: {code, message}}` with a stable code.',
    },
  });
  // Relative, so the page works behind a path prefix (an API Gateway stage).
  app.get('/docs', swaggerUI({ url: './openapi.json', title: 'Unified model API' }));
  return app;
}
