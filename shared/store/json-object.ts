/**
 * A JSON object in the store, read with its etag: the version a conditional write names
 * (If-Match) so that a write made in between is detected instead of overwritten.
 */
import type { z } from 'zod';
import type { ObjectStore } from '../ports/store.js';

export interface VersionedJson<T> {
  readonly value: T;
  readonly etag: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const JSON_CONTENT_TYPE = 'application/json';

/** The object at `key` parsed by `schema`, with its etag; null when there is none. */
export async function readJsonObject<T>(
  store: Pick<ObjectStore, 'get'>,
  key: string,
  schema: z.ZodType<T>,
): Promise<VersionedJson<T> | null> {
  const object = await store.get(key);
  if (!object) return null;
  return { value: schema.parse(JSON.parse(decoder.decode(object.body))), etag: object.etag };
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
