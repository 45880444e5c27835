/**
 * A stand-in for a few-step student package: packages/tiny's network under a manifest that
 * declares how a student samples (its own name, a step list, guidance fixed). The network is
 * tiny's; what is tested is that the edge and the worker follow the declaration. Every
 * denoising call is counted, unconditional rows apart, and every image read back.
 */
import type {
  DenoiseRow,
  KvCache,
  Manifest,
  ModelRuntime,
  Segment,
  TextDecodeOptions,
  TextDecodeResult,
} from '../../shared/runtime/index.js';

export const STUDENT_DIFFUSION: Partial<Manifest['diffusion']> = { default_steps: 1, steps: { supported: [1, 2] }, guidance: 'fixed' };

export class DeclaredRuntime implements ModelRuntime {
  readonly manifest: Manifest;
  denoiseCalls = 0;
  unconditionalRows = 0;

  /** Prefills that read an image back after a cache (the worker's, after each image it makes). */
  readBacks = 0;

  constructor(
    private readonly inner: ModelRuntime,
    diffusion: Partial<Manifest['diffusion']> = STUDENT_DIFFUSION,
    name = 'student',
    conversation: Partial<NonNullable<Manifest['conversation']>> = {},
  ) {
    const declared = inner.manifest.conversation ? { conversation: { ...inner.manifest.conversation, ...conversation } } : {};
    this.manifest = { ...inner.manifest, name, diffusion: { ...inner.manifest.diffusion, ...diffusion }, ...declared };
  }

  get tokenizer() {
    return this.inner.tokenizer;
  }

  prefill(segments: readonly Segment[], cache?: KvCache): Promise<KvCache> {
    if (cache !== undefined && segments.some((s) => s.type === 'image')) this.readBacks += 1;
    return this.inner.prefill(segments, cache);
  }

  decodeText(cache: KvCache, options: TextDecodeOptions): Promise<TextDecodeResult> {
    return this.inner.decodeText(cache, options);
  }

  denoiseStep(rows: readonly DenoiseRow[]): Promise<Float32Array[]> {
    this.denoiseCalls += 1;
    this.unconditionalRows += rows.filter((r) => r.uncond !== undefined).length;
    return this.inner.denoiseStep(rows);
  }

  timeGrid(steps: number): number[] {
    return this.inner.timeGrid(steps);
  }

  initialNoise(seed: number): Float32Array {
    return this.inner.initialNoise(seed);
  }

  /** The inner runtime belongs to whoever opened it. */
  async close(): Promise<void> {}
}
