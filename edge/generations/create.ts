/**
 * POST /v1/generations's handler, for both bodies: JSON (the OpenAPI route, its validators)
 * and the multipart form (registered before it: it answers multipart requests itself and
 * passes any other on). One answer for both: the idempotent create, `Prefer: wait`, the view.
 */

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { JobRepository } from '../../shared/jobs/repository.js';
import { isTerminal } from '../../shared/jobs/status.js';
import type { JobChanges } from '../../shared/ports/job-changes.js';
import type { CreateGenerationRequest, Generation } from '../../shared/schemas/generation.js';
import type { JobRecord } from '../../shared/schemas/job.js';
import { CreateGenerationForm, FORM_TYPE, readGenerationForm } from '../body/form.js';
import type { InlineImages } from '../body/index.js';
import type { EdgeEnv } from '../env.js';
import type { IdempotencyClaims } from '../idempotency/claims.js';
import { createIdempotently } from '../idempotency/generations.js';
import { validationHook } from '../middleware/errors.js';
import { CreateGenerationHeaders, FORM_SCHEMA } from './routes.js';
import type { GenerationService } from './service.js';
import { preferredWait, waitUntilTerminal } from './wait.js';

export interface CreateRouteDeps {
  service: GenerationService;
  claims: IdempotencyClaims;
  jobs: JobRepository<JobRecord>;
  /** The longest Prefer: wait honoured, and when a wait reads the record again. */
  maxWait: number;
  changes: JobChanges;
  view(record: JobRecord): Promise<Generation>;
}

export type CreateHeaders = { 'idempotency-key'?: string | undefined; prefer?: string | undefined };

export type CreateResponder = (
  c: Context<EdgeEnv>,
  body: CreateGenerationRequest,
  headers: CreateHeaders,
  inline?: InlineImages,
) => Promise<Response>;

export function createResponder(deps: CreateRouteDeps): CreateResponder {
  return async (c, body, headers, inline) => {
    const ctx = {
      requestId: c.var.requestId,
      log: c.var.log,
      tenant: c.var.tenant,
      idempotencyKey: headers['idempotency-key'],
      ...(inline ? { inline } : {}),
    };
    let { status, record } = await createIdempotently(deps.service, deps.claims, body, ctx);
    const wait = preferredWait(headers.prefer, deps.maxWait);
    if (wait !== undefined) {
      c.header('Preference-Applied', `wait=${wait}`);
      record = await waitUntilTerminal(deps.jobs, record, wait, deps.changes, c.req.raw.signal);
      if (status === 202 && isTerminal(record.status)) status = 201;
    }
    return c.json(await deps.view(record), status);
  };
}

/** The multipart form of POST /v1/generations, answered here; its schema joins the document (the route refers to it). */
export function registerGenerationForm(app: OpenAPIHono<EdgeEnv>, respond: CreateResponder): void {
  app.openAPIRegistry.register(FORM_SCHEMA, CreateGenerationForm);
  const form: MiddlewareHandler<EdgeEnv> = async (c, next) => {
    if (!FORM_TYPE.test(c.req.header('content-type') ?? '')) return next();
    const headers = CreateGenerationHeaders.safeParse(c.req.header());
    if (!headers.success) validationHook(headers);
    const { body, inline } = await readGenerationForm(c);
    return respond(c, body, headers.data ?? {}, inline);
  };
  app.post('/v1/generations', form);
}
