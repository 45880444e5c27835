/** The OpenAPI route definitions: the same zod schemas validate requests and write the document. */
import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { ApiErrorBody } from '../shared/schemas/errors.js';
import { CreateGenerationRequest, Generation } from '../shared/schemas/generation.js';
import { jsonBody } from './middleware/json-body.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const error = (description: string) => json(ApiErrorBody, description);
const security = [{ bearerAuth: [] }];

const IdParam = z.object({
  id: z.string().meta({ param: { name: 'id', in: 'path' }, description: 'The generation id (gen_...).', example: 'gen_q2b4Xk1yq3Lr2mS9vTfW0A' }),
});

export const createGenerationRoute = createRoute({
  method: 'post',
  path: '/v1/generations',
  tags: ['generations'],
  summary: 'Start a generation',
  description:
    'Decodes the text side at once. Answers 201 with the finished generation when the model needs no image, ' +
    'else 202 with the generation in state `queued`: poll GET /v1/generations/{id}.',
  security,
  middleware: [jsonBody] as const,
  request: { body: { required: true, ...json(CreateGenerationRequest, 'The prompt, optional input images and sampling parameters.') } },
  responses: {
    201: json(Generation, 'Finished: the answer needed no image.'),
    202: json(Generation, 'Queued: an image is being made; poll the generation.'),
    400: error('invalid_json, invalid_request, unknown_model (the message lists the models served), prompt_too_long, unsupported_image, invalid_base64 or image_dimensions_too_large.'),
    401: error('unauthorized: missing or wrong API key.'),
    413: error('payload_too_large (the whole body) or image_too_large (one image).'),
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
    404: error('not_found: no generation with this id.'),
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
  request: { params: IdParam },
  responses: {
    200: json(Generation, 'The generation after the cancel request.'),
    401: error('unauthorized'),
    404: error('not_found'),
    409: error('already_finished: the generation succeeded or failed before the cancel.'),
  },
});

export const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness',
  responses: {
    200: json(
      z.object({ status: z.literal('ok'), model: z.string().meta({ description: 'The default model.' }), models: z.array(z.string()).meta({ description: 'Every model served.' }) }).strict(),
      'The process is up and its models are loaded.',
    ),
  },
});
