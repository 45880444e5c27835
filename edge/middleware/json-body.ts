/**
 * Runs before the route's zod validator: insists on a JSON content type and parses the body
 * once (Hono caches it for the validator), so malformed JSON is `invalid_json`, not a
 * generic 400.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export const jsonBody: MiddlewareHandler = async (c, next) => {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new ApiError('invalid_request', 'the body must be JSON, sent with Content-Type: application/json');
  }
  try {
    await c.req.json();
  } catch {
    throw new ApiError('invalid_json', 'the body is not valid JSON');
  }
  await next();
};
