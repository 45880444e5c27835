/** What the image routes (generations and edits) run with: generations on the model the request named, for the caller's tenant. */
import type { Context } from 'hono';
import { checkSampling, samplingOf } from '../../shared/runtime/index.js';
import type { EdgeEnv } from '../env.js';
import { createGeneration } from '../generations/service.js';
import type { CatalogModel } from '../models/catalog.js';
import { resolveOrThrow } from '../models/routes.js';
import { OpenAiError } from './errors.js';
import type { ImagesDeps } from './images.js';
import type { OpenAiDeps } from './routes.js';
import type { ImagesResponse } from './schemas.js';

export function imagesDeps(c: Context<EdgeEnv>, deps: OpenAiDeps, model: string | null | undefined): ImagesDeps {
  const served = resolveOrThrow(deps.catalog, model);
  const { service } = deps;
  return {
    createGeneration: async (request) =>
      (
        await createGeneration(
          service,
          { ...request, model: served.entry.id },
          { requestId: c.var.requestId, log: c.var.log, tenant: c.var.tenant },
        )
      ).record,
    jobs: service.jobs,
    changes: deps.changes,
    store: service.store,
    urlFor: (key) => deps.urls.urlFor(key),
    now: service.now,
    model: { id: served.entry.id, drawPrefix: served.entry.prompts.draw_prefix, ...served.entry.image },
    waitMs: deps.waitMs,
    log: c.var.log,
    baseUrl: c.req.url,
    signal: c.req.raw.signal,
  };
}

/** This API's `steps` and `guidance` as the model can sample them, else OpenAI's 400 naming the parameter. */
export function checkImageSampling(
  served: CatalogModel,
  request: { steps?: number | null | undefined; guidance?: number | null | undefined },
): void {
  const refusal = checkSampling(served.entry.id, samplingOf(served.info.manifest), {
    steps: request.steps ?? undefined,
    guidance: request.guidance ?? undefined,
  });
  if (refusal) throw new OpenAiError(refusal.code, refusal.message, { param: refusal.code === 'unsupported_steps' ? 'steps' : 'guidance' });
}

/** An image route's answer: `run` (generate, edit) on the request's model, the images as JSON. */
export async function respondWithImages<
  T extends { model?: string | null | undefined; steps?: number | null | undefined; guidance?: number | null | undefined },
>(c: Context<EdgeEnv>, deps: OpenAiDeps, request: T, run: (images: ImagesDeps, request: T) => Promise<ImagesResponse>) {
  checkImageSampling(resolveOrThrow(deps.catalog, request.model), request);
  return c.json(await run(imagesDeps(c, deps, request.model), request), 200);
}
