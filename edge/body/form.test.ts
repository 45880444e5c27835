/**
 * POST /v1/generations as a multipart form, in process on the tiny model: the files read as
 * the JSON request's data URLs are (the same stored input, the same context), the fields
 * coerced and checked with the JSON body's limits, every bad form a clear 4xx that queues
 * nothing, the Idempotency-Key over the files' content; and a large JSON body parsed by
 * the body thread answering as the event loop's parse does.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/index.js';
import { ApiErrorBody, Generation } from '../../shared/schemas/index.js';
import type { TestDeps } from '../../test/support/edge-deps.js';
import { dataUrl, jpegBytes, pngBytes } from '../../test/support/images.js';
import { type DepsOverrides, tinyFixture } from '../../test/support/tiny-fixture.js';
import { createApp } from '../app.js';
import { startBodyThread } from './index.js';

const tiny = tinyFixture();
let deps: TestDeps;
let app: ReturnType<typeof createApp>;
const decodeToBoi = tiny.decodeTo('', 'boi');

function setup(overrides: DepsOverrides = {}): void {
  deps = tiny.deps({ textDecoder: decodeToBoi, ...overrides });
  app = createApp(deps);
}

const png = pngBytes(32, 32, (x, y) => (x + y < 32 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
const jpeg = jpegBytes(40, 30, [0, 200, 0]);
const file = (bytes: Uint8Array, type = 'application/octet-stream', name = 'upload') => new File([Buffer.from(bytes)], name, { type });

function form(fields: [string, string | Blob][]): FormData {
  const body = new FormData();
  for (const [key, value] of fields) body.append(key, value);
  return body;
}
const send = (body: FormData | string, headers: Record<string, string> = {}) =>
  Promise.resolve(app.request('/v1/generations', { method: 'POST', body, headers }));

async function refused(res: Response, status: number, code: string): Promise<string> {
  const body = ApiErrorBody.parse(await res.json());
  expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
  return body.error.message;
}

/** The stored input images and the context of a created generation. */
async function created(res: Response) {
  expect(res.status).toBe(202);
  const { id } = Generation.parse(await res.json());
  const record = (await deps.jobs.get(id))!;
  const inputs = await Promise.all(
    record.context
      .filter((s) => s.type === 'image')
      .map(async (s) => Buffer.from((await deps.store.get((s as { key: string }).key))!.body)),
  );
  return { record, inputs };
}

describe('POST /v1/generations, multipart/form-data', () => {
  it('reads the files as the JSON request reads its data URLs', async () => {
    setup();
    const viaForm = await created(
      await send(
        form([
          ['prompt', 'describe the image'],
          ['images', file(png, 'image/png')],
          ['images', file(jpeg)],
          ['seed', '5'],
          ['steps', '3'],
          ['temperature', '0.5'],
        ]),
      ),
    );
    const viaJson = await created(
      await app.request('/v1/generations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          prompt: 'describe the image',
          images: [dataUrl('image/png', png), dataUrl('image/jpeg', jpeg)],
          seed: 5,
          steps: 3,
          temperature: 0.5,
        }),
      }),
    );
    expect(viaForm.record.params).toEqual(viaJson.record.params);
    expect(viaForm.record.params).toMatchObject({ seed: 5, steps: 3, temperature: 0.5 });
    // Nothing lost: both images, in order, the same pixels stored as from the data URLs.
    expect(viaForm.inputs).toHaveLength(2);
    expect(viaForm.inputs).toEqual(viaJson.inputs);
    const ids = (r: typeof viaForm) => r.record.context.map((s) => (s.type === 'text' ? s.ids : 'image'));
    expect(ids(viaForm)).toEqual(ids(viaJson));
  });

  it('takes images[] and a prompt alone', async () => {
    setup();
    expect(
      (
        await created(
          await send(
            form([
              ['prompt', 'what is this'],
              ['images[]', file(jpeg)],
            ]),
          ),
        )
      ).inputs,
    ).toHaveLength(1);
    expect((await created(await send(form([['prompt', 'draw a red circle']])))).inputs).toHaveLength(0);
  });

  it('refuses a bad form with a 4xx naming what is wrong, and queues nothing', async () => {
    setup();
    expect(await refused(await send(form([['images', file(png)]])), 400, 'invalid_request')).toMatch(/^prompt:/);
    expect(
      await refused(
        await send(
          form([
            ['prompt', 'x'],
            ['nsfw', 'true'],
          ]),
        ),
        400,
        'invalid_request',
      ),
    ).toMatch(/nsfw/);
    expect(
      await refused(
        await send(
          form([
            ['prompt', 'x'],
            ['images', 'data:image/png;base64,AAAA'],
          ]),
        ),
        400,
        'invalid_request',
      ),
    ).toMatch(/^images: .*file/);
    expect(
      await refused(
        await send(
          form([
            ['prompt', 'x'],
            ['steps', 'many'],
          ]),
        ),
        400,
        'invalid_request',
      ),
    ).toMatch(/^steps:/);
    expect(
      await refused(
        await send(
          form([
            ['prompt', 'x'],
            ['steps', '0'],
          ]),
        ),
        400,
        'invalid_request',
      ),
    ).toMatch(/^steps:/);
    expect(await refused(await send(form([['prompt', 'x'.repeat(4001)]])), 400, 'prompt_too_long')).toMatch(/^prompt:/);
    expect(
      await refused(
        await send(
          form([
            ['prompt', 'x'],
            ['images', file(png)],
            ['images[]', file(png)],
          ]),
        ),
        400,
        'invalid_request',
      ),
    ).toMatch(/not both/);
    const five = form([['prompt', 'x'], ...Array.from({ length: 5 }, (): [string, Blob] => ['images', file(png)])]);
    expect(await refused(await send(five), 400, 'invalid_request')).toMatch(/^images:/);
    expect(
      await refused(
        await send(
          form([
            ['prompt', 'x'],
            ['images', file(png)],
            ['images', file(new TextEncoder().encode('hello'))],
          ]),
        ),
        400,
        'unsupported_image',
      ),
    ).toMatch(/^images\[1\]: /);
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set(png);
    expect(
      await refused(
        await send(
          form([
            ['prompt', 'x'],
            ['images', file(big)],
          ]),
        ),
        413,
        'image_too_large',
      ),
    ).toMatch(/^images\[0\]: 5242881 bytes/);
    // A body that is not the multipart it says it is.
    const broken = await send('--x\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi', {
      'content-type': 'multipart/form-data; boundary=x',
    });
    expect(await refused(broken, 400, 'invalid_request')).toMatch(/multipart/);
    expect(await refused(await send('prompt=x', { 'content-type': 'text/plain' }), 400, 'invalid_request')).toMatch(/multipart\/form-data/);
    expect(await deps.queue.stats()).toEqual({ visible: 0, inFlight: 0 });
  });

  it("checks the headers and keys idempotency on the files' content", async () => {
    setup();
    const key = { 'idempotency-key': 'form-1' };
    const first = await send(
      form([
        ['prompt', 'describe'],
        ['images', file(png)],
      ]),
      key,
    );
    expect(first.status).toBe(202);
    const again = await send(
      form([
        ['prompt', 'describe'],
        ['images', file(png, 'image/png', 'other-name')],
      ]),
      key,
    );
    expect(again.status).toBe(200);
    expect(Generation.parse(await again.json()).id).toBe(Generation.parse(await first.json()).id);
    await refused(
      await send(
        form([
          ['prompt', 'describe'],
          ['images', file(jpeg)],
        ]),
        key,
      ),
      409,
      'idempotency_conflict',
    );
    await refused(await send(form([['prompt', 'x']]), { 'idempotency-key': '\u00e9' }), 400, 'invalid_request');
  });
});

type FormSchema = { properties: Record<string, Record<string, unknown>>; required: string[] };

describe('the OpenAPI document', () => {
  it('lists the form beside the JSON body, its images as binary files', async () => {
    setup();
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { $ref?: string } }> } } }>;
      components: { schemas: Record<string, { properties: Record<string, { anyOf?: { format?: string }[] }> }> };
    };
    const content = doc.paths['/v1/generations']!.post.requestBody.content;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(content['multipart/form-data']!.schema.$ref).toBe('#/components/schemas/CreateGenerationForm');
    // `images` or `images[]`, not both (the handler's rule, in the fields' words: no `not`,
    // on which schemathesis's coverage phase crashes), with the JSON body's limits.
    const form = doc.components.schemas['CreateGenerationForm'] as unknown as FormSchema & { not?: unknown };
    expect(form.not).toBeUndefined();
    expect((form.properties['images[]'] as { description?: string }).description).toMatch(/not both/i);
    expect(form.required).toEqual(['prompt']);
    expect(form.properties['images']).toMatchObject({ type: 'array', items: { format: 'binary' }, minItems: 1, maxItems: 4 });
    expect(form.properties['images[]']).toMatchObject({ minItems: 1, maxItems: 4 });
    expect(form.properties['prompt']).toMatchObject({ minLength: 1, maxLength: 4000 });
    expect(form.properties['model']).toEqual({ $ref: '#/components/schemas/ModelName' });
    expect(form.properties['seed']).toEqual({ type: 'integer', minimum: 0, maximum: 0xffff_ffff });
    expect(form.properties['guidance']).toEqual({ type: 'number', minimum: 0, maximum: 20 });
  });

  it('refuses what the document refuses: a model not served (an empty one too), an empty prompt', async () => {
    setup();
    expect(
      await refused(
        await send(
          form([
            ['prompt', 'x'],
            ['model', ''],
          ]),
        ),
        400,
        'invalid_request',
      ),
    ).toMatch(/^model:/);
    expect(
      (
        await send(
          form([
            ['prompt', 'x'],
            ['model', 'not-served'],
          ]),
        )
      ).status,
    ).toBe(400);
    await refused(await send(form([['prompt', '']])), 400, 'invalid_request');
    expect(
      (
        await send(
          form([
            ['prompt', 'x'],
            ['model', 'tiny'],
          ]),
        )
      ).status,
    ).toBe(202);
  });
});

describe('POST /v1/generations, a large JSON body on the body thread', () => {
  it("answers as the event loop's parse does, refusals included", async () => {
    const bodies = startBodyThread({ logger: createLogger({ logLevel: 'silent' }) });
    try {
      setup({ bodyParser: bodies });
      // Over the 256 KB threshold: a 300 KB PNG of noise.
      const noise = (x: number, y: number, c: number) => Math.floor(Math.abs(Math.sin(x * 12.9898 + y * 78.233 + c) * 43758.5453)) % 256;
      const noisy = pngBytes(400, 300, (x, y) => [noise(x, y, 0), noise(x, y, 1), noise(x, y, 2), 255]);
      expect(noisy.length).toBeGreaterThan(256 * 1024);
      const body = { prompt: 'describe the image', images: [dataUrl('image/png', noisy)], seed: 1 };
      const post = (value: unknown) =>
        app.request('/v1/generations', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'big-1' },
          body: JSON.stringify(value),
        });
      const first = await created(await post(body));
      const replay = await post(body);
      expect(replay.status).toBe(200);
      setup();
      const onLoop = await created(
        await app.request('/v1/generations', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
      expect(first.inputs).toEqual(onLoop.inputs);
      setup({ bodyParser: bodies });
      const bad = { ...body, images: [dataUrl('image/png', noisy), 'data:image/png;base64,****'] };
      expect(await refused(await post(bad), 400, 'invalid_base64')).toMatch(/^images\[1\]: /);
      await refused(
        await app.request('/v1/generations', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"prompt": "${'x'.repeat(300_000)}`,
        }),
        400,
        'invalid_json',
      );
    } finally {
      await bodies.close();
    }
  });
});
