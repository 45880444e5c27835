/**
 * Steps and guidance a model cannot do are refused on every surface with 400
 * unsupported_steps / unsupported_guidance, naming the model and what it takes, before
 * anything is kept or queued: POST /v1/generations (JSON, form, messages) and the OpenAI
 * image routes (with `param`). GET /v1/models and the OpenAPI document say what each takes.
 * Two models: packages/tiny (declares nothing: any steps, guidance adjustable, as every
 * package before) and a student declaring 1 or 2 steps with its guidance fixed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxModelRuntime } from '../../shared/runtime/index.js';
import { ModelList } from '../../shared/schemas/models.js';
import { type TestDeps, TINY_DIR, testDeps, tinyRuntime } from '../../test/support/edge-deps.js';
import { DeclaredRuntime } from '../../test/support/student-runtime.js';
import { createApp } from '../app.js';

describe('sampling a model cannot do', () => {
  let runtime: OnnxModelRuntime;
  let deps: TestDeps;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    runtime = await tinyRuntime();
  });
  afterAll(async () => {
    await runtime?.close();
  });
  afterEach(async () => {
    await deps?.cleanup();
  });
  const setup = () => {
    deps = testDeps([
      { dir: TINY_DIR, runtime },
      { dir: TINY_DIR, runtime: new DeclaredRuntime(runtime) },
    ]);
    app = createApp(deps);
  };
  const post = (path: string, body: unknown) =>
    app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const errorOf = async (res: Response) =>
    ((await res.json()) as { error: { code: string; message: string; param?: string | null } }).error;
  const nothingKept = async () => {
    expect((await deps.queue.stats()).visible).toBe(0);
    const jobs = join(deps.dir, 'store', 'jobs');
    expect(existsSync(jobs) ? readdirSync(jobs) : []).toEqual([]);
  };

  it('refuses steps outside the list and another guidance in the JSON body, naming the model and what it takes', async () => {
    setup();
    const steps = await post('/v1/generations', { prompt: 'draw a red circle', model: 'student', steps: 4 });
    expect(steps.status).toBe(400);
    expect(await errorOf(steps)).toEqual({
      code: 'unsupported_steps',
      message: 'steps: student samples with 1 or 2 steps (default 1), not 4',
    });
    const guidance = await post('/v1/generations', { prompt: 'draw a red circle', model: 'student', guidance: 6 });
    expect(guidance.status).toBe(400);
    const error = await errorOf(guidance);
    expect(error.code).toBe('unsupported_guidance');
    expect(error.message).toContain('student has its guidance fixed at 2.5');
    await nothingKept();
  });

  it('takes the student at 1 and 2 steps and at its own guidance, and the older package at any steps and guidance', async () => {
    setup();
    for (const body of [
      { model: 'student', steps: 1 },
      { model: 'student', steps: 2, guidance: 2.5 },
      { model: 'student' },
      { steps: 1, guidance: 0 },
      { steps: 100, guidance: 20 },
    ]) {
      const res = await post('/v1/generations', { prompt: 'draw a red circle', ...body });
      expect([201, 202]).toContain(res.status);
    }
  });

  it('refuses the same in a conversation and in the multipart form', async () => {
    setup();
    const messages = await post('/v1/generations', {
      model: 'student',
      steps: 3,
      messages: [{ role: 'user', content: 'draw a red circle' }],
    });
    expect(messages.status).toBe(400);
    expect((await errorOf(messages)).code).toBe('unsupported_steps');
    const form = new FormData();
    form.set('prompt', 'draw a red circle');
    form.set('model', 'student');
    form.set('guidance', '7');
    const multipart = await app.request('/v1/generations', { method: 'POST', body: form });
    expect(multipart.status).toBe(400);
    expect((await errorOf(multipart)).code).toBe('unsupported_guidance');
    await nothingKept();
  });

  it("refuses on the OpenAI image routes in OpenAI's shape, naming the parameter", async () => {
    setup();
    const images = await post('/v1/images/generations', { prompt: 'a red circle', model: 'student', steps: 10 });
    expect(images.status).toBe(400);
    expect(await errorOf(images)).toMatchObject({ code: 'unsupported_steps', param: 'steps', type: 'invalid_request_error' });
    const form = new FormData();
    form.set('prompt', 'make it blue');
    form.set('model', 'student');
    form.set('guidance', '1');
    form.set('image', new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' }), 'a.png');
    const edits = await app.request('/v1/images/edits', { method: 'POST', body: form });
    expect(edits.status).toBe(400);
    expect(await errorOf(edits)).toMatchObject({ code: 'unsupported_guidance', param: 'guidance' });
    await nothingKept();
  });

  it("lists each model's sampling in GET /v1/models", async () => {
    setup();
    const list = ModelList.parse(await (await app.request('/v1/models')).json());
    expect(list.data.map((m) => [m.id, m.sampling])).toEqual([
      ['tiny', { default_steps: 4, max_steps: 100, guidance: 'adjustable', default_guidance: 2.5 }],
      ['student', { default_steps: 1, max_steps: 2, supported_steps: [1, 2], guidance: 'fixed', default_guidance: 2.5 }],
    ]);
  });

  it('states it in the OpenAPI document: the Model schema and a rule per model on the request', async () => {
    setup();
    const doc = (await (await app.request('/openapi.json')).json()) as {
      components: { schemas: Record<string, { allOf?: unknown[]; properties?: Record<string, unknown> }> };
    };
    expect(doc.components.schemas['ModelSampling']).toBeDefined();
    const rules = JSON.stringify(doc.components.schemas['CreateGenerationRequest']!.allOf);
    expect(rules).toContain(
      '{"if":{"properties":{"model":{"const":"student"}},"required":["model"]},"then":{"properties":{"steps":{"enum":[1,2,null]},"guidance":{"enum":[2.5,null]}}}}',
    );
    expect(JSON.stringify(doc.components.schemas['ImagesRequest']!.allOf)).toContain('"steps":{"enum":[1,2,null]}');
  });

  it("gives a request that names no guidance the package's choice for its steps, and keeps a request's own", async () => {
    // tiny's network under a manifest that chose guidance 1.5 for 2 steps (default 2.5 at 4)
    const declared = new DeclaredRuntime(runtime, { guidance_by_steps: { '2': 1.5 } }, 'per-steps');
    deps = testDeps([{ dir: TINY_DIR, runtime: declared }]);
    app = createApp(deps);
    const paramsOf = async (body: Record<string, unknown>) => {
      const res = await app.request('/v1/generations', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prompt: 'draw a red circle', ...body }),
      });
      expect([201, 202]).toContain(res.status);
      const { id } = (await res.json()) as { id: string };
      return (await deps.jobs.get(id))!.params;
    };
    expect(await paramsOf({ steps: 2 })).toMatchObject({ steps: 2, guidance: 1.5 });
    expect(await paramsOf({ steps: 2, guidance: 4 })).toMatchObject({ steps: 2, guidance: 4 });
    expect(await paramsOf({})).toMatchObject({ steps: 4, guidance: 2.5 });
    expect(await paramsOf({ steps: 3 })).toMatchObject({ steps: 3, guidance: 2.5 });
    const list = ModelList.parse(await (await app.request('/v1/models')).json());
    expect(list.data[0]!.sampling).toEqual({
      default_steps: 4,
      max_steps: 100,
      guidance: 'adjustable',
      default_guidance: 2.5,
      guidance_by_steps: { '2': 1.5 },
    });
  });
});
