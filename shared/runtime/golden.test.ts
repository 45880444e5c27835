/**
 * The TypeScript runtime against PyTorch (packages/tiny/golden.json, written by
 * model/packaging/export.py): tokenizer vectors, prefill logits, greedy ids, the guided Euler sampler.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFloat32, hasTiny, maxAbsDiff, readGolden, TINY_DIR } from '../../test/support/tiny-package.js';
import { asTensorCache } from './kv-cache.js';
import { sampleImage } from './sample-image.js';
import { createRuntime, type OnnxModelRuntime } from './session.js';
import { drawContext, uncondContext } from './template.js';
import { tokenizerFromJson } from './tokenizer.js';
import type { Segment } from './types.js';

type JsonSegment = { type: 'text'; ids: number[] } | { type: 'image'; patches: string };
interface Golden {
  tolerance: { logits: number; patches: number };
  tokenizer: { text: string; ids: number[] }[];
  prefill: { segments: JsonSegment[]; last_logits: string };
  greedy: { segments: JsonSegment[]; max_tokens: number; ids: number[]; stop: string };
  denoise: {
    caption: string;
    cond_segments: JsonSegment[];
    uncond_segments: JsonSegment[];
    steps: number;
    guidance: number;
    noise: string;
    final: string;
  };
  /** The user's image, an instruction, <assistant><boi>: the answer's image starts at the image gap. */
  edit: { cond_segments: JsonSegment[]; final: string };
}

const segments = (json: JsonSegment[]): Segment[] =>
  json.map((s) => (s.type === 'text' ? { type: 'text', ids: s.ids } : { type: 'image', patches: decodeFloat32(s.patches) }));

describe.skipIf(!hasTiny)('golden outputs of packages/tiny', () => {
  let golden: Golden;
  let runtime: OnnxModelRuntime;
  beforeAll(async () => {
    golden = readGolden() as unknown as Golden;
    runtime = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('tokenizes like Python', () => {
    const tokenizer = tokenizerFromJson(JSON.parse(readFileSync(`${TINY_DIR}tokenizer.json`, 'utf8')));
    for (const { text, ids } of golden.tokenizer) {
      expect(tokenizer.encode(text), text).toEqual(ids);
      expect(tokenizer.decode(ids)).toBe(text);
    }
  });

  it('builds the golden contexts with the template helpers', () => {
    const prompts = runtime.manifest.conversation;
    expect(drawContext(runtime.tokenizer, golden.denoise.caption, prompts)).toEqual(segments(golden.denoise.cond_segments));
    expect(uncondContext(runtime.tokenizer)).toEqual(segments(golden.denoise.uncond_segments));
  });

  it('prefills to the same last logits', async () => {
    const cache = asTensorCache(await runtime.prefill(segments(golden.prefill.segments)));
    expect(maxAbsDiff(cache.lastLogits!, decodeFloat32(golden.prefill.last_logits))).toBeLessThan(golden.tolerance.logits);
  });

  it('decodes the same greedy ids', async () => {
    const cache = await runtime.prefill(segments(golden.greedy.segments));
    const result = await runtime.decodeText(cache, { maxTokens: golden.greedy.max_tokens, temperature: 0, seed: 0 });
    expect(result.ids).toEqual(golden.greedy.ids);
    expect(result.stop).toBe(golden.greedy.stop);
  });

  /** The image the sampler draws after a context, with the golden noise, steps and guidance. */
  async function sampleAfter(condSegments: JsonSegment[]): Promise<Float32Array> {
    const { denoise } = golden;
    const cond = await runtime.prefill(segments(condSegments));
    const uncond = await runtime.prefill(segments(denoise.uncond_segments));
    return sampleImage(runtime, cond, uncond, { steps: denoise.steps, guidance: denoise.guidance, noise: decodeFloat32(denoise.noise) });
  }

  it('samples the same image from the same noise', async () => {
    const x = await sampleAfter(golden.denoise.cond_segments);
    expect(maxAbsDiff(x, decodeFloat32(golden.denoise.final))).toBeLessThan(golden.tolerance.patches);
  });

  it('samples the same edit, its image placed by the package image gap', async () => {
    expect(runtime.manifest.rope.image_gap).toBeGreaterThan(0);
    const x = await sampleAfter(golden.edit.cond_segments);
    expect(maxAbsDiff(x, decodeFloat32(golden.edit.final))).toBeLessThan(golden.tolerance.patches);
  });
});
