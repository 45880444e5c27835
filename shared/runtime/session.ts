/**
 * createRuntime: the ModelRuntime (types.ts) over one onnxruntime-node session. Prefill and
 * text decode run one sequence; a denoising step runs every row and its unconditional twin
 * in one batched call. The arithmetic lives in pure modules (layout, batch, mask, sampler).
 */
import { join } from 'node:path';
import { type BatchInputs, refillNoisyRow, rowPresent } from './batch.js';
import { chooseToken } from './choose.js';
import { type GraphOptions, type GraphResult, ServingGraph } from './graph.js';
import { asTensorCache, type CacheDims, TensorKvCache } from './kv-cache.js';
import { type LayoutGeometry, layoutSegments, type RowLayout } from './layout.js';
import { type Manifest, ModelPackageError } from './manifest.js';
import { loadModelInfo, type ModelInfo } from './model-info.js';
import { assertNotOmitted } from './omitted.js';
import { graphFilesFor, type Precision, resolvePrecision } from './precision.js';
import { mulberry32, standardNormal } from './prng.js';
import { applyGuidance, eulerStep, guidanceApplies, timeGrid } from './sampler.js';
import type { Tokenizer } from './tokenizer.js';
import type { DenoiseRow, KvCache, ModelRuntime, Segment, TextDecodeOptions, TextDecodeResult, TextStop } from './types.js';

export interface RuntimeOptions {
  executionProvider?: GraphOptions['executionProvider'];
  intraOpThreads?: number;
  emptyPast?: GraphOptions['emptyPast'];
  /**
   * Which graph to run: 'fp32' (graph.file) or 'int8' (graph.variants.int8, written by
   * model/packaging/quantize.py). Default: MODEL_PRECISION, else int8 on the CPU when the package's
   * int8 variant passed its quality check (precision.ts), else fp32.
   */
  precision?: Precision;
  /**
   * Run denoising steps on the package's denoise-only graph when it has one (default true; a
   * package with graph.split_weights refuses false: its denoising weights are only there).
   */
  denoiseGraph?: boolean;
  /** The package's manifest and tokenizer, already loaded and verified (a model registry's): not read again. */
  info?: ModelInfo;
}

export async function createRuntime(packageDir: string, options: RuntimeOptions = {}): Promise<OnnxModelRuntime> {
  const { manifest, tokenizer } = options.info ?? (await loadModelInfo(packageDir));
  const dims: CacheDims = { layers: manifest.graph.num_layers, keyDim: manifest.graph.key_dim, valueDim: manifest.graph.value_dim };
  const precision = resolvePrecision(options.precision, process.env, manifest, options.executionProvider ?? 'cpu');
  const files = graphFilesFor(manifest, precision, packageDir);
  await assertNotOmitted(packageDir, manifest, files.file);
  const shape = { ...dims, patchDim: manifest.image.patch_dim, padId: manifest.tokenizer.special_tokens.pad };
  const graphOptions: GraphOptions = {
    executionProvider: options.executionProvider ?? 'cpu',
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
    ...(options.emptyPast !== undefined ? { emptyPast: options.emptyPast } : {}),
  };
  if (manifest.graph.split_weights === true && options.denoiseGraph === false)
    throw new ModelPackageError(
      `${packageDir}: its denoising weights are in its denoise graph (graph.split_weights); it cannot denoise without it`,
    );
  const graph = await ServingGraph.open(join(packageDir, files.file), shape, graphOptions);
  // Opened at the first denoising step: a runtime that never denoises (the edge) never loads it.
  const denoise =
    files.denoiseFile !== undefined && options.denoiseGraph !== false
      ? { file: files.denoiseFile, open: () => ServingGraph.open(join(packageDir, files.denoiseFile!), shape, graphOptions, ['denoised']) }
      : undefined;
  return new OnnxModelRuntime(manifest, tokenizer, graph, dims, precision, denoise);
}

/** The assembled inputs of the last denoising call and the pasts they were built from. */
interface StepTemplate {
  readonly pasts: readonly TensorKvCache[];
  readonly inputs: BatchInputs;
}

export class OnnxModelRuntime implements ModelRuntime {
  private readonly geometry: LayoutGeometry;
  private readonly patchValues: number;
  /**
   * Continuous batching runs the same jobs step after step: their pasts, positions and mask
   * do not change, only the noisy images and noise levels. The last call's inputs are kept
   * and refilled in place when the next call has the same pasts in the same order.
   */
  private stepTemplate: StepTemplate | undefined;
  private stepInFlight = false;
  private denoiseGraph: Promise<ServingGraph> | undefined;

  constructor(
    readonly manifest: Manifest,
    readonly tokenizer: Tokenizer,
    private readonly graph: ServingGraph,
    private readonly dims: CacheDims,
    /** The graph this runtime runs (fp32 or a manifest variant). */
    readonly precision: Precision = 'fp32',
    /** The denoise-only cut of the graph, when the package has one. */
    private readonly denoise?: { readonly file: string; open(): Promise<ServingGraph> },
  ) {
    const { image } = manifest;
    this.geometry = { ...image, padId: manifest.tokenizer.special_tokens.pad, imageGap: manifest.rope.image_gap ?? 0 };
    this.patchValues = image.num_patches * image.patch_dim;
  }

  /** The file denoising steps run on: the denoise-only cut when the package has one, else the serving graph. */
  get denoiseGraphFile(): string | undefined {
    return this.denoise?.file;
  }

  /** Whether the backend took a zero-length past (undefined before the first empty prefill). */
  get emptyPastSupported(): boolean | undefined {
    return this.graph.emptyPastSupported;
  }

  async prefill(segments: readonly Segment[], cache?: KvCache): Promise<KvCache> {
    const past = cache ? asTensorCache(cache) : TensorKvCache.empty(this.dims);
    const next = layoutSegments(segments, past, this.geometry);
    if (next.length === 0) return past;
    const result = await this.graph.run([{ past, next }], ['logits', 'present_keys', 'present_values']);
    return this.extend(result, 0, past, next);
  }

  async decodeText(cache: KvCache, options: TextDecodeOptions): Promise<TextDecodeResult> {
    const { eos, boi } = this.tokenizer.specialTokens;
    const uniform = mulberry32(options.seed);
    let current = asTensorCache(cache);
    const ids: number[] = [];
    let stop: TextStop = 'length';
    while (ids.length < options.maxTokens) {
      if (!current.lastLogits) throw new Error('decodeText needs a prefilled cache (it is empty)');
      const id = chooseToken(current.lastLogits, options.temperature, uniform);
      if (id === eos) {
        stop = 'eos';
        break;
      }
      if (id === boi && options.cacheStop === false) {
        stop = 'boi';
        break;
      }
      // The image's context must end with <boi>: keep it in the cache, not in the text.
      current = asTensorCache(await this.prefill([{ type: 'text', ids: [id] }], current));
      if (id === boi) {
        stop = 'boi';
        break;
      }
      ids.push(id);
    }
    return { ids, text: this.tokenizer.decode(ids), stop, cache: current };
  }

  async denoiseStep(rows: readonly DenoiseRow[]): Promise<Float32Array[]> {
    if (rows.length === 0) return [];
    // The batch: per row its conditional entry and, when guidance applies, its unconditional twin.
    const entries: { past: TensorKvCache; x: Float32Array; t: number }[] = [];
    const slots = rows.map((row, i) => {
      if (row.x.length !== this.patchValues) throw new RangeError(`row ${i}: x has ${row.x.length} values, expected ${this.patchValues}`);
      if (!(row.t > 0 && row.t <= 1 && row.tNext >= 0 && row.tNext < row.t)) {
        throw new RangeError(`row ${i}: need 0 <= tNext < t <= 1, got t=${row.t}, tNext=${row.tNext}`);
      }
      const cond = entries.push({ past: asTensorCache(row.cond), x: row.x, t: row.t }) - 1;
      const guided = row.uncond !== undefined && guidanceApplies(row.t, row.guidance, this.manifest.diffusion);
      const uncond = guided ? entries.push({ past: asTensorCache(row.uncond!), x: row.x, t: row.t }) - 1 : undefined;
      return { cond, uncond };
    });
    const denoised = await this.runDenoise(entries);
    const at = (b: number) => denoised.subarray(b * this.patchValues, (b + 1) * this.patchValues);
    return rows.map((row, i) => {
      const { cond, uncond } = slots[i]!;
      const x0 = uncond === undefined ? at(cond) : applyGuidance(at(cond), at(uncond), row.guidance);
      return eulerStep(row.x, x0, row.t, row.tNext);
    });
  }

  /** One network call over noisy images laid after their pasts; returns `denoised` [B, N, patch_dim]. */
  private async runDenoise(entries: readonly { past: TensorKvCache; x: Float32Array; t: number }[]): Promise<Float32Array> {
    const pasts = entries.map((e) => e.past);
    const template = this.stepTemplate;
    const reusable =
      !this.stepInFlight &&
      template !== undefined &&
      template.pasts.length === pasts.length &&
      template.pasts.every((p, b) => p === pasts[b]);
    let inputs: BatchInputs;
    if (reusable) {
      inputs = template.inputs;
      entries.forEach((e, b) => {
        refillNoisyRow(inputs, b, e.x, e.t, this.manifest.image.patch_dim);
      });
    } else if (pasts.some((p) => p.length === 0)) {
      // Only a hand-made context is empty (every real one ends in <boi>): the general path.
      const { outputs } = await this.graph.run(
        entries.map((e) => this.noisyRow(e.past, e.x, e.t)),
        ['denoised'],
      );
      return outputs.denoised!;
    } else {
      inputs = this.graph.assemble(entries.map((e) => this.noisyRow(e.past, e.x, e.t)));
      // A call already in flight owns the template's arrays: this one keeps its own.
      if (!this.stepInFlight) this.stepTemplate = { pasts, inputs };
    }
    const owner = !this.stepInFlight;
    if (owner) this.stepInFlight = true;
    try {
      const graph = await this.stepGraph();
      const { outputs } = await graph.runAssembled(inputs, ['denoised']);
      return outputs.denoised!;
    } finally {
      if (owner) this.stepInFlight = false;
    }
  }

  /** The graph of denoising steps (the denoise-only cut is opened once, at the first step). */
  private stepGraph(): Promise<ServingGraph> {
    if (!this.denoise) return Promise.resolve(this.graph);
    this.denoiseGraph ??= this.denoise.open().catch((err: unknown) => {
      this.denoiseGraph = undefined; // the next step tries again
      throw err;
    });
    return this.denoiseGraph;
  }

  timeGrid(steps: number): number[] {
    return timeGrid(steps, this.manifest.diffusion.time_shift);
  }

  initialNoise(seed: number): Float32Array {
    return standardNormal(seed, this.patchValues);
  }

  async close(): Promise<void> {
    this.stepTemplate = undefined;
    const denoise = this.denoiseGraph;
    this.denoiseGraph = undefined;
    if (denoise) await (await denoise.catch(() => undefined))?.close();
    await this.graph.close();
  }

  /** The noisy image x_t laid out after a context, at noise level t. */
  private noisyRow(past: TensorKvCache, x: Float32Array, t: number): { past: TensorKvCache; next: RowLayout } {
    return { past, next: layoutSegments([{ type: 'image', patches: x }], past, this.geometry, t) };
  }

  /** The cache of batch row b after a call: its past, its new positions and their last logits. */
  private extend({ inputs, outputs }: GraphResult, b: number, past: TensorKvCache, next: RowLayout): TensorKvCache {
    const { batch, pastLength, newLength } = inputs;
    const vocab = this.manifest.tokenizer.vocab_size;
    const shape = { layers: this.dims.layers, batch, pastLength, newLength };
    const last = (b * newLength + next.length - 1) * vocab;
    const imageIds = new Int32Array(past.length + next.length);
    imageIds.set(past.imageIds);
    imageIds.set(next.imageIds, past.length);
    return new TensorKvCache(
      this.dims,
      rowPresent(outputs.present_keys!, b, { ...shape, dim: this.dims.keyDim }, past.length, next.length),
      rowPresent(outputs.present_values!, b, { ...shape, dim: this.dims.valueDim }, past.length, next.length),
      imageIds,
      next.end.nextIndex,
      next.end.nextImageId,
      next.end.lastImageStart,
      outputs.logits!.slice(last, last + vocab),
    );
  }
}
