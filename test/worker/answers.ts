/**
 * Answers of several images on the real tiny model: a job record made as the edge makes it
 * (the text decoded up to the first `<boi>`), and the answer the worker must give, worked
 * out one image after another with the runtime alone (no batching, no store, no queue).
 */
import { encodePng } from '../../shared/images/png.js';
import {
  type ModelRuntime,
  patchesToRgb,
  rgbToPatches,
  sampleImage,
  streamSeed,
  uncondContext,
  userTurn,
} from '../../shared/runtime/index.js';
import { type JobRecord, outputImageKey, type StoredOutputPart } from '../../shared/schemas/job.js';
import { storedContext } from './helpers.js';

export interface EdgeJob {
  id: string;
  prompt: string;
  seed: number;
  temperature: number;
  steps: number;
  guidance?: number;
  maxTokens: number;
}

/**
 * The tiny model's prompt and sampling under which it answers with several images, text
 * between them (found by trying seeds; the model has random weights, so it is a fixture
 * like its golden outputs: tests check the count before relying on it).
 */
export const MULTI_IMAGE_JOB = { prompt: 'draw a small red circle at the top', temperature: 2, seed: 68, maxTokens: 64 } as const;

/** The record the edge would write, or null when the model answers without an image. */
export async function edgeRecord(runtime: ModelRuntime, job: EdgeJob): Promise<JobRecord | null> {
  const turn = userTurn(runtime.tokenizer, [job.prompt]);
  const decoded = await runtime.decodeText(await runtime.prefill(turn), {
    maxTokens: job.maxTokens,
    temperature: job.temperature,
    seed: streamSeed(job.seed, 'text', 0),
  });
  if (decoded.stop !== 'boi') return null;
  const context = storedContext(turn);
  const last = context[context.length - 1];
  if (last?.type !== 'text') throw new Error('a user turn ends with text');
  last.ids.push(...decoded.ids, runtime.tokenizer.specialTokens.boi);
  const now = new Date().toISOString();
  return {
    id: job.id,
    request_id: `req-${job.id}`,
    model: runtime.manifest.name ?? 'tiny',
    created_at: now,
    updated_at: now,
    status: 'queued',
    progress: { step: 0, steps: job.steps },
    params: { seed: job.seed, steps: job.steps, guidance: job.guidance ?? 2.5, max_tokens: job.maxTokens, temperature: job.temperature },
    context,
    output: decoded.text.length > 0 ? [{ type: 'text', text: decoded.text }] : [],
    tokens_used: decoded.ids.length,
  };
}

export interface Answer {
  output: StoredOutputPart[];
  /** The PNG of each image, in order. */
  pngs: Uint8Array[];
  tokensUsed: number;
}

/** The whole answer to a queued record, image by image, as docs/model-package.md describes generation. */
export async function referenceAnswer(runtime: ModelRuntime, record: JobRecord, maxImages = 4): Promise<Answer> {
  const { tokenizer, manifest } = runtime;
  const { eoi } = tokenizer.specialTokens;
  const { params } = record;
  const segments = record.context.map((s) => {
    if (s.type !== 'text') throw new Error('referenceAnswer takes text contexts');
    return { type: 'text' as const, ids: s.ids };
  });
  let cond = await runtime.prefill(segments);
  const uncond = await runtime.prefill(uncondContext(tokenizer));
  const output = [...record.output];
  const pngs: Uint8Array[] = [];
  let tokensUsed = record.tokens_used;
  for (let k = 0; ; k += 1) {
    const x = await sampleImage(runtime, cond, uncond, {
      steps: params.steps,
      guidance: params.guidance,
      seed: streamSeed(params.seed, 'image-noise', k),
    });
    const stored = rgbToPatches(patchesToRgb(x, manifest.image), manifest.image);
    pngs.push(encodePng(stored, manifest.image));
    output.push({
      type: 'image',
      key: outputImageKey(record.id, k),
      width: manifest.image.width,
      height: manifest.image.height,
      mime_type: 'image/png',
    });
    const next = await runtime.prefill(
      [
        { type: 'image', patches: stored },
        { type: 'text', ids: [eoi] },
      ],
      cond,
    );
    const budget = params.max_tokens - tokensUsed;
    const text =
      budget > 0
        ? await runtime.decodeText(next, {
            maxTokens: budget,
            temperature: params.temperature,
            seed: streamSeed(params.seed, 'text', k + 1),
          })
        : { ids: [], text: '', stop: 'length' as const, cache: next };
    tokensUsed += text.ids.length;
    if (text.text.length > 0) output.push({ type: 'text', text: text.text });
    if (text.stop !== 'boi' || k + 1 >= maxImages) return { output, pngs, tokensUsed };
    cond = text.cache;
  }
}
