/**
 * Chat completions: the whole history (./history.ts: user and assistant messages, their
 * images, earlier answers' images as markdown links) becomes the model's context by the
 * multi-turn template, and the edge decodes the answer. A text answer is done there, with
 * nothing queued. An answer that goes on with an image (the model emits `<boi>`) becomes a
 * generation that the request waits for (./chat-images.ts), its images markdown links.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { JobRepository } from '../../shared/jobs/repository.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import type { ModelInfo } from '../../shared/runtime/index.js';
import { streamSeed } from '../../shared/runtime/index.js';
import { CONVERSATION_LIMITS } from '../../shared/schemas/conversation.js';
import { LIMITS } from '../../shared/schemas/generation.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { prepareConversation, type RefusalFactory } from '../conversation/index.js';
import type { DecodedText, TextDecodeFn } from '../text-decode.js';
import { type ChatImageDeps, imageAnswer } from './chat-images.js';
import { OpenAiError } from './errors.js';
import { chatTurns } from './history.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, FinishReason, Usage } from './schemas.js';

export interface ChatAnswer {
  id: string;
  created: number;
  model: string;
  /** The answer: the decoded text, or when the model went on to an image, its generation's output (images as markdown links). */
  content: string;
  /** The generation that made the answer's images, when there were any. */
  generationId?: string;
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
  /** How an answer's images are made. */
  images: ChatImageDeps;
}

/** Refusals in OpenAI's shape, naming the offending field as `param`. */
const openAiRefusal: RefusalFactory = (code, message, where) => new OpenAiError(code, message, { param: where ?? null });

export async function answerChat(deps: ChatDeps, body: ChatRequest): Promise<ChatAnswer> {
  const { info } = deps.model;
  const turns = chatTurns(body, info.manifest.conversation?.describe_prompt ?? 'describe the image');
  const { segments, positions } = await prepareConversation(
    { jobs: deps.jobs, store: deps.store, tenant: deps.tenant },
    { ...info, name: deps.model.id },
    turns,
    {
      maxPositions: CONVERSATION_LIMITS.positions,
      refuse: openAiRefusal,
    },
  );
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? LIMITS.maxTokens.default;
  const temperature = body.temperature ?? LIMITS.temperature.default;
  const seed = body.seed ?? randomInt(0, LIMITS.seedMax + 1);
  // The text stream's seed as POST /v1/generations derives it: a generation made for the images decodes the same text.
  const decoded = await deps.decode(deps.model.id, segments, { maxTokens, temperature, seed: streamSeed(seed, 'text', 0) });
  const answer = (content: string, completionTokens: number, generationId?: string): ChatAnswer => ({
    id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
    created: Math.floor(deps.now().getTime() / 1000),
    model: deps.model.id,
    content,
    ...(generationId !== undefined ? { generationId } : {}),
    decoded,
    finishReason: decoded.stop === 'length' ? 'length' : 'stop',
    usage: { prompt_tokens: positions, completion_tokens: completionTokens, total_tokens: positions + completionTokens },
  });
  if (decoded.stop !== 'boi') return answer(decoded.text, decoded.ids.length);
  const made = await imageAnswer(deps.images, turns, { model: deps.model.id, seed, max_tokens: maxTokens, temperature });
  return answer(made.content, made.record.tokens_used, made.record.id);
}

export function completionBody(a: ChatAnswer): ChatCompletion {
  return {
    id: a.id,
    object: 'chat.completion',
    created: a.created,
    model: a.model,
    choices: [
      { index: 0, message: { role: 'assistant', content: a.content, refusal: null }, finish_reason: a.finishReason, logprobs: null },
    ],
    usage: a.usage,
    ...(a.generationId !== undefined ? { generation_id: a.generationId } : {}),
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
  // What follows the decoded text (the images' links and the text after them) comes as one piece.
  if (!a.content.startsWith(a.decoded.text)) pieces.splice(0, pieces.length, a.content);
  else if (a.content !== a.decoded.text) pieces.push(a.content.slice(a.decoded.text.length));
  for (const piece of pieces) if (piece.length > 0) chunks.push(chunk({ content: piece }, null));
  chunks.push(chunk({}, a.finishReason));
  if (includeUsage)
    chunks.push({ id: a.id, object: 'chat.completion.chunk', created: a.created, model: a.model, choices: [], usage: a.usage });
  return chunks;
}
