/**
 * `messages` of POST /v1/generations: a conversation of user and assistant turns, each a
 * string or a list of text and image parts, the answer decoded after the last user turn
 * (the multi-turn template, docs/model-package.md). What is checked here needs no model:
 * the shape, the order of roles and the per-request totals; the context's length in
 * positions and the model's declared tasks are checked by the edge before any work.
 */
import { z } from 'zod';
import { ImageDataUrl } from './image-url.js';
import { ImagePart, StoredImagePart, TextPart } from './parts.js';

export const CONVERSATION_LIMITS = {
  /** Turns in one request (user and assistant together). */
  messages: 32,
  /** Images in all turns together (data URLs and references). */
  images: 8,
  /** Characters of text in all turns together. */
  textChars: 8000,
  /** The whole context in positions (text tokens, special tokens and every image's patches), before the answer. */
  positions: 4096,
} as const;

/** A generation id as clients send it in a reference. */
const GenerationId = z
  .string()
  .regex(/^gen_[A-Za-z0-9_-]{1,124}$/, 'a generation id (gen_...)')
  .meta({ example: 'gen_q2b4Xk1yq3Lr2mS9vTfW0A' });

export const MessageTextPart = TextPart.meta({ id: 'MessageTextPart' });

export const MessageImageUrlPart = z
  .object({ type: z.literal('image'), url: ImageDataUrl })
  .strict()
  .meta({ id: 'MessageImageUrlPart', description: 'An image given as a data URL (decoded as `images` are).' });

export const MessageImageReferencePart = z
  .object({
    type: z.literal('image'),
    generation: GenerationId.meta({
      description: "An earlier generation of the caller's (another tenant's, or an unknown id: 404 not_found).",
    }),
    index: z.number().int().min(0).max(63).default(0).meta({ description: 'Which of its output images, counted from 0 (default 0).' }),
  })
  .strict()
  .meta({
    id: 'MessageImageReferencePart',
    description: 'An output image of an earlier generation, by its id and index: what the model drew, read again as it was stored.',
  });

export const MessagePart = z.union([MessageTextPart, MessageImageUrlPart, MessageImageReferencePart]);
export type MessagePart = z.infer<typeof MessagePart>;

export const Message = z
  .object({
    role: z.enum(['user', 'assistant']),
    content: z.union([z.string().min(1), z.array(MessagePart).min(1).max(64)]).meta({
      description:
        'Text, or text and image parts in order (consecutive text parts are read one after the other, with nothing added between them).',
    }),
  })
  .strict()
  .meta({ id: 'Message' });
export type Message = z.infer<typeof Message>;

/** The parts of a message, a string content being one text part. */
export function partsOf(message: Message): MessagePart[] {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

export const Messages = z
  .array(Message)
  .min(1)
  .max(CONVERSATION_LIMITS.messages)
  .meta({
    description:
      `The conversation, instead of prompt/images: turns alternate user and assistant, the first and the last the user's (an odd number, at most ${CONVERSATION_LIMITS.messages}); ` +
      `the model answers the last one. In all, at most ${CONVERSATION_LIMITS.images} images and ${CONVERSATION_LIMITS.textChars} characters of text, ` +
      `and a context of at most ${CONVERSATION_LIMITS.positions} positions (every image is the model's patches, 64 for a 64 x 64 model). ` +
      'Several turns need a model whose tasks include multi_turn, and images in a user turn one whose tasks include describe, edit or restyle (GET /v1/models); else 400 unsupported_conversation.',
  });

/** Zod issues for the order of roles and the totals; `path` is where `messages` sits in the body. */
export function checkMessages(messages: readonly Message[], ctx: z.RefinementCtx, path: (string | number)[] = ['messages']): void {
  messages.forEach((m, i) => {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (m.role !== expected)
      ctx.addIssue({
        code: 'custom',
        path: [...path, i, 'role'],
        message: `must be "${expected}": turns alternate user and assistant, starting with the user`,
      });
  });
  if (messages.length % 2 === 0)
    ctx.addIssue({ code: 'custom', path, message: "the last message must be the user's (the model answers it)" });
  const parts = messages.flatMap(partsOf);
  const images = parts.filter((p) => p.type === 'image').length;
  if (images > CONVERSATION_LIMITS.images) {
    ctx.addIssue({ code: 'custom', path, message: `${images} images in all; at most ${CONVERSATION_LIMITS.images} in one request` });
  }
  const chars = parts.reduce((n, p) => n + (p.type === 'text' ? p.text.length : 0), 0);
  if (chars > CONVERSATION_LIMITS.textChars) {
    // params.code: the edge answers this one prompt_too_long, like an oversized prompt.
    ctx.addIssue({
      code: 'custom',
      path,
      message: `${chars} characters of text in all; at most ${CONVERSATION_LIMITS.textChars}`,
      params: { code: 'prompt_too_long' },
    });
  }
}

/**
 * The conversation as a job record keeps it: every image as the job's own copy under
 * `inputs/` (a reference also names where it came from), so that the record outlives the
 * generations it quoted.
 */
export const StoredMessagePart = z.discriminatedUnion('type', [
  TextPart,
  // A message's image is stored without mime_type (always PNG) and with where it was quoted from.
  StoredImagePart.omit({ mime_type: true }).extend({ generation: z.string().min(1).optional(), index: z.number().int().min(0).optional() }),
]);
export type StoredMessagePart = z.infer<typeof StoredMessagePart>;

export const StoredMessage = z.object({ role: z.enum(['user', 'assistant']), content: z.array(StoredMessagePart) }).strict();
export type StoredMessage = z.infer<typeof StoredMessage>;

/** A message as GET /v1/generations/{id} shows it: images as signed URLs of the job's copies. */
export const MessageView = z
  .object({
    role: z.enum(['user', 'assistant']),
    content: z.array(
      z.discriminatedUnion('type', [
        TextPart,
        ImagePart.extend({
          generation: z.string().optional().meta({ description: 'The generation it was quoted from, when the request referenced one.' }),
          index: z.number().int().min(0).optional(),
        }),
      ]),
    ),
  })
  .strict()
  .meta({ id: 'MessageView', description: "A message of the request, as the model read it (images at the model's size)." });
export type MessageView = z.infer<typeof MessageView>;
