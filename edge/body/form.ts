/**
 * POST /v1/generations as `multipart/form-data`: the prompt and sampling fields as form
 * fields, the images as files (binary, no base64), as OpenAI's image routes take them.
 * Read into the JSON body's shape, each image as an inline key (./inline-images.ts), so the
 * rest of the request is the JSON request's: the same schema, limits, errors and fingerprint.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { CreateGenerationRequest, LIMITS } from '../../shared/schemas/generation.js';
import { ModelName } from '../../shared/schemas/models.js';
import type { EdgeEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { INPUT_FORMATS, sniffFormat, type InputMime } from '../images/formats.js';
import { validationHook } from '../middleware/errors.js';
import { formNumber } from './form-fields.js';
import { inlineKey, type InlineImage, type InlineImages } from './inline-images.js';

export const FORM_TYPE = /^multipart\/form-data\s*;/i;

const Upload = z
  .instanceof(File, { message: 'expected an image file' })
  .meta({ type: 'string', format: 'binary', description: 'A PNG, JPEG, WebP or GIF file, at most 5 MB and 16.7 megapixels; its type is read from its bytes.' });
/** A safe parse's data; a failure is thrown as the JSON body's validator throws it (invalid_request, prompt_too_long). */
function checked<T>(result: z.ZodSafeParseResult<T>): T {
  if (!result.success) validationHook(result);
  return (result as { data: T }).data;
}

/** The form's fields; numbers arrive as text. Any other field is 400 naming it. */
export const CreateGenerationForm = z
  .object({
    prompt: z.string().min(1).max(LIMITS.promptChars).meta({ description: 'The user turn, 1 to 4000 characters.', example: 'describe the image' }),
    // A form sends a list as parts, so an empty list is no field at all: a list has 1 to 4 files.
    // One part reads as one file, not a list; the document says a list of 1 to 4 (each item a
    // file part, so clients send them as files), which is the same parts.
    images: z
      .union([Upload, z.array(Upload).min(1).max(LIMITS.images)], { error: 'expected image files (one part each), not text' })
      .optional()
      .meta({
        type: 'array',
        items: { type: 'string', format: 'binary', description: 'A PNG, JPEG, WebP or GIF file, at most 5 MB and 16.7 megapixels; its type is read from its bytes.' },
        minItems: 1,
        maxItems: LIMITS.images,
        description:
          'Up to 4 image files, one part each (the field repeated); they come before the prompt, in order. Send them as `images` or as `images[]`, not both: both is 400 `invalid_request`.',
      }),
    'images[]': z
      .array(Upload)
      .min(1)
      .max(LIMITS.images)
      .optional()
      .meta({ description: 'The same as `images`, as clients that name a list with [] send it. Not both: a form with `images` and `images[]` is 400 `invalid_request`.' }),
    model: ModelName.optional(),
    seed: formNumber({ min: 0, max: LIMITS.seedMax, int: true }),
    steps: formNumber({ min: LIMITS.steps.min, max: LIMITS.steps.max, int: true }),
    guidance: formNumber({ min: LIMITS.guidance.min, max: LIMITS.guidance.max }),
    max_tokens: formNumber({ min: LIMITS.maxTokens.min, max: LIMITS.maxTokens.max, int: true }),
    temperature: formNumber({ min: LIMITS.temperature.min, max: LIMITS.temperature.max }),
  })
  .strict()
  // "Not both" is said in the fields' descriptions, not as a `not` rule: schemathesis 4.32's
  // coverage phase judges generated files against such a rule and crashes on them.
  .meta({
    id: 'CreateGenerationForm',
    description: 'POST /v1/generations as a multipart form: `prompt`, the image files, and the sampling fields of the JSON body with the same limits. Conversations (`messages`) and `webhook` are JSON only.',
  });

export interface ReadForm {
  body: CreateGenerationRequest;
  inline: InlineImages;
}

/** The form read and checked, its files read as inline images; a bad form is a 4xx naming the field. */
export async function readGenerationForm(c: Context<EdgeEnv>): Promise<ReadForm> {
  let data: FormData;
  try {
    data = await c.req.formData();
  } catch (err) {
    throw new ApiError('invalid_request', `the multipart body could not be read (${err instanceof Error ? err.message : String(err)})`);
  }
  const { images, 'images[]': listed, ...fields } = checked(CreateGenerationForm.safeParse(fieldsOf(data)));
  if (images !== undefined && listed !== undefined) throw new ApiError('invalid_request', 'images: send the files as `images` or as `images[]`, not both');
  const files = listed ?? (images === undefined ? [] : Array.isArray(images) ? images : [images]);
  const inline = new Map<string, InlineImage>();
  const keys: string[] = [];
  for (const file of files) {
    const [key, image] = await readFile(file);
    inline.set(key, image);
    keys.push(key);
  }
  const body = checked(CreateGenerationRequest.safeParse({ ...fields, ...(keys.length > 0 ? { images: keys } : {}) }));
  return { body, inline };
}

/** As Hono's form validator reads a form: a repeated field, or one named `x[]`, is a list. */
function fieldsOf(data: FormData): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  data.forEach((value, key) => {
    const seen = fields[key];
    if (key.endsWith('[]')) fields[key] = [...((seen as unknown[] | undefined) ?? []), value];
    else if (Array.isArray(seen)) seen.push(value);
    else fields[key] = Object.hasOwn(fields, key) ? [seen, value] : value;
  });
  return fields;
}

/**
 * One file as an inline image, its type from its bytes (clients often send
 * application/octet-stream). Refusals are kept and said when the image is read, as for a
 * data URL (messages name `images[0]`; the reader names the real index).
 */
async function readFile(file: File): Promise<[string, InlineImage]> {
  if (file.size > LIMITS.imageBytes) {
    // Not read at all: the key says which refusal it is, the size makes it the file's.
    return [inlineKey('file', `over-${file.size}`), { ok: false, code: 'image_too_large', message: `images[0]: ${file.size} bytes; at most ${LIMITS.imageBytes} bytes per image` }];
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  // WebCrypto hashes on libuv's thread pool: the event loop does not walk the megabytes.
  const digest = Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('base64url');
  const format = sniffFormat(bytes);
  const mime = (Object.keys(INPUT_FORMATS) as InputMime[]).find((m) => INPUT_FORMATS[m] === format);
  if (!mime) {
    return [inlineKey('file', digest), { ok: false, code: 'unsupported_image', message: `images[0]: the file is not a ${Object.keys(INPUT_FORMATS).join(', ')} image` }];
  }
  return [inlineKey('file', digest), { ok: true, mime, bytes }];
}
