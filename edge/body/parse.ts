/**
 * A large JSON body, parsed where it cannot stall the event loop (./thread.ts; the event loop
 * itself only under Lambda and in tests): UTF-8 decoded as Request.text() does, JSON.parse,
 * and for POST /v1/generations every data URL where the schema takes an image (`images[k]`,
 * `messages[i].content[j].url` of an image part) checked and base64-decoded here
 * (edge/images/data-url.ts, the same checks and messages) and replaced by its inline key.
 * What goes back to the event loop is the small body as JSON text and the decoded bytes.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';
import { parseImageDataUrl } from '../images/data-url.js';
import { type InlineImage, inlineKey, looksLikeDataUrl } from './inline-images.js';

export type ParsedBody = { ok: true; text: string; images: [string, InlineImage][] } | { ok: false };

export function parseLargeJson(bytes: Uint8Array, options: { images: boolean }): ParsedBody {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false };
  }
  const images = new Map<string, InlineImage>();
  if (options.images) {
    const inline = (url: string): string => {
      const key = inlineKey('json', createHash('sha256').update(url).digest('base64url'));
      if (!images.has(key)) images.set(key, readDataUrl(url));
      return key;
    };
    replaceImages(body, inline);
  }
  return { ok: true, text: JSON.stringify(body), images: [...images] };
}

/** Where CreateGenerationRequest takes a data URL; anything else is left for the schema to judge. */
function replaceImages(body: unknown, inline: (url: string) => string): void {
  if (!isObject(body)) return;
  const { images, messages } = body;
  if (Array.isArray(images))
    images.forEach((url, k) => {
      if (looksLikeDataUrl(url)) images[k] = inline(url);
    });
  if (!Array.isArray(messages)) return;
  for (const message of messages) {
    if (!isObject(message) || !Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (isObject(part) && part.type === 'image' && looksLikeDataUrl(part.url)) part.url = inline(part.url);
    }
  }
}

function readDataUrl(url: string): InlineImage {
  try {
    const { mime, bytes } = parseImageDataUrl(url, 0);
    return { ok: true, mime, bytes };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
