/**
 * Graph variants (MODEL_PRECISION) and the denoising batch reused between steps: the choice
 * follows the option, then the environment; a missing variant is refused with the fix; a
 * reused batch gives what a fresh one gives.
 */
import { copyFile, cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTiny, maxAbsDiff, TINY_DIR } from '../../test/support/tiny-package.js';
import { ModelPackageError, parseManifest, sha256File } from './manifest.js';
import { graphFileFor, graphFilesFor, resolvePrecision } from './precision.js';
import { createRuntime, type OnnxModelRuntime } from './session.js';
import { drawContext, uncondContext } from './template.js';
import type { DenoiseRow } from './types.js';

describe('resolvePrecision', () => {
  it('takes the option, then MODEL_PRECISION, then fp32', () => {
    expect(resolvePrecision('int8', { MODEL_PRECISION: 'fp32' })).toBe('int8');
    expect(resolvePrecision(undefined, { MODEL_PRECISION: 'INT8' })).toBe('int8');
    expect(resolvePrecision(undefined, {})).toBe('fp32');
    expect(resolvePrecision(undefined, { MODEL_PRECISION: '' })).toBe('fp32');
  });

  it('defaults to int8 on the CPU only when the package recorded that int8 held quality', () => {
    const withInt8 = (accepted?: boolean) =>
      ({
        graph: { variants: { int8: { file: 'model.int8.onnx', ...(accepted === undefined ? {} : { quality: { accepted } }) } } },
      }) as unknown as Parameters<typeof resolvePrecision>[2];
    expect(resolvePrecision(undefined, {}, withInt8(true), 'cpu')).toBe('int8');
    expect(resolvePrecision(undefined, {}, withInt8(true), 'cuda')).toBe('fp32');
    expect(resolvePrecision(undefined, {}, withInt8(false), 'cpu')).toBe('fp32');
    expect(resolvePrecision(undefined, {}, withInt8(), 'cpu')).toBe('fp32');
    expect(resolvePrecision(undefined, { MODEL_PRECISION: 'fp32' }, withInt8(true), 'cpu')).toBe('fp32');
  });

  it('names an unknown value', () => {
    expect(() => resolvePrecision(undefined, { MODEL_PRECISION: 'fp16' })).toThrow(/MODEL_PRECISION=fp16.*fp32, int8/);
  });
});

describe.skipIf(!hasTiny)('graph variants on packages/tiny', () => {
  let dir: string;
  beforeAll(async () => {
    // A copy of tiny whose "int8" variant is a renamed copy of its graph: this checks the
    // choosing, not the quantization (model/tests/test_quantize.py checks that).
    // Its denoise graphs are copies too (the full graph has a `denoised` output as well).
    dir = await mkdtemp(join(tmpdir(), 'variant-'));
    await cp(TINY_DIR, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    for (const name of ['model.int8.onnx', 'model.denoise.onnx', 'model.int8.denoise.onnx']) {
      await copyFile(join(dir, 'model.onnx'), join(dir, name));
      manifest.files[name] = { sha256: await sha256File(join(dir, name)), bytes: (await stat(join(dir, name))).size };
    }
    manifest.graph.denoise_file = 'model.denoise.onnx';
    manifest.graph.variants = { int8: { file: 'model.int8.onnx', denoise_file: 'model.int8.denoise.onnx' } };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens the variant the manifest lists, and its denoise graph for steps', async () => {
    const runtime = await createRuntime(dir, { intraOpThreads: 1, precision: 'int8' });
    expect(runtime.precision).toBe('int8');
    expect(graphFileFor(runtime.manifest, 'int8')).toBe('model.int8.onnx');
    expect(graphFilesFor(runtime.manifest, 'fp32')).toEqual({ file: 'model.onnx', denoiseFile: 'model.denoise.onnx' });
    expect(runtime.denoiseGraphFile).toBe('model.int8.denoise.onnx');
    const plain = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
    expect(plain.denoiseGraphFile).toBeUndefined();
    const rowsOf = async (rt: OnnxModelRuntime): Promise<DenoiseRow[]> => {
      const uncond = await rt.prefill(uncondContext(rt.tokenizer));
      const cond = await rt.prefill(drawContext(rt.tokenizer, 'a small red circle at the top'));
      const grid = rt.timeGrid(4);
      return [{ cond, uncond, x: rt.initialNoise(3), t: grid[1]!, tNext: grid[2]!, guidance: 3 }];
    };
    const [got] = await runtime.denoiseStep(await rowsOf(runtime));
    const [want] = await plain.denoiseStep(await rowsOf(plain));
    expect(maxAbsDiff(got!, want!)).toBeLessThan(1e-6);
    await plain.close();
    await runtime.close();
  });

  it('refuses a variant the package lacks, naming the command that adds it', async () => {
    await expect(createRuntime(TINY_DIR, { intraOpThreads: 1, precision: 'int8' })).rejects.toThrow(
      /no int8 graph.*python -m model\.packaging\.quantize/,
    );
  });

  it('runs a package with split weights only on its denoise graphs, each precision needing one', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const split = await mkdtemp(join(tmpdir(), 'split-'));
    try {
      await cp(dir, split, { recursive: true });
      await writeFile(join(split, 'manifest.json'), JSON.stringify({ ...manifest, graph: { ...manifest.graph, split_weights: true } }));
      await expect(createRuntime(split, { intraOpThreads: 1, denoiseGraph: false })).rejects.toThrow(/split_weights/);
      const runtime = await createRuntime(split, { intraOpThreads: 1, precision: 'int8' });
      expect(runtime.denoiseGraphFile).toBe('model.int8.denoise.onnx');
      await runtime.close();
    } finally {
      await rm(split, { recursive: true, force: true });
    }
    const noInt8Denoise = { ...manifest.graph, split_weights: true, variants: { int8: { file: 'model.int8.onnx' } } };
    expect(() => parseManifest({ ...manifest, graph: noInt8Denoise })).toThrow(/graph\.variants\.int8\.denoise_file/);
    const noDenoise = { ...manifest.graph, split_weights: true };
    delete noDenoise.denoise_file;
    expect(() => parseManifest({ ...manifest, graph: noDenoise })).toThrow(/graph\.denoise_file/);
  });

  it('refuses a manifest whose variant file is not listed', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    delete manifest.files['model.int8.onnx'];
    delete manifest.files['model.denoise.onnx'];
    expect(() => parseManifest(manifest)).toThrow(ModelPackageError);
    expect(() => parseManifest(manifest)).toThrow(/graph\.variants\.int8\.file/);
    expect(() => parseManifest(manifest)).toThrow(/graph\.denoise_file/);
  });
});

describe.skipIf(!hasTiny)('denoising batch reused between steps', () => {
  let reused: OnnxModelRuntime;
  let fresh: OnnxModelRuntime;
  beforeAll(async () => {
    reused = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
    fresh = await createRuntime(TINY_DIR, { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await reused?.close();
    await fresh?.close();
  });

  it('refills only the images and noise levels, and rebuilds when the pasts change', async () => {
    const tok = reused.tokenizer;
    const uncond = await reused.prefill(uncondContext(tok));
    const a = await reused.prefill(drawContext(tok, 'a small red circle at the top'));
    const b = await reused.prefill(drawContext(tok, 'a large blue 7 at the bottom right and a small green square'));
    const grid = reused.timeGrid(4);
    const rowsAt = (step: number, seed: number): DenoiseRow[] => [
      { cond: a, uncond, x: reused.initialNoise(seed), t: grid[step]!, tNext: grid[step + 1]!, guidance: 3 },
      { cond: b, uncond, x: reused.initialNoise(seed + 1), t: grid[step]!, tNext: grid[step + 1]!, guidance: 3 },
    ];
    await reused.denoiseStep(rowsAt(0, 1)); // builds the template
    for (const [step, seed] of [
      [1, 5],
      [2, 9],
    ] as const) {
      const rows = rowsAt(step, seed);
      const got = await reused.denoiseStep(rows); // same pasts: reused in place
      const want = await fresh.denoiseStep(rows.map((r) => ({ ...r })));
      for (let i = 0; i < rows.length; i += 1) expect(maxAbsDiff(got[i]!, want[i]!)).toBeLessThan(1e-6);
    }
    // A different set of pasts (one job left): rebuilt, still right.
    const one = [rowsAt(1, 3)[1]!];
    expect(maxAbsDiff((await reused.denoiseStep(one))[0]!, (await fresh.denoiseStep(one))[0]!)).toBeLessThan(1e-6);
    // Calls in flight together each keep their own inputs.
    const [p, q] = await Promise.all([reused.denoiseStep(rowsAt(1, 11)), reused.denoiseStep(rowsAt(1, 13))]);
    expect(maxAbsDiff(p![0]!, (await fresh.denoiseStep(rowsAt(1, 11)))[0]!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(q![1]!, (await fresh.denoiseStep(rowsAt(1, 13)))[1]!)).toBeLessThan(1e-6);
  });
});
