/**
 * Turns whatever a handler threw into the API's one error shape. ApiError is the client's
 * mistake, said as it is; HTTPException comes from Hono's own middleware and is mapped by
 * status; anything else is our bug: logged with the request id, answered 500.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import type { ErrorCode } from '../../shared/schemas/errors.js';
import type { EdgeEnv } from '../env.js';
import { ApiError, errorResponse } from '../errors.js';

const BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'invalid_request',
};

export const onError: ErrorHandler<EdgeEnv> = (err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof HTTPException) {
    const code = BY_STATUS[err.status];
    if (code) return errorResponse(c, new ApiError(code, err.message || code));
  }
  c.var.log?.error({ err }, 'unhandled error');
  return errorResponse(c, new ApiError('internal_error', `internal error (request id ${c.var.requestId ?? 'unknown'})`));
};

export const notFound: NotFoundHandler<EdgeEnv> = (c) =>
  errorResponse(c, new ApiError('not_found', `no route for ${c.req.method} ${c.req.path}`));

export function methodNotAllowedResponse(c: Context, methods: string[]): Response {
  return errorResponse(
    c,
    new ApiError('method_not_allowed', `${c.req.method} is not allowed here; use ${methods.join(', ')}`, { Allow: methods.join(', ') }),
  );
}

/** The zod validator's hook: a failed body or parameter check becomes a 4xx with a readable summary. */
export function validationHook(result: { success: true } | { success: false; error: z.ZodError }): void {
  if (result.success) return;
  const issues = result.error.issues;
  const prompt = issues.find((i) => i.code === 'too_big' && i.path.length === 1 && i.path[0] === 'prompt');
  if (prompt) throw new ApiError('prompt_too_long', `prompt: ${prompt.message}`);
  // A conversation's text over its total (shared/schemas/conversation.ts) is too long the same way.
  const text = issues.find((i) => i.code === 'custom' && (i.params as { code?: unknown } | undefined)?.code === 'prompt_too_long');
  if (text) throw new ApiError('prompt_too_long', `${text.path.join('.')}: ${text.message}`);
  throw new ApiError('invalid_request', summarise(issues));
}

function summarise(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`);
  if (issues.length > shown.length) shown.push(`and ${issues.length - shown.length} more`);
  return shown.join('; ');
}
