/**
 * openWorkerRuntime with the real runtime and the tiny package: the CPU path serves, the CUDA
 * path on a machine without a usable CUDA provider fails once with ExecutionProviderUnavailable
 * naming the cause, either before loading anything (provider files missing) or from the
 * session onnxruntime could not create.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime, type OnnxModelRuntime, type RuntimeOptions } from '../shared/runtime/index.js';
import { tempDir } from '../test/adapters/tmp-dir.js';
import { TINY_DIR } from '../test/support/tiny-package.js';
import {
  CUDA_PROVIDER_FILES,
  ExecutionProviderUnavailable,
  missingCudaProviderFiles,
  onnxruntimeBinDir,
  openWorkerRuntime,
} from './provider-check.js';

/** createRuntime, counting its calls. */
function countingOpen(): { open: (dir: string, options: RuntimeOptions) => Promise<OnnxModelRuntime>; calls: RuntimeOptions[] } {
  const calls: RuntimeOptions[] = [];
  return {
    calls,
    open: (dir, options) => {
      calls.push(options);
      return createRuntime(dir, options);
    },
  };
}

describe('openWorkerRuntime', () => {
  const tmp = tempDir('provider-check');
  afterAll(() => tmp.remove());

  it('on the CPU: a runtime whose unconditional context is prefilled, no CUDA check', async () => {
    const { open, calls } = countingOpen();
    const { runtime, runner } = await openWorkerRuntime(TINY_DIR, { executionProvider: 'cpu', binDir: join(tmp.dir, 'nowhere'), open });
    try {
      expect(calls).toEqual([{ executionProvider: 'cpu' }]);
      expect((await runner.uncond()).length).toBeGreaterThan(0);
    } finally {
      await runtime.close();
    }
  });

  it('on CUDA without the provider files: fails before opening the model, naming the files and the folder', async () => {
    const empty = join(tmp.dir, 'empty-bin');
    mkdirSync(empty);
    const { open, calls } = countingOpen();
    const err = await openWorkerRuntime(TINY_DIR, { executionProvider: 'cuda', binDir: empty, open }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionProviderUnavailable);
    expect((err as Error).message).toContain(`libonnxruntime_providers_shared.so, libonnxruntime_providers_cuda.so missing in ${empty}`);
    expect((err as Error).message).toMatch(/driver >= 580/);
    expect(calls).toEqual([]);
  });

  // Where the real CUDA provider is installed (a GPU machine) a CUDA session may well succeed.
  it.skipIf(missingCudaProviderFiles().length === 0)(
    'on CUDA when onnxruntime cannot create the session: its error, wrapped with what to check',
    async () => {
      const present = join(tmp.dir, 'present-bin');
      mkdirSync(present);
      for (const file of CUDA_PROVIDER_FILES) writeFileSync(join(present, file), '');
      const { open, calls } = countingOpen();
      const err = await openWorkerRuntime(TINY_DIR, { executionProvider: 'cuda', binDir: present, open }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecutionProviderUnavailable);
      expect((err as Error).message).toMatch(
        /^EXECUTION_PROVIDER=cuda: could not create a CUDA session for .*: .*Cuda.*Failed to load shared library/,
      );
      expect((err as Error).cause).toBeInstanceOf(Error);
      expect(calls).toEqual([{ executionProvider: 'cuda' }]);
    },
  );

  it("looks for the provider in onnxruntime-node's own native folder", () => {
    expect(onnxruntimeBinDir()).toMatch(/onnxruntime-node\/bin\/napi-v6\/linux\/x64$/);
  });
});
