/**
 * Chat completions over the model's text side: the whole history (./history.ts: user and
 * assistant messages, their images, earlier answers' images as markdown links) becomes the
 * model's context by the multi-turn template, the edge decodes the answer, and nothing is
 * queued. A model whose answer would go on with an image (it emits `<boi>`) gets the text
 * before it and a sentence saying where images are made instead; no job is started for an
 * image nobody asked this route for.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { JobRepository } from '../../shared/jobs/repository.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import type { ModelInfo } from '../../shared/runtime/index.js';
import { CONVERSATION_LIMITS } from '../../shared/schemas/conversation.js';
import { LIMITS } from '../../shared/schemas/generation.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { prepareConversation, type RefusalFactory } from '../conversation/index.js';
import type { DecodedText, TextDecodeFn } from '../text-decode.js';
import { OpenAiError } from './errors.js';
import { chatTurns } from './history.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, FinishReason, Usage } from './schemas.js';

export const IMAGE_ANSWER_NOTE =
  '[The model answers this with an image, which chat completions do not return. Send the conversation to POST /v1/generations (`messages`) or the prompt to POST /v1/images/generations to get it.]';

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
  /** Where earlier output images are read from, for the caller's tenant only. */
  jobs: JobRepository<JobRecord>;
  store: Pick<ObjectStore, 'get'>;
  tenant: string;
}

/** Refusals in OpenAI's shape, naming the offending field as `param`. */
const openAiRefusal: RefusalFactory = (code, message, where) => new OpenAiError(code, message, { param: where ?? null });

export async function answerChat(deps: ChatDeps, body: ChatRequest): Promise<ChatAnswer> {
  const { info } = deps.model;
  const turns = chatTurns(body, info.manifest.conversation?.describe_prompt ?? 'describe the image');
  const { segments, positions } = await prepareConversation({ jobs: deps.jobs, store: deps.store, tenant: deps.tenant }, { ...info, name: deps.model.id }, turns, {
    maxPositions: CONVERSATION_LIMITS.positions,
    refuse: openAiRefusal,
  });
  const decoded = await deps.decode(deps.model.id, segments, {
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? LIMITS.maxTokens.default,
    temperature: body.temperature ?? LIMITS.temperature.default,
    seed: body.seed ?? randomInt(0, LIMITS.seedMax + 1),
  });
  const text = decoded.stop === 'boi' ? [decoded.text, IMAGE_ANSWER_NOTE].filter((s) => s.length > 0).join(' ') : decoded.text;
  return {
    id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
    created: Math.floor(deps.now().getTime() / 1000),
    model: deps.model.id,
    content: text,
    decoded,
    finishReason: decoded.stop === 'length' ? 'length' : 'stop',
    usage: { prompt_tokens: positions, completion_tokens: decoded.ids.length, total_tokens: positions + decoded.ids.length },
  };
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
