/**
 * A multipart form read where it cannot stall the event loop (./thread.ts; the event loop
 * itself only under Lambda and in tests): the parts split (undici's parser, as
 * Request.formData() does), each file read as an inline image (its type from its bytes, as
 * clients often send application/octet-stream; its key from the sha-256 of its content), the
 * text fields as sent. A file over the size limit is not read: its refusal is kept, to be said
 * when the image is read, as for a data URL (messages name `images[0]`; the reader names the
 * real index).
 */
import { createHash } from 'node:crypto';
import { LIMITS } from '../../shared/schemas/generation.js';
import { INPUT_FORMATS, type InputMime, sniffFormat } from '../images/formats.js';
import { type InlineImage, inlineKey } from './inline-images.js';
import type { FormEntry } from './protocol.js';

export type ParsedForm = { ok: true; entries: FormEntry[] } | { ok: false; message: string };

export async function parseForm(bytes: Uint8Array, contentType: string): Promise<ParsedForm> {
  let data: FormData;
  try {
    // A socket's bytes are never shared memory.
    data = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  const entries: FormEntry[] = [];
  for (const [name, value] of data) {
    if (typeof value === 'string') entries.push([name, value]);
    else entries.push([name, { name: value.name, type: value.type, ...(await readFile(value)) }]);
  }
  return { ok: true, entries };
}

async function readFile(file: File): Promise<{ key: string; image: InlineImage }> {
  if (file.size > LIMITS.imageBytes) {
    // Not read at all: the key says which refusal it is, the size makes it the file's.
    return {
      key: inlineKey('file', `over-${file.size}`),
      image: { ok: false, code: 'image_too_large', message: `images[0]: ${file.size} bytes; at most ${LIMITS.imageBytes} bytes per image` },
    };
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const key = inlineKey('file', createHash('sha256').update(bytes).digest('base64url'));
  const format = sniffFormat(bytes);
  const mime = (Object.keys(INPUT_FORMATS) as InputMime[]).find((m) => INPUT_FORMATS[m] === format);
  if (!mime)
    return {
      key,
      image: {
        ok: false,
        code: 'unsupported_image',
        message: `images[0]: the file is not a ${Object.keys(INPUT_FORMATS).join(', ')} image`,
      },
    };
  return { key, image: { ok: true, mime, bytes } };
}
