/**
 * Request and response bodies of the OpenAI-compatible routes, as OpenAI's API defines
 * them for what these models do, plus a few fields of this API (seed, steps, guidance).
 * Fields OpenAI's API allows as null are accepted as null (its clients send them so).
 */
import { z } from 'zod';
import { IMAGE_DATA_URL_PATTERN, LIMITS } from '../../shared/schemas/generation.js';
import { ImageSize, ModelName } from '../../shared/schemas/models.js';

export const MAX_IMAGES_PER_REQUEST = 4;

const seed = z
  .number()
  .int()
  .min(0)
  .max(LIMITS.seedMax)
  .nullish()
  .meta({ description: 'Seed of the noise (image k uses its own stream); random when absent.' });

export const ImagesRequest = z
  .object({
    model: ModelName.nullish(),
    prompt: z.string().min(1).max(LIMITS.promptChars).meta({
      description:
        "What to draw. It is put into the model's drawing request (its draw prefix): `a red circle` asks for `draw a red circle`.",
      example: 'a large red circle at the top left',
    }),
    n: z
      .number()
      .int()
      .min(1)
      .max(MAX_IMAGES_PER_REQUEST)
      .nullish()
      .meta({ description: 'Images to make, 1 to 4 (default 1); they run as separate generations that batch together.' }),
    size: ImageSize.nullish(),
    response_format: z.enum(['url', 'b64_json']).nullish().meta({ description: '`url` (default) or `b64_json` (the PNG in base64).' }),
    user: z.string().max(256).nullish().meta({ description: 'Your end user, for your own tracing; logged, not stored.' }),
    seed,
    steps: z.number().int().min(LIMITS.steps.min).max(LIMITS.steps.max).nullish().meta({
      description:
        "Denoising steps (this API); the model's default when absent; the counts GET /v1/models lists under `sampling` (else 400 unsupported_steps).",
    }),
    guidance: z.number().min(LIMITS.guidance.min).max(LIMITS.guidance.max).nullish().meta({
      description:
        "Classifier-free guidance scale (this API); only the default where the model's `sampling.guidance` is `fixed` (else 400 unsupported_guidance).",
    }),
  })
  .strict()
  .meta({ id: 'ImagesRequest' });
export type ImagesRequest = z.infer<typeof ImagesRequest>;

export const ImageDatum = z.union([
  z.object({ url: z.string(), revised_prompt: z.string() }),
  z.object({ b64_json: z.string(), revised_prompt: z.string() }),
]);
export const ImagesResponse = z
  .object({
    created: z.number().int(),
    data: z.array(ImageDatum),
    generation_ids: z.array(z.string()).meta({ description: "This API's generations behind the images (GET /v1/generations/{id})." }),
  })
  .meta({ id: 'ImagesResponse' });
export type ImagesResponse = z.infer<typeof ImagesResponse>;

/**
 * An output image URL of this server as the spec states it: absolute (http or https, an IPv4
 * address or a host name whose labels start with a letter) or a path, ending in `outputs/gen_.../<k>.png`, with
 * an optional query (a signature). Narrower than what the server reads (any URL whose path
 * ends so), so that every URL it allows parses as one.
 */
export const OUTPUT_IMAGE_URL_PATTERN =
  '^(https?://((?!xn--)[A-Za-z][A-Za-z0-9-]{0,62}(\\.(?!xn--)[A-Za-z][A-Za-z0-9-]{0,62})*|((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9]))(:[0-9]{1,4})?)?' +
  '(/[A-Za-z0-9_~-]+)*/outputs/gen_[A-Za-z0-9_-]{1,124}/[0-9]{1,2}\\.png(\\?[A-Za-z0-9._~=&%-]*)?$';

const TextContent = z.object({ type: z.literal('text'), text: z.string() }).strict();
const ImageUrlContent = z
  .object({
    type: z.literal('image_url'),
    image_url: z
      .object({
        url: z.string().meta({
          description:
            "A data URL (data:image/png;base64,... or data:image/jpeg;base64,...), or the URL of one of this server's output images (the caller's own); other URLs are not fetched.",
          // What edge/openai/history.ts reads; the server checks the same (400 unsupported_image otherwise).
          anyOf: [{ pattern: IMAGE_DATA_URL_PATTERN }, { pattern: OUTPUT_IMAGE_URL_PATTERN }],
        }),
        detail: z.enum(['auto', 'low', 'high']).nullish(),
      })
      .strict(),
  })
  .strict();
export const ContentPart = z.discriminatedUnion('type', [TextContent, ImageUrlContent]);
export type ContentPart = z.infer<typeof ContentPart>;

/** A user message is read, so it needs something to read: text that is not empty, or an image. */
const readable = (part: ContentPart): boolean => part.type === 'image_url' || part.text.length > 0;
const UserContent = z.union([
  z.string().min(1),
  z
    .array(ContentPart)
    .min(1)
    .refine((parts) => parts.some(readable), 'a user message needs text or an image')
    // What the refinement checks, in the document: at least one part that is an image or non-empty text.
    .meta({
      contains: {
        anyOf: [{ properties: { type: { const: 'image_url' } } }, { properties: { type: { const: 'text' }, text: { minLength: 1 } } }],
      },
    }),
]);

export const ChatMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: UserContent, name: z.string().nullish() }).strict(),
  z
    .object({
      role: z.enum(['system', 'developer', 'assistant']),
      content: z.union([z.string(), z.array(ContentPart)]).nullish(),
      name: z.string().nullish(),
    })
    .strict(),
]);
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatRequest = z
  .object({
    model: ModelName.nullish(),
    messages: z
      .array(ChatMessage)
      .min(1)
      .max(64)
      .meta({
        description:
          "The conversation; the model answers the last message, which is the user's. User and assistant messages are read in order (system and developer messages are not; " +
          "consecutive messages of one role are one turn); an assistant's earlier images come back as `image_url` parts or markdown image links `![...](url)` in its text. " +
          'In all at most 8 images and 8000 characters of text, and a context of 4096 positions.',
      }),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().nullish() }).strict().nullish(),
    max_tokens: z.number().int().min(LIMITS.maxTokens.min).max(LIMITS.maxTokens.max).nullish(),
    max_completion_tokens: z.number().int().min(LIMITS.maxTokens.min).max(LIMITS.maxTokens.max).nullish(),
    temperature: z
      .number()
      .min(LIMITS.temperature.min)
      .max(LIMITS.temperature.max)
      .nullish()
      .meta({ description: '0 (the default) is greedy.' }),
    seed,
    n: z.literal(1).nullish().meta({ description: 'Only 1.' }),
    user: z.string().max(256).nullish(),
  })
  .strict()
  .meta({ id: 'ChatCompletionRequest' });
export type ChatRequest = z.infer<typeof ChatRequest>;

export const Usage = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() });
export type Usage = z.infer<typeof Usage>;

export const FinishReason = z.enum(['stop', 'length']);
export type FinishReason = z.infer<typeof FinishReason>;

export const ChatCompletion = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
        finish_reason: FinishReason,
        logprobs: z.null(),
      }),
    ),
    usage: Usage,
    generation_id: z
      .string()
      .optional()
      .meta({ description: "This API's generation that made the answer's images (GET /v1/generations/{id}), when the answer has images." }),
  })
  .meta({ id: 'ChatCompletion' });
export type ChatCompletion = z.infer<typeof ChatCompletion>;

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: { role?: 'assistant'; content?: string }; finish_reason: FinishReason | null; logprobs: null }[];
  usage?: Usage | null;
}
