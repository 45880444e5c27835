/**
 * GET /v1/files/<key>?expires=&sig=: output images of the local file store, by signed,
 * expiring URL (edge/auth/signed-urls.ts) and without the bearer key, so that a browser
 * `<img>` can load one. Only `outputs/` is served; inputs and job records are not the
 * client's to read back. A missing, wrong or expired signature is 404, as a missing file
 * is: a URL is the only proof, and a guess learns nothing. On S3 image URLs are presigned
 * S3 URLs and this route serves nothing.
 */

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import type { ObjectStore } from '../shared/ports/store.js';
import { ApiErrorBody } from '../shared/schemas/errors.js';
import { assertValidKey } from '../shared/store/keys.js';
import type { LocalUrlSigner } from './auth/signed-urls.js';
import { ApiError } from './errors.js';

export const FILES_PREFIX = '/v1/files/';

export async function serveFile(c: Context, store: ObjectStore, signer: LocalUrlSigner | undefined): Promise<Response> {
  let key: string;
  try {
    key = decodeURIComponent(c.req.path.slice(FILES_PREFIX.length));
  } catch {
    key = '';
  }
  const notFound = (why = '') => new ApiError('not_found', `no file ${JSON.stringify(key.slice(0, 200))}${why}`);
  if (!signer || !key.startsWith('outputs/')) throw notFound();
  try {
    assertValidKey(key);
  } catch {
    throw notFound();
  }
  const check = signer.verify(key, c.req.query('expires'), c.req.query('sig'));
  if (!check.ok) {
    throw notFound(
      check.why === 'expired'
        ? ': the URL has expired; read the generation again for a fresh one'
        : ' (file URLs must be used as the API gave them, signed)',
    );
  }
  const object = await store.get(key);
  if (!object) throw notFound();
  // Output keys are written once per job (deterministic), so the bytes never change.
  return c.body(object.body.slice().buffer as ArrayBuffer, 200, {
    'Content-Type': object.contentType,
    'Cache-Control': 'private, max-age=31536000, immutable',
    ETag: `"${object.etag.replace(/"/g, '')}"`,
  });
}

const FileRequest = {
  params: z.object({ key: z.string().meta({ param: { name: 'key', in: 'path' }, example: 'outputs/gen_x/0.png' }) }),
  query: z.object({
    expires: z
      .string()
      .regex(/^\d+$/)
      .meta({ param: { name: 'expires', in: 'query' }, description: 'Unix time (s) after which the URL stops working.' }),
    sig: z.string().meta({ param: { name: 'sig', in: 'query' }, description: 'HMAC-SHA256 of the key and expiry, base64url.' }),
  }),
};

export function registerFilesDoc(registry: OpenAPIHono['openAPIRegistry']): void {
  registry.registerPath({
    method: 'get',
    path: '/v1/files/{key}',
    tags: ['generations'],
    summary: 'Download an output image (local store)',
    description:
      'The URL of an image part when the server stores files locally, signed and expiring (PRESIGN_EXPIRES_SECONDS): ' +
      'use it as given, without an API key (a browser <img> can load it). On S3 image URLs are presigned S3 URLs instead.',
    request: FileRequest,
    responses: {
      200: { description: 'The PNG.', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
      404: {
        description: 'not_found: no such file, or the signature is missing, wrong or expired.',
        content: { 'application/json': { schema: ApiErrorBody } },
      },
    },
  });
}
