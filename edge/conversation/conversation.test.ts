/**
 * POST /v1/generations with `messages` on packages/tiny (which declares every task): the
 * context is the multi-turn template over the whole history, images come from data URLs or
 * earlier outputs of the same tenant, limits and the model's tasks are checked before any
 * work, and the record keeps the messages.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys } from '../../shared/config/index.js';
import { decodePng } from '../../shared/images/png.js';
import { conversationContext, createRuntime, type OnnxModelRuntime, type Segment, streamSeed } from '../../shared/runtime/index.js';
import { CONVERSATION_LIMITS } from '../../shared/schemas/conversation.js';
import { ApiErrorBody, Generation } from '../../shared/schemas/index.js';
import { appFixture } from '../../test/support/app.js';
import { type TestDeps, TINY_DIR, testDeps } from '../../test/support/edge-deps.js';
import { dataUrl, pngBytes } from '../../test/support/images.js';
import { playWorker } from '../../test/support/play-worker.js';
import { createApp } from '../app.js';
import { decodeText, type TextDecodeFn } from '../text-decode.js';

const api = appFixture();
const { tiny, setup } = api;
const post = (body: unknown, headers: Record<string, string> = {}) => api.post('/v1/generations', body, headers);

async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = ApiErrorBody.parse(await res.json());
  expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
  return body.error.message;
}

const red = dataUrl(
  'image/png',
  pngBytes(64, 64, (x) => (x < 32 ? [255, 0, 0, 255] : [255, 255, 255, 255])),
);
const blue = dataUrl(
  'image/png',
  pngBytes(64, 64, () => [0, 0, 255, 255]),
);

/** A decoder that records what it was asked to read, and answers `text` stopping at `<boi>`. */
function spyingDecoder(seen: Segment[][], text = 'ok'): TextDecodeFn {
  return async (_model, segments) => {
    seen.push([...segments]);
    return { ids: tiny.runtime.tokenizer.encode(text), text, stop: 'boi' };
  };
}

const idsOf = (segments: readonly { type: string; ids?: readonly number[] }[]) =>
  segments.flatMap((s): (number | string)[] => (s.type === 'text' ? [...s.ids!] : ['image']));

describe('POST /v1/generations with messages', () => {
  it('answers one user turn exactly as the same prompt (older clients and packages unchanged)', async () => {
    setup();
    const viaPrompt = Generation.parse(await (await post({ prompt: 'describe the image', images: [red], seed: 5, max_tokens: 6 })).json());
    const viaMessages = Generation.parse(
      await (
        await post({
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', url: red },
                { type: 'text', text: 'describe the image' },
              ],
            },
          ],
          seed: 5,
          max_tokens: 6,
        })
      ).json(),
    );
    expect(viaMessages.output).toEqual(viaPrompt.output);
    const a = (await api.deps.jobs.get(viaPrompt.id))!;
    const b = (await api.deps.jobs.get(viaMessages.id))!;
    expect(idsOf(b.context)).toEqual(idsOf(a.context));
    expect(a.messages).toBeUndefined();
    expect(viaPrompt.messages).toBeUndefined();
  });

  it('decodes over the whole history with the multi-turn template and queues the job with that context', async () => {
    const seen: Segment[][] = [];
    setup({ textDecoder: spyingDecoder(seen) });
    const messages = [
      { role: 'user', content: 'draw a red circle' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'here: ' },
          { type: 'image', url: red },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'make the ' },
          { type: 'text', text: 'circle blue' },
        ],
      },
    ];
    const res = await post({ messages, seed: 1 });
    expect(res.status).toBe(202);
    const created = Generation.parse(await res.json());

    const tokenizer = tiny.runtime.tokenizer;
    const { bos, user, assistant, eos, boi, eoi } = tokenizer.specialTokens;
    const enc = (s: string) => tokenizer.encode(s);
    // <bos> <user> draw.. <assistant> here: <boi> [image] <eoi> <eos> <user> make the|circle blue <assistant>
    const expected = [
      bos,
      user,
      ...enc('draw a red circle'),
      assistant,
      ...enc('here: '),
      boi,
      'image',
      eoi,
      eos,
      user,
      ...enc('make the '),
      ...enc('circle blue'),
      assistant,
    ];
    expect(seen).toHaveLength(1);
    expect(idsOf(seen[0] as never)).toEqual(expected);
    const image = seen[0]!.find((s) => s.type === 'image');
    expect(image?.type === 'image' && Array.from(image.patches)).toEqual(
      Array.from(decodePng((await api.deps.store.get(`inputs/${created.id}/0.png`))!.body, tiny.runtime.manifest.image)),
    );

    const record = (await api.deps.jobs.get(created.id))!;
    expect(record.status).toBe('queued');
    expect(idsOf(record.context)).toEqual([...expected, ...enc('ok'), boi]);
    expect(record.context.find((s) => s.type === 'image')).toEqual({ type: 'image', key: `inputs/${created.id}/0.png` });
    expect(record.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'draw a red circle' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'here: ' },
          { type: 'image', key: `inputs/${created.id}/0.png`, width: 64, height: 64 },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'make the ' },
          { type: 'text', text: 'circle blue' },
        ],
      },
    ]);
    // GET shows the conversation, the image as a URL that serves the job's copy.
    const got = Generation.parse(await (await api.app.request(`/v1/generations/${created.id}`)).json());
    expect(got.messages?.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    const part = got.messages![1]!.content[1]!;
    expect(part).toMatchObject({ type: 'image', width: 64, height: 64, mime_type: 'image/png' });
    expect((await api.app.request(part.type === 'image' ? part.url : '')).status).toBe(404); // inputs/ are not served as files
  });

  it('runs the real decode over the whole history, deterministically for a seed', async () => {
    setup();
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'image', url: red },
          { type: 'text', text: 'describe the image' },
        ],
      },
      { role: 'assistant', content: 'a red half' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'draw it in ' },
          { type: 'text', text: 'blue' },
        ],
      },
    ];
    const a = Generation.parse(await (await post({ messages, seed: 9, max_tokens: 6 })).json());
    const b = Generation.parse(await (await post({ messages, seed: 9, max_tokens: 6 })).json());
    expect(b.output).toEqual(a.output);
    // The same decode, run here on the context the template makes, gives the same answer.
    const patches = decodePng((await api.deps.store.get(`inputs/${a.id}/0.png`))!.body, tiny.runtime.manifest.image);
    const context = conversationContext(tiny.runtime.tokenizer, [
      { role: 'user', content: [{ type: 'image', patches }, 'describe the image'] },
      { role: 'assistant', content: ['a red half'] },
      { role: 'user', content: ['draw it in ', 'blue'] },
    ]);
    const direct = await decodeText(tiny.runtime, context, { maxTokens: 6, temperature: 0, seed: streamSeed(9, 'text', 0) });
    const record = (await api.deps.jobs.get(a.id))!;
    expect(record.tokens_used).toBe(direct.ids.length);
    expect(a.output).toEqual(direct.text.length > 0 ? [{ type: 'text', text: direct.text }] : []);
  });

  it("reads an earlier output image of the caller's own by reference; another tenant's or an unknown one is 404", async () => {
    const seen: Segment[][] = [];
    setup({ textDecoder: spyingDecoder(seen), config: { apiKeys: apiKeys('acme:acme-key-123456', 'globex:globex-key-12345') } });
    const as = (key: string) => ({ Authorization: `Bearer ${key}` });
    const first = Generation.parse(await (await post({ prompt: 'draw a square' }, as('acme-key-123456'))).json());
    const drawn = pngBytes(64, 64, (x, y) => (x + y < 64 ? [10, 200, 30, 255] : [250, 250, 250, 255]));
    await playWorker(api.deps, first.id);
    await api.deps.store.put(`outputs/${first.id}/0.png`, drawn, { contentType: 'image/png' });

    const messages = (generation: string, index = 0) => [
      { role: 'user', content: 'draw a square' },
      { role: 'assistant', content: [{ type: 'image', generation, index }] },
      { role: 'user', content: 'make the square blue' },
    ];
    const res = await post({ messages: messages(first.id) }, as('acme-key-123456'));
    expect(res.status).toBe(202);
    const { id } = Generation.parse(await res.json());
    const copy = (await api.deps.store.get(`inputs/${id}/0.png`))!.body;
    expect(Array.from(decodePng(copy, tiny.runtime.manifest.image))).toEqual(Array.from(decodePng(drawn, tiny.runtime.manifest.image)));
    const image = seen[1]!.find((s) => s.type === 'image');
    expect(image?.type === 'image' && Array.from(image.patches)).toEqual(Array.from(decodePng(drawn, tiny.runtime.manifest.image)));
    expect((await api.deps.jobs.get(id))!.messages![1]).toEqual({
      role: 'assistant',
      content: [{ type: 'image', key: `inputs/${id}/0.png`, width: 64, height: 64, generation: first.id, index: 0 }],
    });

    await expectError(await post({ messages: messages(first.id) }, as('globex-key-12345')), 404, 'not_found');
    await expectError(await post({ messages: messages('gen_doesnotexist') }, as('acme-key-123456')), 404, 'not_found');
    expect(await expectError(await post({ messages: messages(first.id, 3) }, as('acme-key-123456')), 404, 'not_found')).toMatch(
      /messages\[1\]\.content\[0\]: .* has no output image 3 \(it has 1\)/,
    );
  });

  it('names the part of a bad data URL', async () => {
    setup();
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'x' },
          { type: 'image', url: 'data:image/tiff;base64,AAAA' },
        ],
      },
    ];
    expect(await expectError(await post({ messages }), 400, 'unsupported_image')).toMatch(
      /^messages\[0\]\.content\[1\]: media type "image\/tiff"/,
    );
  });

  it('hashes the messages into the Idempotency-Key: the same body replays, another conflicts', async () => {
    setup({ textDecoder: tiny.decodeTo('ok', 'boi') });
    const body = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ],
    };
    const key = { 'Idempotency-Key': 'conv-key-1' };
    const first = await post(body, key);
    expect(first.status).toBe(202);
    const again = await post(body, key);
    expect(again.status).toBe(200);
    expect(Generation.parse(await again.json()).id).toBe(Generation.parse(await first.json()).id);
    const changed = { messages: [...body.messages.slice(0, 2), { role: 'user', content: 'd' }] };
    await expectError(await post(changed, key), 409, 'idempotency_conflict');
  });
});

describe('what a conversation request may be', () => {
  const turn = (role: string, content: unknown = 'x') => ({ role, content });

  it.each([
    ['both forms', 'invalid_request', /exactly one of `prompt`/, { prompt: 'x', messages: [turn('user')] }],
    ['neither form', 'invalid_request', /exactly one of `prompt`/, { seed: 1 }],
    ['images beside messages', 'invalid_request', /^images: goes with `prompt`/, { messages: [turn('user')], images: [red] }],
    [
      'an assistant first',
      'invalid_request',
      /messages\.0\.role: must be "user"/,
      { messages: [turn('assistant'), turn('user'), turn('user')] },
    ],
    [
      'two users in a row',
      'invalid_request',
      /messages\.1\.role: must be "assistant"/,
      { messages: [turn('user'), turn('user'), turn('user')] },
    ],
    ['the assistant last', 'invalid_request', /the last message must be the user's/, { messages: [turn('user'), turn('assistant')] }],
    ['a system message', 'invalid_request', /messages\.0\.role/, { messages: [turn('system')] }],
    ['an empty message', 'invalid_request', /messages\.0\.content/, { messages: [turn('user', [])] }],
    [
      'too many images',
      'invalid_request',
      /9 images in all; at most 8/,
      { messages: [turn('user', Array(CONVERSATION_LIMITS.images + 1).fill({ type: 'image', url: blue }))] },
    ],
    [
      'too much text',
      'prompt_too_long',
      /8001 characters of text in all; at most 8000/,
      { messages: [turn('user', 'x'.repeat(4000)), turn('assistant', 'y'.repeat(4000)), turn('user', 'z')] },
    ],
    [
      'too many turns',
      'invalid_request',
      /messages/,
      { messages: Array.from({ length: CONVERSATION_LIMITS.messages + 1 }, (_, i) => turn(i % 2 === 0 ? 'user' : 'assistant')) },
    ],
  ])('refuses %s with 400 %s before any work', async (_name, code, message, body) => {
    let decoded = 0;
    setup({
      textDecoder: async () => {
        decoded += 1;
        return { ids: [], text: '', stop: 'eos' };
      },
    });
    expect(await expectError(await post(body), 400, code)).toMatch(message);
    expect(decoded).toBe(0);
  });

  it('refuses a context longer than the position limit before reading any image', async () => {
    let decoded = 0;
    setup({
      textDecoder: async () => {
        decoded += 1;
        return { ids: [], text: '', stop: 'eos' };
      },
    });
    // 4000 two-byte characters: about one token each on tiny's byte-level vocabulary.
    const text = 'é'.repeat(4000);
    expect(tiny.runtime.tokenizer.encode(text).length + 8 * 64).toBeGreaterThan(CONVERSATION_LIMITS.positions);
    const images = Array(8).fill({ type: 'image', url: 'data:image/tiff;base64,AAAA' });
    const message = await expectError(
      await post({ messages: [{ role: 'user', content: [...images, { type: 'text', text }] }] }),
      400,
      'prompt_too_long',
    );
    expect(message).toMatch(
      new RegExp(`^messages: the conversation is \\d+ positions long for model tiny .*at most ${CONVERSATION_LIMITS.positions}$`),
    );
    expect(decoded).toBe(0);
  });
});

describe('a model that does not declare the tasks a conversation needs', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tasks-test-'));
  let drawOnly: OnnxModelRuntime;
  let older: OnnxModelRuntime;
  let olderDir: string;
  let drawOnlyDir: string;

  /** packages/tiny under another name with other tasks (manifest.json is not in its own file list). */
  function tinyWithTasks(name: string, tasks: string[] | undefined): string {
    const dir = join(scratch, name);
    cpSync(TINY_DIR, dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      name: string;
      conversation: Record<string, unknown>;
    };
    manifest.name = name;
    if (tasks === undefined) delete manifest.conversation['tasks'];
    else manifest.conversation['tasks'] = tasks;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    return dir;
  }

  beforeAll(async () => {
    olderDir = tinyWithTasks('older', undefined);
    drawOnlyDir = tinyWithTasks('draw-only', ['draw']);
    [older, drawOnly] = await Promise.all([
      createRuntime(olderDir, { executionProvider: 'cpu', intraOpThreads: 1 }),
      createRuntime(drawOnlyDir, { executionProvider: 'cpu', intraOpThreads: 1 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([older?.close(), drawOnly?.close()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  const withModels = (): TestDeps =>
    testDeps([
      { dir: olderDir, runtime: older },
      { dir: drawOnlyDir, runtime: drawOnly },
    ]);

  it('refuses several turns to a model without multi_turn, naming the model and its tasks', async () => {
    const d = withModels();
    try {
      const a = createApp(d);
      const res = await a.request('/v1/generations', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        // The bad image is never read: the tasks are checked first.
        body: JSON.stringify({
          model: 'older',
          messages: [
            { role: 'user', content: 'draw a cat' },
            { role: 'assistant', content: [{ type: 'image', url: 'data:image/tiff;base64,AAAA' }] },
            { role: 'user', content: 'again' },
          ],
        }),
      });
      const message = await expectError(res, 400, 'unsupported_conversation');
      expect(message).toBe(
        '3 turns: model older takes one user turn only (it does not declare multi_turn); older does: draw, describe (GET /v1/models)',
      );
      // One turn with an image is what it always did (describe): accepted.
      const single = await a.request('/v1/generations', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          model: 'older',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', url: red },
                { type: 'text', text: 'describe the image' },
              ],
            },
          ],
          max_tokens: 2,
        }),
      });
      expect([201, 202]).toContain(single.status);
    } finally {
      await d.cleanup();
    }
  });

  it('refuses an input image to a model that reads none, in either request form', async () => {
    const d = withModels();
    try {
      const a = createApp(d);
      const send = (body: unknown) =>
        a.request('/v1/generations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const expected =
        /^an image in a user turn: model draw-only reads no input images \(it declares none of describe, edit, restyle\); draw-only does: draw/;
      expect(
        await expectError(await send({ model: 'draw-only', prompt: 'describe the image', images: [red] }), 400, 'unsupported_conversation'),
      ).toMatch(expected);
      expect(
        await expectError(
          await send({ model: 'draw-only', messages: [{ role: 'user', content: [{ type: 'image', url: red }] }] }),
          400,
          'unsupported_conversation',
        ),
      ).toMatch(expected);
      expect([201, 202]).toContain((await send({ model: 'draw-only', prompt: 'draw a cat', max_tokens: 2 })).status);
    } finally {
      await d.cleanup();
    }
  });
});
