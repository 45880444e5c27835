import { describe, expect, it } from 'vitest';
import { apiKeys } from '../shared/config/index.js';
import { parseJobMessage } from '../shared/jobs/message.js';
import { Gauge, Registry, sourceOf } from '../shared/metrics/index.js';
import { ApiErrorBody, Generation, type JobRecord } from '../shared/schemas/index.js';
import { appFixture } from '../test/support/app.js';
import { dataUrl, jpegBytes, jpegHeaderClaiming, pngBytes, pngHeaderClaiming } from '../test/support/images.js';
import { MAX_BODY_BYTES } from './app.js';
import { LocalUrlSigner } from './auth/signed-urls.js';

const api = appFixture();
const { tiny, setup, post } = api;

async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = ApiErrorBody.parse(await res.json());
  expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
  return body.error.message;
}

async function storedRecord(id: string): Promise<JobRecord> {
  const record = await api.deps.jobs.get(id);
  expect(record).not.toBeNull();
  return record!;
}

/** A decoder that answers "hi" and asks for an image: the queue path, which the random model takes only by chance. */
const decodeToBoi = tiny.decodeTo('hi', 'boi');

describe('POST /v1/generations with the tiny model', () => {
  it('answers a prompt with a finished or queued generation that GET returns', async () => {
    setup();
    const res = await post('/v1/generations', { prompt: 'draw a red circle', seed: 7, max_tokens: 8 });
    expect([201, 202]).toContain(res.status);
    const created = Generation.parse(await res.json());
    expect(created.status).toBe(res.status === 201 ? 'succeeded' : 'queued');
    const record = await storedRecord(created.id);
    expect(record.params).toEqual({
      seed: 7,
      steps: tiny.runtime.manifest.diffusion.default_steps,
      guidance: tiny.runtime.manifest.diffusion.default_guidance,
      max_tokens: 8,
      temperature: 0,
    });
    expect(record.tokens_used).toBeLessThanOrEqual(8);
    const got = await api.app.request(`/v1/generations/${created.id}`);
    expect(got.status).toBe(200);
    expect(Generation.parse(await got.json())).toEqual(created);
  });

  it('is deterministic for a seed (greedy decode)', async () => {
    setup();
    const body = { prompt: 'hello', seed: 3, max_tokens: 6 };
    const a = Generation.parse(await (await post('/v1/generations', body)).json());
    const b = Generation.parse(await (await post('/v1/generations', body)).json());
    expect(a.id).not.toBe(b.id);
    expect(b.output).toEqual(a.output);
  });

  it('describes an image: stores it under inputs/ and puts it first in the context', async () => {
    setup();
    const png = pngBytes(32, 32, (x, y) => (x + y < 32 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
    const res = await post('/v1/generations', { prompt: 'describe the image', images: [dataUrl('image/png', png)], max_tokens: 4 });
    expect([201, 202]).toContain(res.status);
    const { id } = Generation.parse(await res.json());
    const record = await storedRecord(id);
    const { bos, user } = tiny.runtime.tokenizer.specialTokens;
    expect(record.context[0]).toEqual({ type: 'text', ids: [bos, user, tiny.runtime.tokenizer.specialTokens.boi] });
    expect(record.context[1]).toEqual({ type: 'image', key: `inputs/${id}/0.png` });
    const stored = await api.deps.store.get(`inputs/${id}/0.png`);
    expect(stored?.contentType).toBe('image/png');
  });

  it('accepts a JPEG', async () => {
    setup();
    const res = await post('/v1/generations', {
      prompt: 'what is this',
      images: [dataUrl('image/jpeg', jpegBytes(20, 10, [0, 200, 0]))],
      max_tokens: 2,
    });
    expect([201, 202]).toContain(res.status);
  });

  it('queues a job when the text stops at <boi>: record, message, then GET and cancel', async () => {
    setup({ textDecoder: decodeToBoi });
    const res = await post(
      '/v1/generations',
      { prompt: 'draw a square', steps: 3, guidance: 1.5, seed: 11 },
      { 'X-Request-Id': 'client-req-1' },
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('X-Request-Id')).toBe('client-req-1');
    const created = Generation.parse(await res.json());
    expect(created).toMatchObject({ status: 'queued', progress: { step: 0, steps: 3 }, output: [{ type: 'text', text: 'hi' }] });
    expect(created.id).toMatch(/^gen_[A-Za-z0-9_-]{22}$/);

    const record = await storedRecord(created.id);
    const { boi, assistant } = tiny.runtime.tokenizer.specialTokens;
    const last = record.context[record.context.length - 1]!;
    expect(last.type).toBe('text');
    const ids = last.type === 'text' ? last.ids : [];
    expect(ids.slice(-2 - tiny.runtime.tokenizer.encode('hi').length)[0]).toBe(assistant);
    expect(ids[ids.length - 1]).toBe(boi);
    expect(record).toMatchObject({
      request_id: 'client-req-1',
      model: 'tiny',
      status: 'queued',
      tokens_used: tiny.runtime.tokenizer.encode('hi').length,
    });
    expect(record.params).toMatchObject({ steps: 3, guidance: 1.5, seed: 11 });

    const [message] = await api.deps.queue.receive({ maxMessages: 10, waitSeconds: 0 });
    expect(parseJobMessage(message!.body)).toEqual({ jobId: created.id, requestId: 'client-req-1', model: 'tiny' });

    const canceled = await post(`/v1/generations/${created.id}/cancel`, '');
    expect(canceled.status).toBe(200);
    expect(Generation.parse(await canceled.json()).status).toBe('canceled');
    expect(await api.deps.jobs.isCancelRequested(created.id)).toBe(true);
    const again = await post(`/v1/generations/${created.id}/cancel`, '');
    expect(again.status).toBe(200);
  });
});

describe('cancel', () => {
  it('leaves the marker on a running job, which stays running until the worker stops', async () => {
    setup({ textDecoder: decodeToBoi });
    const { id } = Generation.parse(await (await post('/v1/generations', { prompt: 'draw' })).json());
    await api.deps.jobs.update(id, (r) => ({ ...r, status: 'running' }));
    const res = await post(`/v1/generations/${id}/cancel`, '');
    expect(res.status).toBe(200);
    expect(Generation.parse(await res.json()).status).toBe('running');
    expect(await api.deps.jobs.isCancelRequested(id)).toBe(true);
  });

  it('refuses a finished generation with 409 and an unknown one with 404', async () => {
    setup({ textDecoder: async () => ({ ids: [], text: '', stop: 'eos' }) });
    const res = await post('/v1/generations', { prompt: 'hi' });
    expect(res.status).toBe(201);
    const { id, output } = Generation.parse(await res.json());
    expect(output).toEqual([]);
    await expectError(await post(`/v1/generations/${id}/cancel`, ''), 409, 'already_finished');
    await expectError(await post('/v1/generations/gen_nope/cancel', ''), 404, 'not_found');
  });
});

describe('GET /v1/generations/{id} and files', () => {
  it('is 404 for unknown and malformed ids', async () => {
    setup();
    await expectError(await api.app.request('/v1/generations/gen_doesnotexist'), 404, 'not_found');
    await expectError(await api.app.request('/v1/generations/..%2Fetc'), 404, 'not_found');
  });

  it('serves outputs/ files by signed URL with their content type, nothing else', async () => {
    const signer = new LocalUrlSigner({ secret: 'a-test-secret-of-32-characters!!', expiresSeconds: 60 });
    setup({ urlSigner: signer });
    const png = pngBytes(2, 2, () => [1, 2, 3, 255]);
    await api.deps.store.put('outputs/gen_x/0.png', png, { contentType: 'image/png' });
    await api.deps.store.put('inputs/gen_x/0.png', png, { contentType: 'image/png' });
    const res = await api.app.request(await signer.urlFor('outputs/gen_x/0.png'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    await expectError(await api.app.request('/v1/files/outputs/gen_x/0.png'), 404, 'not_found');
    for (const key of ['inputs/gen_x/0.png', 'outputs/gen_x/9.png', 'jobs/gen_x.json']) {
      await expectError(await api.app.request(await signer.urlFor(key)), 404, 'not_found');
    }
    await expectError(await api.app.request('/v1/files/outputs/..%2F..%2Fjobs/x.json'), 404, 'not_found');
  });
});

describe('bad input is a 4xx with a stable code', () => {
  const png = (w: number, h: number) =>
    dataUrl(
      'image/png',
      pngBytes(w, h, () => [0, 0, 0, 255]),
    );

  it.each([
    ['malformed JSON', '{"prompt": ', 400, 'invalid_json'],
    ['not an object', '[1,2]', 400, 'invalid_request'],
    ['unknown field', { prompt: 'x', nsfw: true }, 400, 'invalid_request'],
    ['empty prompt', { prompt: '' }, 400, 'invalid_request'],
    ['missing prompt', { steps: 3 }, 400, 'invalid_request'],
    ['oversized prompt', { prompt: 'x'.repeat(4001) }, 400, 'prompt_too_long'],
    ['steps out of range', { prompt: 'x', steps: 101 }, 400, 'invalid_request'],
    ['guidance out of range', { prompt: 'x', guidance: 20.5 }, 400, 'invalid_request'],
    ['max_tokens out of range', { prompt: 'x', max_tokens: 0 }, 400, 'invalid_request'],
    ['fractional seed', { prompt: 'x', seed: 1.5 }, 400, 'invalid_request'],
    ['five images', { prompt: 'x', images: Array(5).fill(png(1, 1)) }, 400, 'invalid_request'],
    ['a string that is not a data URL', { prompt: 'x', images: ['http://example.com/a.png'] }, 400, 'invalid_request'],
    ['bad base64', { prompt: 'x', images: ['data:image/png;base64,!!!notbase64!!'] }, 400, 'invalid_base64'],
    [
      'bytes that are not an image',
      { prompt: 'x', images: [dataUrl('image/png', Buffer.from('just some text, no image'))] },
      400,
      'unsupported_image',
    ],
    ['an unsupported type', { prompt: 'x', images: [dataUrl('image/tiff', Buffer.from('II*\0'))] }, 400, 'unsupported_image'],
    ['a GIF that is only its signature', { prompt: 'x', images: [dataUrl('image/gif', Buffer.from('GIF89a'))] }, 400, 'unsupported_image'],
    [
      'a PNG claiming 30000x30000',
      { prompt: 'x', images: [dataUrl('image/png', pngHeaderClaiming(30000, 30000))] },
      413,
      'image_too_large',
    ],
    [
      'a JPEG claiming 30000x30000',
      { prompt: 'x', images: [dataUrl('image/jpeg', jpegHeaderClaiming(30000, 30000))] },
      413,
      'image_too_large',
    ],
  ])('%s', async (_name, body, status, code) => {
    setup();
    const message = await expectError(await post('/v1/generations', body), status, code);
    expect(message.length).toBeGreaterThan(0);
  });

  it('names the unknown field and the path of a bad value', async () => {
    setup();
    expect(await expectError(await post('/v1/generations', { prompt: 'x', nsfw: true }), 400, 'invalid_request')).toMatch(/nsfw/);
    expect(await expectError(await post('/v1/generations', { prompt: 'x', steps: 0 }), 400, 'invalid_request')).toMatch(/^steps:/);
  });

  it('refuses a body that is not JSON by type', async () => {
    setup();
    const res = await api.app.request('/v1/generations', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '{"prompt":"x"}',
    });
    await expectError(res, 400, 'invalid_request');
  });

  it('refuses an image over 5 MB and a body over the cap', async () => {
    setup();
    const big = `data:image/png;base64,${'A'.repeat(Math.ceil((5 * 1024 * 1024 * 4) / 3) + 8)}`;
    await expectError(await post('/v1/generations', { prompt: 'x', images: [big] }), 413, 'image_too_large');
    const huge = JSON.stringify({ prompt: 'x', pad: 'A'.repeat(MAX_BODY_BYTES) });
    await expectError(await post('/v1/generations', huge), 413, 'payload_too_large');
  });

  it('answers 405 for a wrong method and 404 for an unknown route', async () => {
    setup();
    const res = await api.app.request('/v1/generations', { method: 'DELETE' });
    await expectError(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toContain('POST');
    await expectError(await api.app.request('/v1/nothing'), 404, 'not_found');
  });

  it('keeps nothing for a refused request', async () => {
    setup();
    await post('/v1/generations', { prompt: '' });
    expect(await api.deps.queue.stats()).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('internal failures', () => {
  it('are a 500 internal_error naming the request id, without details', async () => {
    setup({ textDecoder: decodeToBoi });
    api.deps.queue.send = async () => {
      throw new Error('disk on fire');
    };
    const res = await post('/v1/generations', { prompt: 'x' }, { 'X-Request-Id': 'r-500' });
    const message = await expectError(res, 500, 'internal_error');
    expect(message).toContain('r-500');
    expect(message).not.toContain('disk');
  });
});

describe('auth', () => {
  it('requires a bearer key on /v1 when keys are set, and leaves /healthz open', async () => {
    setup({ config: { apiKeys: apiKeys('key-one-123456', 'key-two-123456') } });
    const res = await post('/v1/generations', { prompt: 'x' });
    await expectError(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    await expectError(await post('/v1/generations', { prompt: 'x' }, { Authorization: 'Bearer wrong-key-1234' }), 401, 'unauthorized');
    await expectError(await api.app.request('/v1/generations/gen_x', { headers: { Authorization: 'Basic a2V5' } }), 401, 'unauthorized');
    const ok = await api.app.request('/v1/generations/gen_x', { headers: { Authorization: 'Bearer key-two-123456' } });
    await expectError(ok, 404, 'not_found');
    expect((await api.app.request('/healthz')).status).toBe(200);
  });
});

describe('operations', () => {
  it('gives every response a request id, generated when the caller sends none or a bad one', async () => {
    setup();
    const a = await api.app.request('/healthz');
    expect(a.headers.get('x-request-id')).toMatch(/^req_[0-9a-f-]{36}$/);
    const b = await api.app.request('/healthz', { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(b.headers.get('x-request-id')).toMatch(/^req_/);
    const c = await api.app.request('/nowhere', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(c.headers.get('x-request-id')).toBe('abc-123');
  });

  it('serves /healthz', async () => {
    setup();
    const res = await api.app.request('/healthz');
    expect(await res.json()).toEqual({ status: 'ok', model: 'tiny', models: ['tiny'] });
  });

  it('serves an OpenAPI document with every route and the docs page', async () => {
    setup();
    const doc = (await (await api.app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/readyz',
      '/v1/chat/completions',
      '/v1/files/{key}',
      '/v1/generations',
      '/v1/generations/{id}',
      '/v1/generations/{id}/cancel',
      '/v1/generations/{id}/events',
      '/v1/images/edits',
      '/v1/images/generations',
      '/v1/models',
      '/v1/models/{id}',
    ]);
    expect(Object.keys(doc.paths['/v1/generations']!)).toEqual(['post']);
    expect(JSON.stringify(doc.paths['/v1/generations'])).toContain('#/components/schemas/CreateGenerationRequest');
    // Two forms, exactly one (edge/openapi-forms.ts): a prompt with optional images, or messages.
    const forms = (doc.components.schemas.CreateGenerationRequest as { oneOf: { properties: Record<string, unknown> }[] }).oneOf;
    const common = ['model', 'seed', 'steps', 'guidance', 'max_tokens', 'temperature', 'webhook'];
    expect(forms.map((f) => Object.keys(f.properties).sort())).toEqual([
      ['prompt', 'images', ...common].sort(),
      ['messages', ...common].sort(),
    ]);
    expect(Object.keys(doc.components.schemas.Generation!.properties!)).toEqual([
      'id',
      'model',
      'status',
      'created_at',
      'progress',
      'output',
      'error',
      'webhook',
      'messages',
      'queue_position',
    ]);
    expect(JSON.stringify(doc.paths['/v1/models'])).toContain('#/components/schemas/ModelList');
    expect(Object.keys(doc.components.schemas.Model!.properties!)).toEqual([
      'id',
      'object',
      'created',
      'owned_by',
      'name',
      'description',
      'image',
      'prompts',
      'tasks',
      'sampling',
      'licenses',
      'data_card',
      'default',
    ]);
    // No API_KEYS here: the document declares no security (edge/openapi.test.ts has both cases).
    expect(doc.components.securitySchemes ?? {}).toEqual({});
    const docs = await api.app.request('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });

  it("counts requests and generations in /metrics, with extra sources merged, and Node's default metrics", async () => {
    const extra = new Registry();
    new Gauge({ name: 'worker_jobs_active', help: 'x', labelNames: ['worker'], registers: [extra] }).set({ worker: '0' }, 0);
    setup({ textDecoder: decodeToBoi, metrics: [sourceOf(extra)] });
    await post('/v1/generations', { prompt: 'x' });
    await api.app.request('/v1/generations/gen_missing');
    const res = await api.app.request('/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await res.text();
    expect(text).toContain('http_requests_total{method="POST",route="/v1/generations",status="202"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="/v1/generations/:id",status="404"} 1');
    expect(text).toContain('generations_created_total{kind="image"} 1');
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{(?=[^}]*method="POST")(?=[^}]*route="\/v1\/generations")(?=[^}]*le="\+Inf")[^}]*\} 1$/m,
    );
    expect(text).toMatch(/^worker_jobs_active\{worker="0"\} 0$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds [0-9.e-]+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes [0-9.e+]+$/m);
  });
});
