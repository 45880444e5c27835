/**
 * POST /v1/images/edits, OpenAI's image edits: a multipart form (Hono's form validator reads
 * it with the Web FormData API; edits-schema.ts checks it), answered like
 * POST /v1/images/generations. Errors in OpenAI's shape, the failed field as `param`.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { INPUT_IMAGE_TYPES } from '../../shared/schemas/image-url.js';
import type { EdgeEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { editImages } from './edits.js';
import { ImageEditForm } from './edits-schema.js';
import { OpenAiErrorBody, openAiHook } from './errors.js';
import { respondWithImages } from './images-deps.js';
import type { OpenAiDeps } from './routes.js';
import { ImagesResponse } from './schemas.js';

const FORM_TYPE = /^multipart\/form-data\s*;/i;
/** The image parts' types, as the document's encoding states them (the type is read from the bytes). */
const IMAGE_PARTS = INPUT_IMAGE_TYPES.join(', ');

/** Before the form validator: a body that is not multipart is named as such, not as missing fields. */
const formBody: MiddlewareHandler = async (c, next) => {
  if (!FORM_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new ApiError('invalid_request', 'the body must be multipart/form-data (an `image` file and a `prompt` field)');
  }
  await next();
};

const error = (description: string) => ({ content: { 'application/json': { schema: OpenAiErrorBody } }, description });

export const imageEditsRoute = createRoute({
  method: 'post',
  path: '/v1/images/edits',
  tags: ['openai'],
  summary: 'Edit an image (OpenAI-compatible)',
  description:
    "OpenAI's image edits: the image and the prompt are one user turn (`<boi> image <eoi> prompt`, the layout of a describe), " +
    'sent as they are: `make the circle blue` (an edit), `draw this in twitter style` (a restyle). Each of the n edits is a generation; ' +
    'the request waits for them as POST /v1/images/generations does (504 with `error.generation_ids` past OPENAI_WAIT_SECONDS). ' +
    'A model that answers in words instead of an image (what it cannot do, say) is 422 `no_image`, its words in `error.message`.',
  security: [{ bearerAuth: [] }],
  middleware: [formBody] as const,
  request: {
    body: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: ImageEditForm,
          encoding: { image: { contentType: IMAGE_PARTS }, 'image[]': { contentType: IMAGE_PARTS } },
        },
      },
      description: 'The image file and the instruction.',
    },
  },
  responses: {
    200: { content: { 'application/json': { schema: ImagesResponse } }, description: 'The edited images, as URLs or base64 PNGs.' },
    400: error(
      'invalid_request (with `param`), unsupported_image, invalid_base64, prompt_too_long, unsupported_steps / unsupported_guidance (`param` steps or guidance: what the model samples with, GET /v1/models).',
    ),
    401: error('unauthorized'),
    404: error('model_not_found'),
    413: error('image_too_large'),
    422: error('no_image: the model answered in words instead of an image; its words in `message`, `error.generation_ids`.'),
    500: error('a generation failed (its error code, with `error.generation_ids`).'),
    504: error('generation_timeout: not ready in time; `error.generation_ids` to follow.'),
  },
});

export function registerImageEditsRoute(app: OpenAPIHono<EdgeEnv>, deps: OpenAiDeps): void {
  app.openapi(imageEditsRoute, (c) => respondWithImages(c, deps, c.req.valid('form'), editImages), openAiHook);
}
