/**
 * The ONNX runtime's own properties on the fixture package: batching is invisible, the
 * zero-length-past workaround is exact, decoding follows the stop rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTiny, maxAbsDiff, TINY_DIR } from '../../test/support/tiny-package.js';
import { asTensorCache, TensorKvCache } from './kv-cache.js';
import { createRuntime, type OnnxModelRuntime } from './session.js';
import { drawContext, uncondContext, userTurn } from './template.js';
import type { DenoiseRow } from './types.js';

describe.skipIf(!hasTiny)('OnnxModelRuntime on packages/tiny', () => {
  let runtime: OnnxModelRuntime;
  beforeAll(async () => {
    runtime = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('batches rows with different context lengths as if each ran alone', async () => {
    const tok = runtime.tokenizer;
    const uncond = await runtime.prefill(uncondContext(tok));
    const captions = ['a small red circle at the top', 'a large blue 7 at the bottom right and a small green square at the left', 'x'];
    const grid = runtime.timeGrid(4);
    const rows: DenoiseRow[] = [];
    for (const [i, caption] of captions.entries()) {
      const cond = await runtime.prefill(drawContext(tok, caption));
      // Rows at different steps, one without guidance.
      rows.push({ cond, ...(i === 2 ? {} : { uncond }), x: runtime.initialNoise(i), t: grid[i]!, tNext: grid[i + 1]!, guidance: 3 });
    }
    expect(new Set(rows.map((r) => r.cond.length)).size).toBe(3);
    const batched = await runtime.denoiseStep(rows);
    for (const [i, row] of rows.entries()) {
      const [alone] = await runtime.denoiseStep([row]);
      expect(maxAbsDiff(batched[i]!, alone!)).toBeLessThan(1e-4);
    }
  });

  it('gives the same cache with a padded empty past as with a zero-length one', async () => {
    const padded = await createRuntime(TINY_DIR, { intraOpThreads: 1, emptyPast: 'pad' });
    try {
      const context = drawContext(runtime.tokenizer, 'a small red circle at the top');
      const a = asTensorCache(await runtime.prefill(context));
      const b = asTensorCache(await padded.prefill(context));
      expect(runtime.emptyPastSupported).toBe(true);
      expect(padded.emptyPastSupported).toBe(false);
      expect(b.length).toBe(a.length);
      expect(maxAbsDiff(a.keys, b.keys)).toBeLessThan(1e-5);
      expect(maxAbsDiff(a.values, b.values)).toBeLessThan(1e-5);
      expect(maxAbsDiff(a.lastLogits!, b.lastLogits!)).toBeLessThan(1e-4);
    } finally {
      await padded.close();
    }
  });

  it('extends a cache in pieces as in one go', async () => {
    const tok = runtime.tokenizer;
    const ids = (userTurn(tok, ['draw a small red circle at the top'])[0] as { ids: readonly number[] }).ids;
    const whole = asTensorCache(await runtime.prefill([{ type: 'text', ids }]));
    const first = await runtime.prefill([{ type: 'text', ids: ids.slice(0, 5) }]);
    const pieces = asTensorCache(await runtime.prefill([{ type: 'text', ids: ids.slice(5) }], first));
    expect(pieces.length).toBe(whole.length);
    expect(pieces.nextIndex).toBe(whole.nextIndex);
    expect(maxAbsDiff(pieces.lastLogits!, whole.lastLogits!)).toBeLessThan(1e-4);
  });

  it('puts <boi> in the returned cache when decoding stops on it', async () => {
    const { boi } = runtime.tokenizer.specialTokens;
    const start = asTensorCache(await runtime.prefill(userTurn(runtime.tokenizer, ['draw x'])));
    // Force <boi>: make it the only likely token.
    const logits = new Float32Array(start.lastLogits!.length).fill(-100);
    logits[boi] = 100;
    const forced = new TensorKvCache(
      start.dims,
      start.keys,
      start.values,
      start.imageIds,
      start.nextIndex,
      start.nextImageId,
      start.lastImageStart,
      logits,
    );
    const result = await runtime.decodeText(forced, { maxTokens: 5, temperature: 0, seed: 0 });
    expect(result.stop).toBe('boi');
    expect(result.ids).toEqual([]);
    expect(result.cache.length).toBe(start.length + 1);
    expect(result.cache.nextIndex).toBe(start.nextIndex + 1);
    // A caller that drops the cache (the edge) skips reading <boi> into it: same answer, one call less.
    const dropped = await runtime.decodeText(forced, { maxTokens: 5, temperature: 0, seed: 0, cacheStop: false });
    expect({ ids: dropped.ids, text: dropped.text, stop: dropped.stop }).toEqual({ ids: result.ids, text: result.text, stop: result.stop });
    expect(dropped.cache.length).toBe(start.length);
  });

  it('samples deterministically from a seed and respects the budget', async () => {
    const start = await runtime.prefill(userTurn(runtime.tokenizer, ['describe']));
    const a = await runtime.decodeText(start, { maxTokens: 4, temperature: 1, seed: 11 });
    const b = await runtime.decodeText(start, { maxTokens: 4, temperature: 1, seed: 11 });
    expect(a.ids).toEqual(b.ids);
    expect(a.ids.length).toBeLessThanOrEqual(4);
    if (a.stop === 'length') expect(a.ids).toHaveLength(4);
    expect(a.cache.length - start.length).toBe(a.ids.length + (a.stop === 'boi' ? 1 : 0));
  });

  it('refuses a cache from elsewhere and a bad step', async () => {
    await expect(runtime.decodeText({ length: 0, nextIndex: 0 }, { maxTokens: 1, temperature: 0, seed: 0 })).rejects.toThrow(
      /not made by this runtime/,
    );
    const cond = await runtime.prefill(uncondContext(runtime.tokenizer));
    await expect(runtime.denoiseStep([{ cond, x: runtime.initialNoise(0), t: 0, tNext: 0, guidance: 1 }])).rejects.toThrow(RangeError);
  });
});
