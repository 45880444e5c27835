/**
 * GET /v1/models: OpenAI's list shape (`{object: "list", data: [{id, object: "model",
 * created, owned_by}]}`), each model extended with what this API's clients need to prompt it.
 */
import { z } from 'zod';
import { CONVERSATION_TASKS } from '../runtime/tasks.js';

/** A model name as clients send it: what OpenAI-style `model` fields and URLs carry safely. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A request's `model` and `size`. The server checks them against what it serves (the model
 * registry); the OpenAPI document states that as enums, written when the document is built
 * (edge/openapi-served.ts replaces these components), so a schema-valid request is served.
 */
export const ModelName = z.string().min(1).max(64).meta({
  id: 'ModelName',
  description: 'A model this server serves (GET /v1/models); the default model when absent.',
  example: 'shapes64',
});

export const ImageSize = z.string().meta({
  id: 'ImageSize',
  description: "An image size, `WIDTHxHEIGHT`: the model's own (GET /v1/models, `image`); no other size is made.",
  example: '64x64',
});

export const ModelLicense = z
  .object({
    name: z.string().meta({ description: 'What the licence covers (artwork, weights, ...).' }),
    spdx: z.string().meta({ description: 'SPDX identifier, e.g. CC-BY-4.0.' }),
    source: z.string().meta({ description: 'Where the covered material came from.' }),
    url: z.string().optional(),
    attribution: z.string().optional().meta({ description: 'The attribution the licence requires, to show as it is.' }),
  })
  .meta({ id: 'ModelLicense' });

export const ModelPromptsSchema = z
  .object({
    draw_prefix: z.string().meta({ description: 'A draw prompt is draw_prefix + caption.', example: 'draw ' }),
    draw_template: z
      .string()
      .optional()
      .meta({ description: 'A draw prompt with a style: fill {caption} and {style}.', example: 'draw {caption} in {style} style' }),
    describe_prompt: z.string().meta({ description: 'Sent after an input image, asks for its caption.', example: 'describe the image' }),
    styles: z.array(z.string()).optional().meta({ description: 'The styles draw_template understands.' }),
  })
  .meta({ id: 'ModelPrompts' });

export const ModelSampling = z
  .object({
    default_steps: z.number().int().positive().meta({ description: 'Denoising steps per image when a request gives none.' }),
    max_steps: z.number().int().positive().meta({ description: 'The most steps it takes.' }),
    supported_steps: z.array(z.number().int().positive()).optional().meta({
      description: 'When present, the only step counts it takes (a few-step model: e.g. [1, 2]); absent: any count from 1 to max_steps.',
    }),
    guidance: z.enum(['adjustable', 'fixed']).meta({
      description:
        'adjustable: `guidance` is any scale (0-20; an unconditional row per image at the guided steps). fixed: the scale is distilled into the network, which runs no unconditional row; only default_guidance is taken.',
    }),
    default_guidance: z.number().meta({ description: 'Guidance scale when a request gives none.' }),
    guidance_by_steps: z
      .record(z.string(), z.number())
      .optional()
      .meta({
        description:
          'When present, the guidance a request for that many steps gets when it gives none, instead of default_guidance (a scale chosen for the default steps overshoots over a few large ones).',
        example: { '1': 3, '2': 3, '4': 3 },
      }),
  })
  .meta({
    id: 'ModelSampling',
    description:
      'How it draws: POST /v1/generations and the image routes refuse other `steps` (400 unsupported_steps) or `guidance` (400 unsupported_guidance).',
  });
export type ModelSampling = z.infer<typeof ModelSampling>;

export const ModelObject = z
  .object({
    id: z.string().meta({ description: 'The model name, as POST /v1/generations takes it in `model`.', example: 'shapes64' }),
    object: z.literal('model'),
    created: z.number().int().meta({ description: 'Unix seconds: when the package was made.' }),
    owned_by: z.string(),
    name: z.string().meta({ description: 'Same as id.' }),
    description: z.string(),
    image: z
      .object({ width: z.number().int().positive(), height: z.number().int().positive() })
      .meta({ description: 'Size of the images it reads and draws.' }),
    prompts: ModelPromptsSchema,
    tasks: z.array(z.enum(CONVERSATION_TASKS)).meta({
      description:
        'What the model was trained to do: draw (a caption to an image), describe (an image to its caption), edit, restyle, every_style, ' +
        'multi_turn (several turns in `messages`), refuse (answers what it cannot do with text). POST /v1/generations refuses a conversation ' +
        'that needs a task not listed (400 unsupported_conversation).',
      example: ['draw', 'describe'],
    }),
    sampling: ModelSampling,
    licenses: z.array(ModelLicense),
    data_card: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: "What the model was trained on (the package manifest's data card)." }),
    default: z.boolean().meta({ description: 'Whether a generation without `model` uses it.' }),
  })
  .meta({ id: 'Model' });
export type ModelObject = z.infer<typeof ModelObject>;

export const ModelList = z
  .object({
    object: z.literal('list'),
    data: z.array(ModelObject),
  })
  .meta({ id: 'ModelList' });
export type ModelList = z.infer<typeof ModelList>;
