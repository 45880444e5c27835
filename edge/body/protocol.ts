/** Messages between the event loop and the body thread; each side parses what arrives. */
import { z } from 'zod';
import { ErrorCode } from '../../shared/schemas/errors.js';
import { INPUT_IMAGE_TYPES } from '../../shared/schemas/generation.js';

const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'bytes');

export const ParseRequest = z.object({ type: z.literal('parse'), id: z.number().int(), bytes: Bytes, images: z.boolean() });
export type ParseRequest = z.infer<typeof ParseRequest>;

const InlineImage = z.union([
  z.object({ ok: z.literal(true), mime: z.enum(INPUT_IMAGE_TYPES), bytes: Bytes }),
  z.object({ ok: z.literal(false), code: ErrorCode, message: z.string() }),
]);

export const FromThread = z.discriminatedUnion('type', [
  z.object({ type: z.literal('parsed'), id: z.number().int(), text: z.string(), images: z.array(z.tuple([z.string(), InlineImage])) }),
  z.object({ type: z.literal('invalid'), id: z.number().int() }),
  z.object({ type: z.literal('error'), id: z.number().int(), message: z.string() }),
]);
export type FromThread = z.infer<typeof FromThread>;
