import { describe, expect, it } from 'vitest';
import { mulberry32, standardNormal } from './prng.js';
import { applyGuidance, eulerStep, guidanceApplies, shiftTime, timeGrid } from './sampler.js';

describe('sampler', () => {
  it('builds a shifted grid from 1 to 0', () => {
    expect(timeGrid(4, 1)).toEqual([1, 0.75, 0.5, 0.25, 0]);
    const shifted = timeGrid(4, 3);
    expect(shifted[0]).toBe(1);
    expect(shifted[4]).toBe(0);
    expect(shifted[2]).toBeCloseTo(shiftTime(0.5, 3));
    expect(shiftTime(0.5, 3)).toBeCloseTo(0.75);
    expect(() => timeGrid(0, 1)).toThrow(RangeError);
  });

  it('applies guidance inside the interval only, and never at g = 1', () => {
    const params = { time_shift: 1, guidance_interval: [0.2, 0.8] as const };
    expect(guidanceApplies(0.5, 2, params)).toBe(true);
    expect(guidanceApplies(0.8, 2, params)).toBe(true);
    expect(guidanceApplies(0.9, 2, params)).toBe(false);
    expect(guidanceApplies(0.5, 1, params)).toBe(false);
    expect(Array.from(applyGuidance(Float32Array.of(1, 2), Float32Array.of(0, 1), 3))).toEqual([3, 4]);
  });

  it('takes Euler steps that land on x0 at t = 0', () => {
    const x = Float32Array.of(1, -1);
    const x0 = Float32Array.of(0.5, 0.5);
    expect(Array.from(eulerStep(x, x0, 0.5, 0))).toEqual([0.5, 0.5]);
    // v = (x - x0) / t = (1, -3); x + (0.25 - 0.5) v = (0.75, -0.25)
    expect(Array.from(eulerStep(x, x0, 0.5, 0.25))).toEqual([0.75, -0.25]);
  });
});

describe('seeded randomness', () => {
  it('is deterministic and seed dependent', () => {
    expect(mulberry32(7)()).toBe(mulberry32(7)());
    expect(mulberry32(7)()).not.toBe(mulberry32(8)());
    expect(standardNormal(1, 5)).toEqual(standardNormal(1, 5));
  });

  it('draws standard normal noise', () => {
    const z = standardNormal(42, 20000);
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(z.every(Number.isFinite)).toBe(true);
  });
});
