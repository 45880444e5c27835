import { describe, expect, it } from 'vitest';
import { CreateGenerationRequest, Generation, generationView, inputImageKey, JobRecord, outputImageKey } from './index.js';
import { progressView } from './view.js';

const now = '2026-01-01T00:00:00.000Z';
const record: JobRecord = {
  id: 'gen_abc',
  request_id: 'req-1',
  created_at: now,
  updated_at: now,
  status: 'succeeded',
  progress: { step: 4, steps: 4 },
  params: { seed: 1, steps: 4, guidance: 2.5, max_tokens: 256, temperature: 0 },
  context: [
    { type: 'text', ids: [1, 2, 3] },
    { type: 'image', key: 'inputs/gen_abc/0.png' },
  ],
  output: [
    { type: 'text', text: 'hi' },
    { type: 'image', key: 'outputs/gen_abc/0.png', width: 64, height: 64, mime_type: 'image/png' },
  ],
  tokens_used: 3,
};

describe('CreateGenerationRequest', () => {
  it('accepts a minimal and a full body', () => {
    expect(CreateGenerationRequest.parse({ prompt: 'x' })).toEqual({ prompt: 'x' });
    const full = {
      prompt: 'p',
      images: ['data:image/png;base64,AA=='],
      seed: 0,
      steps: 100,
      guidance: 20,
      max_tokens: 1024,
      temperature: 2,
    };
    expect(CreateGenerationRequest.parse(full)).toEqual(full);
  });

  it.each([
    [{}, ''],
    [{ prompt: 'x', messages: [{ role: 'user', content: 'x' }] }, ''],
    [
      {
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: 'y' },
        ],
      },
      'messages',
    ],
    [{ messages: [{ role: 'user', content: [{ type: 'image', generation: 'nope' }] }] }, 'messages.0.content.0.generation'],
    [{ prompt: '' }, 'prompt'],
    [{ prompt: 'x'.repeat(4001) }, 'prompt'],
    [{ prompt: 'x', extra: 1 }, ''],
    [{ prompt: 'x', steps: 0 }, 'steps'],
    [{ prompt: 'x', steps: 1.5 }, 'steps'],
    [{ prompt: 'x', guidance: 21 }, 'guidance'],
    [{ prompt: 'x', max_tokens: 1025 }, 'max_tokens'],
    [{ prompt: 'x', temperature: -1 }, 'temperature'],
    [{ prompt: 'x', seed: -1 }, 'seed'],
    [{ prompt: 'x', images: ['not a data url'] }, 'images.0'],
    [{ prompt: 'x', images: Array(5).fill('data:image/png;base64,AA==') }, 'images'],
  ])('refuses %j at %s', (body, path) => {
    const result = CreateGenerationRequest.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path.join('.')).toBe(path);
  });
});

describe('JobRecord', () => {
  it('round-trips a record and keeps fields it does not know', () => {
    expect(JobRecord.parse({ ...record, later_field: 1 })).toMatchObject({ ...record, later_field: 1 });
  });

  it('refuses a bad context segment and a non-png output', () => {
    expect(JobRecord.safeParse({ ...record, context: [{ type: 'text', ids: [-1] }] }).success).toBe(false);
    const output = [{ type: 'image', key: 'k', width: 64, height: 64, mime_type: 'image/jpeg' }];
    expect(JobRecord.safeParse({ ...record, output }).success).toBe(false);
  });

  it('names keys under inputs/ and outputs/', () => {
    expect(inputImageKey('gen_abc', 0)).toBe('inputs/gen_abc/0.png');
    expect(outputImageKey('gen_abc', 2)).toBe('outputs/gen_abc/2.png');
    expect(() => inputImageKey('../x', 0)).toThrow();
  });
});

describe('generationView', () => {
  it('turns image keys into URLs and hides internals', async () => {
    const view = await generationView(
      { ...record, error: { code: 'x', message: 'y', detail: 1 } },
      { urlFor: async (k) => `/v1/files/${k}` },
      'shapes64',
    );
    expect(view).toEqual({
      id: 'gen_abc',
      model: 'shapes64',
      status: 'succeeded',
      created_at: now,
      progress: { step: 4, steps: 4, image: 0, images_so_far: 1 },
      output: [
        { type: 'text', text: 'hi' },
        { type: 'image', url: '/v1/files/outputs/gen_abc/0.png', width: 64, height: 64, mime_type: 'image/png' },
      ],
      error: { code: 'x', message: 'y' },
    });
    expect(Generation.parse(view)).toEqual(view);
  });

  it("shows the record's model, and the default model for a record older than several models", async () => {
    const store = { urlFor: async (k: string) => `/v1/files/${k}` };
    expect((await generationView({ ...record, model: 'emoji64' }, store, 'shapes64')).model).toBe('emoji64');
    expect((await generationView(record, store, 'shapes64')).model).toBe('shapes64');
  });
});

describe('progressView', () => {
  const image = (k: number) => ({
    type: 'image' as const,
    key: `outputs/gen_abc/${k}.png`,
    width: 64,
    height: 64,
    mime_type: 'image/png' as const,
  });
  it("keeps the worker's image fields", () => {
    expect(progressView({ progress: { step: 2, steps: 4, image: 1, images_so_far: 1 }, output: [image(0)] })).toEqual({
      step: 2,
      steps: 4,
      image: 1,
      images_so_far: 1,
    });
  });

  it('fills them in for a queued record, a text answer and a record older than multi-image answers', () => {
    expect(progressView({ progress: { step: 0, steps: 4 }, output: [{ type: 'text', text: 'hi' }] })).toEqual({
      step: 0,
      steps: 4,
      image: 0,
      images_so_far: 0,
    });
    expect(progressView({ progress: { step: 0, steps: 0 }, output: [] })).toEqual({ step: 0, steps: 0, image: 0, images_so_far: 0 });
    expect(progressView({ progress: { step: 8, steps: 8 }, output: [image(0), image(1)] })).toEqual({
      step: 8,
      steps: 8,
      image: 1,
      images_so_far: 2,
    });
    expect(progressView({ progress: { step: 3, steps: 8 }, output: [image(0)] })).toEqual({
      step: 3,
      steps: 8,
      image: 1,
      images_so_far: 1,
    });
  });
});
