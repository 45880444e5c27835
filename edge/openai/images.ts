/**
 * OpenAI's image generation over this API's generations: the prompt goes into the model's
 * drawing request, each of the n images is its own generation (they run on the same queue
 * and workers, and batch together there), and the request waits for them up to a limit.
 * On the limit: 504 with the generation ids, so that nothing is lost (the jobs run on).
 */
import type { JobRepository } from '../../shared/jobs/repository.js';
import type { Logger } from '../../shared/logging/index.js';
import type { JobChanges } from '../../shared/ports/job-changes.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import { type CreateGenerationRequest, LIMITS } from '../../shared/schemas/generation.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { OpenAiError } from './errors.js';
import type { ImagesRequest, ImagesResponse } from './schemas.js';
import { assertSucceeded, waitForGenerations } from './wait.js';

export interface ImagesDeps {
  /** POST /v1/generations's use case, bound to this request (its id, log, and whatever else the route knows). */
  createGeneration: (body: CreateGenerationRequest) => Promise<JobRecord>;
  jobs: JobRepository<JobRecord>;
  /** When the wait reads the generations again. */
  changes: JobChanges;
  /** Reads output images (b64_json). */
  store: Pick<ObjectStore, 'get'>;
  /** An output image's URL as the API gives it (relative URLs are made absolute with baseUrl). */
  urlFor: (key: string) => Promise<string>;
  now: () => Date;
  /** The model's id and drawing prefix (`draw `). */
  model: { id: string; drawPrefix: string; width: number; height: number };
  waitMs: number;
  log: Logger;
  /** Absolute base for relative image URLs (the request's own URL). */
  baseUrl: string;
  signal?: AbortSignal;
}

/** `a red circle` -> `draw a red circle`; a prompt that already starts with the prefix is kept as it is. */
export function drawingPrompt(prompt: string, drawPrefix: string): string {
  const trimmed = prompt.trim();
  return trimmed.toLowerCase().startsWith(drawPrefix.trim().toLowerCase()) ? trimmed : `${drawPrefix}${trimmed}`;
}

/** The model draws one size: `size` may be left out or be that one. */
export function checkSize(size: string | null | undefined, model: ImagesDeps['model']): void {
  const own = `${model.width}x${model.height}`;
  if (size != null && size !== own) {
    throw new OpenAiError('invalid_request', `size: ${JSON.stringify(size)} is not made by ${model.id}; it draws ${own} only`, {
      param: 'size',
    });
  }
}

/** Seed of image k of n: the request's seed + k (this API's extension), else random. */
export function seedOf(seed: number | null | undefined, k: number): Pick<CreateGenerationRequest, 'seed'> {
  return seed != null ? { seed: (seed + k) % (LIMITS.seedMax + 1) } : {};
}

export async function generateImages(deps: ImagesDeps, body: ImagesRequest): Promise<ImagesResponse> {
  const { model } = deps;
  checkSize(body.size, model);
  // The caller's prompt is held to LIMITS.promptChars (the schema, as the spec says); the draw prefix is the server's own text on top.
  const prompt = drawingPrompt(body.prompt, model.drawPrefix);
  const requests = Array.from({ length: body.n ?? 1 }, (_, k) => ({
    prompt,
    ...seedOf(body.seed, k),
    ...(body.steps != null ? { steps: body.steps } : {}),
    ...(body.guidance != null ? { guidance: body.guidance } : {}),
  }));
  return answerImages(deps, requests, { format: body.response_format ?? 'url', revisedPrompt: prompt, user: body.user ?? undefined });
}

/**
 * One generation per request, created together (they batch on the workers), waited for up
 * to the limit, each answered by its first image; on the limit, 504 naming them.
 */
export async function answerImages(
  deps: ImagesDeps,
  requests: readonly CreateGenerationRequest[],
  options: { format: 'url' | 'b64_json'; revisedPrompt: string; user?: string | undefined },
): Promise<ImagesResponse> {
  const created = await Promise.all(requests.map((request) => deps.createGeneration(request)));
  const ids = created.map((r) => r.id);
  deps.log.info({ generations: ids, user: options.user }, 'openai images: generations created');
  const waited = await waitForGenerations(deps.jobs, created, {
    deadline: Date.now() + deps.waitMs,
    changes: deps.changes,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  if (!waited.done) {
    const running = waited.records.filter((r) => r.status === 'queued' || r.status === 'running').map((r) => r.id);
    throw new OpenAiError(
      'internal_error',
      `the images were not ready within ${Math.round(deps.waitMs / 1000)} s; they keep running: follow GET /v1/generations/{id} for ${running.join(', ')}`,
      { status: 504, code: 'generation_timeout', generationIds: ids },
    );
  }
  const data = await Promise.all(waited.records.map((r) => imageDatum(deps, r, options.format, options.revisedPrompt)));
  return { created: Math.floor(deps.now().getTime() / 1000), data, generation_ids: ids };
}

async function imageDatum(
  deps: ImagesDeps,
  record: JobRecord,
  format: 'url' | 'b64_json',
  prompt: string,
): Promise<ImagesResponse['data'][number]> {
  assertSucceeded(record);
  const image = record.output.find((p) => p.type === 'image');
  if (image?.type !== 'image') {
    const text = record.output.map((p) => (p.type === 'text' ? p.text : '')).join('');
    // The model's own answer, not a failure: 422, which OpenAI's clients do not retry (they
    // retry a 500, and each retry would be new generations answered the same way).
    throw new OpenAiError('invalid_request', `the model answered in words instead of an image: ${JSON.stringify(text.slice(0, 200))}`, {
      status: 422,
      code: 'no_image',
      generationIds: [record.id],
    });
  }
  if (format === 'url') return { url: new URL(await deps.urlFor(image.key), deps.baseUrl).href, revised_prompt: prompt };
  const object = await deps.store.get(image.key);
  if (!object)
    throw new OpenAiError('internal_error', `the image of generation ${record.id} is missing from the store`, {
      status: 500,
      code: 'internal_error',
    });
  return { b64_json: Buffer.from(object.body).toString('base64'), revised_prompt: prompt };
}
