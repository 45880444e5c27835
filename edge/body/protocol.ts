/** Messages between the event loop and the body thread; each side parses what arrives. */
import { z } from 'zod';
import { ErrorCode } from '../../shared/schemas/errors.js';
import { INPUT_IMAGE_TYPES } from '../../shared/schemas/generation.js';

const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'bytes');
const Floats = z.custom<Float32Array>((v) => v instanceof Float32Array, 'floats');
/** A body as the socket delivered it: its chunks, joined on the thread. */
const Chunks = z.array(Bytes);

export const ToThread = z.discriminatedUnion('type', [
  z.object({ type: z.literal('parse'), id: z.number().int(), chunks: Chunks, images: z.boolean() }),
  z.object({ type: z.literal('form'), id: z.number().int(), chunks: Chunks, contentType: z.string() }),
  z.object({
    type: z.literal('prepare'),
    id: z.number().int(),
    bytes: Bytes,
    mime: z.enum(INPUT_IMAGE_TYPES),
    geometry: z.object({ width: z.number().int(), height: z.number().int(), patch_size: z.number().int() }),
  }),
]);
export type ToThread = z.infer<typeof ToThread>;

export const InlineImage = z.union([
  z.object({ ok: z.literal(true), mime: z.enum(INPUT_IMAGE_TYPES), bytes: Bytes }),
  z.object({ ok: z.literal(false), code: ErrorCode, message: z.string() }),
]);

const FormFile = z.object({ name: z.string(), type: z.string(), key: z.string(), image: InlineImage });
export type FormFile = z.infer<typeof FormFile>;
/** A form's parts in order: a field's text, or a file already read as an inline image. */
export const FormEntry = z.tuple([z.string(), z.union([z.string(), FormFile])]);
export type FormEntry = z.infer<typeof FormEntry>;

export const FromThread = z.discriminatedUnion('type', [
  z.object({ type: z.literal('parsed'), id: z.number().int(), text: z.string(), images: z.array(z.tuple([z.string(), InlineImage])) }),
  z.object({ type: z.literal('invalid'), id: z.number().int() }),
  z.object({ type: z.literal('form'), id: z.number().int(), entries: z.array(FormEntry) }),
  z.object({ type: z.literal('bad-form'), id: z.number().int(), message: z.string() }),
  // An image's bytes come back with its answer (moved to the thread and back, not copied).
  z.object({ type: z.literal('prepared'), id: z.number().int(), bytes: Bytes, patches: Floats, png: Bytes }),
  z.object({ type: z.literal('refused'), id: z.number().int(), bytes: Bytes, code: ErrorCode, message: z.string() }),
  z.object({ type: z.literal('error'), id: z.number().int(), message: z.string() }),
]);
export type FromThread = z.infer<typeof FromThread>;
