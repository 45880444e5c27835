/**
 * POST /v1/images/edits: OpenAI's multipart form (`image`, `prompt`, `n`, `response_format`,
 * `model`, `size`, `user`) and this API's extensions (`seed`, `steps`, `guidance`,
 * `temperature`). Form fields arrive as strings, so numbers are coerced (and documented as
numbers: a form cannot send null, though zod would coerce it to 0); the image is a
 * file part (`image`, or `image[]` as OpenAI's clients name a list). Any other field is 400
 * naming it, like every OpenAI-compatible route here.
 */
import { z } from 'zod';
import { LIMITS } from '../../shared/schemas/generation.js';
import { ImageSize, ModelName } from '../../shared/schemas/models.js';
import { formNumber } from '../body/form-fields.js';
import { MAX_IMAGES_PER_REQUEST } from './schemas.js';

const Upload = z
  .instanceof(File, { message: 'expected an image file' })
  .meta({ type: 'string', format: 'binary', description: 'A PNG, JPEG, WebP or GIF file, at most 5 MB.' });

export const ImageEditForm = z
  .object({
    image: Upload.optional().meta({
      description: "The image to change: one file (PNG, JPEG, WebP or GIF, at most 5 MB), read at the model's size.",
    }),
    'image[]': z
      .array(Upload)
      .min(1)
      .max(1)
      .optional()
      .meta({ description: "The same as `image`, as OpenAI's clients send a list (one image only)." }),
    prompt: z.string().min(1).max(LIMITS.promptChars).meta({
      description: 'The instruction, sent to the model as it is after the image: `make the circle blue`, `draw this in twitter style`.',
      example: 'make the circle at the top left blue',
    }),
    model: ModelName.optional(),
    n: formNumber({
      min: 1,
      max: MAX_IMAGES_PER_REQUEST,
      int: true,
      description: 'Edits to make, 1 to 4 (default 1); separate generations that batch together.',
    }),
    size: ImageSize.optional(),
    response_format: z.enum(['url', 'b64_json']).optional().meta({ description: '`url` (default) or `b64_json`.' }),
    user: z.string().max(256).optional(),
    seed: formNumber({ min: 0, max: LIMITS.seedMax, int: true, description: 'Seed (this API): edit k uses seed + k; random when absent.' }),
    steps: formNumber({
      min: LIMITS.steps.min,
      max: LIMITS.steps.max,
      int: true,
      description: 'Denoising steps (this API); the counts GET /v1/models lists under `sampling` (else 400 unsupported_steps).',
    }),
    guidance: formNumber({
      min: LIMITS.guidance.min,
      max: LIMITS.guidance.max,
      description:
        "Classifier-free guidance scale (this API); only the default where the model's `sampling.guidance` is `fixed` (else 400 unsupported_guidance).",
    }),
    temperature: formNumber({
      min: LIMITS.temperature.min,
      max: LIMITS.temperature.max,
      description: 'Text sampling temperature before the image (this API; default 0, greedy).',
    }),
  })
  .strict()
  .superRefine((form, ctx) => {
    if ((form.image === undefined) === (form['image[]'] === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['image'], message: 'send exactly one image file (as `image`)' });
    }
  })
  // The refinement above, in the document: exactly one of the two image fields.
  .meta({ id: 'ImageEditRequest', oneOf: [{ required: ['image'] }, { required: ['image[]'] }] });
export type ImageEditForm = z.infer<typeof ImageEditForm>;

/** The one image of a checked form. */
export function imageOf(form: ImageEditForm): File {
  const file = form.image ?? form['image[]']?.[0];
  if (!file) throw new Error('a checked edit form holds an image');
  return file;
}
