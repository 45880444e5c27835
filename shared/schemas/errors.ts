/**
 * The one error shape of the public API, `{error: {code, message}}`, and its stable codes.
 * Clients branch on `code`; `message` is for people and may change.
 */
import { z } from 'zod';

export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'prompt_too_long',
  'unknown_model',
  'unsupported_image',
  'image_too_large',
  'invalid_base64',
  'invalid_webhook',
  'unsupported_conversation',
  'unsupported_steps',
  'unsupported_guidance',
  'not_found',
  'already_finished',
  'idempotency_conflict',
  'unauthorized',
  'rate_limited',
  'method_not_allowed',
  'payload_too_large',
  'internal_error',
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiErrorBody = z
  .object({
    error: z
      .object({
        /** Stable machine-readable code (ERROR_CODES); a later version may add codes. */
        code: z
          .string()
          .min(1)
          .meta({ description: `Stable machine-readable code, one of: ${ERROR_CODES.join(', ')} (more may be added).` }),
        message: z.string(),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'Error', description: 'Every error response has this shape.' });
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** The HTTP status each code is answered with. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, 400 | 401 | 404 | 405 | 409 | 413 | 429 | 500>> = {
  invalid_json: 400,
  invalid_request: 400,
  prompt_too_long: 400,
  unknown_model: 400,
  unsupported_image: 400,
  image_too_large: 413,
  invalid_base64: 400,
  invalid_webhook: 400,
  unsupported_conversation: 400,
  unsupported_steps: 400,
  unsupported_guidance: 400,
  not_found: 404,
  already_finished: 409,
  idempotency_conflict: 409,
  unauthorized: 401,
  rate_limited: 429,
  method_not_allowed: 405,
  payload_too_large: 413,
  internal_error: 500,
};
