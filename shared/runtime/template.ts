/**
 * The conversation template (docs/model-package.md): `<bos>`, every earlier turn pair
 * `<user> {content} <assistant> {content} <eos>`, then the last user turn
 * `<user> {content} <assistant>`, with every image wrapped `<boi> patches <eoi>`. Builders
 * return segments for ModelRuntime.prefill; adjacent text is joined into one segment.
 */

import type { Tokenizer } from './tokenizer.js';
import type { Segment } from './types.js';

/** The prompts of the two tasks; a package may override them (manifest.conversation). */
export interface ConversationPrompts {
  /** The draw prompt is `draw_prefix + caption`. */
  readonly draw_prefix: string;
  /** The user turn after an input image that asks for its caption. */
  readonly describe_prompt: string;
  /** A draw prompt with a style, `{caption}` and `{style}` filled in (packages trained on styles). */
  readonly draw_template?: string;
  /** The styles `{style}` understands. */
  readonly styles?: readonly string[];
}

export const DEFAULT_PROMPTS: ConversationPrompts = { draw_prefix: 'draw ', describe_prompt: 'describe the image' };

/** The draw prompt for a caption, with a style when one is given (the package's draw_template). */
export function drawPromptFor(prompts: ConversationPrompts, caption: string, style?: string): string {
  if (style === undefined) return `${prompts.draw_prefix}${caption}`;
  if (prompts.draw_template === undefined)
    throw new RangeError('this model takes no style (its manifest has no conversation.draw_template)');
  return prompts.draw_template.replaceAll('{caption}', caption).replaceAll('{style}', style);
}

/** User content: plain text (tokenised here), or a segment (image patches, or ids as they are). */
export type Content = string | Segment;

/** Appends text ids to the last segment when it is text, otherwise starts a text segment. */
function pushText(segments: Segment[], ids: readonly number[]): void {
  if (ids.length === 0) return;
  const last = segments[segments.length - 1];
  if (last?.type === 'text') segments[segments.length - 1] = { type: 'text', ids: [...last.ids, ...ids] };
  else segments.push({ type: 'text', ids: [...ids] });
}

/** One turn of a conversation: its parts in order (text is tokenised part by part, no separator added). */
export interface Turn {
  readonly role: 'user' | 'assistant';
  readonly content: readonly Content[];
}

/** Appends content parts, each image wrapped `<boi> patches <eoi>`. */
function pushContent(tokenizer: Tokenizer, segments: Segment[], content: readonly Content[]): void {
  const special = tokenizer.specialTokens;
  for (const part of content) {
    if (typeof part === 'string') pushText(segments, tokenizer.encode(part));
    else if (part.type === 'text') pushText(segments, part.ids);
    else {
      pushText(segments, [special.boi]);
      segments.push(part);
      pushText(segments, [special.eoi]);
    }
  }
}

/**
 * A whole conversation, ready for the assistant's answer: turns alternate user and assistant,
 * start and end with a user turn. `<bos>`, then `<user> .. <assistant> .. <eos>` for each
 * earlier pair, then `<user> .. <assistant>`. One user turn gives exactly userTurn's context.
 */
export function conversationContext(tokenizer: Tokenizer, turns: readonly Turn[]): Segment[] {
  if (turns.length % 2 === 0) throw new RangeError(`a conversation has an odd number of turns (user first and last), got ${turns.length}`);
  turns.forEach((turn, i) => {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (turn.role !== expected) throw new RangeError(`turn ${i} must be the ${expected}'s, got ${turn.role}`);
  });
  const special = tokenizer.specialTokens;
  const segments: Segment[] = [];
  pushText(segments, [special.bos]);
  for (const turn of turns) {
    // A user turn opens with `<user>` and hands over with `<assistant>`; the assistant's ends with `<eos>`.
    if (turn.role === 'user') pushText(segments, [special.user]);
    pushContent(tokenizer, segments, turn.content);
    pushText(segments, [turn.role === 'user' ? special.assistant : special.eos]);
  }
  return segments;
}

/** `<bos> <user> {content} <assistant>`: a user turn, ready for the assistant's reply. */
export function userTurn(tokenizer: Tokenizer, content: readonly Content[]): Segment[] {
  return conversationContext(tokenizer, [{ role: 'user', content }]);
}

/** The draw prompt's user turn: `draw {caption}`. */
export function drawTurn(tokenizer: Tokenizer, caption: string, prompts: ConversationPrompts = DEFAULT_PROMPTS): Segment[] {
  return userTurn(tokenizer, [prompts.draw_prefix + caption]);
}

/** The context of a drawn image: the draw turn and `<boi>`, ready for denoising. */
export function drawContext(tokenizer: Tokenizer, caption: string, prompts: ConversationPrompts = DEFAULT_PROMPTS): Segment[] {
  return withBoi(tokenizer, drawTurn(tokenizer, caption, prompts));
}

/** The describe prompt: the image, then `describe the image`; the caption follows `<assistant>`. */
export function describeContext(tokenizer: Tokenizer, patches: Float32Array, prompts: ConversationPrompts = DEFAULT_PROMPTS): Segment[] {
  return userTurn(tokenizer, [{ type: 'image', patches }, prompts.describe_prompt]);
}

/** Classifier-free guidance's unconditional context: `<bos> <user> <assistant> <boi>`. */
export function uncondContext(tokenizer: Tokenizer): Segment[] {
  return withBoi(tokenizer, userTurn(tokenizer, []));
}

function withBoi(tokenizer: Tokenizer, segments: Segment[]): Segment[] {
  const out = [...segments];
  pushText(out, [tokenizer.specialTokens.boi]);
  return out;
}
