/**
 * GET /v1/files/<key>: output images of the local file store (whose urlFor points here).
 * Only `outputs/` is served; inputs and job records are not the client's to read back.
 */
import type { Context } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { ObjectStore } from '../shared/ports/store.js';
import { assertValidKey } from '../shared/store/keys.js';
import { ApiErrorBody } from '../shared/schemas/errors.js';
import { ApiError } from './errors.js';

export const FILES_PREFIX = '/v1/files/';

export async function serveFile(c: Context, store: ObjectStore): Promise<Response> {
  let key: string;
  try {
    key = decodeURIComponent(c.req.path.slice(FILES_PREFIX.length));
  } catch {
    key = '';
  }
  const notFound = new ApiError('not_found', `no file ${JSON.stringify(key.slice(0, 200))}`);
  if (!key.startsWith('outputs/')) throw notFound;
  try {
    assertValidKey(key);
  } catch {
    throw notFound;
  }
  const object = await store.get(key);
  if (!object) throw notFound;
  // Output keys are written once per job (deterministic), so the bytes never change.
  return c.body(object.body.slice().buffer as ArrayBuffer, 200, {
    'Content-Type': object.contentType,
    'Cache-Control': 'private, max-age=31536000, immutable',
    ETag: `"${object.etag.replace(/"/g, '')}"`,
  });
}

const KeyParam = z.object({ key: z.string().meta({ param: { name: 'key', in: 'path' }, example: 'outputs/gen_x/0.png' }) });

export function registerFilesDoc(registry: OpenAPIHono['openAPIRegistry']): void {
  registry.registerPath({
    method: 'get',
    path: '/v1/files/{key}',
    tags: ['generations'],
    summary: 'Download an output image (local store)',
    description: 'The URL of an image part when the server stores files locally; `key` is outputs/<id>/<k>.png.',
    security: [{ bearerAuth: [] }],
    request: { params: KeyParam },
    responses: {
      200: { description: 'The PNG.', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
      401: { description: 'unauthorized', content: { 'application/json': { schema: ApiErrorBody } } },
      404: { description: 'not_found', content: { 'application/json': { schema: ApiErrorBody } } },
    },
  });
}
