/**
 * What the page reads from the API, checked as it arrives (zod's mini build keeps the page
 * small). Loose objects: a newer server may add fields.
 */
import * as z from 'zod/mini';

export const TextPart = z.object({ type: z.literal('text'), text: z.string() });
export const ImagePart = z.object({ type: z.literal('image'), url: z.string(), width: z.number(), height: z.number() });
export const OutputPart = z.union([TextPart, ImagePart]);
export type OutputPart = z.infer<typeof OutputPart>;

export const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type Status = (typeof STATUSES)[number];
export const isTerminal = (s: Status): boolean => s === 'succeeded' || s === 'failed' || s === 'canceled';

export const Generation = z.looseObject({
  id: z.string(),
  status: z.enum(STATUSES),
  /** `image` (from 0) and `images_so_far` where the server counts images of an answer. */
  progress: z.looseObject({ step: z.number(), steps: z.number(), image: z.optional(z.number()), images_so_far: z.optional(z.number()) }),
  output: z.array(OutputPart),
  error: z.optional(z.object({ code: z.string(), message: z.string() })),
  /** Where the events stream gives it (queued jobs ahead of this one). */
  queue_position: z.optional(z.nullable(z.number())),
});
export type Generation = z.infer<typeof Generation>;

export const Model = z.looseObject({
  id: z.string(),
  name: z.optional(z.string()),
  description: z.optional(z.string()),
  image: z.optional(z.object({ width: z.number(), height: z.number() })),
  prompts: z.optional(
    z.looseObject({
      draw_prefix: z.string(),
      draw_template: z.optional(z.string()),
      describe_prompt: z.string(),
      styles: z.optional(z.array(z.string())),
    }),
  ),
  /** How it samples (a few-step model: some step counts only, guidance fixed); absent on older servers. */
  sampling: z.optional(
    z.looseObject({
      default_steps: z.number(),
      max_steps: z.number(),
      supported_steps: z.optional(z.array(z.number())),
      guidance: z.string(),
      default_guidance: z.number(),
      guidance_by_steps: z.optional(z.record(z.string(), z.number())),
    }),
  ),
  /** What it was trained to do (`multi_turn`, `edit`, `restyle`, ...); absent on older servers. */
  tasks: z.optional(z.array(z.string())),
  default: z.optional(z.boolean()),
});
export type Model = z.infer<typeof Model>;
export const ModelList = z.object({ data: z.array(Model) });

/** Either error shape this API answers with (`{code, message}`, or OpenAI's with `type`). */
export const ErrorBody = z.object({ error: z.object({ message: z.string(), code: z.optional(z.nullable(z.string())) }) });

const Bound = z.looseObject({ minimum: z.optional(z.number()), maximum: z.optional(z.number()) });
export const OpenApiLimits = z.looseObject({
  components: z.looseObject({
    schemas: z.looseObject({
      CreateGenerationRequest: z.looseObject({
        properties: z.looseObject({ steps: z.optional(Bound), guidance: z.optional(Bound), seed: z.optional(Bound) }),
      }),
    }),
  }),
});
