/**
 * Chat completions over the model's text side: the last user message (text and images, in
 * order) becomes the user turn, the edge decodes the answer, and nothing is queued. A model
 * whose answer would go on with an image (it emits `<boi>`) gets the text before it and a
 * sentence saying where images are made instead; no job is started for an image nobody
 * asked this route for.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { userTurn, type Content, type ModelInfo } from '../../shared/runtime/index.js';
import { LIMITS } from '../../shared/schemas/generation.js';
import { ApiError } from '../errors.js';
import { prepareInputImage } from '../images/index.js';
import type { DecodedText, TextDecodeFn } from '../text-decode.js';
import { OpenAiError } from './errors.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, FinishReason, Usage } from './schemas.js';

export const IMAGE_ANSWER_NOTE =
  '[The model answers this with an image, which chat completions do not return. Send the prompt to POST /v1/images/generations or POST /v1/generations to get it.]';

export interface ChatAnswer {
  id: string;
  created: number;
  model: string;
  /** The decoded text and, when the model went on to an image, IMAGE_ANSWER_NOTE. */
  content: string;
  decoded: DecodedText;
  finishReason: FinishReason;
  usage: Usage;
}

export interface ChatDeps {
  model: { id: string; info: ModelInfo };
  decode: TextDecodeFn;
  now: () => Date;
}

export async function answerChat(deps: ChatDeps, body: ChatRequest): Promise<ChatAnswer> {
  const { info } = deps.model;
  const content = userContent(body, info);
  const turn = userTurn(info.tokenizer, content);
  const decoded = await deps.decode(deps.model.id, turn, {
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? LIMITS.maxTokens.default,
    temperature: body.temperature ?? LIMITS.temperature.default,
    seed: body.seed ?? randomInt(0, LIMITS.seedMax + 1),
  });
  const promptTokens = turn.reduce((n, seg) => n + (seg.type === 'text' ? seg.ids.length : info.manifest.image.num_patches), 0);
  const text = decoded.stop === 'boi' ? [decoded.text, IMAGE_ANSWER_NOTE].filter((s) => s.length > 0).join(' ') : decoded.text;
  return {
    id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
    created: Math.floor(deps.now().getTime() / 1000),
    model: deps.model.id,
    content: text,
    decoded,
    finishReason: decoded.stop === 'length' ? 'length' : 'stop',
    usage: { prompt_tokens: promptTokens, completion_tokens: decoded.ids.length, total_tokens: promptTokens + decoded.ids.length },
  };
}

/** The last user message as the model's user content; images checked and read as patches. */
function userContent(body: ChatRequest, info: ModelInfo): Content[] {
  let index = body.messages.length - 1;
  while (index >= 0 && body.messages[index]!.role !== 'user') index--;
  if (index < 0) throw new OpenAiError('invalid_request', 'messages: no user message to answer', { param: 'messages' });
  const message = body.messages[index]!;
  const parts = typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : (message.content ?? []);
  const content: Content[] = [];
  let chars = 0;
  let images = 0;
  parts.forEach((part, k) => {
    const param = `messages.${index}.content${typeof message.content === 'string' ? '' : `.${k}`}`;
    if (part.type === 'text') {
      chars += part.text.length;
      if (part.text.length > 0) content.push(part.text);
      return;
    }
    if (++images > LIMITS.images) throw new OpenAiError('invalid_request', `${param}: at most ${LIMITS.images} images in a message`, { param });
    content.push({ type: 'image', patches: readImage(part.image_url.url, `${param}.image_url.url`, info) });
  });
  if (chars > LIMITS.promptChars) {
    throw new OpenAiError('prompt_too_long', `messages.${index}.content: ${chars} characters of text; at most ${LIMITS.promptChars}`, { param: `messages.${index}.content` });
  }
  const hasText = content.some((c) => typeof c === 'string');
  if (!hasText && images === 0) throw new OpenAiError('invalid_request', `messages.${index}.content: the user message is empty`, { param: `messages.${index}.content` });
  // An image alone asks what it shows: the model's own describe prompt.
  const prompts = info.manifest.conversation;
  if (!hasText) content.push(prompts?.describe_prompt ?? 'describe the image');
  return content;
}

function readImage(url: string, param: string, info: ModelInfo): Float32Array {
  if (!url.startsWith('data:')) {
    throw new OpenAiError('unsupported_image', `${param}: only data URLs (data:image/png;base64,...) are read; this server fetches no remote images`, { param });
  }
  try {
    return prepareInputImage(url, 0, info.manifest.image).patches;
  } catch (err) {
    if (err instanceof ApiError) throw new OpenAiError(err.code, err.message.replace(/^images\[\d+\]/, param), { param });
    throw err;
  }
}

export function completionBody(a: ChatAnswer): ChatCompletion {
  return {
    id: a.id,
    object: 'chat.completion',
    created: a.created,
    model: a.model,
    choices: [{ index: 0, message: { role: 'assistant', content: a.content, refusal: null }, finish_reason: a.finishReason, logprobs: null }],
    usage: a.usage,
  };
}

/**
 * The answer as stream chunks: the role, the text a token at a time (as the tokenizer
 * completes characters), the finish reason, and the usage when asked for.
 */
export function completionChunks(a: ChatAnswer, info: ModelInfo, includeUsage: boolean): ChatCompletionChunk[] {
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null): ChatCompletionChunk => ({
    id: a.id,
    object: 'chat.completion.chunk',
    created: a.created,
    model: a.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks = [chunk({ role: 'assistant', content: '' }, null)];
  const decoder = info.tokenizer.streamDecoder();
  const pieces = a.decoded.ids.map((id) => decoder.push([id]));
  pieces.push(decoder.flush());
  if (a.content !== a.decoded.text) pieces.push(a.content.slice(a.decoded.text.length));
  for (const piece of pieces) if (piece.length > 0) chunks.push(chunk({ content: piece }, null));
  chunks.push(chunk({}, a.finishReason));
  if (includeUsage) chunks.push({ id: a.id, object: 'chat.completion.chunk', created: a.created, model: a.model, choices: [], usage: a.usage });
  return chunks;
}
