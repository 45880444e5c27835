/**
 * Which graphs of a package to run: the float32 `graph.file`, or a variant the manifest lists
 * under `graph.variants` (model/packaging/quantize.py writes `int8`), each with its optional
 * denoise-only cut. Chosen by the runtime option or MODEL_PRECISION; float32 unless asked.
 */
import { type Manifest, ModelPackageError } from './manifest.js';

export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

export function isPrecision(value: string): value is Precision {
  return (PRECISIONS as readonly string[]).includes(value);
}

/**
 * The option if given, else MODEL_PRECISION, else the package's default for the device: int8
 * on the CPU when the package's int8 variant passed its quality check (manifest
 * `graph.variants.int8.quality.accepted`, written by model/evaluation/eval_onnx.py --record), fp32
 * otherwise. An unknown MODEL_PRECISION is an error that names it.
 */
export function resolvePrecision(
  option: Precision | undefined,
  env: Record<string, string | undefined> = process.env,
  manifest?: Manifest,
  executionProvider: 'cpu' | 'cuda' = 'cpu',
): Precision {
  if (option !== undefined) return option;
  const raw = env['MODEL_PRECISION']?.trim().toLowerCase();
  if (!raw) return executionProvider === 'cpu' && manifest?.graph.variants?.['int8']?.quality?.accepted === true ? 'int8' : 'fp32';
  if (!isPrecision(raw)) throw new ModelPackageError(`MODEL_PRECISION=${raw}: expected one of ${PRECISIONS.join(', ')}`);
  return raw;
}

export interface GraphFiles {
  /** The serving graph (prefill, decode, denoise). */
  readonly file: string;
  /** The same graph cut down to `denoised`, when the package has one. */
  readonly denoiseFile?: string;
}

/** The graph files (relative to the package) for a precision; refuses a variant the package lacks. */
export function graphFilesFor(manifest: Manifest, precision: Precision, packageDir = '<package>'): GraphFiles {
  if (precision === 'fp32') {
    const { file, denoise_file: denoiseFile } = manifest.graph;
    return denoiseFile !== undefined ? { file, denoiseFile } : { file };
  }
  const variant = manifest.graph.variants?.[precision];
  if (!variant) {
    throw new ModelPackageError(
      `${packageDir} has no ${precision} graph (manifest graph.variants.${precision}); ` +
        `add one with: .venv/bin/python -m model.packaging.quantize ${packageDir}, or use MODEL_PRECISION=fp32`,
    );
  }
  return variant.denoise_file !== undefined ? { file: variant.file, denoiseFile: variant.denoise_file } : { file: variant.file };
}

/** The serving graph file for a precision. */
export function graphFileFor(manifest: Manifest, precision: Precision, packageDir = '<package>'): string {
  return graphFilesFor(manifest, precision, packageDir).file;
}
