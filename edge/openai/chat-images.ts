/**
 * A chat answer that goes on with an image: the conversation becomes a generation of
 * POST /v1/generations (`messages`, the same seed and budget, so its text is the text the
 * chat decoded), the request waits for it like the images route does, and the answer is its
 * output with every image as a markdown link to its signed URL: `![image 1](https://...)`.
 * That is the form an assistant's images take in OpenAI's dialect, and the form this server
 * reads back from the history (./history.ts), so a follow-up edits what was drawn.
 */
import type { JobRepository } from '../../shared/jobs/repository.js';
import type { Logger } from '../../shared/logging/index.js';
import type { JobChanges } from '../../shared/ports/job-changes.js';
import type { Message, MessagePart } from '../../shared/schemas/conversation.js';
import type { CreateGenerationRequest } from '../../shared/schemas/generation.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import type { TurnSpec } from '../conversation/index.js';
import { OpenAiError } from './errors.js';
import { assertSucceeded, waitForGenerations } from './wait.js';

export interface ChatImageDeps {
  /** POST /v1/generations's use case, bound to this request (its id, log and tenant). */
  createGeneration: (body: CreateGenerationRequest) => Promise<JobRecord>;
  jobs: JobRepository<JobRecord>;
  /** When the wait for the image reads it again. */
  changes: JobChanges;
  /** An output image's URL as the API gives it (relative URLs are made absolute with baseUrl). */
  urlFor: (key: string) => Promise<string>;
  baseUrl: string;
  waitMs: number;
  log: Logger;
  signal?: AbortSignal;
}

export interface ImageAnswer {
  /** The answer's text and images (as markdown links), in order. */
  content: string;
  record: JobRecord;
}

/** The turns as POST /v1/generations' `messages`. */
export function messagesOf(turns: readonly TurnSpec[]): Message[] {
  return turns.map((turn) => ({
    role: turn.role,
    content: turn.parts.map((part): MessagePart => {
      if (part.type === 'text') return { type: 'text', text: part.text };
      const { source } = part;
      return source.kind === 'data_url'
        ? { type: 'image', url: source.url }
        : { type: 'image', generation: source.generation, index: source.index };
    }),
  }));
}

export async function imageAnswer(
  deps: ChatImageDeps,
  turns: readonly TurnSpec[],
  request: Pick<CreateGenerationRequest, 'model' | 'seed' | 'max_tokens' | 'temperature'>,
): Promise<ImageAnswer> {
  const created = await deps.createGeneration({ ...request, messages: messagesOf(turns) });
  deps.log.info({ generation: created.id }, 'openai chat: the answer goes on with an image');
  const waited = await waitForGenerations(deps.jobs, [created], {
    deadline: Date.now() + deps.waitMs,
    changes: deps.changes,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const record = waited.records[0]!;
  if (!waited.done) {
    throw new OpenAiError(
      'internal_error',
      `the answer's image was not ready within ${Math.round(deps.waitMs / 1000)} s; it keeps running: follow GET /v1/generations/${record.id}`,
      { status: 504, code: 'generation_timeout', generationIds: [record.id] },
    );
  }
  assertSucceeded(record);
  let images = 0;
  const numbered = record.output.map((part) => ({ part, number: part.type === 'image' ? ++images : 0 }));
  const pieces = await Promise.all(
    numbered.map(async ({ part, number }) =>
      part.type === 'text' ? part.text : `![image ${number}](${new URL(await deps.urlFor(part.key), deps.baseUrl).href})`,
    ),
  );
  return { content: pieces.join(''), record };
}
