/**
 * A ModelRuntime that passes every call through to the real one and keeps count: network
 * rows per denoising call (guidance rows included) and the time the model was busy. The
 * benchmark gives it to the worker's engine; nothing is stubbed.
 */
import {
  type DenoiseRow,
  guidanceApplies,
  type KvCache,
  type ModelRuntime,
  type Segment,
  type TextDecodeOptions,
  type TextDecodeResult,
} from '../shared/runtime/index.js';

export class CountingRuntime implements ModelRuntime {
  denoiseCalls = 0;
  /** Jobs carried by denoising calls. */
  denoiseJobs = 0;
  /** Network rows: jobs plus their unconditional rows where guidance applied. */
  denoiseRows = 0;
  denoiseMs = 0;
  otherModelMs = 0;

  constructor(readonly inner: ModelRuntime) {}

  get manifest() {
    return this.inner.manifest;
  }

  get tokenizer() {
    return this.inner.tokenizer;
  }

  reset(): void {
    this.denoiseCalls = this.denoiseJobs = this.denoiseRows = this.denoiseMs = this.otherModelMs = 0;
  }

  async prefill(segments: readonly Segment[], cache?: KvCache): Promise<KvCache> {
    const start = performance.now();
    try {
      return await this.inner.prefill(segments, cache);
    } finally {
      this.otherModelMs += performance.now() - start;
    }
  }

  async decodeText(cache: KvCache, options: TextDecodeOptions): Promise<TextDecodeResult> {
    const start = performance.now();
    try {
      return await this.inner.decodeText(cache, options);
    } finally {
      this.otherModelMs += performance.now() - start;
    }
  }

  async denoiseStep(rows: readonly DenoiseRow[]): Promise<Float32Array[]> {
    const start = performance.now();
    try {
      return await this.inner.denoiseStep(rows);
    } finally {
      this.denoiseMs += performance.now() - start;
      this.denoiseCalls += 1;
      this.denoiseJobs += rows.length;
      this.denoiseRows += rows.reduce(
        (n, r) => n + 1 + (r.uncond !== undefined && guidanceApplies(r.t, r.guidance, this.manifest.diffusion) ? 1 : 0),
        0,
      );
    }
  }

  timeGrid(steps: number): number[] {
    return this.inner.timeGrid(steps);
  }

  initialNoise(seed: number): Float32Array {
    return this.inner.initialNoise(seed);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
