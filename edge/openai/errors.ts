/**
 * Errors on the OpenAI-compatible routes in OpenAI's shape, `{error: {message, type, param,
 * code}}`, so that OpenAI's client libraries raise their own typed errors (BadRequestError,
 * AuthenticationError, NotFoundError, ...). `code` keeps this API's stable codes (a superset
 * of `{code, message}`, so a client of the plain API reads them too).
 *
 * Errors reach these routes from three places: the route's own checks (OpenAiError, which
 * names the offending parameter), the shared middleware (auth, body limit: ApiError) and
 * the app's not-found/method handlers (a plain response). The app's onError answers all of
 * them in the plain shape; `openAiErrorShape`, the outermost middleware of these paths,
 * rewrites that answer.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../../shared/schemas/errors.js';
import { ApiError } from '../errors.js';

/** The routes' validation hook: a failed check is OpenAI's 400 naming the field. */
export const openAiHook = (result: { success: true } | { success: false; error: z.ZodError }): undefined => {
  if (!result.success) throw fromZodError(result.error);
  return undefined;
};

export type OpenAiErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'server_error' | 'timeout_error';

export const OpenAiErrorBody = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
      generation_ids: z
        .array(z.string())
        .optional()
        .meta({ description: 'On 504: the generations still running; follow them with GET /v1/generations/{id}.' }),
    }),
  })
  .meta({ id: 'OpenAiError', description: "OpenAI's error shape; `code` is this API's stable code." });
export type OpenAiErrorBody = z.infer<typeof OpenAiErrorBody>;

export interface OpenAiErrorDetails {
  status: number;
  type: OpenAiErrorType;
  /** The request field at fault, as a dotted path (`messages.0.content.1.image_url.url`). */
  param?: string | null;
  code: string;
  generationIds?: string[];
}

/**
 * An error raised by an OpenAI-compatible route. It is an ApiError (the app's onError answers
 * it without logging it as a bug); the shape middleware then writes OpenAI's fields.
 */
export class OpenAiError extends ApiError {
  override readonly status: number;
  readonly details: OpenAiErrorDetails;
  constructor(base: ErrorCode, message: string, details: Partial<OpenAiErrorDetails> & { status?: number } = {}) {
    super(base, message);
    this.name = 'OpenAiError';
    // Set again here: a subclass field is defined after super() returns.
    this.status = details.status ?? ERROR_STATUS[base];
    this.details = {
      status: this.status,
      type: details.type ?? typeForStatus(this.status),
      param: details.param ?? null,
      code: details.code ?? base,
      ...(details.generationIds ? { generationIds: details.generationIds } : {}),
    };
  }
}

export function typeForStatus(status: number): OpenAiErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found_error';
  if (status === 504) return 'timeout_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

const PlainErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Middleware for the OpenAI-compatible paths: rewrites any error answer into OpenAI's shape. */
export const openAiErrorShape: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.res.status < 400) return;
  const thrown = c.error;
  if (thrown instanceof OpenAiError) {
    c.res = rewritten(c, thrown.details.status, {
      message: thrown.message,
      type: thrown.details.type,
      param: thrown.details.param ?? null,
      code: thrown.details.code,
      ...(thrown.details.generationIds ? { generation_ids: thrown.details.generationIds } : {}),
    });
    return;
  }
  const plain = PlainErrorBody.safeParse(
    await c.res
      .clone()
      .json()
      .catch(() => null),
  );
  if (!plain.success) return;
  c.res = rewritten(c, c.res.status, {
    message: plain.data.error.message,
    type: typeForStatus(c.res.status),
    param: null,
    code: plain.data.error.code,
  });
};

function rewritten(c: Context, status: number, error: OpenAiErrorBody['error']): Response {
  const headers = new Headers(c.res.headers);
  headers.delete('content-length');
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify({ error }), { status, headers });
}

/** A zod failure as an OpenAiError naming the first offending field. */
export function fromZodError(error: z.ZodError): OpenAiError {
  const issue = error.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.join('.') : null;
  const message = error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`)
    .join('; ');
  return new OpenAiError('invalid_request', message, { param });
}
