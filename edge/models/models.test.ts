/**
 * The edge serving several models (packages/tiny, the default here, and packages/shapes64):
 * GET /v1/models, `model` in POST /v1/generations (decoded with that model, recorded, put in
 * the queue message), and an unknown model refused with nothing kept.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys } from '../../shared/config/index.js';
import { parseJobMessage } from '../../shared/jobs/message.js';
import { createRuntime, type OnnxModelRuntime, userTurn } from '../../shared/runtime/index.js';
import { ApiErrorBody, Generation } from '../../shared/schemas/index.js';
import { ModelList } from '../../shared/schemas/models.js';
import { type TestDeps, TINY_DIR, testDeps, tinyRuntime } from '../../test/support/edge-deps.js';
import { dataUrl, pngBytes } from '../../test/support/images.js';
import { createApp } from '../app.js';
import { prepareInputImage } from '../images/index.js';
import { decodeText } from '../text-decode.js';

const SHAPES_DIR = fileURLToPath(new URL('../../packages/shapes64/', import.meta.url));
const hasShapes = existsSync(`${SHAPES_DIR}manifest.json`);

describe.skipIf(!hasShapes)('several models: tiny (default) and shapes64', () => {
  let tiny: OnnxModelRuntime;
  let shapes: OnnxModelRuntime;
  let deps: TestDeps;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    tiny = await tinyRuntime();
    shapes = await createRuntime(SHAPES_DIR, { executionProvider: 'cpu', intraOpThreads: 1 });
  });
  afterAll(async () => {
    await tiny?.close();
    await shapes?.close();
  });
  afterEach(async () => {
    await deps?.cleanup();
  });

  const setup = (keys: string[] = []) => {
    deps = testDeps(
      [
        { dir: TINY_DIR, runtime: tiny },
        { dir: SHAPES_DIR, runtime: shapes },
      ],
      { config: { apiKeys: apiKeys(...keys) } },
    );
    app = createApp(deps);
  };
  const post = (body: unknown) =>
    app.request('/v1/generations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('lists the models in the OpenAI list shape, extended with image size, prompts, tasks and licences', async () => {
    setup();
    const res = await app.request('/v1/models');
    expect(res.status).toBe(200);
    const body: unknown = await res.json();
    const list = ModelList.parse(body);
    expect(list.object).toBe('list');
    expect(list.data.map((m) => [m.id, m.object, m.name, m.default])).toEqual([
      ['tiny', 'model', 'tiny', true],
      ['shapes64', 'model', 'shapes64', false],
    ]);
    const [t, s] = list.data as [ModelList['data'][number], ModelList['data'][number]];
    for (const m of list.data) {
      expect(Number.isInteger(m.created) && m.created > 0).toBe(true);
      expect(m.owned_by).toBe('unified-image-text');
      expect(m.image).toEqual({ width: 64, height: 64 });
      expect(m.description.length).toBeGreaterThan(0);
    }
    expect(s.prompts).toEqual({ draw_prefix: 'draw ', describe_prompt: 'describe the image' });
    expect(s.description).toMatch(/Shapes64/);
    expect(s.licenses).toEqual([
      expect.objectContaining({ spdx: 'LicenseRef-unified-image-text', name: expect.any(String), source: expect.any(String) }),
    ]);
    expect(s.data_card).toMatchObject({ name: 'Shapes64' });
    // The fixture's manifest has neither description nor licences: the defaults.
    expect(t.description).toBe('tiny: a text-and-image model (64 x 64 images).');
    expect(t.licenses).toEqual([]);
    // What each model was trained to do: the fixture declares every task.
    expect(t.tasks).toEqual(['draw', 'describe', 'edit', 'restyle', 'every_style', 'multi_turn', 'refuse']);
    expect(s.tasks).toEqual(expect.arrayContaining(['draw', 'describe']));
    // The answer is exactly the schema's: nothing the schema does not name.
    expect(body).toEqual(list);
  });

  it('needs the API key like every /v1 route', async () => {
    setup(['key-for-models-1']);
    expect((await app.request('/v1/models')).status).toBe(401);
    expect((await app.request('/v1/models', { headers: { Authorization: 'Bearer key-for-models-1' } })).status).toBe(200);
  });

  it('decodes with the model the request names, records it, and puts it in the queue message', async () => {
    setup();
    const prompt = 'draw a large red circle at the top left';
    const res = await post({ prompt, model: 'shapes64', seed: 3 });
    // The trained model asks for an image at once: the job is queued for the worker.
    expect(res.status).toBe(202);
    const created = Generation.parse(await res.json());
    expect(created.model).toBe('shapes64');
    expect(created.progress.steps).toBe(shapes.manifest.diffusion.default_steps);
    const record = (await deps.jobs.get(created.id))!;
    expect(record.model).toBe('shapes64');
    expect(record.params.guidance).toBe(shapes.manifest.diffusion.default_guidance);
    // The context is shapes64's tokens (its vocabulary differs from tiny's), ending in its <boi>.
    const expected = userTurn(shapes.tokenizer, [prompt]);
    const ids = record.context.flatMap((s) => (s.type === 'text' ? s.ids : []));
    expect(ids).toEqual([...(expected[0]!.type === 'text' ? expected[0]!.ids : []), shapes.tokenizer.specialTokens.boi]);
    const [message] = await deps.queue.receive({ maxMessages: 10, waitSeconds: 0 });
    expect(parseJobMessage(message!.body)).toMatchObject({ jobId: created.id, model: 'shapes64' });
    const got = Generation.parse(await (await app.request(`/v1/generations/${created.id}`)).json());
    expect(got.model).toBe('shapes64');
  });

  it('uses the default model without `model`, exactly as that model decodes', async () => {
    setup();
    const res = await post({ prompt: 'hello there', seed: 5, max_tokens: 6 });
    const created = Generation.parse(await res.json());
    expect(created.model).toBe('tiny');
    expect((await deps.jobs.get(created.id))!.model).toBe('tiny');
    const alone = await decodeText(tiny, userTurn(tiny.tokenizer, ['hello there']), { maxTokens: 6, temperature: 0, seed: 5 });
    expect(
      created.output
        .filter((p) => p.type === 'text')
        .map((p) => (p.type === 'text' ? p.text : ''))
        .join(''),
    ).toBe(alone.text);
  });

  it('describes an input image with the named model', async () => {
    setup();
    const res = await post({
      prompt: 'describe the image',
      model: 'shapes64',
      images: [
        dataUrl(
          'image/png',
          pngBytes(64, 64, () => [220, 30, 30, 255]),
        ),
      ],
      max_tokens: 30,
    });
    expect([201, 202]).toContain(res.status);
    const created = Generation.parse(await res.json());
    expect(created.model).toBe('shapes64');
    const record = (await deps.jobs.get(created.id))!;
    expect(record.context[1]).toEqual({ type: 'image', key: `inputs/${created.id}/0.png` });
  });

  it('refuses an unknown model with 400 unknown_model listing the known ones, keeping nothing', async () => {
    setup();
    const res = await post({ prompt: 'draw a cat', model: 'emoji64' });
    expect(res.status).toBe(400);
    const { error } = ApiErrorBody.parse(await res.json());
    expect(error.code).toBe('unknown_model');
    expect(error.message).toBe('unknown model "emoji64"; this server serves: tiny, shapes64');
    expect(await deps.queue.stats()).toEqual({ visible: 0, inFlight: 0 });
    expect(readdirSync(deps.dir, { recursive: true }).filter((f) => String(f).startsWith('store/jobs/'))).toEqual([]);
  });

  it('refuses a model name that is not a string or is empty as invalid_request', async () => {
    setup();
    for (const model of ['', 7, null]) {
      const res = await post({ prompt: 'draw a cat', model });
      expect(res.status).toBe(400);
      expect(ApiErrorBody.parse(await res.json()).error.code).toBe('invalid_request');
    }
  });

  it('serves each model on the OpenAI routes: GET /v1/models/{id}, chat completions decoded with the named model', async () => {
    setup();
    const one = await app.request('/v1/models/shapes64');
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: 'shapes64', object: 'model', default: false });
    const missing = await app.request('/v1/models/emoji64');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'model_not_found' } });
    // An image and the describe prompt: the trained model captions it, the random one answers otherwise.
    const image = dataUrl(
      'image/png',
      pngBytes(64, 64, (x, y) => (Math.hypot(x - 20, y - 20) < 9 ? [220, 30, 30, 255] : [255, 255, 255, 255])),
    );
    const chat = async (model: string) => {
      const res = await app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          model,
          max_tokens: 24,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image_url', image_url: { url: image } },
                { type: 'text', text: 'describe the image' },
              ],
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { model: string; choices: { message: { content: string } }[] };
    };
    const answers: string[] = [];
    for (const [name, runtime] of [
      ['tiny', tiny],
      ['shapes64', shapes],
    ] as const) {
      const answer = await chat(name);
      expect(answer.model).toBe(name);
      const { patches } = await prepareInputImage(image, 0, runtime.manifest.image);
      const alone = await decodeText(runtime, userTurn(runtime.tokenizer, [{ type: 'image', patches }, 'describe the image']), {
        maxTokens: 24,
        temperature: 0,
        seed: 0,
      });
      expect(alone.stop).not.toBe('boi');
      expect(answer.choices[0]!.message.content).toBe(alone.text);
      answers.push(alone.text);
    }
    expect(answers[1]).toMatch(/red circle/);
    expect(answers[0]).not.toBe(answers[1]);
  });

  it('reports every model on /healthz', async () => {
    setup();
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok', model: 'tiny', models: ['tiny', 'shapes64'] });
  });
});
