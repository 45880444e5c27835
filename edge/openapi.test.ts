/** The OpenAPI document says what the server enforces. */
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../shared/config/index.js';
import { IMAGE_DATA_URL_PATTERN } from '../shared/schemas/generation.js';
import type { TestDeps } from '../test/support/edge-deps.js';
import { dataUrl, pngBytes } from '../test/support/images.js';
import { tinyFixture } from '../test/support/tiny-fixture.js';
import { type AppDeps, createApp } from './app.js';

interface Operation {
  security?: unknown;
  parameters?: { name: string; in: string }[];
  responses: Record<string, unknown>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes?: Record<string, unknown>;
    schemas: Record<string, { properties: Record<string, { items?: { pattern?: string } }> }>;
  };
}

const tiny = tinyFixture();
let deps: TestDeps;

async function documentOf(config: AppDeps['config']): Promise<Doc> {
  deps = tiny.deps({ config });
  return (await (await createApp(deps).request('/openapi.json')).json()) as Doc;
}

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ at: `${method} ${path}`, op })));

describe('/openapi.json', () => {
  it('declares bearer auth on /v1 routes only when API_KEYS is set', async () => {
    const open = await documentOf({ apiKeys: [] });
    expect(open.components.securitySchemes ?? {}).toEqual({});
    for (const { at, op } of operations(open)) {
      expect(op.security, at).toBeUndefined();
      expect(op.responses, at).not.toHaveProperty('401');
      expect(op.responses, at).not.toHaveProperty('429');
    }
    const keyed = await documentOf({ apiKeys: apiKeys('acme:key-of-acme-1'), rateLimitPerMinute: 10 });
    expect(keyed.components.securitySchemes).toHaveProperty('bearerAuth');
    const v1 = operations(keyed).filter(({ at }) => at.includes(' /v1/') && !at.includes('/v1/files/'));
    expect(v1.map(({ at }) => at)).toEqual(
      expect.arrayContaining([
        'post /v1/generations',
        'get /v1/generations/{id}',
        'post /v1/generations/{id}/cancel',
        'get /v1/generations/{id}/events',
      ]),
    );
    for (const { at, op } of v1) {
      expect(op.security, at).toEqual([{ bearerAuth: [] }]);
      expect(op.responses, at).toHaveProperty('401');
      expect(op.responses, at).toHaveProperty('429');
    }
    // Signed file URLs need no key; health and the document neither.
    expect(keyed.paths['/v1/files/{key}']!.get!.security).toBeUndefined();
    expect(keyed.paths['/healthz']!.get!.security).toBeUndefined();
  });

  it('states images as data URLs of the accepted types, with a pattern real images match', async () => {
    const doc = await documentOf({ apiKeys: [] });
    const [promptForm] = (
      doc.components.schemas.CreateGenerationRequest as unknown as {
        oneOf: { properties: Record<string, { items?: { pattern?: string } }> }[];
      }
    ).oneOf;
    const pattern = promptForm!.properties['images']!.items!.pattern!;
    expect(pattern).toBe(IMAGE_DATA_URL_PATTERN);
    const re = new RegExp(pattern);
    expect(
      re.test(
        dataUrl(
          'image/png',
          pngBytes(2, 2, () => [1, 2, 3, 255]),
        ),
      ),
    ).toBe(true);
    for (const accepted of ['data:image/webp;base64,AAAA', 'data:image/gif;base64,AAAA']) expect(re.test(accepted), accepted).toBe(true);
    for (const refused of [
      'data:image/png;base64,',
      'data:image/tiff;base64,AAAA',
      'data:image/png,AAAA',
      'http://x/a.png',
      'data:image/png;base64,AAA',
    ]) {
      expect(re.test(refused), refused).toBe(false);
    }
  });

  it('states the models served as enums, and a chat user message with content', async () => {
    const doc = await documentOf({ apiKeys: [] });
    const schemas = doc.components.schemas as unknown as Record<string, Record<string, unknown>>;
    expect(schemas['ModelName']).toMatchObject({ type: 'string', enum: ['tiny'] });
    expect(schemas['ImageSize']).toMatchObject({ type: 'string', enum: ['64x64'] });
    const chat = schemas['ChatCompletionRequest']!['properties'] as Record<
      string,
      { items: { oneOf: { properties: { role: { enum: string[] } }; required: string[] }[] } }
    >;
    const user = chat['messages']!.items.oneOf.find((m) => m.properties.role.enum.includes('user'))!;
    expect(user.required).toContain('content');
    // What the document refuses, the server refuses too.
    const res = await createApp(deps).request('/v1/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'draw', model: 'not-served' }),
    });
    expect(res.status).toBe(400);
    const edits = schemas['ImageEditRequest']!['properties'] as Record<string, Record<string, unknown>>;
    expect(schemas['ImageEditRequest']!['oneOf']).toEqual([{ required: ['image'] }, { required: ['image[]'] }]);
    // A form cannot send null: the coerced numbers are documented as numbers only, with the bounds the server checks.
    for (const field of ['seed', 'guidance', 'temperature']) expect(edits[field]!['type'], field).not.toContain('null');
    expect(edits['seed']).toMatchObject({ type: 'integer', minimum: 0, maximum: 0xffff_ffff });
    expect(edits['guidance']).toMatchObject({ type: 'number', minimum: 0, maximum: 20 });
  });

  it('documents Idempotency-Key, Prefer and Last-Event-ID', async () => {
    const doc = await documentOf({ apiKeys: [] });
    const names = (op: Operation) => (op.parameters ?? []).map((p) => `${p.in}:${p.name}`);
    expect(names(doc.paths['/v1/generations']!.post!)).toEqual(['header:idempotency-key', 'header:prefer']);
    expect(names(doc.paths['/v1/generations/{id}/cancel']!.post!)).toEqual(['path:id', 'header:idempotency-key']);
    expect(names(doc.paths['/v1/generations/{id}/events']!.get!)).toEqual(['path:id', 'header:last-event-id']);
    expect(Object.keys(doc.paths['/v1/generations']!.post!.responses).sort()).toEqual(['200', '201', '202', '400', '404', '409', '413']);
  });
});
