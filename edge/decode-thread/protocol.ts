/**
 * Messages between the edge's event loop and its decode thread. Both ends are this
 * project's code, but a message still crosses a boundary: each side parses what arrives.
 */
import { z } from 'zod';
import { PRECISIONS } from '../../shared/runtime/index.js';

/** What the thread is started with (workerData): the package folders, the default first. */
export const ThreadConfig = z.object({
  modelDirs: z.array(z.string().min(1)).min(1),
  precision: z.enum(PRECISIONS).optional(),
  intraOpThreads: z.number().int().min(1).optional(),
});
export type ThreadConfig = z.infer<typeof ThreadConfig>;

// Readonly, as shared/runtime's Segment is: the main side posts its segments as they are.
const Segment = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), ids: z.array(z.number().int()).readonly() }).readonly(),
  z.object({ type: z.literal('image'), patches: z.custom<Float32Array>((v) => v instanceof Float32Array) }).readonly(),
]);

export const DecodeRequest = z.object({
  type: z.literal('decode'),
  id: z.number().int(),
  model: z.string().min(1),
  segments: z.array(Segment).readonly(),
  options: z.object({ maxTokens: z.number().int(), temperature: z.number(), seed: z.number().int() }),
});
/** Finish the decode in progress, drop the rest, release the session, exit. */
export const CloseRequest = z.object({ type: z.literal('close') });
export const ToThread = z.discriminatedUnion('type', [DecodeRequest, CloseRequest]);
export type ToThread = z.infer<typeof ToThread>;

const DecodedText = z.object({ ids: z.array(z.number().int()), text: z.string(), stop: z.enum(['boi', 'eos', 'length']) });

export const FromThread = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('failed-to-start'), message: z.string() }),
  z.object({ type: z.literal('decoded'), id: z.number().int(), result: DecodedText }),
  z.object({ type: z.literal('error'), id: z.number().int(), name: z.string(), message: z.string() }),
]);
export type FromThread = z.infer<typeof FromThread>;
