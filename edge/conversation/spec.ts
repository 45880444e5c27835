/**
 * A request's conversation before anything is read: turns of text and image parts, each image
 * by where it comes from (a data URL, or an output image of an earlier generation) and by
 * `where`, the request field that names it in errors. Both POST /v1/generations forms and the
 * OpenAI chat route produce this.
 */

import { partsOf, type StoredMessage } from '../../shared/schemas/conversation.js';
import type { CreateGenerationRequest } from '../../shared/schemas/generation.js';
import { inputImageKey } from '../../shared/schemas/job.js';

export type ImageSource =
  | { readonly kind: 'data_url'; readonly url: string; readonly where: string }
  | { readonly kind: 'generation'; readonly generation: string; readonly index: number; readonly where: string };

export type PartSpec = { readonly type: 'text'; readonly text: string } | { readonly type: 'image'; readonly source: ImageSource };

export interface TurnSpec {
  readonly role: 'user' | 'assistant';
  readonly parts: readonly PartSpec[];
}

/** The body's turns: `prompt` (its images first, named `images[k]` as before) or `messages`. */
export function turnsFromBody(body: CreateGenerationRequest): TurnSpec[] {
  if (body.messages === undefined) {
    const images = (body.images ?? []).map(
      (url, k): PartSpec => ({ type: 'image', source: { kind: 'data_url', url, where: `images[${k}]` } }),
    );
    return [{ role: 'user', parts: [...images, { type: 'text', text: body.prompt ?? '' }] }];
  }
  return body.messages.map((message, i) => ({
    role: message.role,
    parts: partsOf(message).map((part, j): PartSpec => {
      const where = typeof message.content === 'string' ? `messages[${i}].content` : `messages[${i}].content[${j}]`;
      if (part.type === 'text') return { type: 'text', text: part.text };
      if ('url' in part) return { type: 'image', source: { kind: 'data_url', url: part.url, where } };
      return { type: 'image', source: { kind: 'generation', generation: part.generation, index: part.index, where } };
    }),
  }));
}

/** The turns as the job record keeps them: image k (in order of appearance) is the job's `inputs/<id>/k.png`. */
export function storedMessages(turns: readonly TurnSpec[], id: string, size: { width: number; height: number }): StoredMessage[] {
  let k = 0;
  return turns.map((turn) => ({
    role: turn.role,
    content: turn.parts.map((part) => {
      if (part.type === 'text') return { type: 'text' as const, text: part.text };
      const { source } = part;
      return {
        type: 'image' as const,
        key: inputImageKey(id, k++),
        width: size.width,
        height: size.height,
        ...(source.kind === 'generation' ? { generation: source.generation, index: source.index } : {}),
      };
    }),
  }));
}
