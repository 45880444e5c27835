/**
 * One denoising step in onnxruntime-node, as the worker runs it (runtime.denoiseStep: every
 * job's conditional and unconditional rows in one call, then guidance and Euler), at 1 and
 * 16 jobs; and the context-cache check: the step's cost with an 8-token against a 64-token
 * prompt, beside what recomputing the context at every step would cost.
 */
import {
  createRuntime,
  type DenoiseRow,
  drawContext,
  type KvCache,
  type OnnxModelRuntime,
  type Precision,
  type Segment,
  uncondContext,
} from '../shared/runtime/index.js';
import { type ModelShape, rowFlops } from './flops.js';
import { median, progress, round, type TimeOptions, timeAsync } from './stats.js';

export const CAPTION = 'a small red circle at the top left';

export interface StepTiming {
  jobs: number;
  /** Network rows per call (conditional + unconditional). */
  rows: number;
  medianMs: number;
  minMs: number;
  reps: number;
  msPerJob: number;
  /** Matrix-multiply FLOPs of one call (flops.ts). */
  flops: number;
  gflopsPerSecond: number;
}

export function modelShape(runtime: OnnxModelRuntime): ModelShape {
  const config = (runtime.manifest['model'] as { config?: Record<string, number> } | undefined)?.config;
  const { graph, image, tokenizer } = runtime.manifest;
  return {
    d_model: config?.['d_model'] ?? NaN,
    n_layers: graph.num_layers,
    expansion: graph.value_dim,
    qk_dim: graph.key_dim,
    vocab_size: tokenizer.vocab_size,
    time_freq_dim: config?.['time_freq_dim'] ?? NaN,
    patch_dim: image.patch_dim,
    pixel: {
      width: config?.['pixel_width'] ?? 0,
      features: config?.['pixel_features'] ?? 0,
      layers: config?.['pixel_layers'] ?? 0,
      patch_size: image.patch_size,
      channels: image.channels,
    },
  };
}

/** A time inside the guidance interval and a guidance scale that applies there: the common, costlier step. */
export function guidedStep(runtime: OnnxModelRuntime): { t: number; tNext: number; guidance: number } {
  const [lo, hi] = runtime.manifest.diffusion.guidance_interval;
  const t = Math.min(1, Math.max(1e-3, (lo + hi) / 2));
  const g = runtime.manifest.diffusion.default_guidance;
  return { t, tNext: t / 2, guidance: g === 1 ? 2 : g };
}

export async function timeStep(
  runtime: OnnxModelRuntime,
  conds: readonly KvCache[],
  uncond: KvCache,
  timing: TimeOptions,
): Promise<StepTiming> {
  const { t, tNext, guidance } = guidedStep(runtime);
  const rows: DenoiseRow[] = conds.map((cond, i) => ({ cond, uncond, x: runtime.initialNoise(i), t, tNext, guidance }));
  const result = await timeAsync(() => runtime.denoiseStep(rows), timing);
  const shape = modelShape(runtime);
  const past = Math.max(uncond.length, ...conds.map((c) => c.length));
  const flops = 2 * conds.length * rowFlops(shape, past, runtime.manifest.image.num_patches, runtime.denoiseGraphFile === undefined);
  return {
    jobs: conds.length,
    rows: 2 * conds.length,
    medianMs: round(result.median, 3),
    minMs: round(result.min, 3),
    reps: result.reps,
    msPerJob: round(result.median / conds.length, 3),
    flops,
    gflopsPerSecond: round(flops / (result.median * 1e6), 1),
  };
}

export interface StepSection {
  precision: Precision;
  /** 'denoise': the denoise-only cut (what the worker runs); 'full': the serving graph, for comparison. */
  graph: 'denoise' | 'full';
  graphFile: string;
  batches: StepTiming[];
}

/** Step timings for one precision at the given job counts (the same prompt for every job). */
export async function stepSection(
  packageDir: string,
  precision: Precision,
  jobCounts: readonly number[],
  timing: TimeOptions,
  graph: 'denoise' | 'full' = 'denoise',
): Promise<StepSection> {
  progress(`step: onnxruntime-node ${precision} (${graph} graph), jobs ${jobCounts.join(', ')}`);
  const runtime = await createRuntime(packageDir, { precision, denoiseGraph: graph === 'denoise' });
  try {
    const uncond = await runtime.prefill(uncondContext(runtime.tokenizer));
    const batches: StepTiming[] = [];
    for (const jobs of jobCounts) {
      const conds: KvCache[] = [];
      for (let i = 0; i < jobs; i += 1) conds.push(await runtime.prefill(drawContext(runtime.tokenizer, CAPTION)));
      batches.push(await timeStep(runtime, conds, uncond, timing));
    }
    const graphFile =
      runtime.denoiseGraphFile ?? (precision === 'fp32' ? runtime.manifest.graph.file : runtime.manifest.graph.variants![precision]!.file);
    return { precision, graph: runtime.denoiseGraphFile !== undefined ? 'denoise' : 'full', graphFile, batches };
  } finally {
    await runtime.close();
  }
}

/** `<bos> <user> {n prompt tokens} <assistant> <boi>`: a draw context with exactly n user tokens. */
export function contextOf(runtime: OnnxModelRuntime, n: number): Segment[] {
  const tok = runtime.tokenizer;
  const { bos, user, assistant, boi } = tok.specialTokens;
  const words: number[] = [];
  while (words.length < n) words.push(...tok.encode(`draw ${CAPTION} and a large blue 7 at the bottom right `));
  return [{ type: 'text', ids: [bos, user, ...words.slice(0, n), assistant, boi] }];
}

export interface ContextSection {
  precision: Precision;
  jobs: number;
  shortTokens: number;
  longTokens: number;
  shortMs: number;
  longMs: number;
  /** long / short: the cache keeps it near 1 (only attention over the cached keys grows). */
  ratio: number;
  /** The same step if the context were recomputed at every step (one call: context + noisy image, twice for guidance). */
  recomputeLongMs: number;
  recomputeRatio: number;
  flopsRatio: number;
}

/**
 * Short and long prompts timed call by call, alternately, each on its own runtime (so that
 * each keeps its step inputs between calls, as a worker does); the ratio is the median of
 * the pairs' ratios, which drift on a shared machine hits alike.
 */
export async function contextSection(
  packageDir: string,
  precision: Precision,
  jobs: number,
  pairs: number,
  timing: TimeOptions,
): Promise<ContextSection> {
  progress(`context cache: ${precision}, ${jobs} job(s), 8 vs 64 prompt tokens`);
  const runtime = await createRuntime(packageDir, { precision });
  const other = await createRuntime(packageDir, { precision });
  try {
    const uncond = await runtime.prefill(uncondContext(runtime.tokenizer));
    const prefillAll = async (n: number) => {
      const conds: KvCache[] = [];
      for (let i = 0; i < jobs; i += 1) conds.push(await runtime.prefill(contextOf(runtime, n)));
      return conds;
    };
    const short = await prefillAll(8);
    const long = await prefillAll(64);
    const x = runtime.initialNoise(7);
    const { t, tNext, guidance } = guidedStep(runtime);
    const rowsOf = (conds: readonly KvCache[]): DenoiseRow[] =>
      conds.map((cond, i) => ({ cond, uncond, x: runtime.initialNoise(i), t, tNext, guidance }));
    const shortRows = rowsOf(short);
    const longRows = rowsOf(long);
    const time = async (fn: () => Promise<unknown>) => {
      const start = performance.now();
      await fn();
      return performance.now() - start;
    };
    await runtime.denoiseStep(shortRows);
    await other.denoiseStep(longRows);
    const s: number[] = [];
    const l: number[] = [];
    const ratios: number[] = [];
    let spent = 0;
    while (s.length < pairs || (spent < timing.minMs && s.length < 200)) {
      const a = await time(() => runtime.denoiseStep(shortRows));
      const b = await time(() => other.denoiseStep(longRows));
      s.push(a);
      l.push(b);
      ratios.push(b / a);
      spent += a + b;
    }
    const recompute = async () => {
      // What a runtime without a cache does per step: the whole context again with the noisy image.
      for (let i = 0; i < jobs; i += 1) {
        await runtime.prefill([...contextOf(runtime, 64), { type: 'image', patches: x }]);
        await runtime.prefill([...uncondContext(runtime.tokenizer), { type: 'image', patches: x }]);
      }
    };
    const recomputeLongMs = (await timeAsync(recompute, { minReps: 2, minMs: timing.minMs / 3 })).median;
    const shape = modelShape(runtime);
    const n = runtime.manifest.image.num_patches;
    const shortMs = median(s);
    const longMs = median(l);
    return {
      precision,
      jobs,
      shortTokens: 8,
      longTokens: 64,
      shortMs: round(shortMs, 3),
      longMs: round(longMs, 3),
      ratio: round(median(ratios), 3),
      recomputeLongMs: round(recomputeLongMs, 3),
      recomputeRatio: round(recomputeLongMs / longMs, 2),
      flopsRatio: round(rowFlops(shape, long[0]!.length, n, false) / rowFlops(shape, short[0]!.length, n, false), 3),
    };
  } finally {
    await other.close();
    await runtime.close();
  }
}
