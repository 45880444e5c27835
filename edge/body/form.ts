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
import { validationHook } from '../middleware/errors.js';
import { formNumber } from './form-fields.js';
import {
  eventLoopBodyParser,
  type FormEntry,
  type FormFile,
  type InlineImage,
  type InlineImages,
  LARGE_BODY_BYTES,
  readBodyChunks,
} from './index.js';

export const FORM_TYPE = /^multipart\/form-data\s*;/i;

const Upload = z.instanceof(File, { message: 'expected an image file' }).meta({
  type: 'string',
  format: 'binary',
  description: 'A PNG, JPEG, WebP or GIF file, at most 5 MB and 16.7 megapixels; its type is read from its bytes.',
});
/** A safe parse's data; a failure is thrown as the JSON body's validator throws it (invalid_request, prompt_too_long). */
function checked<T>(result: z.ZodSafeParseResult<T>): T {
  if (!result.success) validationHook(result);
  return (result as { data: T }).data;
}

/** The form's fields; numbers arrive as text. Any other field is 400 naming it. */
export const CreateGenerationForm = z
  .object({
    prompt: z
      .string()
      .min(1)
      .max(LIMITS.promptChars)
      .meta({ description: 'The user turn, 1 to 4000 characters.', example: 'describe the image' }),
    // A form sends a list as parts, so an empty list is no field at all: a list has 1 to 4 files.
    // One part reads as one file, not a list; the document says a list of 1 to 4 (each item a
    // file part, so clients send them as files), which is the same parts.
    images: z
      .union([Upload, z.array(Upload).min(1).max(LIMITS.images)], { error: 'expected image files (one part each), not text' })
      .optional()
      .meta({
        type: 'array',
        items: {
          type: 'string',
          format: 'binary',
          description: 'A PNG, JPEG, WebP or GIF file, at most 5 MB and 16.7 megapixels; its type is read from its bytes.',
        },
        minItems: 1,
        maxItems: LIMITS.images,
        description:
          'Up to 4 image files, one part each (the field repeated); they come before the prompt, in order. Send them as `images` or as `images[]`, not both: both is 400 `invalid_request`.',
      }),
    'images[]': z.array(Upload).min(1).max(LIMITS.images).optional().meta({
      description:
        'The same as `images`, as clients that name a list with [] send it. Not both: a form with `images` and `images[]` is 400 `invalid_request`.',
    }),
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
    description:
      'POST /v1/generations as a multipart form: `prompt`, the image files, and the sampling fields of the JSON body with the same limits. Conversations (`messages`) and `webhook` are JSON only.',
  });

export interface ReadForm {
  body: CreateGenerationRequest;
  inline: InlineImages;
}

/** The form read and checked, its files read as inline images; a bad form is a 4xx naming the field. */
export async function readGenerationForm(c: Context<EdgeEnv>): Promise<ReadForm> {
  const chunks = await readBodyChunks(c);
  // A large form is split and its files hashed on the body thread, as a large JSON body is parsed.
  const parser =
    chunks.reduce((n, chunk) => n + chunk.byteLength, 0) <= LARGE_BODY_BYTES ? eventLoopBodyParser : (c.var.bodies ?? eventLoopBodyParser);
  const parsed = await parser.parseForm(chunks, c.req.header('content-type') ?? '');
  if (!parsed.ok) throw new ApiError('invalid_request', `the multipart body could not be read (${parsed.message})`);
  const { fields: all, read } = fieldsOf(parsed.entries);
  const { images, 'images[]': listed, ...fields } = checked(CreateGenerationForm.safeParse(all));
  if (images !== undefined && listed !== undefined)
    throw new ApiError('invalid_request', 'images: send the files as `images` or as `images[]`, not both');
  const files = listed ?? (images === undefined ? [] : Array.isArray(images) ? images : [images]);
  const inline = new Map<string, InlineImage>();
  const keys: string[] = [];
  for (const file of files) {
    const { key, image } = read.get(file)!;
    inline.set(key, image);
    keys.push(key);
  }
  const body = checked(CreateGenerationRequest.safeParse({ ...fields, ...(keys.length > 0 ? { images: keys } : {}) }));
  return { body, inline };
}

/**
 * As Hono's form validator reads a form: a repeated field, or one named `x[]`, is a list.
 * Each file part stands as an empty File (what the schema checks for) mapped to what it read as.
 */
function fieldsOf(entries: readonly FormEntry[]): { fields: Record<string, unknown>; read: Map<File, FormFile> } {
  const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const read = new Map<File, FormFile>();
  for (const [key, part] of entries) {
    let value: string | File;
    if (typeof part === 'string') value = part;
    else {
      value = new File([], part.name, { type: part.type });
      read.set(value, part);
    }
    const seen = fields[key];
    if (key.endsWith('[]')) fields[key] = [...((seen as unknown[] | undefined) ?? []), value];
    else if (Array.isArray(seen)) seen.push(value);
    else fields[key] = Object.hasOwn(fields, key) ? [seen, value] : value;
  }
  return { fields, read };
}
