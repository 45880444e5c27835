/**
 * The OpenAI-compatible routes: POST /v1/images/generations and POST /v1/chat/completions
 * (GET /v1/models is edge/models/routes.ts). Bodies are checked by the same zod schemas
 * that write the OpenAPI document; a failed check names the field (OpenAI's `param`).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { JobChanges } from '../../shared/ports/job-changes.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import type { CreateGenerationRequest } from '../../shared/schemas/generation.js';
import type { EdgeEnv } from '../env.js';
import { createGeneration, type GenerationService } from '../generations/service.js';
import { jsonBody } from '../middleware/json-body.js';
import type { ModelCatalog } from '../models/catalog.js';
import { resolveOrThrow } from '../models/routes.js';
import { answerChat, completionBody, completionChunks } from './chat.js';
import { registerImageEditsRoute } from './edits-route.js';
import { OpenAiErrorBody, openAiHook } from './errors.js';
import { generateImages } from './images.js';
import { respondWithImages } from './images-deps.js';
import { ChatCompletion, ChatRequest, ImagesRequest, ImagesResponse } from './schemas.js';

/** The paths whose errors are answered in OpenAI's shape. */
export const OPENAI_PATHS = ['/v1/images/*', '/v1/chat/*', '/v1/models', '/v1/models/*'] as const;

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const error = (description: string) => json(OpenAiErrorBody, description);
const security = [{ bearerAuth: [] }];
export const imagesRoute = createRoute({
  method: 'post',
  path: '/v1/images/generations',
  tags: ['openai'],
  summary: 'Create images (OpenAI-compatible)',
  description:
    "OpenAI's image generation. The prompt describes the image; the route puts it into the model's drawing request. " +
    'The request waits for the images (OPENAI_WAIT_SECONDS, default 60), then answers 504 with `error.generation_ids`: the generations run on, follow them with GET /v1/generations/{id}.',
  security,
  middleware: [jsonBody] as const,
  request: { body: { required: true, ...json(ImagesRequest, 'The prompt and how many images.') } },
  responses: {
    200: json(ImagesResponse, 'The images, as URLs or base64 PNGs.'),
    400: error(
      'invalid_request (with `param`), prompt_too_long, unsupported_steps / unsupported_guidance (`param` steps or guidance: what the model samples with, GET /v1/models).',
    ),
    401: error('unauthorized'),
    404: error('model_not_found'),
    422: error('no_image: the model answered in words instead of an image; its words in `message`, `error.generation_ids`.'),
    500: error('a generation failed (its error code, with `error.generation_ids`).'),
    504: error('generation_timeout: not ready in time; `error.generation_ids` to follow.'),
  },
});

export const chatRoute = createRoute({
  method: 'post',
  path: '/v1/chat/completions',
  tags: ['openai'],
  summary: 'Chat completion (OpenAI-compatible)',
  description:
    "OpenAI's chat completions over a conversation. The whole history is read: user and assistant messages (system and developer " +
    "messages are not; consecutive messages of one role are one turn), their text and `image_url` parts in order, and in an assistant's text " +
    "markdown image links `![...](url)`: how an earlier answer's image comes back. An image URL is a data URL or one of this server's output " +
    "image URLs (the caller's own generations; another's is 404). Several turns need a model with the multi_turn task (400 unsupported_conversation). " +
    "An image alone in the last user message is asked the model's describe prompt. `stream: true` answers with server-sent " +
    '`chat.completion.chunk` events and `data: [DONE]`. When the answer goes on with an image, it becomes a generation (`generation_id`) ' +
    'that the request waits for (OPENAI_WAIT_SECONDS, then 504 with `error.generation_ids`); each image is a markdown link to its signed URL in the content.',
  security,
  middleware: [jsonBody] as const,
  request: { body: { required: true, ...json(ChatRequest, 'The messages.') } },
  responses: {
    200: {
      description: 'The completion, or with `stream: true` a text/event-stream of chunks.',
      content: {
        'application/json': { schema: ChatCompletion },
        // One event's fields, as SSE clients (and schemathesis) read a stream: `data` is a chunk as JSON, or `[DONE]`.
        'text/event-stream': {
          schema: z.object({
            event: z.string().optional(),
            id: z.string().optional(),
            data: z.string().meta({ description: 'A chat.completion.chunk as JSON, or `[DONE]` last.' }),
          }),
        },
      },
    },
    400: error('invalid_request (with `param`), unsupported_image, invalid_base64, prompt_too_long, unsupported_conversation.'),
    401: error('unauthorized'),
    404: error("model_not_found; not_found: an image link to a generation that is not the caller's, or to an image it does not have."),
    413: error('image_too_large'),
    500: error("the answer's generation failed (`error.generation_ids`)."),
    504: error("generation_timeout: the answer's image was not ready in time; `error.generation_ids` to follow."),
  },
});

export interface OpenAiDeps {
  catalog: ModelCatalog;
  service: GenerationService;
  /** Output image URLs as the API gives them (signed, expiring). */
  urls: Pick<ObjectStore, 'urlFor'>;
  /** When a wait for the answer's images reads them again. */
  changes: JobChanges;
  waitMs: number;
}

export function registerOpenAiRoutes(app: OpenAPIHono<EdgeEnv>, deps: OpenAiDeps): void {
  registerImageEditsRoute(app, deps);
  app.openapi(imagesRoute, (c) => respondWithImages(c, deps, c.req.valid('json'), generateImages), openAiHook);

  app.openapi(
    chatRoute,
    async (c) => {
      const body = c.req.valid('json');
      const served = resolveOrThrow(deps.catalog, body.model);
      const { service } = deps;
      const images = {
        // An answer's images are a generation for the caller's tenant, waited for like the images route's.
        createGeneration: async (request: CreateGenerationRequest) =>
          (await createGeneration(service, request, { requestId: c.var.requestId, log: c.var.log, tenant: c.var.tenant })).record,
        jobs: service.jobs,
        changes: deps.changes,
        urlFor: (key: string) => deps.urls.urlFor(key),
        baseUrl: c.req.url,
        waitMs: deps.waitMs,
        log: c.var.log,
        signal: c.req.raw.signal,
      };
      const answer = await answerChat(
        {
          model: { id: served.entry.id, info: served.info },
          decode: service.decode,
          now: service.now,
          jobs: service.jobs,
          store: service.store,
          tenant: c.var.tenant,
          images,
        },
        body,
      );
      if (!body.stream) return c.json(completionBody(answer), 200);
      const chunks = completionChunks(answer, served.info, body.stream_options?.include_usage === true);
      return streamSSE(c, async (stream) => {
        for (const chunk of chunks) await stream.writeSSE({ data: JSON.stringify(chunk) });
        await stream.writeSSE({ data: '[DONE]' });
      });
    },
    openAiHook,
  );
}
