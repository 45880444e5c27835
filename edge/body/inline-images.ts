/**
 * Input images read from a request body before the route runs: the large-body parser (off
 * the event loop) and the multipart form both leave a short key in the body where the image
 * was (`data:,inline-...`, still a data URL to the schema) and the image here, decoded or
 * refused, so that neither the base64 nor a multi-megabyte string reaches the event loop.
 * Keys are content digests: the same request gives the same body, which is what an
 * Idempotency-Key's fingerprint compares.
 */
import type { ImageGeometry } from '../../shared/runtime/index.js';
import type { ErrorCode } from '../../shared/schemas/errors.js';
import type { InputMime } from '../images/formats.js';
import type { InputImage } from '../images/index.js';

/**
 * Ready bytes of the declared type, or the refusal the image earned (said when it is read, as
 * before). `prepare`, where the body thread runs, reads the bytes to the model's size there
 * (the same as edge/images' prepareInputBytes, its refusals thrown as the same ApiError).
 */
export type InlineImage =
  | { ok: true; mime: InputMime; bytes: Uint8Array; prepare?: (geometry: ImageGeometry) => Promise<InputImage> }
  | { ok: false; code: ErrorCode; message: string };

/** One request's images by key. */
export type InlineImages = ReadonlyMap<string, InlineImage>;

/** The key of a data URL (`json`) or an uploaded file (`file`), from the sha-256 of its content. */
export function inlineKey(source: 'json' | 'file', digest: string): string {
  return `data:,inline-${source}-sha256-${digest}`;
}

/** What the request schema accepts as a data URL (`^data:[^,]*,`), without a regex over megabytes. */
export function looksLikeDataUrl(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('data:') && value.includes(',');
}
