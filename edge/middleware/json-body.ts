/**
 * Runs before the route's zod validator: insists on a JSON content type and parses the body
 * once, so malformed JSON is `invalid_json`, not a generic 400. A large body is parsed by the
 * app's body parser (edge/body: a worker thread in the Node server), and the validator then
 * reads the small body the parser gave back (Hono's body cache holds it as the request's
 * text); for POST /v1/generations its images wait decoded in `inlineImages`.
 */
import type { MiddlewareHandler } from 'hono';
import { eventLoopBodyParser, type InlineImage, joinChunks, LARGE_BODY_BYTES, readBodyChunks } from '../body/index.js';
import type { EdgeEnv } from '../env.js';
import { ApiError } from '../errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function jsonBodyWith(options: { images: boolean; expected: string }): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) throw new ApiError('invalid_request', `the body must be ${options.expected}`);
    // The socket's chunks: a large body is joined on the body thread, not here.
    const chunks = await readBodyChunks(c);
    let text: string;
    if (chunks.reduce((n, chunk) => n + chunk.byteLength, 0) <= LARGE_BODY_BYTES) {
      text = new TextDecoder().decode(joinChunks(chunks));
      try {
        JSON.parse(text);
      } catch {
        throw invalidJson();
      }
    } else {
      const parsed = await (c.var.bodies ?? eventLoopBodyParser).parse(chunks, { images: options.images });
      if (!parsed.ok) throw invalidJson();
      text = parsed.text;
      if (parsed.images.length > 0) c.set('inlineImages', new Map<string, InlineImage>(parsed.images));
    }
    // What the validator's c.req.json() reads: Hono caches the body's text as a promise.
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    delete c.req.bodyCache.arrayBuffer;
    await next();
  };
}

const invalidJson = () => new ApiError('invalid_json', 'the body is not valid JSON');

/** A JSON body. */
export const jsonBody = jsonBodyWith({ images: false, expected: 'JSON, sent with Content-Type: application/json' });

/** A POST /v1/generations body: its data URLs are decoded with it. */
export const generationJsonBody = jsonBodyWith({
  images: true,
  expected: 'JSON, sent with Content-Type: application/json, or a multipart/form-data form',
});
