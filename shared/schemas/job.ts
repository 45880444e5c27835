/**
 * The full job record, stored by JobRepository at `jobs/<id>.json`: the lifecycle fields of
 * JobRecordBase plus what the worker needs to continue the conversation. The edge writes it
 * once; the worker updates status, progress, output and tokens_used.
 *
 * Loose like its base: a field added by a newer writer survives an older reader's update.
 */
import { z } from 'zod';
import { JobId, JobRecordBase } from '../jobs/record.js';
import { StoredWebhook } from '../webhooks/schema.js';
import { StoredMessage } from './conversation.js';
import { StoredImagePart, TextPart } from './parts.js';

const tokenId = z.number().int().min(0);

/** A stored context segment: text ids, or an image by its store key (`inputs/...` or `outputs/...`). */
export const ContextSegment = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), ids: z.array(tokenId) }).strict(),
  z.object({ type: z.literal('image'), key: z.string().min(1) }).strict(),
]);
export type ContextSegment = z.infer<typeof ContextSegment>;

/** A stored output part: images by key; the API view turns keys into URLs. */
export const StoredOutputPart = z.discriminatedUnion('type', [TextPart, StoredImagePart]);
export type StoredOutputPart = z.infer<typeof StoredOutputPart>;

/** The request's parameters with every default resolved. */
export const JobParams = z
  .object({
    seed: z.number().int().min(0),
    steps: z.number().int().min(1),
    guidance: z.number().min(0),
    max_tokens: z.number().int().min(1),
    temperature: z.number().min(0),
  })
  .strict();
export type JobParams = z.infer<typeof JobParams>;

/**
 * Where the answer stands: denoising step `step` of `steps` of image `image` (its index in
 * the answer's images), `images_so_far` of them finished. `image` and `images_so_far` are
 * absent on records the edge writes (queued) and on records older than multi-image
 * answers; the view fills them in from the output.
 */
export const JobProgress = z
  .object({
    step: z.number().int().min(0),
    steps: z.number().int().min(0),
    image: z.number().int().min(0).optional(),
    images_so_far: z.number().int().min(0).optional(),
  })
  .loose();
export type JobProgress = z.infer<typeof JobProgress>;

export const JobRecord = JobRecordBase.extend({
  progress: JobProgress,
  request_id: z.string().min(1).max(256),
  /**
   * The model (package name) the job runs on. Absent only in records written before a
   * deployment served several models: those ran on its one model, the default.
   */
  model: z.string().min(1).max(64).optional(),
  /**
   * The tenant that created it (shared/config/api-keys.ts); only that tenant sees it. Absent
   * on records from before tenants: those belong to the keyless tenant (edge/auth/tenants.ts).
   */
  tenant: z.string().min(1).max(128).optional(),
  params: JobParams,
  /**
   * The whole conversation so far. While an image is pending it ends with `<boi>` (the last
   * id of the last text segment), which the worker prefills before denoising.
   */
  context: z.array(ContextSegment),
  output: z.array(StoredOutputPart),
  /** Text tokens generated so far (stop tokens excluded), counted against params.max_tokens. */
  tokens_used: z.number().int().min(0),
  /** Where to send the job's events; its delivery log is an object of its own (shared/webhooks/log.ts). */
  webhook: StoredWebhook.optional(),
  /** The request's `messages` (POST /v1/generations), images as the job's copies; absent for a `prompt` request. */
  messages: z.array(StoredMessage).optional(),
});
export type JobRecord = z.infer<typeof JobRecord>;

/** Where the edge stores input image k of a job (a PNG of the model-size RGB image). */
export function inputImageKey(jobId: string, k: number): string {
  return `inputs/${JobId.parse(jobId)}/${k}.png`;
}

/** Where the worker stores output image k of a job. */
export function outputImageKey(jobId: string, k: number): string {
  return `outputs/${JobId.parse(jobId)}/${k}.png`;
}
