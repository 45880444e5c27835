/**
 * The public API's bodies: the request of POST /v1/generations and the generation every
 * route answers with. Limits live here so that the edge, the OpenAPI document and the CLI
 * agree on them.
 */
import { z } from 'zod';
import { JobStatus } from '../jobs/status.js';
import { WebhookRequest, WebhookView } from '../webhooks/schema.js';
import { checkMessages, Messages, MessageView } from './conversation.js';
import { ImageDataUrl } from './image-url.js';
import { ModelName } from './models.js';
import { ImagePart, TextPart } from './parts.js';

export const LIMITS = {
  promptChars: 4000,
  images: 4,
  /** Decoded bytes of one input image. */
  imageBytes: 5 * 1024 * 1024,
  steps: { min: 1, max: 100 },
  guidance: { min: 0, max: 20 },
  maxTokens: { min: 1, max: 1024, default: 256 },
  temperature: { min: 0, max: 2, default: 0 },
  /** Seeds are 32-bit: the runtime's PRNG takes an unsigned 32-bit state. */
  seedMax: 0xffff_ffff,
} as const;

export { IMAGE_DATA_URL_PATTERN, INPUT_IMAGE_TYPES } from './image-url.js';

/** An optional number within `bounds` (an integer where `int`), as the document describes it. */
function bounded(bounds: { min: number; max: number; int?: boolean }, description: string) {
  return (bounds.int ? z.number().int() : z.number()).min(bounds.min).max(bounds.max).optional().meta({ description });
}

export const CreateGenerationRequest = z
  .object({
    prompt: z.string().min(1).max(LIMITS.promptChars).optional().meta({
      description: 'The user turn, 1 to 4000 characters (one turn; or `messages` for a conversation: exactly one of the two).',
      example: 'draw a red circle on a blue background',
    }),
    model: ModelName.optional(),
    images: z
      .array(ImageDataUrl)
      .max(LIMITS.images)
      .optional()
      .meta({ description: 'Up to 4 input images; they come before the prompt in the user turn (with `prompt` only).' }),
    messages: Messages.optional(),
    seed: bounded({ min: 0, max: LIMITS.seedMax, int: true }, 'Seed of the text sampler and of the image noise; random when absent.'),
    steps: bounded(
      { ...LIMITS.steps, int: true },
      "Denoising steps per image; the model's default when absent. Each model takes the counts GET /v1/models lists under `sampling` (else 400 unsupported_steps).",
    ),
    guidance: bounded(
      LIMITS.guidance,
      "Classifier-free guidance scale; the model's default when absent. A model whose `sampling.guidance` is `fixed` takes only its default (else 400 unsupported_guidance).",
    ),
    max_tokens: bounded({ ...LIMITS.maxTokens, int: true }, 'Budget of generated text tokens for the whole answer (default 256).'),
    temperature: bounded(LIMITS.temperature, 'Text sampling temperature; 0 (the default) is greedy.'),
    webhook: WebhookRequest.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    // Two forms of one request: a prompt (with images before it), or a conversation.
    if ((body.prompt === undefined) === (body.messages === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of `prompt` (with optional `images`) and `messages`' });
    }
    if (body.messages !== undefined && body.images !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['images'], message: 'goes with `prompt`; with `messages`, images are parts of the messages' });
    }
    if (body.messages !== undefined) checkMessages(body.messages, ctx);
  })
  .meta({ id: 'CreateGenerationRequest' });
export type CreateGenerationRequest = z.infer<typeof CreateGenerationRequest>;

export const OutputPart = z.discriminatedUnion('type', [TextPart, ImagePart]).meta({ id: 'OutputPart' });
export type OutputPart = z.infer<typeof OutputPart>;

export const Progress = z
  .object({
    step: z.number().int().min(0),
    steps: z.number().int().min(0),
    image: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Index (from 0) of the image being made, or of the last one made once the answer is done.' }),
    images_so_far: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Images of the answer finished so far (each is in `output` as soon as it is made).' }),
  })
  .strict()
  .meta({
    description:
      'Denoising step `step` of `steps` of image `image` of the answer (0 of n while queued); an answer may hold several images.',
  });

export const GenerationError = z.object({ code: z.string().min(1), message: z.string() }).strict();

export const Generation = z
  .object({
    id: z.string().min(1),
    model: z.string().min(1).meta({ description: 'The model that made it.' }),
    status: JobStatus,
    created_at: z.iso.datetime(),
    progress: Progress,
    output: z.array(OutputPart),
    error: GenerationError.optional(),
    webhook: WebhookView.optional(),
    messages: z.array(MessageView).optional().meta({
      description:
        'The conversation the request sent in `messages` (absent for a `prompt` request); `output` is the answer to its last turn.',
    }),
    queue_position: z.number().int().min(0).optional().meta({
      description: 'While queued: generations waiting ahead of this one (0: next). Exact on the local queue, approximate on SQS.',
    }),
  })
  .strict()
  .meta({ id: 'Generation' });
export type Generation = z.infer<typeof Generation>;
