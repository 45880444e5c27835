/**
 * The body size limit, refused from Content-Length before a byte of the body is read. Hono's
 * bodyLimit opens the request's web stream first (`c.req.raw.body`), which under the Node
 * adapter starts the slow path that ./read.ts avoids; a body without a length (chunked) is
 * still counted by Hono's middleware as it is read.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit as countedBodyLimit } from 'hono/body-limit';

export function bodyLimit(options: { maxSize: number; onError: (c: Context) => Response | Promise<Response> }): MiddlewareHandler {
  const counted = countedBodyLimit(options);
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return counted(c, next);
    return Number(length) > options.maxSize ? options.onError(c) : next();
  };
}
