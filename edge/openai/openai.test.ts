/**
 * The OpenAI-compatible routes in process, on the tiny model: shapes, validation with
 * OpenAI's `param`, auth and unknown routes in OpenAI's error shape, chat with images and
 * streaming, and the images route's 504 that names the generations still running (no
 * worker runs here). test/openai/ drives a running server with the official client.
 */
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../../shared/config/index.js';
import { appFixture } from '../../test/support/app.js';
import { dataUrl, pngBytes } from '../../test/support/images.js';
import type { AppDeps } from '../app.js';
import { OpenAiErrorBody } from './errors.js';
import { ChatCompletion } from './schemas.js';

const api = appFixture();
const { tiny, setup, post } = api;

async function openAiError(res: Response, status: number): Promise<OpenAiErrorBody['error']> {
  expect(res.status).toBe(status);
  return OpenAiErrorBody.parse(await res.json()).error;
}

const redPng = dataUrl(
  'image/png',
  pngBytes(64, 64, () => [220, 30, 30, 255]),
);
const decodeToBoi: AppDeps['textDecoder'] = async () => ({ ids: [], text: '', stop: 'boi' });

describe('GET /v1/models', () => {
  it("lists the model in OpenAI's list shape with what it understands", async () => {
    setup();
    const res = await api.app.request('/v1/models');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: Record<string, unknown>[] };
    expect(body.object).toBe('list');
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({
      id: tiny.runtime.manifest.name,
      object: 'model',
      owned_by: expect.any(String),
      created: expect.any(Number),
      image: { width: tiny.runtime.manifest.image.width, height: tiny.runtime.manifest.image.height },
      prompts: { draw_prefix: 'draw ', describe_prompt: 'describe the image' },
      default: true,
    });
    expect((await api.app.request(`/v1/models/${tiny.runtime.manifest.name}`)).status).toBe(200);
    const missing = await openAiError(await api.app.request('/v1/models/nope'), 404);
    expect(missing).toMatchObject({ code: 'model_not_found', param: 'model', type: 'not_found_error' });
  });
});

describe('errors in OpenAI shape', () => {
  it('names the parameter of a failed check', async () => {
    setup();
    const error = await openAiError(await post('/v1/images/generations', { prompt: 'a red circle', n: 9 }), 400);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'n', code: 'invalid_request' });
    expect(error.message).toMatch(/^n: /);
    const unknown = await openAiError(await post('/v1/images/generations', { prompt: 'x', quality: 'hd' }), 400);
    expect(unknown.message).toMatch(/quality/);
    const size = await openAiError(await post('/v1/images/generations', { prompt: 'x', size: '1024x1024' }), 400);
    expect(size).toMatchObject({ param: 'size' });
    expect(size.message).toContain(`${tiny.runtime.manifest.image.width}x${tiny.runtime.manifest.image.height}`);
    const model = await openAiError(
      await post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      404,
    );
    expect(model).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('answers bad JSON, auth and methods in the same shape', async () => {
    setup({ config: { apiKeys: apiKeys('secret-key-1') } });
    const unauthorized = await openAiError(await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }), 401);
    expect(unauthorized).toMatchObject({ type: 'authentication_error', code: 'unauthorized', param: null });
    const models = await openAiError(await api.app.request('/v1/models'), 401);
    expect(models.code).toBe('unauthorized');
    const auth = { authorization: 'Bearer secret-key-1' };
    const badJson = await api.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: '{',
    });
    expect((await openAiError(badJson, 400)).code).toBe('invalid_json');
    const method = await api.app.request('/v1/images/generations', { headers: auth });
    expect((await openAiError(method, 405)).code).toBe('method_not_allowed');
    // The plain API keeps its own shape.
    const plain = await api.app.request('/v1/generations/gen_x');
    expect(await plain.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
  });
});

describe('POST /v1/chat/completions', () => {
  // A text answer: the random model may go on to an image, which would wait for a worker (none runs here).
  it('answers an image and a question with the decoded text and token counts', async () => {
    // A text answer: the random model may go on to an image, which would wait for a worker (none runs here).
    setup({ textDecoder: tiny.decodeTo('red', 'eos') });
    const res = await post('/v1/chat/completions', {
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: redPng } },
            { type: 'text', text: 'describe the image' },
          ],
        },
      ],
      max_tokens: 6,
      seed: 1,
    });
    expect(res.status).toBe(200);
    const body = ChatCompletion.parse(await res.json());
    const { num_patches } = tiny.runtime.manifest.image;
    // <bos> <user> <boi> patches <eoi> text <assistant>
    const textIds = tiny.runtime.tokenizer.encode('describe the image').length + 5;
    expect(body.usage.prompt_tokens).toBe(num_patches + textIds);
    expect(body.usage.completion_tokens).toBe(tiny.runtime.tokenizer.encode('red').length);
    expect(body.choices[0]!.message.content).toBe('red');
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.choices[0]!.message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(body.choices[0]!.finish_reason);
    expect(body.model).toBe(tiny.runtime.manifest.name);
  });

  it('streams the same text as chunks, then [DONE]', async () => {
    setup({ textDecoder: tiny.decodeTo('a red half', 'eos') });
    const request = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: redPng } }] }], max_tokens: 12, seed: 3 };
    const whole = ChatCompletion.parse(await (await post('/v1/chat/completions', request)).json());
    const res = await post('/v1/chat/completions', { ...request, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice('data: '.length));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events
      .slice(0, -1)
      .map(
        (e) =>
          JSON.parse(e) as { choices: { delta: { content?: string; role?: string }; finish_reason: string | null }[]; usage?: unknown },
      );
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks.flatMap((c) => c.choices).at(-1)!.finish_reason).toBe(whole.choices[0]!.finish_reason);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
  });

  it("queues the answer's image as a generation of the conversation, and answers 504 naming it when it is not made in time", async () => {
    setup({ textDecoder: decodeToBoi, config: { apiKeys: [], openAiWaitSeconds: 1 } });
    const error = await openAiError(
      await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'draw a red circle' }], seed: 4 }),
      504,
    );
    expect(error).toMatchObject({ type: 'timeout_error', code: 'generation_timeout' });
    const record = (await api.deps.jobs.get(error.generation_ids![0]!))!;
    expect(record).toMatchObject({
      status: 'queued',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'draw a red circle' }] }],
    });
    expect(record.params.seed).toBe(4);
    expect(await api.deps.queue.receive({ maxMessages: 1, waitSeconds: 0 })).toHaveLength(1);
  });

  it('refuses remote image URLs, broken images and a conversation without a user message', async () => {
    setup();
    const remote = await post('/v1/chat/completions', {
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
    });
    expect(await openAiError(remote, 400)).toMatchObject({ param: 'messages.0.content.0.image_url.url', code: 'unsupported_image' });
    const broken = await post('/v1/chat/completions', {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
      ],
    });
    const error = await openAiError(broken, 400);
    expect(error.param).toBe('messages.0.content.1.image_url.url');
    expect(error.message).toMatch(/^messages\.0\.content\.1\.image_url\.url: /);
    const none = await post('/v1/chat/completions', { messages: [{ role: 'system', content: 'hi' }] });
    expect(await openAiError(none, 400)).toMatchObject({ param: 'messages' });
    const n = await post('/v1/chat/completions', { n: 2, messages: [{ role: 'user', content: 'hi' }] });
    expect(await openAiError(n, 400)).toMatchObject({ param: 'n' });
  });
});

describe('POST /v1/images/generations without a worker', () => {
  it('queues n drawing requests with the draw prefix, then answers 504 naming them', async () => {
    setup({ textDecoder: decodeToBoi, config: { apiKeys: [], openAiWaitSeconds: 1 } });
    const res = await post('/v1/images/generations', { prompt: 'a red circle', n: 2, seed: 10, steps: 3 });
    const error = await openAiError(res, 504);
    expect(error).toMatchObject({ type: 'timeout_error', code: 'generation_timeout' });
    expect(error.generation_ids).toHaveLength(2);
    for (const [k, id] of error.generation_ids!.entries()) {
      expect(error.message).toContain(id);
      const record = (await api.deps.jobs.get(id))!;
      expect(record.status).toBe('queued');
      expect(record.params).toMatchObject({ seed: 10 + k, steps: 3 });
      const promptIds = record.context.flatMap((s) => (s.type === 'text' ? s.ids : []));
      expect(tiny.runtime.tokenizer.decode(promptIds.filter((id) => !tiny.runtime.tokenizer.isSpecial(id)))).toBe('draw a red circle');
    }
    // A prompt that already asks to draw is not prefixed twice.
    const again = await openAiError(await post('/v1/images/generations', { prompt: 'Draw a blue square' }), 504);
    const record = (await api.deps.jobs.get(again.generation_ids![0]!))!;
    const ids = record.context.flatMap((s) => (s.type === 'text' ? s.ids : [])).filter((id) => !tiny.runtime.tokenizer.isSpecial(id));
    expect(tiny.runtime.tokenizer.decode(ids)).toBe('Draw a blue square');
    // The spec allows 4000 characters of prompt; the draw prefix is the server's own and does not count against them.
    const longest = await openAiError(await post('/v1/images/generations', { prompt: 'x'.repeat(4000) }), 504);
    expect((await api.deps.jobs.get(longest.generation_ids![0]!))!.status).toBe('queued');
  });
});
