/**
 * Which graph of a package to run: the float32 `graph.file`, or a variant the manifest lists
 * under `graph.variants` (model/quantize.py writes `int8`). Chosen by the runtime option or
 * MODEL_PRECISION; float32 unless asked otherwise.
 */
import { ModelPackageError, type Manifest } from './manifest.js';

export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

export function isPrecision(value: string): value is Precision {
  return (PRECISIONS as readonly string[]).includes(value);
}

/** The option if given, else MODEL_PRECISION, else fp32; an unknown value is an error that names it. */
export function resolvePrecision(option: Precision | undefined, env: Record<string, string | undefined> = process.env): Precision {
  if (option !== undefined) return option;
  const raw = env['MODEL_PRECISION']?.trim().toLowerCase();
  if (!raw) return 'fp32';
  if (!isPrecision(raw)) throw new ModelPackageError(`MODEL_PRECISION=${raw}: expected one of ${PRECISIONS.join(', ')}`);
  return raw;
}

/** The graph file (relative to the package) for a precision; refuses a variant the package lacks. */
export function graphFileFor(manifest: Manifest, precision: Precision, packageDir = '<package>'): string {
  if (precision === 'fp32') return manifest.graph.file;
  const variant = manifest.graph.variants?.[precision];
  if (!variant) {
    throw new ModelPackageError(
      `${packageDir} has no ${precision} graph (manifest graph.variants.${precision}); ` +
        `add one with: .venv/bin/python model/quantize.py ${packageDir}, or use MODEL_PRECISION=fp32`,
    );
  }
  return variant.file;
}
