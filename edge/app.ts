/**
 * createApp: the edge's Hono app, built only from its dependencies (no I/O setup here), so
 * tests drive it with app.request() and the Node and Lambda adapters wrap the same app.
 */
import { randomBytes } from 'node:crypto';
import { swaggerUI } from '@hono/swagger-ui';
import { OpenAPIHono } from '@hono/zod-openapi';
import { methodNotAllowed } from 'hono/method-not-allowed';
import type { Config } from '../shared/config/index.js';
import type { JobRepository } from '../shared/jobs/repository.js';
import type { Logger } from '../shared/logging/index.js';
import { type MetricsSource, PROMETHEUS_CONTENT_TYPE, renderMetrics, sourceOf } from '../shared/metrics/index.js';
import type { ModelRegistry } from '../shared/models/index.js';
import type { JobChanges } from '../shared/ports/job-changes.js';
import type { JobQueue } from '../shared/ports/queue.js';
import type { ObjectStore } from '../shared/ports/store.js';
import type { ReadinessCheck } from '../shared/readiness/index.js';
import { LIMITS } from '../shared/schemas/generation.js';
import type { JobRecord } from '../shared/schemas/job.js';
import { tenantAuth } from './auth/middleware.js';
import { LocalUrlSigner } from './auth/signed-urls.js';
import { Authenticator } from './auth/tenants.js';
import { type BodyParser, bodyLimit, eventLoopBodyParser } from './body/index.js';
import { pollingJobChanges } from './changes/polling.js';
import type { EdgeEnv } from './env.js';
import { ApiError, errorResponse } from './errors.js';
import { FILES_PREFIX, registerFilesDoc, serveFile } from './files.js';
import { DEFAULT_EVENTS, type EventsOptions } from './generations/events/route.js';
import { registerGenerationRoutes } from './generations/register.js';
import type { GenerationService } from './generations/service.js';
import { MAX_WAIT_SECONDS } from './generations/wait.js';
import { IdempotencyClaims, type IdempotencyOptions } from './idempotency/claims.js';
import { createEdgeMetrics } from './metrics.js';
import { methodNotAllowedResponse, notFound, onError, validationHook } from './middleware/errors.js';
import { requestContext } from './middleware/request-context.js';
import { type ModelCatalog, registryCatalog } from './models/catalog.js';
import { registerModelRoutes } from './models/routes.js';
import { openAiErrorShape } from './openai/errors.js';
import { OPENAI_PATHS, registerOpenAiRoutes } from './openai/routes.js';
import { openApiDocument } from './openapi.js';
import { registerPlayground } from './playground/serve.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import { MemoryRateLimiter } from './rate-limit/memory.js';
import { rateLimit } from './rate-limit/middleware.js';
import { registerHealth } from './readiness/health.js';
import { readinessChecks, registerReadiness } from './readiness/route.js';
import type { TextDecodeFn } from './text-decode.js';

export interface AppDeps {
  /** The models served: manifests and tokenizers, the default first (the graphs run in `textDecoder`). */
  models: ModelRegistry;
  store: ObjectStore;
  queue: JobQueue;
  jobs: JobRepository<JobRecord>;
  logger: Logger;
  /** API keys and their tenants; a rate limit per tenant when set (counted in this process's memory unless `rateLimiter` is given). */
  config: Pick<Config, 'apiKeys'> &
    Partial<Pick<Config, 'rateLimitPerMinute' | 'presignExpiresSeconds' | 'openAiWaitSeconds' | 'webhooks'>>;
  /** Where the per-tenant limit is counted (buildDeps: on the store for S3, shared by every instance). */
  rateLimiter?: RateLimiter;
  /** Signs the local store's file URLs; default: a random key (URLs die with the process). */
  urlSigner?: LocalUrlSigner;
  /** Idempotency-Key timings (tests shorten them). */
  idempotency?: IdempotencyOptions;
  /** Live events: 'buffered' under Lambda; poll and heartbeat intervals. */
  events?: Partial<EventsOptions>;
  /** The longest `Prefer: wait` honoured (60; less under Lambda's 29 s limit). */
  maxWaitSeconds?: number;
  /**
   * When waiting requests (Prefer: wait, events, the OpenAI routes) read a job again: told by
   * the workers in the embedded default (`npm start`); default: a read schedule from 50 ms
   * doubling to `events.pollMs` (edge/changes).
   */
  jobChanges?: JobChanges;
  /** The models as GET /v1/models and the OpenAI routes see them; default: the registry's (`models`). */
  catalog?: ModelCatalog;
  /** The playground's built files (edge/playground/dist); default: beside its source. */
  playgroundDir?: string;
  /** More metrics merged into /metrics (the embedded start adds its workers', labelled by slot). */
  metrics?: readonly MetricsSource[];
  /** Readiness checks beyond the store and queue, which /readyz always runs (buildDeps: the models; `npm start`: its workers). */
  readiness?: readonly ReadinessCheck[];
  /** Where large JSON bodies are parsed (edge/body): a worker thread in the Node server; default: the event loop (Lambda, tests). */
  bodyParser?: BodyParser;
  /** The text decode (edge/text-decode.ts): the decode thread's in the Node server, the event loop's under Lambda. */
  textDecoder: TextDecodeFn;
  now?: () => Date;
}

/** The first pause of a wait's read schedule where nothing tells the edge of changes (S3, Lambda). */
export const FIRST_READ_MS = 50;

/** OPENAI_WAIT_SECONDS's default, for apps built without a full config (tests). */
export const DEFAULT_OPENAI_WAIT_SECONDS = 60;

/**
 * The whole-body cap: four images at the per-image cap in base64 (4/3 of the bytes) plus
 * room for the prompt and JSON, about 28 MB. Checked while reading, before parsing.
 */
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
    ...(deps.config.webhooks ? { webhooks: deps.config.webhooks } : {}),
  };
  const app = new OpenAPIHono<EdgeEnv>({ defaultHook: validationHook });
  const auth = new Authenticator(deps.config.apiKeys);
  const signer =
    deps.urlSigner ?? new LocalUrlSigner({ secret: randomBytes(32), expiresSeconds: deps.config.presignExpiresSeconds ?? 3600 });
  // Output URLs: presigned by S3; the local store's `/v1/files/...` paths signed here.
  const urls = {
    urlFor: async (key: string) => {
      const url = await deps.store.urlFor(key);
      return url.startsWith(FILES_PREFIX) ? signer.urlFor(key) : url;
    },
  };
  const claims = new IdempotencyClaims(deps.store, deps.idempotency);
  const events: EventsOptions = { ...DEFAULT_EVENTS, ...deps.events };
  const maxWait = Math.min(deps.maxWaitSeconds ?? MAX_WAIT_SECONDS, MAX_WAIT_SECONDS);
  const changes = deps.jobChanges ?? pollingJobChanges({ firstMs: FIRST_READ_MS, capMs: events.pollMs });
  const perMinute = deps.config.rateLimitPerMinute;
  const limiter = perMinute === undefined ? undefined : (deps.rateLimiter ?? new MemoryRateLimiter());

  app.use('*', requestContext(deps.logger, metrics));
  const bodies = deps.bodyParser ?? eventLoopBodyParser;
  app.use('*', async (c, next) => {
    c.set('bodies', bodies);
    await next();
  });
  // Outside every other middleware: auth and method errors on these paths are rewritten too.
  for (const path of OPENAI_PATHS) app.use(path, openAiErrorShape);
  app.use('*', methodNotAllowed({ app, onMethodNotAllowed: methodNotAllowedResponse }));
  app.use(
    '/v1/*',
    tenantAuth(auth, (path) => path.startsWith(FILES_PREFIX)),
  );
  if (limiter && perMinute !== undefined) app.use('/v1/*', rateLimit(limiter, perMinute));
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => errorResponse(c, new ApiError('payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes`)),
    }),
  );
  app.onError(onError);
  app.notFound(notFound);

  registerGenerationRoutes(app, { service, claims, urls, events, changes, maxWait });

  const catalog = deps.catalog ?? registryCatalog(deps.models);
  registerModelRoutes(app, catalog);
  registerOpenAiRoutes(app, {
    catalog,
    service,
    urls,
    changes,
    waitMs: (deps.config.openAiWaitSeconds ?? DEFAULT_OPENAI_WAIT_SECONDS) * 1000,
  });
  registerPlayground(app, deps.playgroundDir);

  app.get(`${FILES_PREFIX}*`, (c) => serveFile(c, deps.store, signer));
  registerFilesDoc(app.openAPIRegistry);

  registerHealth(app, deps.models);
  registerReadiness(app, readinessChecks(deps));

  const sources: MetricsSource[] = [sourceOf(metrics.registry), ...(deps.metrics ?? [])];
  app.get('/metrics', async (c) => c.body(await renderMetrics(sources), 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE }));

  const document = openApiDocument(app, { auth: auth.required, rateLimited: limiter !== undefined, models: catalog.list().data });
  app.get('/openapi.json', (c) => c.json(document()));
  // Relative, so the page works behind a path prefix (an API Gateway stage).
  app.get('/docs', swaggerUI({ url: './openapi.json', title: 'Unified model API' }));
  return app;
}
