/**
 * What a thread sends: the request body of POST /v1/generations for its next turn, and
 * whether a turn continues the thread at all (the model must declare `multi_turn`).
 */
import type { InputImage, Settings, StoredPart, Thread, Turn } from './gallery.js';
import type { Model } from './schemas.js';

/** Tasks of a model whose server does not list them: what every package does (docs/api.md). */
const DEFAULT_TASKS = ['draw', 'describe'];

export const tasksOf = (m: Model | undefined): readonly string[] => m?.tasks ?? DEFAULT_TASKS;
export const can = (m: Model | undefined, task: string): boolean => tasksOf(m).includes(task);

/** Turns the model reads back as history: answered ones (a failed or canceled turn has no answer to alternate with). */
export const answeredTurns = (thread: Thread): Turn[] =>
  thread.turns.filter((t) => t.status === 'succeeded' && t.generation !== null && t.output.length > 0);

export type NextTurn = { kind: 'continue'; thread: Thread } | { kind: 'new'; why: 'empty' | 'single_turn' | 'other_model' };

/** Whether the next message continues `thread` or starts a new one, and why. */
export function nextTurn(thread: Thread | null, model: Model | undefined): NextTurn {
  if (!thread || answeredTurns(thread).length === 0) return { kind: 'new', why: 'empty' };
  if (model && thread.model !== model.id) return { kind: 'new', why: 'other_model' };
  if (!can(model, 'multi_turn')) return { kind: 'new', why: 'single_turn' };
  return { kind: 'continue', thread };
}

type ContentPart = { type: 'text'; text: string } | { type: 'image'; url: string } | { type: 'image'; generation: string; index: number };
export interface Message {
  role: 'user' | 'assistant';
  content: ContentPart[];
}

/**
 * `refs`: images that came from the model's outputs go as `{generation, index}` references
 * (the server reads its own copy); false sends every image as its data URL instead, for
 * when a referenced generation is gone.
 */
function imagePart(image: InputImage, refs: boolean): ContentPart {
  return refs && image.ref ? { type: 'image', ...image.ref } : { type: 'image', url: image.src };
}

function userMessage(turn: Pick<Turn, 'prompt' | 'inputs'>, refs: boolean): Message {
  return { role: 'user', content: [...turn.inputs.map((i) => imagePart(i, refs)), { type: 'text', text: turn.prompt }] };
}

function assistantMessage(turn: Turn, refs: boolean): Message {
  return {
    role: 'assistant',
    content: turn.output.map((p: StoredPart): ContentPart => (p.type === 'text' ? { type: 'text', text: p.text } : imagePart(p, refs))),
  };
}

export interface TurnRequest {
  history: readonly Turn[];
  turn: Pick<Turn, 'prompt' | 'inputs'>;
  settings: Settings;
  /** Only where the server serves several models (a server of one takes no `model`). */
  model?: string;
}

/** Whether any image of the request is sent by reference (so a data-URL retry can help). */
export const usesRefs = (r: TurnRequest): boolean =>
  r.turn.inputs.some((i) => i.ref) ||
  r.history.some((t) => t.inputs.some((i) => i.ref) || t.output.some((p) => p.type === 'image' && p.ref));

/**
 * A first turn of data-URL images goes as `prompt`/`images` (what every server takes, and
 * the same answer); anything else as `messages`: the history, then the new user turn.
 */
export function requestBody(r: TurnRequest, refs = true): Record<string, unknown> {
  const common = { ...r.settings, ...(r.model !== undefined ? { model: r.model } : {}) };
  if (r.history.length === 0 && !(refs && r.turn.inputs.some((i) => i.ref))) {
    const images = r.turn.inputs.map((i) => i.src);
    return { prompt: r.turn.prompt, ...(images.length > 0 ? { images } : {}), ...common };
  }
  const messages = [...r.history.flatMap((t) => [userMessage(t, refs), assistantMessage(t, refs)]), userMessage(r.turn, refs)];
  return { messages, ...common };
}
