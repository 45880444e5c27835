/**
 * The Idempotency-Key header on POST /v1/generations and POST /v1/generations/{id}/cancel:
 * the first request with a key does the work; a repeat (same tenant, key and body, within
 * 24 h) gets the same generation, 200; the key with another body is 409
 * idempotency_conflict. See ./claims.ts for how this stays race-free.
 */
import { JobAlreadyExistsError, type JobRepository } from '../../shared/jobs/repository.js';
import type { Logger } from '../../shared/logging/index.js';
import type { CreateGenerationRequest } from '../../shared/schemas/generation.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { ApiError } from '../errors.js';
import {
  type CreateContext,
  type Created,
  cancelGeneration,
  createGeneration,
  type GenerationService,
  getGeneration,
  newGenerationId,
} from '../generations/service.js';
import type { Claim, ClaimOutcome, IdempotencyClaims } from './claims.js';
import { fingerprint } from './fingerprint.js';

export interface IdempotentContext extends CreateContext {
  idempotencyKey?: string;
}

export async function createIdempotently(
  s: GenerationService,
  claims: IdempotencyClaims,
  body: CreateGenerationRequest,
  ctx: IdempotentContext,
): Promise<Created> {
  const { idempotencyKey, ...plain } = ctx;
  if (idempotencyKey === undefined) return createGeneration(s, body, plain);
  const outcome = settled(await claims.begin(ctx.tenant, idempotencyKey, fingerprint('create', body), newGenerationId()));
  if (outcome.kind === 'replay') return { status: 200, record: await getGeneration(s.jobs, outcome.generationId, ctx.tenant) };
  const { claim } = outcome;
  const id = claim.generationId;
  // A claim taken over from a request that died may have its generation already.
  const earlier = claim.takeover ? await s.jobs.get(id) : null;
  if (earlier) return finish(claims, claim, { status: 200, record: earlier });
  try {
    return await finish(claims, claim, await createGeneration(s, body, { ...plain, id }));
  } catch (err) {
    if (err instanceof JobAlreadyExistsError) {
      // The request whose claim this was finished after all: its generation is the answer.
      return finish(claims, claim, { status: 200, record: await getGeneration(s.jobs, id, ctx.tenant) });
    }
    // A generation that exists (failed to queue, say) is the key's answer; else a retry runs again.
    if (await s.jobs.get(id)) await claims.complete(claim);
    else await claims.abandon(claim);
    throw err;
  }
}

export async function cancelIdempotently(
  jobs: JobRepository<JobRecord>,
  claims: IdempotencyClaims,
  id: string,
  ctx: { tenant: string; log: Logger; idempotencyKey?: string },
): Promise<JobRecord> {
  if (ctx.idempotencyKey === undefined) return cancelGeneration(jobs, id, ctx.tenant, ctx.log);
  const outcome = settled(await claims.begin(ctx.tenant, ctx.idempotencyKey, fingerprint('cancel', { id }), id));
  if (outcome.kind === 'replay') return getGeneration(jobs, outcome.generationId, ctx.tenant);
  try {
    const record = await cancelGeneration(jobs, id, ctx.tenant, ctx.log);
    await claims.complete(outcome.claim);
    return record;
  } catch (err) {
    await claims.abandon(outcome.claim);
    throw err;
  }
}

async function finish(claims: IdempotencyClaims, claim: Claim, created: Created): Promise<Created> {
  await claims.complete(claim);
  return created;
}

/** A claim to work on or a generation to replay; a conflict or a request still running is a 409. */
function settled(outcome: ClaimOutcome): Extract<ClaimOutcome, { kind: 'claimed' | 'replay' }> {
  if (outcome.kind === 'conflict') {
    throw new ApiError('idempotency_conflict', 'this Idempotency-Key was used with another request (operation or body) in the last 24 h');
  }
  if (outcome.kind === 'in_progress') {
    throw new ApiError('idempotency_conflict', 'a request with this Idempotency-Key is still in progress; retry shortly', {
      'Retry-After': '1',
    });
  }
  return outcome;
}
