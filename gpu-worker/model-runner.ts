/**
 * The model runner: the worker's only door to one model (vLLM's ModelRunner); a worker
 * serving several models has one runner (one session) per model. It owns the caches that
 * outlive one call: the unconditional context, prefilled once per worker and shared by every
 * job's guidance rows, and the time grids. Everything else it is given.
 */
import type { DenoiseRow, KvCache, ModelRuntime, Segment, TextDecodeResult } from '../shared/runtime/index.js';
import { type ImageGeometry, needsUnconditional, patchesToRgb, rgbToPatches, streamSeed, uncondContext } from '../shared/runtime/index.js';

/** One job's image in a batched step. */
export interface StepInput {
  /** The job's context, ending in `<boi>`. */
  readonly cond: KvCache;
  /** Current noisy patches. */
  readonly x: Float32Array;
  /** Steps taken so far (0 = pure noise). */
  readonly step: number;
  readonly steps: number;
  readonly guidance: number;
}

export interface ContinueOptions {
  readonly maxTokens: number;
  readonly temperature: number;
  readonly seed: number;
}

export class ModelRunner {
  private uncondCache: Promise<KvCache> | undefined;
  private readonly grids = new Map<number, readonly number[]>();

  /** The model's name (jobs name it); default: the manifest's `name`. */
  readonly name: string;
  /** The manifest's `conversation.image_ends_answer`: no read-back after an image. */
  readonly imageEndsAnswer: boolean;

  constructor(
    readonly runtime: ModelRuntime,
    name?: string,
  ) {
    this.name = name ?? runtime.manifest.name ?? 'model';
    this.imageEndsAnswer = runtime.manifest.conversation?.image_ends_answer === true;
  }

  get image(): ImageGeometry {
    return this.runtime.manifest.image;
  }

  get specialTokens() {
    return this.runtime.tokenizer.specialTokens;
  }

  /** `<bos> <user> <assistant> <boi>`: the same for every job, so prefilled once. */
  uncond(): Promise<KvCache> {
    this.uncondCache ??= this.runtime.prefill(uncondContext(this.runtime.tokenizer)).catch((err: unknown) => {
      this.uncondCache = undefined; // let the next caller try again
      throw err;
    });
    return this.uncondCache;
  }

  /** A job's whole context (ending in `<boi>`) prefilled once; reused by every step. */
  prefill(segments: readonly Segment[]): Promise<KvCache> {
    return this.runtime.prefill(segments);
  }

  /** Pure noise for image k of a job: its own stream of (seed, k) (shared/runtime/seeds.ts). */
  noise(seed: number, k: number): Float32Array {
    return this.runtime.initialNoise(streamSeed(seed, 'image-noise', k));
  }

  /** One denoising step for every input in one network call (guidance rows included). */
  async step(inputs: readonly StepInput[]): Promise<Float32Array[]> {
    if (inputs.length === 0) return [];
    // A package with its guidance fixed (distilled into the network) runs no unconditional row.
    const uncond = needsUnconditional(this.runtime.manifest) ? await this.uncond() : undefined;
    const rows: DenoiseRow[] = inputs.map((input) => {
      const grid = this.grid(input.steps);
      if (input.step < 0 || input.step >= input.steps) throw new RangeError(`step ${input.step} outside 0..${input.steps - 1}`);
      return {
        cond: input.cond,
        ...(uncond ? { uncond } : {}),
        x: input.x,
        t: grid[input.step]!,
        tNext: grid[input.step + 1]!,
        guidance: input.guidance,
      };
    });
    return this.runtime.denoiseStep(rows);
  }

  /**
   * A finished image as it is stored: 8-bit pixels (the PNG's). The context gets these, not
   * the float output, so that a job resumed from its checkpoint (which reads the PNG back)
   * continues exactly as the uninterrupted one, and the model reads what the client sees.
   */
  asStored(x: Float32Array): Float32Array {
    return rgbToPatches(patchesToRgb(x, this.image), this.image);
  }

  /**
   * After an image: the clean patches and `<eoi>` join the context, then text resumes until
   * `<eos>`, another `<boi>` or the budget. A zero budget decodes nothing.
   */
  async continueText(cache: KvCache, clean: Float32Array, options: ContinueOptions): Promise<TextDecodeResult> {
    // A model whose answers end at their image (its manifest says so) would read the image
    // back only to say <eos>: as costly as a denoising call, and a one-step image's half.
    // A later turn's context is rebuilt from the stored PNG, so nothing needs the cache.
    if (this.imageEndsAnswer) return { ids: [], text: '', stop: 'eos', cache };
    const next = await this.runtime.prefill(
      [
        { type: 'image', patches: clean },
        { type: 'text', ids: [this.specialTokens.eoi] },
      ],
      cache,
    );
    if (options.maxTokens <= 0) return { ids: [], text: '', stop: 'length', cache: next };
    return this.runtime.decodeText(next, options);
  }

  private grid(steps: number): readonly number[] {
    let grid = this.grids.get(steps);
    if (!grid) {
      grid = this.runtime.timeGrid(steps);
      this.grids.set(steps, grid);
    }
    return grid;
  }
}
