import { describe, expect, it } from 'vitest';
import { smallManifest } from '../../test/support/manifest.js';
import { hasTiny, TINY_DIR } from '../../test/support/tiny-package.js';
import { loadPackage, type Manifest, parseManifest } from './manifest.js';
import { checkSampling, defaultGuidance, describeSteps, needsUnconditional, samplingOf } from './sampling.js';

/** A manifest whose `diffusion` is the given one over a guided 10-step sampler (files are not checked by parseManifest). */
function withDiffusion(diffusion: Record<string, unknown>): unknown {
  const diffusionBase = { sampler: 'euler', default_steps: 10, default_guidance: 6, time_shift: 2, guidance_interval: [0.8, 1] };
  return { ...smallManifest({ 'model.onnx': 'graph', 'tokenizer.json': '{}' }), diffusion: { ...diffusionBase, ...diffusion } };
}
const parse = (d: Record<string, unknown>): Manifest => parseManifest(withDiffusion(d));

describe('sampling declared by the manifest', () => {
  it('keeps a package without the fields exactly as before: 1 to 100 steps, guidance adjustable', () => {
    const s = samplingOf(parse({}));
    expect(s).toEqual({ default_steps: 10, max_steps: 100, guidance: 'adjustable', default_guidance: 6 });
    expect(checkSampling('m', s, { steps: 1, guidance: 0 })).toBeNull();
    expect(checkSampling('m', s, { steps: 100, guidance: 20 })).toBeNull();
    expect(needsUnconditional(parse({}))).toBe(true);
  });

  it('reads the shipped fixture package as adjustable with any step count', async () => {
    if (!hasTiny) return;
    const { manifest } = await loadPackage(TINY_DIR);
    expect(samplingOf(manifest)).toMatchObject({ max_steps: 100, guidance: 'adjustable' });
  });

  it('serves only the listed step counts of a few-step student, and refuses others naming the model and what it serves', () => {
    const s = samplingOf(parse({ default_steps: 1, steps: { supported: [4, 1, 2] }, guidance: 'fixed' }));
    expect(s.supported_steps).toEqual([1, 2, 4]);
    expect(s.max_steps).toBe(4);
    expect(describeSteps(s)).toBe('1, 2 or 4');
    for (const steps of [1, 2, 4]) expect(checkSampling('student', s, { steps })).toBeNull();
    expect(checkSampling('student', s, { steps: 3 })).toEqual({
      code: 'unsupported_steps',
      message: 'steps: student samples with 1, 2 or 4 steps (default 1), not 3',
    });
    expect(checkSampling('student', s, { steps: 10 })?.code).toBe('unsupported_steps');
  });

  it('caps steps at `max`', () => {
    const s = samplingOf(parse({ default_steps: 2, steps: { max: 8 } }));
    expect(describeSteps(s)).toBe('1 to 8');
    expect(checkSampling('m', s, { steps: 8 })).toBeNull();
    expect(checkSampling('m', s, { steps: 9 })?.message).toBe('steps: m samples with 1 to 8 steps (default 2), not 9');
  });

  it('with fixed guidance accepts only the default value, and needs no unconditional rows', () => {
    const m = parse({ guidance: 'fixed' });
    const s = samplingOf(m);
    expect(needsUnconditional(m)).toBe(false);
    expect(checkSampling('student', s, {})).toBeNull();
    expect(checkSampling('student', s, { guidance: 6 })).toBeNull();
    const refused = checkSampling('student', s, { guidance: 3 });
    expect(refused?.code).toBe('unsupported_guidance');
    expect(refused?.message).toContain('student has its guidance fixed at 6');
  });

  it('takes a default guidance per step count, for adjustable guidance only', () => {
    const m = parse({ guidance_by_steps: { '1': 2, '4': 3 } });
    expect(samplingOf(m).guidance_by_steps).toEqual({ '1': 2, '4': 3 });
    expect([1, 2, 4, 10].map((steps) => defaultGuidance(m, steps))).toEqual([2, 6, 3, 6]);
    expect(defaultGuidance(parse({}), 1)).toBe(6);
    expect(() => parse({ guidance: 'fixed', guidance_by_steps: { '1': 2 } })).toThrow(/guidance_by_steps: needs adjustable guidance/);
    expect(() => parse({ guidance_by_steps: { four: 3 } })).toThrow(/diffusion\.guidance_by_steps/);
    expect(() => parse({ guidance_by_steps: { '0': 3 } })).toThrow(/diffusion\.guidance_by_steps/);
    expect(() => parse({ guidance_by_steps: { '2': -1 } })).toThrow(/guidance_by_steps/);
  });

  it('refuses a declaration that contradicts itself or is not one of the two forms', () => {
    expect(() => parse({ steps: { supported: [1, 2] } })).toThrow(/diffusion\.steps\.supported: must include default_steps \(10\)/);
    expect(() => parse({ steps: { max: 4 } })).toThrow(/diffusion\.steps\.max: must be at least default_steps/);
    expect(() => parse({ default_steps: 1, steps: { supported: [1, 1] } })).toThrow(/must not repeat/);
    expect(() => parse({ steps: { supported: [10], max: 10 } })).toThrow(/diffusion\.steps/);
    expect(() => parse({ guidance: 'sometimes' })).toThrow(/diffusion\.guidance/);
  });
});
