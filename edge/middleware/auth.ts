/**
 * Bearer API keys. Keys are compared as SHA-256 digests with timingSafeEqual, against every
 * key without stopping early, so the time taken says nothing about how close a guess was.
 * No keys configured: everything passes (the Node adapter then binds loopback only).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export function bearerAuth(keys: readonly string[]): MiddlewareHandler {
  const digests = keys.map(digest);
  return async (c, next) => {
    if (digests.length === 0) return next();
    const match = BEARER.exec(c.req.header('authorization') ?? '');
    if (!match) throw unauthorized('send the API key as Authorization: Bearer <key>');
    const given = digest(match[1]!);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok) throw unauthorized('the API key is not valid');
    await next();
  };
}

function unauthorized(message: string): ApiError {
  return new ApiError('unauthorized', message, { 'WWW-Authenticate': 'Bearer' });
}
