/**
 * Opening the model on the configured execution provider, and saying clearly why CUDA is not
 * usable when it is not. onnxruntime-node's own error for a missing provider is one line
 * ("OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library") and a
 * missing cuDNN only shows at the first convolution, i.e. at the first job. Here every such
 * failure happens at start and becomes an ExecutionProviderUnavailable naming the cause,
 * which main.ts reports once and exits with EXIT_CONFIG instead of crash-looping.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { drawContext, type OnnxModelRuntime, type RuntimeOptions } from '../shared/runtime/index.js';
import { ModelRunner } from './model-runner.js';

export type ExecutionProvider = 'cpu' | 'cuda';

/** The files onnxruntime-node needs beside its binding to create a CUDA session (linux/x64). */
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const;

/** What to check when CUDA cannot be used (docs/deploy.md, "CUDA runtime"). */
const CUDA_CHECKLIST =
  'check: the image was built by gpu-worker/Dockerfile (it installs the CUDA provider and fails its build when `ldd` finds a library missing); ' +
  'the container sees a GPU (docker run --gpus all; on ECS a task with a GPU resource requirement); ' +
  'the host driver supports CUDA 13 (NVIDIA driver >= 580). Set EXECUTION_PROVIDER=cpu to run without a GPU.';

export class ExecutionProviderUnavailable extends Error {
  constructor(
    message: string,
    readonly executionProvider: ExecutionProvider,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExecutionProviderUnavailable';
  }
}

/** onnxruntime-node's native folder for this platform (where its install script puts the CUDA provider). */
export function onnxruntimeBinDir(): string {
  const require = createRequire(import.meta.url);
  // The package's main is dist/index.js; bin/ sits beside dist/.
  const root = dirname(dirname(require.resolve('onnxruntime-node')));
  return join(root, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Which of the CUDA provider's files are missing from `dir`. */
export function missingCudaProviderFiles(dir: string = onnxruntimeBinDir()): string[] {
  return CUDA_PROVIDER_FILES.filter((file) => !existsSync(join(dir, file)));
}

export interface OpenOptions {
  executionProvider: ExecutionProvider;
  /** Where the CUDA provider must be (default: onnxruntime-node's native folder). */
  binDir?: string;
  /** The model's name, for its runner (default: the manifest's). */
  name?: string;
  /** The runtime factory (createRuntime); injected so that tests can count calls. */
  open: (modelDir: string, options: RuntimeOptions) => Promise<OnnxModelRuntime>;
}

/**
 * The runtime and its runner, ready to serve: the unconditional context prefilled and, on
 * CUDA, one denoising step run, so that every library the provider loads lazily (cuDNN for the
 * pixel head's convolutions) has been loaded before the first job is taken.
 */
export async function openWorkerRuntime(
  modelDir: string,
  options: OpenOptions,
): Promise<{ runtime: OnnxModelRuntime; runner: ModelRunner }> {
  const provider = options.executionProvider;
  if (provider === 'cuda') {
    const dir = options.binDir ?? onnxruntimeBinDir();
    const missing = missingCudaProviderFiles(dir);
    if (missing.length > 0) {
      throw new ExecutionProviderUnavailable(
        `EXECUTION_PROVIDER=cuda, but onnxruntime-node has no CUDA execution provider: ${missing.join(', ')} missing in ${dir} ` +
          '(onnxruntime-node ships only its CPU provider; its install script adds the CUDA one when ONNXRUNTIME_NODE_INSTALL=true); ' +
          CUDA_CHECKLIST,
        provider,
      );
    }
  }
  let runtime: OnnxModelRuntime;
  try {
    runtime = await options.open(modelDir, { executionProvider: provider });
  } catch (err) {
    if (provider !== 'cuda') throw err;
    throw new ExecutionProviderUnavailable(
      `EXECUTION_PROVIDER=cuda: could not create a CUDA session for ${modelDir}: ${messageOf(err)} (onnxruntime's log line above names the library it could not load); ${CUDA_CHECKLIST}`,
      provider,
      { cause: err },
    );
  }
  const runner = new ModelRunner(runtime, options.name);
  try {
    const uncond = await runner.uncond();
    if (provider === 'cuda') await warmUpStep(runner, uncond);
  } catch (err) {
    await runtime.close().catch(() => undefined);
    if (provider !== 'cuda') throw err;
    throw new ExecutionProviderUnavailable(
      `EXECUTION_PROVIDER=cuda: the CUDA session was created but running the model failed: ${messageOf(err)}; ${CUDA_CHECKLIST}`,
      provider,
      { cause: err },
    );
  }
  return { runtime, runner };
}

/** One guided denoising step of a short draw prompt (its result is thrown away). */
async function warmUpStep(runner: ModelRunner, uncond: Awaited<ReturnType<ModelRunner['uncond']>>): Promise<void> {
  const { runtime } = runner;
  const cond = await runner.prefill(drawContext(runtime.tokenizer, 'a small red circle'));
  await runtime.denoiseStep([{ cond, uncond, x: runner.noise(0, 0), t: 1, tNext: 0.5, guidance: 2 }]);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
