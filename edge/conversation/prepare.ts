/**
 * From a request's turns to the context the model decodes after: the model's tasks checked,
 * the context's length checked (text is tokenised, images counted as their patches), and only
 * then the images read, all together and off the event loop. Nothing here runs the model.
 */
import { type Content, conversationContext, type ModelInfo, type Segment, type Turn } from '../../shared/runtime/index.js';
import type { ErrorCode } from '../../shared/schemas/errors.js';
import { ApiError } from '../errors.js';
import type { InputImage } from '../images/index.js';
import { type ImageReadDeps, readImage } from './images.js';
import type { TurnSpec } from './spec.js';
import { unsupportedBy } from './tasks.js';

/** How a route reports a refusal: `where` names the request field at fault (OpenAI's `param`). */
export type RefusalFactory = (code: ErrorCode, message: string, where?: string) => Error;

const apiRefusal: RefusalFactory = (code, message) => new ApiError(code, message);

export interface PrepareOptions {
  /** The longest context accepted, in positions; none for a plain prompt (its own limits apply). */
  maxPositions?: number;
  refuse?: RefusalFactory;
}

export interface PreparedConversation {
  /** The context, ending `<assistant>`: what the answer is decoded after. */
  segments: Segment[];
  /** Every image, in order of appearance (image k is the job's `inputs/<id>/k.png`). */
  images: InputImage[];
  /** The context's length in positions. */
  positions: number;
}

export async function prepareConversation(
  deps: ImageReadDeps,
  model: ModelInfo & { name: string },
  turns: readonly TurnSpec[],
  options: PrepareOptions = {},
): Promise<PreparedConversation> {
  const refuse = options.refuse ?? apiRefusal;
  const why = unsupportedBy(model, turns);
  if (why !== undefined) throw refuse('unsupported_conversation', why, 'messages');

  const geometry = model.manifest.image;
  // The context with a placeholder for every image: its length is known before any image is read.
  const placeholder: Segment = { type: 'image', patches: new Float32Array(geometry.num_patches * geometry.patch_dim) };
  const shaped: Turn[] = turns.map((t) => ({
    role: t.role,
    content: t.parts.map((p): Content => (p.type === 'text' ? p.text : placeholder)),
  }));
  const draft = conversationContext(model.tokenizer, shaped);
  const positions = draft.reduce((n, s) => n + (s.type === 'text' ? s.ids.length : geometry.num_patches), 0);
  if (options.maxPositions !== undefined && positions > options.maxPositions) {
    throw refuse(
      'prompt_too_long',
      `messages: the conversation is ${positions} positions long for model ${model.name} (text tokens, and ${geometry.num_patches} for each image); at most ${options.maxPositions}`,
      'messages',
    );
  }

  const sources = turns.flatMap((t) => t.parts.flatMap((p) => (p.type === 'image' ? [p.source] : [])));
  const reads = sources.map((source) =>
    readImage(deps, source, geometry).catch((err: unknown) => {
      if (err instanceof ApiError && options.refuse) throw options.refuse(err.code, err.message, source.where);
      throw err;
    }),
  );
  // Every read settles before the first refusal is thrown: none is left running unobserved.
  const settled = await Promise.allSettled(reads);
  const refused = settled.find((r) => r.status === 'rejected');
  if (refused) throw refused.reason;
  const images = settled.map((r) => (r as PromiseFulfilledResult<InputImage>).value);

  let k = 0;
  const segments = draft.map((s): Segment => (s.type === 'image' ? { type: 'image', patches: images[k++]!.patches } : s));
  return { segments, images, positions };
}
