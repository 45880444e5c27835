/**
 * The OpenAPI document, saying what this server enforces: bearer auth is declared (scheme
 * and per-route requirement) only when API_KEYS is set; a server without keys asks for
 * none, and its document says so. The models served (fixed at start) are written into it:
 * `model` and `size` as enums, and each model's rules (./openapi-served.ts); the body rules
 * zod checks in refinements are written out (./openapi-forms.ts). Built once, on first request.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { EdgeEnv } from './env.js';
import { stateRequestForms } from './openapi-forms.js';
import { type SpecModel, stateServedModels } from './openapi-served.js';

type Document = ReturnType<OpenAPIHono['getOpenAPI31Document']>;

export interface DocumentOptions {
  /** API_KEYS is set: /v1 routes need a bearer key. */
  auth: boolean;
  /** RATE_LIMIT_PER_MINUTE is set. */
  rateLimited: boolean;
  /** The models served (GET /v1/models), the default marked. */
  models: readonly SpecModel[];
}

export function openApiDocument(app: OpenAPIHono<EdgeEnv>, options: DocumentOptions): () => Document {
  let built: Document | undefined;
  return () => (built ??= build(app, options));
}

function build(app: OpenAPIHono<EdgeEnv>, options: DocumentOptions): Document {
  if (options.auth) {
    app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
      type: 'http',
      scheme: 'bearer',
      description: "One of the server's API_KEYS (`tenant:key` entries: what a key creates, only that tenant sees).",
    });
  }
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Unified text-and-image model API',
      version: '1.0.0',
      description:
        'Text answers come back at once; images are made by a worker pool: follow /v1/generations/{id}/events, poll the ' +
        'generation, or send `Prefer: wait=N`. Errors are `{error: {code, message}}` with a stable code. ' +
        (options.auth ? '/v1 routes need `Authorization: Bearer <key>`. ' : 'This server has no API keys (it listens on loopback only). ') +
        (options.rateLimited ? 'Each tenant is rate-limited (429 rate_limited with Retry-After).' : ''),
    },
  });
  const schemas = (doc.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
  stateRequestForms(schemas);
  stateServedModels(schemas, options.models);
  if (!options.auth) {
    for (const item of Object.values(doc.paths ?? {})) {
      for (const operation of Object.values(item as Record<string, { security?: unknown; responses?: Record<string, unknown> }>)) {
        if (typeof operation !== 'object' || operation === null) continue;
        delete operation.security;
        if (operation.responses) delete operation.responses['401'];
      }
    }
  }
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const limited = options.rateLimited && path.startsWith('/v1/') && !path.startsWith('/v1/files/');
    for (const operation of Object.values(
      item as Record<string, { responses?: Record<string, { description?: string; content?: unknown }> }>,
    )) {
      const responses = operation?.responses;
      if (!responses) continue;
      if (!limited) delete responses['429'];
      else if (!responses['429']) {
        // Every /v1 route is counted, also those registered elsewhere: the answer has that route's error shape.
        const shape = Object.entries(responses).find(([status, r]) => status.startsWith('4') && r.content)?.[1].content;
        responses['429'] = {
          description: 'rate_limited: over RATE_LIMIT_PER_MINUTE for this tenant; retry after Retry-After seconds.',
          ...(shape ? { content: shape } : {}),
        };
      }
    }
  }
  return doc;
}
