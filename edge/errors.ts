/**
 * ApiError: a failure the client is told about, as `{error: {code, message}}` with the
 * status its code maps to (shared/schemas/errors.ts). Anything else that escapes a handler
 * is our bug: logged, and answered 500 internal_error without details.
 */
import type { Context } from 'hono';
import { type ApiErrorBody, ERROR_STATUS, type ErrorCode } from '../shared/schemas/errors.js';

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_STATUS[code];
  }
}

export function errorBody(code: ErrorCode, message: string): ApiErrorBody {
  return { error: { code, message } };
}

export function errorResponse(c: Context, err: ApiError): Response {
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  return c.json(errorBody(err.code, err.message), err.status as 400);
}
