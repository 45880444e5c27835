/** The generation routes' OpenAPI definitions: the same zod schemas validate requests and write the document. */
import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { ApiErrorBody } from '../../shared/schemas/errors.js';
import { CreateGenerationRequest, Generation, INPUT_IMAGE_TYPES } from '../../shared/schemas/generation.js';
import { generationJsonBody } from '../middleware/json-body.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const error = (description: string) => json(ApiErrorBody, description);
const security = [{ bearerAuth: [] }];

/** The component that documents the multipart form of POST /v1/generations (registered by ./create.ts). */
export const FORM_SCHEMA = 'CreateGenerationForm';

const IdempotencyKey = z
  .string()
  .regex(/^[\x20-\x7e]{1,255}$/, 'an Idempotency-Key is 1-255 printable ASCII characters')
  .optional()
  .meta({
    param: { name: 'idempotency-key', in: 'header' },
    description:
      'Makes a retry safe: the same key from the same tenant with the same body within 24 h returns the same generation (200) ' +
      'instead of doing the work again; the key with another body is 409 idempotency_conflict. 1-255 printable ASCII characters.',
    example: '7c0b2a4e-3f5d-4b1a-9d61-2f4f7f1c9e80',
  });

const Prefer = z
  .string()
  .max(1024)
  .optional()
  .meta({
    param: { name: 'prefer', in: 'header' },
    description:
      '`wait=N` (1-60): hold the response until the generation is finished or N seconds pass: 201 with the finished ' +
      'generation, else 202. The applied wait is echoed in Preference-Applied (it may be shorter where the platform limits a response).',
    example: 'wait=30',
  });

/** The headers of POST /v1/generations (the multipart form's handler checks them with this too). */
export const CreateGenerationHeaders = z.object({ 'idempotency-key': IdempotencyKey, prefer: Prefer });

const IdParam = z.object({
  id: z
    .string()
    .meta({ param: { name: 'id', in: 'path' }, description: 'The generation id (gen_...).', example: 'gen_q2b4Xk1yq3Lr2mS9vTfW0A' }),
});

export const createGenerationRoute = createRoute({
  method: 'post',
  path: '/v1/generations',
  tags: ['generations'],
  summary: 'Start a generation',
  description:
    'Takes a `prompt` (with optional `images`) or a conversation in `messages` (user and assistant turns, images as data URLs or ' +
    "earlier outputs of the caller's; the model answers the last user turn). Decodes the text side at once. Answers 201 with the " +
    'finished generation when the model needs no image, else 202 with the generation in state `queued`: poll GET /v1/generations/{id}. ' +
    'The body is JSON (images as data URLs), or a `multipart/form-data` form with the images as files (binary, no base64).',
  security,
  middleware: [generationJsonBody] as const,
  request: {
    headers: CreateGenerationHeaders,
    body: {
      required: true,
      description: 'The prompt and optional input images, or the messages; sampling parameters.',
      content: {
        'application/json': { schema: CreateGenerationRequest },
        // A reference, not the zod schema: zod-openapi would otherwise validate every request as a form too (edge/body/form.ts reads it).
        'multipart/form-data': {
          schema: { $ref: `#/components/schemas/${FORM_SCHEMA}` },
          encoding: { images: { contentType: INPUT_IMAGE_TYPES.join(', ') }, 'images[]': { contentType: INPUT_IMAGE_TYPES.join(', ') } },
        },
      },
    },
  },
  responses: {
    200: json(Generation, 'A repeat of an earlier request with the same Idempotency-Key and body: its generation, as it is now.'),
    201: json(Generation, 'Finished: the answer needed no image (or it was made within Prefer: wait).'),
    202: json(Generation, 'Queued: an image is being made; follow /v1/generations/{id}/events or poll the generation.'),
    400: error(
      'invalid_json, invalid_request, unknown_model (the message lists the models served), prompt_too_long (also a conversation over its text or ' +
        'position limit), unsupported_image (not PNG, JPEG, WebP or GIF, damaged, truncated, or not the declared type), invalid_base64, invalid_webhook, ' +
        'unsupported_conversation (the conversation needs a task the model does not declare: several turns, an input image), ' +
        "unsupported_steps or unsupported_guidance (steps or a guidance scale the model does not sample with: GET /v1/models's `sampling`; the message names the model and what it takes).",
    ),
    401: error('unauthorized: missing or wrong API key.'),
    404: error(
      "not_found: an image reference in `messages` to a generation that is not the caller's, or to an output image it does not have.",
    ),
    409: error(
      'idempotency_conflict: the Idempotency-Key was used with another body, or its first request is still running (Retry-After).',
    ),
    413: error('payload_too_large (the whole body) or image_too_large (one image over 5 MB or over 16.7 megapixels).'),
    429: error('rate_limited: over RATE_LIMIT_PER_MINUTE for this tenant; retry after Retry-After seconds.'),
  },
});

export const getGenerationRoute = createRoute({
  method: 'get',
  path: '/v1/generations/{id}',
  tags: ['generations'],
  summary: 'Read a generation',
  security,
  request: { params: IdParam },
  responses: {
    200: json(Generation, 'The generation: status, progress (denoising step k of n) and output so far.'),
    401: error('unauthorized'),
    404: error("not_found: no generation with this id (another tenant's generation is not found either)."),
    429: error('rate_limited'),
  },
});

export const cancelGenerationRoute = createRoute({
  method: 'post',
  path: '/v1/generations/{id}/cancel',
  tags: ['generations'],
  summary: 'Cancel a generation',
  description:
    'A queued generation is canceled at once; a running one stops at its next denoising step (poll until `canceled`). ' +
    'Canceling a canceled generation returns it; a succeeded or failed one answers 409 already_finished.',
  security,
  request: { params: IdParam, headers: z.object({ 'idempotency-key': IdempotencyKey }) },
  responses: {
    200: json(Generation, 'The generation after the cancel request (a repeat with the same Idempotency-Key: as it is now).'),
    400: error('invalid_request: a malformed Idempotency-Key (1-255 printable ASCII characters).'),
    401: error('unauthorized'),
    404: error('not_found'),
    409: error(
      'already_finished: the generation succeeded or failed before the cancel; idempotency_conflict: the key was used for another request.',
    ),
    429: error('rate_limited'),
  },
});

export const generationEventsRoute = createRoute({
  method: 'get',
  path: '/v1/generations/{id}/events',
  tags: ['generations'],
  summary: 'Follow a generation (server-sent events)',
  description:
    'A `text/event-stream` of `generation` events, each the whole generation as GET returns it, at every change: queued (with ' +
    '`queue_position`), running, each denoising step, the final state; the stream ends after a terminal state. Event ids name ' +
    'states: reconnect with `Last-Event-ID` to get only what changed (after the terminal event: 204, which stops EventSource). ' +
    'A `: heartbeat` comment comes every 15 s. On AWS Lambda, which cannot stream through the HTTP API, each request waits up ' +
    'to 10 s for the next change and answers with it and a `retry:` hint; EventSource reconnects by itself.',
  security,
  request: {
    params: IdParam,
    headers: z.object({
      'last-event-id': z
        .string()
        .max(128)
        .optional()
        .meta({
          param: { name: 'last-event-id', in: 'header' },
          description: 'The id of the last event received (EventSource sends it on reconnect).',
        }),
    }),
  },
  responses: {
    200: {
      description: 'The event stream: `event: generation`, `id: <state id>`, `data: <Generation as JSON>`.',
      // One event's fields, as SSE clients (and schemathesis) read a stream: the schema describes each event.
      content: {
        'text/event-stream': {
          schema: z
            .object({
              event: z.literal('generation').optional(),
              id: z.string().optional(),
              data: z
                .string()
                .meta({ description: 'The Generation, as JSON (GET /v1/generations/{id}).', contentMediaType: 'application/json' }),
              retry: z.number().int().optional(),
            })
            .meta({ description: 'One server-sent event.' }),
        },
      },
    },
    204: { description: 'The generation had finished and the client has its final event: stop reconnecting.' },
    400: error('invalid_request: a Last-Event-ID over 128 characters.'),
    401: error('unauthorized'),
    404: error('not_found'),
    429: error('rate_limited'),
  },
});
