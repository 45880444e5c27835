import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/index.js';
import { createRuntime, type OnnxModelRuntime, type Segment, userTurn } from '../../shared/runtime/index.js';
import { TINY_DIR, tinyRuntime } from '../../test/support/edge-deps.js';
import { decodeText } from '../text-decode.js';
import { type DecodeThread, DecodeThreadError, startDecodeThread } from './index.js';

const logger = createLogger({ logLevel: 'silent' });
const SHAPES_DIR = fileURLToPath(new URL('../../packages/shapes64/', import.meta.url));
const hasShapes = existsSync(`${SHAPES_DIR}manifest.json`);

describe('the decode thread', () => {
  let runtime: OnnxModelRuntime;
  let thread: DecodeThread;
  let image: Segment;

  beforeAll(async () => {
    runtime = await tinyRuntime();
    thread = await startDecodeThread({ modelDirs: [TINY_DIR], precision: runtime.precision, intraOpThreads: 1, logger });
    const { num_patches, patch_dim } = runtime.manifest.image;
    image = { type: 'image', patches: Float32Array.from({ length: num_patches * patch_dim }, (_, i) => Math.sin(i) * 0.9) };
  });
  afterAll(async () => {
    await thread.close();
    await runtime.close();
  });

  it('decodes exactly as the runtime does on the event loop (greedy and sampled, text and image input)', async () => {
    const cases: [Segment[], { maxTokens: number; temperature: number; seed: number }][] = [
      [userTurn(runtime.tokenizer, ['draw a red circle at the top left']), { maxTokens: 12, temperature: 0, seed: 1 }],
      [userTurn(runtime.tokenizer, [image, 'describe the image']), { maxTokens: 12, temperature: 0, seed: 1 }],
      [userTurn(runtime.tokenizer, ['hello']), { maxTokens: 20, temperature: 1, seed: 7 }],
    ];
    for (const [segments, options] of cases) {
      const here = await decodeText(runtime, segments, options);
      const there = await thread.decode('tiny', segments, options);
      expect(there).toEqual(here);
    }
  });

  it('runs no model call on the event loop', async () => {
    const proto = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown> } }).prototype;
    const original = proto.run;
    let calls = 0;
    proto.run = function (this: unknown, ...args: unknown[]) {
      calls += 1;
      return original.apply(this, args);
    };
    try {
      const decoded = await thread.decode('tiny', userTurn(runtime.tokenizer, ['draw a blue square']), {
        maxTokens: 8,
        temperature: 0,
        seed: 1,
      });
      expect(decoded.ids.length + (decoded.stop === 'length' ? 0 : 1)).toBeGreaterThan(0);
      expect(calls).toBe(0);
    } finally {
      proto.run = original;
    }
  });

  it('serves concurrent decodes, each with its own answer', async () => {
    const prompts = ['draw a red circle', 'draw a green triangle', 'hello there', 'draw a blue square at the bottom right'];
    const options = { maxTokens: 10, temperature: 0, seed: 1 };
    const expected = await Promise.all(prompts.map((p) => decodeText(runtime, userTurn(runtime.tokenizer, [p]), options)));
    const got = await Promise.all(prompts.map((p) => thread.decode('tiny', userTurn(runtime.tokenizer, [p]), options)));
    expect(got).toEqual(expected);
  });

  it('passes the runtime error of a bad request back to its caller, and keeps serving', async () => {
    const wrongSize: Segment = { type: 'image', patches: new Float32Array(5) };
    await expect(
      thread.decode('tiny', userTurn(runtime.tokenizer, [wrongSize, 'describe']), { maxTokens: 4, temperature: 0, seed: 1 }),
    ).rejects.toThrow();
    const after = await thread.decode('tiny', userTurn(runtime.tokenizer, ['hello']), { maxTokens: 4, temperature: 0, seed: 1 });
    expect(after).toEqual(await decodeText(runtime, userTurn(runtime.tokenizer, ['hello']), { maxTokens: 4, temperature: 0, seed: 1 }));
  });

  it.skipIf(!hasShapes)('serves several models, each decode on the session of the model it names', async () => {
    const shapes = await createRuntime(SHAPES_DIR, { executionProvider: 'cpu', intraOpThreads: 1, precision: 'fp32' });
    const both = await startDecodeThread({ modelDirs: [TINY_DIR, SHAPES_DIR], precision: 'fp32', intraOpThreads: 1, logger });
    try {
      const options = { maxTokens: 12, temperature: 0, seed: 1 };
      const prompt = 'draw a large red circle at the center';
      const onTiny = await both.decode('tiny', userTurn(runtime.tokenizer, [prompt]), options);
      const onShapes = await both.decode('shapes64', userTurn(shapes.tokenizer, [prompt]), options);
      expect(onTiny).toEqual(await decodeText(runtime, userTurn(runtime.tokenizer, [prompt]), options));
      expect(onShapes).toEqual(await decodeText(shapes, userTurn(shapes.tokenizer, [prompt]), options));
      // The trained model asks for an image at once; the random fixture does not answer as it does.
      expect(onShapes).toEqual({ ids: [], text: '', stop: 'boi' });
      await expect(both.decode('nope', userTurn(runtime.tokenizer, ['hello']), options)).rejects.toThrow(
        /unknown model "nope".*tiny, shapes64/,
      );
    } finally {
      await both.close();
      await shapes.close();
    }
  });

  it('refuses to start on a model it cannot load, saying why', async () => {
    await expect(startDecodeThread({ modelDirs: ['/nonexistent/model'], precision: 'fp32', logger })).rejects.toThrow(
      /decode thread could not load the model: .*nonexistent/,
    );
  });

  it('fails pending and later decodes once closed', async () => {
    const own = await startDecodeThread({ modelDirs: [TINY_DIR], precision: runtime.precision, intraOpThreads: 1, logger });
    const pending = own.decode('tiny', userTurn(runtime.tokenizer, ['hello']), { maxTokens: 200, temperature: 1, seed: 3 });
    const failed = expect(pending).rejects.toBeInstanceOf(DecodeThreadError);
    await own.close();
    await failed;
    await expect(own.decode('tiny', userTurn(runtime.tokenizer, ['hello']), { maxTokens: 4, temperature: 0, seed: 1 })).rejects.toThrow(
      /closed/,
    );
  });
});
