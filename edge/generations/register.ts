/**
 * The generation routes on the app: POST /v1/generations (JSON and multipart form),
 * GET /v1/generations/{id}, POST /v1/generations/{id}/cancel and the live events.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { JobChanges } from '../../shared/ports/job-changes.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import type { CreateGenerationRequest } from '../../shared/schemas/generation.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { generationView } from '../../shared/schemas/view.js';
import { webhookDeliveries } from '../../shared/webhooks/log.js';
import type { EdgeEnv } from '../env.js';
import { ApiError } from '../errors.js';
import type { IdempotencyClaims } from '../idempotency/claims.js';
import { cancelIdempotently } from '../idempotency/generations.js';
import { createResponder, registerGenerationForm } from './create.js';
import { type EventsOptions, generationEvents } from './events/route.js';
import { readState } from './events/watch.js';
import { queuePosition } from './queue-position.js';
import { cancelGenerationRoute, createGenerationRoute, generationEventsRoute, getGenerationRoute } from './routes.js';
import { type GenerationService, getGeneration } from './service.js';

export interface GenerationRoutesDeps {
  service: GenerationService;
  claims: IdempotencyClaims;
  /** Output image URLs (presigned, or the local store's signed paths). */
  urls: Pick<ObjectStore, 'urlFor'>;
  events: EventsOptions;
  /** When a waiting request reads a record again (edge/changes). */
  changes: JobChanges;
  /** The longest `Prefer: wait` honoured, in seconds. */
  maxWait: number;
}

export function registerGenerationRoutes(app: OpenAPIHono<EdgeEnv>, deps: GenerationRoutesDeps): void {
  const { service, claims, urls, events, changes } = deps;
  const { jobs, queue, store } = service;
  const defaultModel = service.models.default.name;
  const view = async (record: JobRecord) =>
    generationView(record, urls, defaultModel, {
      queuePosition: await queuePosition(queue, record),
      ...(await webhookDeliveries(store, record)),
    });

  const create = createResponder({ service, claims, jobs, maxWait: deps.maxWait, changes, view });
  registerGenerationForm(app, create);
  app.openapi(createGenerationRoute, (c) => {
    // The route documents two bodies, one of them by reference, so its types lose the JSON one; zod-openapi validated it.
    const body = (c.req as unknown as { valid(target: 'json'): CreateGenerationRequest }).valid('json');
    return create(c, body, c.req.valid('header'), c.var.inlineImages) as never;
  });

  app.openapi(getGenerationRoute, async (c) => {
    const record = await getGeneration(jobs, c.req.valid('param').id, c.var.tenant);
    return c.json(await view(record), 200);
  });

  app.openapi(cancelGenerationRoute, async (c) => {
    const ctx = { tenant: c.var.tenant, log: c.var.log, idempotencyKey: c.req.valid('header')['idempotency-key'] };
    const record = await cancelIdempotently(jobs, claims, c.req.valid('param').id, ctx);
    return c.json(await view(record), 200);
  });

  app.openapi(generationEventsRoute, async (c) => {
    const { id } = c.req.valid('param');
    await getGeneration(jobs, id, c.var.tenant); // 404 for an unknown id or another tenant's
    const state = await readState(jobs, queue, id);
    if (!state) throw new ApiError('not_found', `no generation ${JSON.stringify(id)}`);
    // A raw Response (a stream): the route's typed responses only document it.
    return (await generationEvents(c, { jobs, queue, store, urls, defaultModel, options: events, changes }, state)) as never;
  });
}
