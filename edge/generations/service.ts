/**
 * The generation use cases, apart from HTTP: create (decode the text side at once; queue a
 * job when the model asks for an image), read, cancel. Routes call these; errors the
 * client caused are ApiErrors.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { encodeJobMessage } from '../../shared/jobs/message.js';
import { JobId } from '../../shared/jobs/record.js';
import type { JobRepository } from '../../shared/jobs/repository.js';
import { isTerminal } from '../../shared/jobs/status.js';
import type { Logger } from '../../shared/logging/index.js';
import { type ModelRegistry, type ServedModel, UnknownModelError } from '../../shared/models/index.js';
import type { JobQueue } from '../../shared/ports/queue.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import { checkSampling, defaultGuidance, type ModelInfo, type Segment, samplingOf, streamSeed } from '../../shared/runtime/index.js';
import { CONVERSATION_LIMITS } from '../../shared/schemas/conversation.js';
import { type CreateGenerationRequest, LIMITS } from '../../shared/schemas/generation.js';
import { type ContextSegment, inputImageKey, type JobParams, type JobRecord, type StoredOutputPart } from '../../shared/schemas/job.js';
import type { WebhookSettings } from '../../shared/webhooks/deliver.js';
import { queueWebhookEvent } from '../../shared/webhooks/outbox.js';
import { ownedBy } from '../auth/tenants.js';
import type { InlineImages } from '../body/index.js';
import { prepareConversation, storedMessages, turnsFromBody } from '../conversation/index.js';
import { ApiError } from '../errors.js';
import type { EdgeMetrics } from '../metrics.js';
import type { TextDecodeFn } from '../text-decode.js';
import { checkWebhookRequest } from './webhook-request.js';

export interface GenerationService {
  models: ModelRegistry;
  store: ObjectStore;
  queue: JobQueue;
  jobs: JobRepository<JobRecord>;
  decode: TextDecodeFn;
  metrics: EdgeMetrics;
  now: () => Date;
  /** Webhook secrets and the SSRF guard's setting; absent: webhook requests are refused. */
  webhooks?: WebhookSettings;
}

export interface Created {
  /** 201: finished (no image needed); 202: queued for a worker; 200: an idempotent repeat of an earlier request. */
  status: 200 | 201 | 202;
  record: JobRecord;
}

/** Who asks, and under which id (an idempotency claim fixes it in advance; else a new one). */
export interface CreateContext {
  requestId: string;
  log: Logger;
  tenant: string;
  id?: string;
  /** The body's images read with it (a large JSON body, a multipart form), by their keys in `body`. */
  inline?: InlineImages;
}

/** 128 random bits: unguessable (without API_KEYS an id is the only secret between a client and its generation). */
export function newGenerationId(): string {
  return `gen_${randomBytes(16).toString('base64url')}`;
}

export function resolveParams(body: CreateGenerationRequest, model: ModelInfo): JobParams {
  const steps = body.steps ?? model.manifest.diffusion.default_steps;
  return {
    seed: body.seed ?? randomInt(0, LIMITS.seedMax + 1),
    steps,
    guidance: body.guidance ?? defaultGuidance(model.manifest, steps),
    max_tokens: body.max_tokens ?? LIMITS.maxTokens.default,
    temperature: body.temperature ?? LIMITS.temperature.default,
  };
}

/** Steps and guidance the model can sample with (its manifest's `diffusion`), else 400 naming what it serves. */
export function checkModelSampling(model: ServedModel, body: Pick<CreateGenerationRequest, 'steps' | 'guidance'>): void {
  const refusal = checkSampling(model.name, samplingOf(model.manifest), body);
  if (refusal) throw new ApiError(refusal.code, refusal.message);
}

/** The request's model, or the default one; a name not served is the client's mistake. */
export function modelFor(models: ModelRegistry, name: string | undefined): ServedModel {
  try {
    return models.resolve(name);
  } catch (err) {
    if (err instanceof UnknownModelError) throw new ApiError('unknown_model', err.message);
    throw err;
  }
}

export async function createGeneration(s: GenerationService, body: CreateGenerationRequest, ctx: CreateContext): Promise<Created> {
  const { requestId, log } = ctx;
  const model = modelFor(s.models, body.model);
  // Before anything is read, decoded or kept: a sampling the model cannot do is refused at once.
  checkModelSampling(model, body);
  const webhook = body.webhook ? checkWebhookRequest(body.webhook, s.webhooks, ctx.tenant) : undefined;
  const turns = turnsFromBody(body);
  // The model's tasks, the context's length and every image are checked before any model work.
  const conversation = await prepareConversation(
    { jobs: s.jobs, store: s.store, tenant: ctx.tenant, ...(ctx.inline ? { inline: ctx.inline } : {}) },
    model,
    turns,
    {
      ...(body.messages !== undefined ? { maxPositions: CONVERSATION_LIMITS.positions } : {}),
    },
  );
  const { images, segments: turn } = conversation;
  const params = resolveParams(body, model);
  const decoded = await s.decode(model.name, turn, {
    maxTokens: params.max_tokens,
    temperature: params.temperature,
    seed: streamSeed(params.seed, 'text', 0),
  });

  const id = ctx.id ?? newGenerationId();
  await Promise.all(images.map((img, k) => s.store.put(inputImageKey(id, k), img.png, { contentType: 'image/png' })));

  const { boi, eos } = model.tokenizer.specialTokens;
  const queued = decoded.stop === 'boi';
  const stopIds = decoded.stop === 'boi' ? [boi] : decoded.stop === 'eos' ? [eos] : [];
  const output: StoredOutputPart[] = decoded.text.length > 0 ? [{ type: 'text', text: decoded.text }] : [];
  const now = s.now().toISOString();
  const record: JobRecord = {
    id,
    request_id: requestId,
    model: model.name,
    tenant: ctx.tenant,
    created_at: now,
    updated_at: now,
    status: queued ? 'queued' : 'succeeded',
    progress: { step: 0, steps: queued ? params.steps : 0 },
    params,
    context: storedContext(id, turn, [...decoded.ids, ...stopIds]),
    output,
    tokens_used: decoded.ids.length,
    ...(webhook ? { webhook } : {}),
    ...(body.messages !== undefined ? { messages: storedMessages(turns, id, model.manifest.image) } : {}),
  };
  await s.jobs.create(record);
  s.metrics.generationsCreated.inc({ kind: queued ? 'image' : 'text' });
  log.info(
    {
      job_id: id,
      model: model.name,
      stop: decoded.stop,
      tokens: decoded.ids.length,
      images_in: images.length,
      turns: turns.length,
      positions: conversation.positions,
    },
    'generation created',
  );
  if (!queued) {
    // Finished here: no worker will see it, so its `completed` event is queued now.
    await queueWebhookEvent({ queue: s.queue, store: s.store }, record, 'completed').catch((err: unknown) =>
      log.error({ err, job_id: id }, 'could not queue the completed webhook event'),
    );
    return { status: 201, record };
  }

  try {
    await s.queue.send(encodeJobMessage({ jobId: id, requestId, model: model.name }));
  } catch (err) {
    // Without its message the job would stay queued forever: fail it so a poll ends.
    await s.jobs
      .update(id, (r) => ({ ...r, status: 'failed', error: { code: 'enqueue_failed', message: 'the job could not be queued' } }))
      .catch((e: unknown) => log.error({ err: e, job_id: id }, 'could not mark an unqueued job failed'));
    throw err;
  }
  return { status: 202, record };
}

/** The prefilled context with images as their input keys, then the generated ids (and stop token). */
function storedContext(id: string, turn: readonly Segment[], generated: readonly number[]): ContextSegment[] {
  let k = 0;
  const context: ContextSegment[] = turn.map((seg) =>
    seg.type === 'text' ? { type: 'text', ids: [...seg.ids] } : { type: 'image', key: inputImageKey(id, k++) },
  );
  const last = context[context.length - 1];
  // A context always ends with the `<assistant>` text segment, so the answer joins it.
  if (last?.type === 'text') last.ids.push(...generated);
  else if (generated.length > 0) context.push({ type: 'text', ids: [...generated] });
  return context;
}

/** The generation `id` of `tenant`; another tenant's is not found, exactly like one that does not exist. */
export async function getGeneration(jobs: JobRepository<JobRecord>, id: string, tenant: string): Promise<JobRecord> {
  const record = JobId.safeParse(id).success ? await jobs.get(id) : null;
  if (!record || !ownedBy(record, tenant)) throw new ApiError('not_found', `no generation ${JSON.stringify(id.slice(0, 200))}`);
  return record;
}

/**
 * Cancel: leaves the marker the worker checks at every denoising step, and moves a job
 * still queued to `canceled` at once. Canceling a canceled job returns it as it is
 * (idempotent); a succeeded or failed one is 409 already_finished.
 */
export async function cancelGeneration(jobs: JobRepository<JobRecord>, id: string, tenant: string, log: Logger): Promise<JobRecord> {
  const current = await getGeneration(jobs, id, tenant);
  if (current.status === 'canceled') return current;
  if (isTerminal(current.status)) throw new ApiError('already_finished', `generation ${id} already ${current.status}`);
  await jobs.requestCancel(id);
  const after = await jobs.update(id, (r) => (r.status === 'queued' ? { ...r, status: 'canceled' } : null));
  log.info({ job_id: id, status: after.status }, 'cancel requested');
  return after;
}
