/**
 * How a package samples, as the manifest's `diffusion` block declares it (docs/model-package.md,
 * "Diffusion"): the step counts it serves and whether guidance is adjustable or baked into the
 * network. A package without the fields samples as every package did before them: any step
 * count up to the API's limit, guidance adjustable. The edge refuses what a model cannot do
 * with these answers; the worker reads `guidance` to leave out unconditional rows.
 */
import type { Manifest } from './manifest.js';

/** The API's own bound on steps (shared/schemas/generation.ts LIMITS.steps.max); a manifest may only narrow it. */
export const MAX_API_STEPS = 100;

export type GuidanceMode = 'adjustable' | 'fixed';

export interface Sampling {
  readonly default_steps: number;
  /** The exact step counts served, ascending; absent: every count from 1 to `max_steps`. */
  readonly supported_steps?: readonly number[];
  readonly max_steps: number;
  /** fixed: the default guidance is in the network (no unconditional rows); no other value is served. */
  readonly guidance: GuidanceMode;
  readonly default_guidance: number;
  /** A request's default guidance for these step counts, where it differs from default_guidance. */
  readonly guidance_by_steps?: Readonly<Record<string, number>>;
}

export function samplingOf(manifest: Pick<Manifest, 'diffusion'>): Sampling {
  const d = manifest.diffusion;
  const supported = d.steps && 'supported' in d.steps ? d.steps.supported : undefined;
  const declaredMax = d.steps && 'max' in d.steps ? d.steps.max : MAX_API_STEPS;
  const max = Math.min(supported ? Math.max(...supported) : declaredMax, MAX_API_STEPS);
  return {
    default_steps: d.default_steps,
    ...(supported ? { supported_steps: [...supported].sort((a, b) => a - b) } : {}),
    max_steps: max,
    guidance: d.guidance ?? 'adjustable',
    default_guidance: d.default_guidance,
    ...(d.guidance_by_steps ? { guidance_by_steps: { ...d.guidance_by_steps } } : {}),
  };
}

/** The guidance a request for `steps` gets when it names none: the package's choice for that count, else its default. */
export function defaultGuidance(manifest: Pick<Manifest, 'diffusion'>, steps: number): number {
  const d = manifest.diffusion;
  return d.guidance_by_steps?.[String(steps)] ?? d.default_guidance;
}

/** Whether unconditional rows are ever needed: never when guidance is fixed (baked into the network). */
export function needsUnconditional(manifest: Pick<Manifest, 'diffusion'>): boolean {
  return (manifest.diffusion.guidance ?? 'adjustable') === 'adjustable';
}

export function stepsSupported(s: Sampling, steps: number): boolean {
  if (!Number.isInteger(steps) || steps < 1 || steps > s.max_steps) return false;
  return s.supported_steps === undefined || s.supported_steps.includes(steps);
}

/** "1, 2 or 4", "1 to 100": what a refusal says the model serves. */
export function describeSteps(s: Sampling): string {
  const list = s.supported_steps;
  if (!list) return `1 to ${s.max_steps}`;
  if (list.length === 1) return String(list[0]);
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

export type SamplingRefusal = { code: 'unsupported_steps' | 'unsupported_guidance'; message: string };

/** Null when `model` can sample with these values (absent: its defaults), else why not. */
export function checkSampling(
  model: string,
  s: Sampling,
  request: { steps?: number | undefined; guidance?: number | undefined },
): SamplingRefusal | null {
  if (request.steps !== undefined && !stepsSupported(s, request.steps)) {
    return {
      code: 'unsupported_steps',
      message: `steps: ${model} samples with ${describeSteps(s)} steps (default ${s.default_steps}), not ${request.steps}`,
    };
  }
  if (request.guidance !== undefined && s.guidance === 'fixed' && request.guidance !== s.default_guidance) {
    return {
      code: 'unsupported_guidance',
      message: `guidance: ${model} has its guidance fixed at ${s.default_guidance} (distilled into the network); leave guidance out or send ${s.default_guidance}, not ${request.guidance}`,
    };
  }
  return null;
}
