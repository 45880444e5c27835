/**
 * POST /v1/chat/completions reads the whole history on the tiny model: user and assistant
 * turns by the multi-turn template, system messages skipped, one role's consecutive messages
 * one turn, and an earlier answer's images as markdown links to this server's output URLs
 * (or image_url parts), read from the caller's own generations only; an answer that goes on
 * with an image waits for it and links it the same way.
 */
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../../shared/config/index.js';
import { decodePng } from '../../shared/images/png.js';
import { conversationContext, type Segment, type TextStop } from '../../shared/runtime/index.js';
import { Generation } from '../../shared/schemas/index.js';
import { appFixture } from '../../test/support/app.js';
import { dataUrl, pngBytes } from '../../test/support/images.js';
import { playWorker } from '../../test/support/play-worker.js';
import type { TextDecodeFn } from '../text-decode.js';
import { OpenAiErrorBody } from './errors.js';
import { assistantTextParts, imageSourceOf } from './history.js';
import { ChatCompletion } from './schemas.js';

const api = appFixture();
const { tiny, setup, post } = api;

async function openAiError(res: Response, status: number): Promise<OpenAiErrorBody['error']> {
  expect(res.status).toBe(status);
  return OpenAiErrorBody.parse(await res.json()).error;
}

/** How the next decode stops: `<boi>` while an earlier drawing is made (a job for the worker's part). */
let nextStop: TextStop = 'eos';

/** Records the context of every decode; answers "fine". */
function spyingDecoder(seen: Segment[][]): TextDecodeFn {
  return async (_model, segments) => {
    seen.push([...segments]);
    return { ids: tiny.runtime.tokenizer.encode('fine'), text: 'fine', stop: nextStop };
  };
}

const drawn = pngBytes(64, 64, (x, y) => (x < 32 && y < 32 ? [200, 20, 20, 255] : [255, 255, 255, 255]));
const blueUrl = dataUrl(
  'image/png',
  pngBytes(64, 64, () => [0, 0, 255, 255]),
);

/** A finished generation of the caller's with `drawn` as its image; its output URL as GET gives it. */
async function earlierDrawing(headers: Record<string, string> = {}): Promise<{ id: string; url: string }> {
  nextStop = 'boi';
  const created = Generation.parse(await (await post('/v1/generations', { prompt: 'draw a red square' }, headers)).json());
  nextStop = 'eos';
  await playWorker(api.deps, created.id);
  await api.deps.store.put(`outputs/${created.id}/0.png`, drawn, { contentType: 'image/png' });
  const got = Generation.parse(await (await api.app.request(`/v1/generations/${created.id}`, { headers })).json());
  const image = got.output.find((p) => p.type === 'image');
  return { id: created.id, url: image?.type === 'image' ? new URL(image.url, 'http://localhost').href : '' };
}

describe('the history of a chat', () => {
  it("reads user and assistant turns, the assistant's earlier image from its markdown link", async () => {
    const seen: Segment[][] = [];
    setup({ textDecoder: spyingDecoder(seen) });
    const earlier = await earlierDrawing();
    seen.length = 0;
    const res = await post('/v1/chat/completions', {
      messages: [
        { role: 'system', content: 'you draw' },
        { role: 'user', content: 'draw a red square' },
        { role: 'assistant', content: `Here it is: ![image 1](${earlier.url})` },
        { role: 'user', content: 'make the square' },
        { role: 'user', content: [{ type: 'text', text: ' blue' }] },
      ],
      max_tokens: 4,
    });
    expect(res.status).toBe(200);
    const body = ChatCompletion.parse(await res.json());
    expect(body.choices[0]!.message.content).toBe('fine');

    const patches = decodePng(drawn, tiny.runtime.manifest.image);
    const expected = conversationContext(tiny.runtime.tokenizer, [
      { role: 'user', content: ['draw a red square'] },
      { role: 'assistant', content: ['Here it is: ', { type: 'image', patches }] },
      { role: 'user', content: ['make the square', ' blue'] },
    ]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual(expected);
    const positions = expected.reduce((n, s) => n + (s.type === 'text' ? s.ids.length : tiny.runtime.manifest.image.num_patches), 0);
    expect(body.usage.prompt_tokens).toBe(positions);
  });

  it('takes image_url parts in an assistant message, and data URLs in markdown links', async () => {
    const seen: Segment[][] = [];
    setup({ textDecoder: spyingDecoder(seen) });
    const res = await post('/v1/chat/completions', {
      messages: [
        { role: 'user', content: 'draw two blue squares' },
        {
          role: 'assistant',
          content: [
            { type: 'image_url', image_url: { url: blueUrl } },
            { type: 'text', text: `and ![second](${blueUrl})` },
          ],
        },
        { role: 'user', content: 'describe them' },
      ],
    });
    expect(res.status).toBe(200);
    expect(seen[0]!.filter((s) => s.type === 'image')).toHaveLength(2);
  });

  it("refuses another tenant's output, a remote link, and histories the model cannot answer", async () => {
    setup({ textDecoder: spyingDecoder([]), config: { apiKeys: apiKeys('acme:acme-key-123456', 'globex:globex-key-12345') } });
    const acme = { Authorization: 'Bearer acme-key-123456' };
    const globex = { Authorization: 'Bearer globex-key-12345' };
    const earlier = await earlierDrawing(acme);
    const history = (url: string) => ({
      messages: [
        { role: 'user', content: 'draw' },
        { role: 'assistant', content: `![x](${url})` },
        { role: 'user', content: 'again' },
      ],
    });
    expect((await post('/v1/chat/completions', history(earlier.url), acme)).status).toBe(200);
    expect(await openAiError(await post('/v1/chat/completions', history(earlier.url), globex), 404)).toMatchObject({
      code: 'not_found',
      param: 'messages.1.content',
    });
    expect(await openAiError(await post('/v1/chat/completions', history('https://example.com/a.png'), acme), 400)).toMatchObject({
      code: 'unsupported_image',
      param: 'messages.1.content',
    });
    const lastAssistant = {
      messages: [
        { role: 'user', content: 'draw' },
        { role: 'assistant', content: 'ok' },
      ],
    };
    expect(await openAiError(await post('/v1/chat/completions', lastAssistant, acme), 400)).toMatchObject({
      code: 'invalid_request',
      param: 'messages',
      message: expect.stringMatching(/last message must be the user's/),
    });
    const assistantFirst = {
      messages: [
        { role: 'system', content: 's' },
        { role: 'assistant', content: 'hi' },
        { role: 'user', content: 'draw' },
      ],
    };
    expect(await openAiError(await post('/v1/chat/completions', assistantFirst, acme), 400)).toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/start with a user message/),
    });
    const tooMuch = {
      messages: [
        { role: 'user', content: 'x'.repeat(4000) },
        { role: 'assistant', content: 'y'.repeat(4000) },
        { role: 'user', content: 'z' },
      ],
    };
    expect(await openAiError(await post('/v1/chat/completions', tooMuch, acme), 400)).toMatchObject({
      code: 'prompt_too_long',
      param: 'messages',
    });
  });
});

describe('an answer with an image', () => {
  it('waits for the generation and answers its image as a markdown link, which a follow-up reads back', async () => {
    const seen: Segment[][] = [];
    setup({ textDecoder: spyingDecoder(seen) });
    nextStop = 'boi';
    const asked = post('/v1/chat/completions', { messages: [{ role: 'user', content: 'draw a red square' }], seed: 6, max_tokens: 9 });
    // The worker's part: the job the chat queued gets its image.
    const [message] = await api.deps.queue.receive({ maxMessages: 1, waitSeconds: 5 });
    const { jobId } = JSON.parse(message!.body) as { jobId: string };
    await playWorker(api.deps, jobId);
    nextStop = 'eos';
    await api.deps.store.put(`outputs/${jobId}/0.png`, drawn, { contentType: 'image/png' });
    const res = await asked;
    expect(res.status).toBe(200);
    const body = ChatCompletion.parse(await res.json());
    expect(body.generation_id).toBe(jobId);
    const content = body.choices[0]!.message.content;
    expect(content).toMatch(
      new RegExp(`^fine!\\[image 1\\]\\(http://localhost/v1/files/outputs/${jobId}/0\\.png\\?expires=\\d+&sig=[^)]+\\)$`),
    );
    const record = (await api.deps.jobs.get(jobId))!;
    expect(record.params).toMatchObject({ seed: 6, max_tokens: 9 });
    expect(body.usage.completion_tokens).toBe(record.tokens_used);

    // The answer sent back as it came is the drawing, in the assistant's turn.
    seen.length = 0;
    const followUp = await post('/v1/chat/completions', {
      messages: [
        { role: 'user', content: 'draw a red square' },
        { role: 'assistant', content },
        { role: 'user', content: 'make it blue' },
      ],
    });
    expect(followUp.status).toBe(200);
    expect(seen[0]).toEqual(
      conversationContext(tiny.runtime.tokenizer, [
        { role: 'user', content: ['draw a red square'] },
        { role: 'assistant', content: ['fine', { type: 'image', patches: decodePng(drawn, tiny.runtime.manifest.image) }] },
        { role: 'user', content: ['make it blue'] },
      ]),
    );
  });
});

describe('image links in a chat', () => {
  it('keeps the text around markdown images exactly, as the model wrote it', () => {
    const parts = assistantTextParts(
      'a ![one](data:image/png;base64,AAAA) b![two](</v1/files/outputs/gen_abc/1.png?expires=1&sig=x> "t")',
      'p',
    );
    expect(parts).toEqual([
      { type: 'text', text: 'a ' },
      { type: 'image', source: { kind: 'data_url', url: 'data:image/png;base64,AAAA', where: 'p' } },
      { type: 'text', text: ' b' },
      { type: 'image', source: { kind: 'generation', generation: 'gen_abc', index: 1, where: 'p' } },
    ]);
    expect(assistantTextParts('no images [here](x)', 'p')).toEqual([{ type: 'text', text: 'no images [here](x)' }]);
  });

  it("reads this server's output URLs (local or S3, signed or not) as references, and nothing remote", () => {
    for (const url of [
      '/v1/files/outputs/gen_Ab-_9/0.png?expires=1700000000&sig=abc',
      'http://127.0.0.1:3000/v1/files/outputs/gen_Ab-_9/0.png',
      'https://bucket.s3.eu-west-1.amazonaws.com/outputs/gen_Ab-_9/0.png?X-Amz-Signature=abc',
    ]) {
      expect(imageSourceOf(url, 'p')).toEqual({ kind: 'generation', generation: 'gen_Ab-_9', index: 0, where: 'p' });
    }
    for (const url of ['https://example.com/cat.png', '/v1/files/inputs/gen_x/0.png', 'gen_x'])
      expect(() => imageSourceOf(url, 'p')).toThrow(/only data URLs/);
  });
});
